/**
 * How often a literal can be expected in ordinary text (JSON, logs, prose, code), so that a pattern's
 * anchors — the literals the anchor pass looks for — can be chosen among the rare ones, and the anchor
 * pass can key each literal by its rarest trigram.
 *
 * Text is seen through 64 classes of units: letters folded to lower case, digits and the common
 * punctuation each their own class, everything else shared. A trigram of classes is 18 bits; its
 * frequency (per million trigrams) was counted once on ordinary text (scripts/dlp-trigrams.ts writes
 * `trigram-frequency.ts`); a trigram not in the table is rarer than every one that is.
 *
 * Units past Latin-1 are classed by their low byte (the anchor pass reads the text as Latin-1 bytes):
 * that can only make a class trigram appear where the literal is not, which the pass checks in full.
 */
import { TRIGRAM_FREQUENCY } from './trigram-frequency.ts';

/** Class of a unit's low byte: 0 for units no literal is expected to need apart (controls, Latin-1 letters). */
export const UNIT_CLASS: Uint8Array = (() => {
  const table = new Uint8Array(256);
  let next = 1;
  for (let u = 0x61; u <= 0x7a; u++) table[u] = table[u - 32] = next++;
  for (let u = 0x30; u <= 0x39; u++) table[u] = next++;
  // The rest of printable ASCII, the punctuation literals use most first; the last few share the last class.
  for (const c of ` _-.:/=@'"\t\n\r,;+#$%&*!?()[]{}<>|\\^~\``) table[c.charCodeAt(0)] = Math.min(next++, 63);
  return table;
})();

export const trigramOf = (a: number, b: number, c: number): number => (a << 12) | (b << 6) | c;

/** Per million trigrams of ordinary text; the floor is what an unseen trigram is assumed to have. */
const UNSEEN = 0.5;
let frequencies: Map<number, number> | undefined;
function table(): Map<number, number> {
  if (!frequencies) {
    frequencies = new Map();
    for (let k = 0; k < TRIGRAM_FREQUENCY.length; k += 2) frequencies.set(TRIGRAM_FREQUENCY[k]!, TRIGRAM_FREQUENCY[k + 1]!);
  }
  return frequencies;
}

const classesOf = (literal: string): number[] => Array.from(literal, (c) => UNIT_CLASS[c.charCodeAt(0) & 0xff]!);

/** Expected occurrences per million units of the trigram at `at` in `literal` (case-insensitive). */
export function trigramFrequency(literal: string, at: number): number {
  const c = classesOf(literal.slice(at, at + 3));
  return table().get(trigramOf(c[0]!, c[1]!, c[2]!)) ?? UNSEEN;
}

/**
 * Expected occurrences per million units of `literal`: a literal is at most as frequent as its rarest
 * trigram, and each further unit makes it rarer (a crude independence discount).
 */
export function literalFrequency(literal: string): number {
  if (literal.length < 3) {
    // A bigram: the sum of the trigrams it ends.
    const c = classesOf(literal);
    if (c.length < 2) return 1e6;
    let sum = 0;
    for (let a = 0; a < 64; a++) sum += table().get(trigramOf(a, c[0]!, c[1]!)) ?? 0;
    return Math.max(sum, UNSEEN);
  }
  let rarest = Number.POSITIVE_INFINITY;
  for (let at = 0; at + 3 <= literal.length; at++) rarest = Math.min(rarest, trigramFrequency(literal, at));
  return rarest / 2 ** Math.min(literal.length - 3, 6);
}
