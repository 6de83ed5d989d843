import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FOLD_RUNS } from '../../src/dlp/fold-data.ts';
import { deriveFolds, foldRuns } from '../../src/dlp/fold-derive.ts';
import { normalizedView } from '../../src/dlp/normalize.ts';

describe('the normalised view\'s shipped character table', () => {
  const folds = deriveFolds();

  it('is what the rules give on this Node.js (stale: run `node scripts/dlp-fold-table.ts`)', () => {
    assert.ok(folds.length > 10_000);
    assert.equal(FOLD_RUNS, JSON.stringify(foldRuns(folds)));
  });

  it('folds every code point as the rules say and leaves every other one of the basic plane alone', () => {
    const folded = new Map(folds);
    for (const [cp, fold] of folds) {
      const ch = String.fromCodePoint(cp);
      assert.equal(normalizedView(`k${ch}z`)?.text, `k${fold}z`, `U+${cp.toString(16)}`);
    }
    for (let cp = 0x80; cp < 0x10000; cp++) {
      if (folded.has(cp) || (cp >= 0xd800 && cp <= 0xdfff)) continue;
      assert.equal(normalizedView(`k${String.fromCharCode(cp)}z`), undefined, `U+${cp.toString(16)}`);
    }
    // Supplementary planes: a mathematical letter and a tag fold, an emoji stays.
    assert.equal(normalizedView('\u{1D400}\u{E0041}b\u{1F600}')?.text, 'Ab\u{1F600}');
  });
});
