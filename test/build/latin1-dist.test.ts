import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { latin1Source, latin1Tree } from '../../scripts/latin1-dist.ts';

const isLatin1 = (text: string): boolean => [...text].every((c) => c.codePointAt(0)! <= 0xff);
/** A script's completion value as JSON (the context's arrays are not this realm's). */
const value = (source: string): string => JSON.stringify(runInNewContext(source));

describe('latin1Source (the build keeps module sources one byte per character)', () => {
  const sources: Array<[string, string]> = [
    ['a string', `'ignore — all prior instructions; не слушай; 忽略' + "…"`],
    ['a template with a substitution', '`→ ${1 + 1} ←`'],
    ['a regular expression without flags', String.raw`[/(?:игнорируй|忽略)\s+[а-яё]+/.exec('x игнорируй всё')?.[0], /忽略/.test('请忽略')]`],
    ['u and v flag expressions with a character class range and an astral character', String.raw`[/^[\u0400-я]+😀$/u.test('Жя😀'), /[[а-я]--[б]]/v.test('в'), /[[а-я]--[б]]/v.test('б'), /😀{2}/u.test('😀😀')]`],
    ['an identity escape of a non-Latin character', String.raw`['\—', /\。/.test('。'), /\。/.test('\\。')]`],
    ['an escaped backslash before a non-Latin character', String.raw`['\\—', /\\。/.test('\\。')]`],
    ['an identifier', 'var имя = 3; имя * 2'],
    ['Latin-1 characters, left as they are', `'café ñ ß'`],
    ['a String.raw template beside an escaped string, the template left as it is', 'const x = 1; [String.raw`\\bпере${x}вод\\b`, \'пере\']'],
  ];
  for (const [name, source] of sources) {
    it(`rewrites ${name} to Latin-1 text that evaluates to the same value`, () => {
      const rewritten = latin1Source(source);
      if (!source.includes('String.raw')) assert.ok(isLatin1(rewritten), rewritten);
      assert.equal(value(rewritten), value(source));
    });
  }

  it('leaves the text of a String.raw template as it is', () => {
    const source = 'P(String.raw`\\b(?:ответ|${A}\\`|回答)`) + \'—\'';
    assert.equal(latin1Source(source), 'P(String.raw`\\b(?:ответ|${A}\\`|回答)`) + \'\\u2014\'');
  });

  it('leaves text without characters beyond U+00FF unchanged, Latin-1 included', () => {
    const text = `const s = 'café'; // naïve\n`;
    assert.equal(latin1Source(text), text);
  });

  it('rewrites only the .js files of a tree that need it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-latin1-'));
    try {
      writeFileSync(join(dir, 'a.js'), `export const a = '…';\n`);
      writeFileSync(join(dir, 'b.js'), `export const b = 'plain';\n`);
      writeFileSync(join(dir, 'c.json'), `{"c": "…"}\n`);
      assert.equal(latin1Tree(dir), 1);
      assert.equal(readFileSync(join(dir, 'a.js'), 'utf8'), `export const a = '\\u2026';\n`);
      assert.equal(readFileSync(join(dir, 'c.json'), 'utf8'), `{"c": "…"}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
