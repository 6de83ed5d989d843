import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FULL_BOUNDARY, unicodeBoundaries } from '../../src/inspect/word-boundary.ts';

const W = String.raw`[\p{L}\p{N}_]`;
const ONE_SIDED = [`(?<!${W})`, `(?<=${W})`, `(?!${W})`, `(?=${W})`];

/** Every cue pattern the scanner compiles, as `P` wrote it (RegExp construction recorded while the scanner loads). */
async function cuePatterns(): Promise<string[]> {
  const Original = globalThis.RegExp;
  const seen: string[] = [];
  globalThis.RegExp = new Proxy(Original, {
    construct(target, args: [string | RegExp, string?]) {
      if (args[1] === 'iu' && typeof args[0] === 'string') seen.push(args[0]);
      return Reflect.construct(target, args);
    },
  });
  try {
    await import('../../src/inspect/signals.ts');
    await import('../../src/inspect/structure.ts');
  } finally {
    globalThis.RegExp = Original;
  }
  return seen.filter((s) => s.includes('\\p{L}\\p{N}_'));
}

/**
 * Back from the rewritten boundaries to `\b`, then every `\b` as the full boundary: what P compiled before
 * (a boundary tested once before a run of alternatives stays there, as the full boundary: the same).
 */
function fullyBounded(rewritten: string): string {
  let source = rewritten.split(FULL_BOUNDARY).join('\\b');
  for (const form of ONE_SIDED) source = source.split(form).join('\\b');
  return source.replace(/(?<!\\)\\b/g, FULL_BOUNDARY);
}

function corpusTexts(): string[] {
  const texts: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  const dir = new URL('../corpus/', import.meta.url);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) collect(JSON.parse(readFileSync(new URL(name, dir), 'utf8')));
  return texts;
}

const matches = (re: RegExp, text: string): string[] => Array.from(text.matchAll(re), (m) => `${m.index}:${m.join('\u0000')}`);

describe('the scanner\'s Unicode word boundary', () => {
  it('tests one side only where the pattern fixes the other, and the full boundary elsewhere', () => {
    assert.equal(unicodeBoundaries(String.raw`\b(?:ask|tell)s?\b`), `(?<!${W})(?:ask|tell)s?(?!${W})`);
    assert.equal(unicodeBoundaries(String.raw`\bnot\s\b`), `(?<!${W})not\\s(?=${W})`);
    assert.equal(unicodeBoundaries(String.raw`\b\.env\b`), `(?<=${W})\\.env(?!${W})`);
    // Consecutive alternatives that start with the same test: tested once before them.
    assert.equal(unicodeBoundaries(String.raw`\bfoo|\bbar|baz|\bqux\b|(?:\bx|\.y)`), `(?<!${W})(?:foo|bar)|baz|(?<!${W})qux(?!${W})|(?:(?<!${W})x|\\.y)`);
    // Optional or mixed neighbours, classes it cannot read, group edges: the full boundary.
    assert.equal(unicodeBoundaries(String.raw`(?:a|\.)\b(?:b|-)?`), `(?:a|\\.)${FULL_BOUNDARY}(?:b|-)?`);
    assert.equal(unicodeBoundaries(String.raw`(?:x\b|y)[^a]`), `(?:x(?!${W})|y)[^a]`);
    assert.equal(unicodeBoundaries(String.raw`(?:\b|y)`), `(?:${FULL_BOUNDARY}|y)`);
    assert.equal(unicodeBoundaries(String.raw`[\p{L}\p{M}]\b`), `[\\p{L}\\p{M}]${FULL_BOUNDARY}`);
    // A case-insensitive non-letter next to a letter in another case (ſ folds to s): not read as fixed.
    assert.equal(unicodeBoundaries(String.raw`\bſ`), `(?<!${W})ſ`);
    assert.equal(unicodeBoundaries(String.raw`\u0345\b`), `\\u0345${FULL_BOUNDARY}`);
    // \B and an escaped backslash before b are left alone.
    assert.equal(unicodeBoundaries(String.raw`\Ba\\b`), String.raw`\Ba\\b`);
  });

  it('matches exactly what the full boundary matches, on every cue pattern and every corpus text', async () => {
    const patterns = await cuePatterns();
    assert.ok(patterns.length > 80, `only ${patterns.length} cue patterns recorded`);
    const texts = corpusTexts();
    assert.ok(texts.length > 1000);
    // Edges of the boundary in other scripts, marks, digits, underscores and astral letters.
    texts.push('не сообщать пользователю', 'über étape—ask_me 𝐚sk ask𝐚 ﬁle ß ſecret K e\u0301tape 1ask ask1 _ask_', '「質問」ask。tell：never');
    const text = texts.join('\n');
    let rewritten = 0;
    for (const source of patterns) {
      const full = fullyBounded(source);
      if (full !== source) rewritten++;
      assert.deepEqual(matches(new RegExp(source, 'giu'), text), matches(new RegExp(full, 'giu'), text), source.slice(0, 120));
    }
    assert.ok(rewritten > 80);
  });
});
