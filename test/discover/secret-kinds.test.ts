/**
 * The compact secret-kind table: checked against the labelled examples of the Nosey Parker rules it was
 * derived from (read in place from ../shared/corpora when present), and against the secret-shaped values
 * the audit redactor masks, so the two detectors never disagree on what is a secret.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { holdsBuiltInSecret } from '../../src/dlp/create.ts';
import { classifyValue, fingerprint, referencesIn, SECRET_KINDS, secretKindOf } from '../../src/discover/secret-kinds.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const RULES = new URL('../../../shared/corpora/noseyparker-rules/crates/noseyparker/data/default/builtin/rules/', import.meta.url).pathname;

describe('secret kinds', () => {
  it('recognise the positive examples of every Nosey Parker rule they follow, and none of its negative examples as that kind', { skip: !existsSync(RULES) && 'shared corpora not present' }, () => {
    const followed = new Map<string, string>();
    for (const k of SECRET_KINDS) for (const m of k.source.matchAll(/np\.[a-z0-9_.]+\.\d+/g)) followed.set(m[0], k.kind);
    const missed: string[] = [];
    let checked = 0;
    for (const file of readdirSync(RULES)) {
      const doc = parse(readFileSync(join(RULES, file), 'utf8')) as { rules?: Array<{ id: string; examples?: string[]; negative_examples?: string[] }> };
      for (const rule of doc.rules ?? []) {
        const kind = followed.get(rule.id);
        if (!kind) continue;
        for (const example of rule.examples ?? []) {
          checked += 1;
          if (secretKindOf(example) === undefined) missed.push(`${rule.id}: ${example.slice(0, 60)}…`);
        }
        // Deliberately broader than Nosey Parker: any password in a URL, placeholders included, is reported.
        for (const example of rule.negative_examples ?? []) if (secretKindOf(example) === kind && kind !== 'url-credentials') missed.push(`${rule.id} negative matched as ${kind}`);
      }
    }
    assert.ok(checked >= 15, `only ${checked} examples checked`);
    assert.deepEqual(missed, []);
  });

  it('classify every value the audit redactor masks as a literal secret', () => {
    for (const [name, value] of Object.entries(fakeSecrets())) {
      assert.ok(holdsBuiltInSecret(value), name);
      assert.equal(classifyValue(value)?.literal, true, name);
    }
  });

  it('tell references from literals, in every client syntax', () => {
    assert.deepEqual(classifyValue('${GITHUB_TOKEN}', 'GITHUB_TOKEN'), { literal: false, kind: 'reference', reference: 'env:GITHUB_TOKEN' });
    assert.deepEqual(classifyValue('Bearer ${env:API_KEY}', 'Authorization'), { literal: false, kind: 'reference', reference: 'env:API_KEY' });
    assert.equal(classifyValue('${input:jira-pat}', 'JIRA')?.reference, 'input:jira-pat');
    assert.equal(classifyValue('${{ secrets.DB }}', 'X')?.reference, 'secrets:DB');
    assert.equal(classifyValue('env:TOKEN', 'TOKEN')?.reference, 'env:TOKEN');
    assert.equal(classifyValue('${HOME}/x', 'PATH_ROOT'), undefined, 'a reference to a non-secret is not a credential');
    assert.equal(classifyValue('debug', 'LOG_LEVEL'), undefined);
    assert.equal(classifyValue('1000', 'TOKEN_LIMIT'), undefined, 'a number under a credential-like name');
    assert.deepEqual(classifyValue('hunter2-but-longer', 'DB_PASSWORD'), { literal: true, kind: 'generic-secret' });
    assert.deepEqual(classifyValue('pa$$word-of-mine', 'DB_PASSWORD'), { literal: true, kind: 'generic-secret' }, 'a lower-case $name is not a variable');
    assert.equal(classifyValue(`Bearer ${fakeSecrets().github}`, 'Authorization')?.kind, 'github-pat');
    assert.equal(classifyValue('awslabs.aws-documentation-mcp-server@1.1.0'), undefined);
    assert.equal(classifyValue('sha256:0f343b0931126a20f133d67c2b018a3b5d5d0b0f1bb9d8d2d7f0b2cf3b4b4c55'), undefined);
    assert.deepEqual(referencesIn('a ${X} b $Y'), [{ scheme: 'env', name: 'X' }, { scheme: 'env', name: 'Y' }]);
    assert.match(fingerprint('x'), /^[0-9a-f]{8}$/);
  });
});
