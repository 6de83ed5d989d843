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
/**
 * The table as two sorted typed arrays, searched by halving (13 steps): a Map of its 6,000 entries held
 * ~300 KB for as long as the process ran (boxed doubles, hash buckets), these 72 KB.
 */
let keys: Int32Array | undefined;
let values: Float64Array | undefined;
function frequencyOf(trigram: number): number | undefined {
  if (!keys || !values) {
    const order = Array.from({ length: TRIGRAM_FREQUENCY.length / 2 }, (_, i) => i).sort((a, b) => TRIGRAM_FREQUENCY[2 * a]! - TRIGRAM_FREQUENCY[2 * b]!);
    keys = Int32Array.from(order, (i) => TRIGRAM_FREQUENCY[2 * i]!);
    values = Float64Array.from(order, (i) => TRIGRAM_FREQUENCY[2 * i + 1]!);
  }
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const key = keys[mid]!;
    if (key === trigram) return values[mid];
    if (key < trigram) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

const classesOf = (literal: string): number[] => Array.from(literal, (c) => UNIT_CLASS[c.charCodeAt(0) & 0xff]!);

/** Expected occurrences per million units of the trigram at `at` in `literal` (case-insensitive). */
export function trigramFrequency(literal: string, at: number): number {
  const c = classesOf(literal.slice(at, at + 3));
  return frequencyOf(trigramOf(c[0]!, c[1]!, c[2]!)) ?? UNSEEN;
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
    for (let a = 0; a < 64; a++) sum += frequencyOf(trigramOf(a, c[0]!, c[1]!)) ?? 0;
    return Math.max(sum, UNSEEN);
  }
  let rarest = Number.POSITIVE_INFINITY;
  for (let at = 0; at + 3 <= literal.length; at++) rarest = Math.min(rarest, trigramFrequency(literal, at));
  return rarest / 2 ** Math.min(literal.length - 3, 6);
}
