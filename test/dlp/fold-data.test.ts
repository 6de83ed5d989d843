import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FOLD_RUNS } from '../../src/dlp/fold-data.ts';
import { deriveFolds, foldRuns } from '../../src/dlp/fold-derive.ts';
import { normalizedView } from '../../src/dlp/normalize.ts';

describe('the normalised view\'s shipped character table', () => {
  // The basic plane's folds, and a sample of the supplementary planes' (whole planes are removed: ~1 M).
  const folds = [...deriveFolds()].filter(([cp], k) => cp < 0x10000 || k % 61 === 0);

  it('is what the rules give on this Node.js (stale: run `node scripts/dlp-fold-table.ts`)', () => {
    assert.ok(folds.length > 10_000);
    assert.equal(FOLD_RUNS, JSON.stringify(foldRuns(deriveFolds())));
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
    // Red team M, M1: what renders as nothing or cannot be shown, in every plane — plane 14's unassigned
    // Default_Ignorable code points, private use of planes 15 and 16, noncharacters, unassigned code points.
    for (const cp of [0xe0080, 0xe00ff, 0xe01f0, 0xe0200, 0xe0fff, 0xf0000, 0xffffd, 0xffffe, 0x100000, 0x10fffd, 0x10ffff, 0x1fffe, 0x4ffff, 0x50000]) {
      assert.equal(normalizedView(`k${String.fromCodePoint(cp)}z`)?.text, 'kz', `U+${cp.toString(16)}`);
    }
    // Assigned characters of the supplementary planes that are not folded stay (emoji, CJK, Gothic).
    for (const ch of ['\u{1F600}', '\u{20000}', '\u{10330}', '\u{1F3F4}']) assert.equal(normalizedView(`k${ch}z`), undefined, ch);
  });
});
