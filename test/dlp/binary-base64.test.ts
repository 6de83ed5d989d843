/**
 * src/dlp/binary-base64.ts looks for printable runs in a base64 run's bytes without decoding it (a
 * window skip reading one byte in several). It must give the views that decoding every alignment with
 * `Buffer.from(…, 'base64')` and reading each byte gives, on runs built to sit on the skip's edges:
 * printable stretches of 11, 12 and 13 bytes, after and before binary bytes, at every alignment, with
 * line breaks and tabs among them, in both alphabets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binaryBase64Views } from '../../src/dlp/binary-base64.ts';
import { longRuns, type DecodedView } from '../../src/dlp/decode.ts';
import { seededRandom } from '../helpers/random.ts';

const printable = (b: number): boolean => (b >= 0x20 && b < 0x7f) || b === 0x09;

/** The views of every base64 run read the plain way: each alignment decoded whole, each byte looked at. */
function reference(text: string, runs: readonly number[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < runs.length; k += 2) {
    const from = runs[k]!;
    const to = runs[k + 1]!;
    if (to - from < 16 || /^[0-9a-fA-F]*$/.test(text.slice(from, to))) continue;
    const seen = new Set<string>();
    for (let shift = 0; shift < 4; shift++) {
      const bytes = Buffer.from(text.slice(from + shift, to), 'base64');
      const pieces: string[] = [];
      let start = -1;
      for (let i = 0; i <= bytes.length; i++) {
        if (i < bytes.length && printable(bytes[i]!)) {
          if (start < 0) start = i;
          continue;
        }
        if (start >= 0 && i - start >= 12) pieces.push(bytes.toString('latin1', start, i));
        start = -1;
      }
      if (pieces.length === 0) continue;
      if (shift === 0 && bytes.every((b) => printable(b) || b === 0x0a || b === 0x0d)) continue;
      const view = pieces.join('\n');
      if (seen.has(view)) continue;
      seen.add(view);
      out.push(`${from}:${view}`);
    }
  }
  return out;
}

const viewsOf = (text: string): string[] => {
  const runs = longRuns(text);
  const out: DecodedView[] = [];
  binaryBase64Views(text, runs, out);
  return out.filter((v) => v.encoding === 'base64-binary').map((v) => `${v.starts[0]}:${v.text}`);
};

describe('binaryBase64Views', () => {
  it('finds the printable runs that decoding every alignment in full finds', () => {
    const next = seededRandom(0xb64);
    const byte = (p: number): number => (next() < p ? 0x20 + Math.floor(next() * 0x5f) : [0x00, 0x0a, 0x0d, 0x09, 0x80, 0xff, 0x1f, 0x7f][Math.floor(next() * 8)]!);
    let withViews = 0;
    for (let t = 0; t < 3000; t++) {
      const parts: Buffer[] = [];
      const pieces = 1 + Math.floor(next() * 5);
      for (let p = 0; p < pieces; p++) {
        const length = [11, 12, 13, 1, 2, 3, 5, 24][Math.floor(next() * 8)]!;
        const share = [0, 0.375, 0.9, 1][Math.floor(next() * 4)]!;
        parts.push(Buffer.from(Array.from({ length }, () => byte(share))));
      }
      let run = Buffer.concat(parts).toString(next() < 0.5 ? 'base64' : 'base64url').replace(/=+$/, '');
      run = 'ABCD'.slice(0, Math.floor(next() * 4)) + run;
      const text = `x ${run} y`;
      const got = viewsOf(text);
      assert.deepEqual(got, reference(text, longRuns(text)), text);
      if (got.length > 0) withViews++;
    }
    assert.ok(withViews > 500, `only ${withViews} texts had a view`);
  });
});
