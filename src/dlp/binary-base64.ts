/**
 * Base64 in a text that does not decode to text (red team I, F4): a junk byte (or a file header, or any
 * binary) in front of a secret, or the run read from the wrong place (a character glued in front of the
 * base64 shifts every group of four). `decode.ts` reads a base64 run only when its bytes are text; here
 * every other run is read the way binary-text.ts reads a blob — the runs of printable bytes in it, as
 * `strings(1)` would, 12 bytes or more — at each of the four alignments of the run, so that neither the bytes around the
 * secret nor where the run starts can hide it. The view maps each of its units to the whole run (a
 * finding masks the whole encoded run, as for any base64).
 *
 * Hex runs are read by decode.ts only (hex cannot be misaligned by more than one digit, and a secret in
 * hex after binary is rare enough to leave to the whole-run hex view).
 */
import { privateKeyDerView, type DecodedView } from './decode.ts';

/**
 * Printable runs shorter than this are the noise of random bytes: at 8 (what binary-text.ts reads in a
 * blob), one random token in 15 has one at some alignment; at 12, about one in 2 000. Every secret rule
 * wants more.
 */
const MIN_PRINTABLE = 12;
/** Runs shorter than this hold no secret worth the decoding (the shortest secret rules want 16 characters or more). */
const MIN_UNITS = 16;

const printable = (b: number): boolean => (b >= 0x20 && b < 0x7f) || b === 0x09;

/** The printable runs of `bytes` (each at least MIN_PRINTABLE long) joined by line breaks, or undefined when there is none. */
function printableRuns(bytes: Buffer): string | undefined {
  let out: string | undefined;
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && printable(bytes[i]!)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= MIN_PRINTABLE) out = (out === undefined ? '' : `${out}\n`) + bytes.toString('latin1', start, i);
    start = -1;
  }
  return out;
}

/** The shortest private key DER looked for in hex: 48 bytes (an Ed25519 PKCS#8 key). */
const MIN_KEY_HEX = 96;
/** Hex digits, by unit (a run's units are all ASCII: one table read each). */
const HEX = Uint8Array.from({ length: 128 }, (_, u) => Number(/[0-9A-Fa-f]/.test(String.fromCharCode(u))));
const isHexRun = (text: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (HEX[text.charCodeAt(i)] !== 1) return false;
  return true;
};

const B64 = Int8Array.from({ length: 128 }, (_, u) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(String.fromCharCode(u)));
B64[0x2d] = 62; // base64url
B64[0x5f] = 63;

/**
 * Byte `j` of `text` decoded as base64 from `from`: the two units that hold its eight bits (a byte
 * starts 0, 2 or 4 bits into a unit and always ends in the next), read without decoding what is before.
 */
function byteAt(text: string, from: number, j: number): number {
  const bit = j << 3;
  const c = from + ((bit / 6) | 0);
  const pair = (B64[text.charCodeAt(c)]! << 6) | B64[text.charCodeAt(c + 1)]!;
  return (pair >> (4 - (bit % 6))) & 0xff;
}

/**
 * Whether `text[from, to)` (base64 units only) decoded as base64 holds a run of MIN_PRINTABLE printable
 * bytes. Searched as a fixed-length window is (Boyer–Moore's skip): each window's bytes are read from its
 * last one back, and the first that is not printable moves the next window past it — random bytes (ids,
 * hashes, tokens: most runs) are printable three times in eight, so about one byte in ten is read.
 * Nothing is decoded or allocated.
 */
function hasPrintableRun(text: string, from: number, to: number): boolean {
  const bytes = ((to - from) * 6) >> 3;
  for (let start = 0; start + MIN_PRINTABLE <= bytes; ) {
    let j = start + MIN_PRINTABLE - 1;
    while (j >= start && printable(byteAt(text, from, j))) j--;
    if (j < start) return true;
    start = j + 1;
  }
  return false;
}

/** Whether `text[from, to)` decoded as base64 holds a byte that is neither printable nor a line break (not text). */
function hasBinaryByte(text: string, from: number, to: number): boolean {
  const bytes = ((to - from) * 6) >> 3;
  for (let j = 0; j < bytes; j++) {
    const b = byteAt(text, from, j);
    if (!printable(b) && b !== 0x0a && b !== 0x0d) return true;
  }
  return false;
}

/**
 * The printable text inside each base64 run of `text` (`found`: the runs, as `longRuns` gives them)
 * whose bytes are not text, at each alignment that has any, added to `out` as `base64-binary` views.
 */
export function binaryBase64Views(text: string, found: readonly number[], out: DecodedView[]): void {
  for (let k = 0; k < found.length; k += 2) {
    const from = found[k]!;
    const to = found[k + 1]!;
    if (to - from < MIN_UNITS) continue;
    // Hex digits alone are hex (decode.ts), not base64; a private key's DER in hex (`xxd -p key.der`,
    // joined by the unwrapped view) is given back its PEM armour for the private-key rules (red team J, F4).
    if (isHexRun(text, from, to)) {
      if (to - from >= MIN_KEY_HEX) {
        const key = privateKeyDerView(Buffer.from(text.slice(from, to - ((to - from) & 1)), 'hex'), from, to);
        if (key) out.push(key);
      }
      continue;
    }
    let seen: Set<string> | undefined;
    for (let shift = 0; shift < 4; shift++) {
      // Nothing printable to read; or aligned and all text, which decode.ts's base64 view reads.
      if (!hasPrintableRun(text, from + shift, to) || (shift === 0 && !hasBinaryByte(text, from, to))) continue;
      const view = printableRuns(Buffer.from(text.slice(from + shift, to), 'base64'));
      if (view === undefined || seen?.has(view)) continue;
      (seen ??= new Set()).add(view);
      let end = to;
      while (end < text.length && end - to < 2 && text[end] === '=') end++;
      out.push({ text: view, encoding: 'base64-binary', starts: new Int32Array(view.length).fill(from), ends: new Int32Array(view.length).fill(end) });
    }
  }
}
