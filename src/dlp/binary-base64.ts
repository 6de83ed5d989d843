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
const isHexRun = (text: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) {
    const u = text.charCodeAt(i) | 0x20;
    if (!((u >= 0x30 && u <= 0x39) || (u >= 0x61 && u <= 0x66))) return false;
  }
  return true;
};

const B64 = Int8Array.from({ length: 128 }, (_, u) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(String.fromCharCode(u)));
B64[0x2d] = 62; // base64url
B64[0x5f] = 63;

/**
 * Whether `text[from, to)` decoded as base64 holds a run of MIN_PRINTABLE printable bytes (and, when
 * `binary`, any byte that is not printable): decoded bit by bit, nothing allocated — most runs (ids,
 * hashes, random tokens) have none, and cost no buffer.
 */
function hasPrintableRun(text: string, from: number, to: number): { run: boolean; binary: boolean } {
  let bits = 0;
  let value = 0;
  let streak = 0;
  let run = false;
  let binary = false;
  for (let i = from; i < to; i++) {
    value = ((value << 6) | B64[text.charCodeAt(i)]!) & 0xffffff;
    bits += 6;
    if (bits < 8) continue;
    bits -= 8;
    const b = (value >> bits) & 0xff;
    if (printable(b)) {
      if (++streak >= MIN_PRINTABLE) run = true;
    } else {
      streak = 0;
      if (b !== 0x0a && b !== 0x0d) binary = true;
    }
    if (run && binary) break;
  }
  return { run, binary };
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
      const scan = hasPrintableRun(text, from + shift, to);
      // Nothing printable to read; or aligned and all text, which decode.ts's base64 view reads.
      if (!scan.run || (shift === 0 && !scan.binary)) continue;
      const view = printableRuns(Buffer.from(text.slice(from + shift, to), 'base64'));
      if (view === undefined || seen?.has(view)) continue;
      (seen ??= new Set()).add(view);
      let end = to;
      while (end < text.length && end - to < 2 && text[end] === '=') end++;
      out.push({ text: view, encoding: 'base64-binary', starts: new Int32Array(view.length).fill(from), ends: new Int32Array(view.length).fill(end) });
    }
  }
}
