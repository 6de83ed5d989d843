/**
 * Encoded stretches of a text, decoded, so that detection can run on what they say (src/dlp/views.ts):
 *
 *   base64, base64url   runs of 16+ alphabet characters whose decoded bytes are text
 *   hex                 runs of 20+ hex digits (even) whose decoded bytes are text
 *   url                 %XX escapes (UTF-8), also %25XX (decoded again one level down)
 *   quoted-printable    =XX escapes, two or more in a row (a single one is ordinary `key=AB12`)
 *   html                character references: &#NN; &#xNN; and the named ones for ASCII punctuation
 *   escape              \uXXXX, \u{…}, \UXXXXXXXX, \xXX, \x{…}, octal \NNN (and \n \t \" \\ \/ around them):
 *                       a JSON, JavaScript, Python, C or Perl string literal inside the text, a JSON
 *                       document inside a string included
 *   ascii85             `<~…~>` blocks, and raw runs in short texts (`ascii85` below)
 *   css                 \41 , \000041: CSS escapes of printable ASCII (one whitespace after ends one)
 *   not decoded         named escapes (\N{LATIN CAPITAL LETTER A}), control escapes (\cA), escapes of
 *                       escapes past the four levels views.ts reads
 *
 * Bounds: a decoded text is never longer than its source; runs and escapes are decoded only where a
 * secret could hide (the lengths above); escapes are decoded in a window around each cluster of them,
 * not over the whole text. How deep decoding goes (two levels) is the caller's.
 *
 * Each decoded unit maps to the source span of the escape (or the whole run, for base64 and hex), so
 * that a finding masks the encoded characters it came from.
 */
import { byteListViews } from './byte-lists.ts';
import { longStretches, type CharClasses } from './char-classes.ts';
import { binaryBase64Views } from './binary-base64.ts';
import type { MappedText } from './normalize.ts';
import { MappedBuilder } from './mapped.ts';

export interface DecodedView extends MappedText {
  /** `base64`, `hex`, `base32`, `private-key`, `url`, `quoted-printable`, `html`, `escape`, `octal`, `hex-bytes`, `char-codes`. */
  encoding: string;
}

/** Units of the base64 and base64url alphabets (hex digits among them). */
const RUN_UNIT = Uint8Array.from({ length: 0x10000 }, (_, u) => Number(u < 128 && /[A-Za-z0-9+/_-]/.test(String.fromCharCode(u))));
/** One table read per unit (every UTF-16 unit has an entry): no range test on the hot path of `longRuns`. */
const isRunUnit = (u: number): boolean => RUN_UNIT[u] === 1;
function isHex(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const u = text.charCodeAt(i);
    if (!((u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x46) || (u >= 0x61 && u <= 0x66))) return false;
  }
  return true;
}
/** Shorter runs cannot hold an encoded secret (the shortest value looked for has 4 characters, and base64 of 12 bytes has 16). */
export const MIN_RUN = 16;

/**
 * Runs of at least `MIN_RUN` base64-alphabet units, as [start, end) pairs. Reads one unit in
 * `MIN_RUN` (every such run covers one of them) and grows around the ones that hit, so ordinary
 * prose costs a sixteenth of a pass; a native regex here costs several passes. `ascii`: the text's
 * units as bytes when it is all ASCII (`detect` has them: reading a byte array is about twice as fast as
 * reading the string); otherwise the string's units are read. `classes`: that text's character classes
 * (src/dlp/char-classes.ts), when it has them: the runs are then found in the run bitset, 32 units a word.
 */
export function longRuns(text: string, ascii?: Uint8Array, classes?: CharClasses): number[] {
  if (ascii && classes) return longStretches(classes.run, classes.run.length, MIN_RUN, 8);
  if (ascii) return runsInBytes(ascii, text.length);
  const out: number[] = [];
  const n = text.length;
  let floor = 0;
  for (let p = MIN_RUN - 1; p < n; ) {
    if (!isRunUnit(text.charCodeAt(p))) {
      p += MIN_RUN;
      continue;
    }
    let s = p;
    while (s > floor && isRunUnit(text.charCodeAt(s - 1))) s--;
    let e = p + 1;
    while (e < n && isRunUnit(text.charCodeAt(e))) e++;
    if (e - s >= MIN_RUN) out.push(s, e);
    floor = e;
    p = e + MIN_RUN;
  }
  return out;
}

/**
 * `longRuns` over an ASCII text's bytes: the same walk, kept apart so that each reads one kind of
 * array (a function reading both a string and a byte array is optimised for neither).
 */
function runsInBytes(bytes: Uint8Array, n: number): number[] {
  const out: number[] = [];
  let floor = 0;
  for (let p = MIN_RUN - 1; p < n; ) {
    if (RUN_UNIT[bytes[p]!] !== 1) {
      p += MIN_RUN;
      continue;
    }
    let s = p;
    while (s > floor && RUN_UNIT[bytes[s - 1]!] === 1) s--;
    let e = p + 1;
    while (e < n && RUN_UNIT[bytes[e]!] === 1) e++;
    if (e - s >= MIN_RUN) out.push(s, e);
    floor = e;
    p = e + MIN_RUN;
  }
  return out;
}

/** Mostly printable: at most 1 in 20 units a control (other than whitespace) or a replacement character. */
function isText(decoded: string): boolean {
  if (decoded.length < 8) return false;
  let bad = 0;
  for (let i = 0; i < decoded.length; i++) {
    const u = decoded.charCodeAt(i);
    if ((u < 0x20 && u !== 0x09 && u !== 0x0a && u !== 0x0d) || u === 0x7f || u === 0xfffd) bad++;
  }
  return bad * 20 <= decoded.length;
}

/** Bytes decoded in place by `base64Utf8IsText` (grown as needed; nothing keeps them past the call). */
let decodedScratch = new Uint8Array(1 << 12);

/**
 * Whether `text[from, to)` (base64 or base64url units only, no padding) decoded as Node decodes it
 * and read as UTF-8 is text (`isText` of `Buffer.from(run, 'base64').toString('utf8')`), without making
 * either: the bytes are decoded into a buffer kept for the purpose, and read as the WHATWG decoder
 * reads them (one U+FFFD for each maximal ill-formed part, a supplementary code point counting two
 * units) — what `toString` does, which test/dlp/passes.test.ts checks on random and crafted bytes.
 */
export function base64Utf8IsText(text: string, from: number, to: number): boolean {
  const length = Math.floor(((to - from) * 6) / 8);
  if (decodedScratch.length < length) decodedScratch = new Uint8Array(2 ** Math.ceil(Math.log2(length)));
  const bytes = decodedScratch;
  let bits = 0;
  let value = 0;
  let k = 0;
  for (let i = from; i < to; i++) {
    value = ((value << 6) | B64[text.charCodeAt(i)]!) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[k++] = (value >> bits) & 0xff;
    }
  }
  return utf8IsText(bytes, k);
}

/** `isText` of `bytes[0, n)` read as UTF-8 (WHATWG decoding: see `base64Utf8IsText`). */
export function utf8IsText(bytes: Uint8Array, n: number): boolean {
  let units = 0;
  let bad = 0;
  for (let i = 0; i < n; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      units++;
      if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) bad++;
      i++;
      continue;
    }
    const needed = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (needed === 0) {
      // Not a lead byte: one replacement character.
      units++;
      // Every unit comes from a byte at least: past n / 20 bad ones, no end of the bytes makes it text.
      if (++bad * 20 > n) return false;
      i++;
      continue;
    }
    // The bounds of the first continuation byte (no overlong form, no surrogate, nothing past U+10FFFF).
    let lower = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    let upper = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    let cp = b & (needed === 1 ? 0x1f : needed === 2 ? 0x0f : 0x07);
    let seen = 0;
    let j = i + 1;
    while (seen < needed && j < n && bytes[j]! >= lower && bytes[j]! <= upper) {
      cp = (cp << 6) | (bytes[j]! & 0x3f);
      lower = 0x80;
      upper = 0xbf;
      seen++;
      j++;
    }
    if (seen < needed) {
      // An ill-formed part (cut short, or a byte out of bounds, which is read again): one replacement character.
      units++;
      if (++bad * 20 > n) return false;
      i = j;
      continue;
    }
    units += cp >= 0x10000 ? 2 : 1;
    if (cp === 0xfffd) bad++;
    i = j;
  }
  return units >= 8 && bad * 20 <= units;
}

/** A decoded run, every unit mapped to the whole run. */
function wholeRun(text: string, from: number, to: number, encoding: string): DecodedView {
  return { text, encoding, starts: new Int32Array(text.length).fill(from), ends: new Int32Array(text.length).fill(to) };
}

const B64 = Int8Array.from({ length: 128 }, (_, u) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(String.fromCharCode(u)));
B64[0x2d] = 62; // base64url
B64[0x5f] = 63;

/**
 * Whether the first bytes of a run, decoded, can start a text: printable ASCII and whitespace, or
 * well-formed UTF-8 sequences. Random bytes (hashes, ids, keys) fail this nine times in ten, so most
 * runs are rejected after six bytes, without decoding the rest.
 */
function startsText(bytes: ArrayLike<number>): boolean {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
      if (b === 0x7f) return false;
      i++;
      continue;
    }
    const more = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (more < 0) return false;
    for (let k = 1; k <= more && i + k < bytes.length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return false;
    i += more + 1;
  }
  return true;
}

/** The first six bytes of a run, decoded (one buffer, reused). */
const head = new Uint8Array(6);
function base64Head(text: string, from: number): Uint8Array {
  for (let i = 0; i < 2; i++) {
    const at = from + 4 * i;
    const v = (B64[text.charCodeAt(at)]! << 18) | (B64[text.charCodeAt(at + 1)]! << 12) | (B64[text.charCodeAt(at + 2)]! << 6) | B64[text.charCodeAt(at + 3)]!;
    head[3 * i] = (v >> 16) & 0xff;
    head[3 * i + 1] = (v >> 8) & 0xff;
    head[3 * i + 2] = v & 0xff;
  }
  return head;
}

const HEX = Int8Array.from({ length: 128 }, (_, u) => '0123456789abcdef'.indexOf(String.fromCharCode(u).toLowerCase()));
function hexHead(text: string, from: number): Uint8Array {
  for (let k = 0; k < 6; k++) head[k] = (HEX[text.charCodeAt(from + 2 * k)]! << 4) | HEX[text.charCodeAt(from + 2 * k + 1)]!;
  return head;
}

/** How a run's bytes are read as text. */
type TextKind = 'utf8' | 'utf16le' | 'utf16be' | 'utf32le' | 'utf32be';

const isPrintableByte = (b: number): boolean => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * How the first bytes read: as UTF-8 text, as UTF-16 text (little- or big-endian: every other byte a
 * NUL beside a printable ASCII one), as UTF-32 text (three NULs beside each printable byte: red team
 * C3), each also after its byte-order mark; or not as text.
 */
function textKind(bytes: Uint8Array): TextKind | undefined {
  if (startsText(bytes)) return 'utf8';
  // Read by index: destructuring a typed array goes through its iterator, which cost more than the tests.
  const b0 = bytes[0];
  const b1 = bytes[1];
  const b2 = bytes[2];
  const b3 = bytes[3];
  const b4 = bytes[4];
  const b5 = bytes[5];
  const p = isPrintableByte;
  if (b1 === 0 && b2 === 0 && b3 === 0 && p(b0!) && b5 === 0 && p(b4!)) return 'utf32le';
  if (b0 === 0 && b1 === 0 && b2 === 0 && p(b3!) && b4 === 0 && b5 === 0) return 'utf32be';
  if (b1 === 0 && b3 === 0 && b5 === 0 && p(b0!) && p(b2!) && p(b4!)) return 'utf16le';
  if (b0 === 0 && b2 === 0 && b4 === 0 && p(b1!) && p(b3!) && p(b5!)) return 'utf16be';
  // Byte-order marks: FF FE 00 00 (UTF-32LE), 00 00 FE FF (UTF-32BE), FF FE, FE FF (UTF-16).
  if (b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0 && p(b4!) && b5 === 0) return 'utf32le';
  if (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff && b4 === 0 && b5 === 0) return 'utf32be';
  if (b0 === 0xff && b1 === 0xfe && p(b2!) && b3 === 0 && p(b4!) && b5 === 0) return 'utf16le';
  if (b0 === 0xfe && b1 === 0xff && b2 === 0 && p(b3!) && b4 === 0 && p(b5!)) return 'utf16be';
  return undefined;
}

/** `bytes` read as `kind` (a byte-order mark comes out as U+FEFF, which no detector minds). */
export function decodeBytes(bytes: Buffer, kind: TextKind): string {
  if (kind === 'utf8' || kind === 'utf16le') return bytes.toString(kind);
  if (kind === 'utf16be') return Buffer.from(bytes.subarray(0, bytes.length & ~1)).swap16().toString('utf16le');
  let out = '';
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const cp = kind === 'utf32le' ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    out += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
  }
  return out;
}

const B32 = Int8Array.from({ length: 128 }, (_, u) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(String.fromCharCode(u).toUpperCase()));
/** Whether `text[from, to)` is all base32 (RFC 4648), in one case. */
function isBase32(text: string, from: number, to: number): boolean {
  let upper = false;
  let lower = false;
  for (let i = from; i < to; i++) {
    const u = text.charCodeAt(i);
    if (u >= 0x41 && u <= 0x5a) upper = true;
    else if (u >= 0x61 && u <= 0x7a) lower = true;
    else if (u < 0x32 || u > 0x37) return false;
  }
  return !(upper && lower);
}
/** Base32 of `text[from, to)`, at most `max` bytes of it. */
function base32Bytes(text: string, from: number, to: number, max = Infinity): Buffer {
  const out = Buffer.alloc(Math.min(max, Math.floor(((to - from) * 5) / 8)));
  let bits = 0;
  let value = 0;
  let k = 0;
  for (let i = from; i < to && k < out.length; i++) {
    value = (value << 5) | B32[text.charCodeAt(i)]!;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function runs(text: string, found: readonly number[], out: DecodedView[]): void {
  for (let k = 0; k < found.length; k += 2) {
    const from = found[k]!;
    let to = found[k + 1]!;
    // A private key's DER body, whatever armour is left around it (or none).
    const first = text.charCodeAt(from);
    const second = text.charCodeAt(from + 1);
    if ((first === 0x4d && (second === 0x49 || second === 0x48 || second === 0x43)) || (first === 0x62 && text.startsWith('b3BlbnNzaC1rZXkt', from))) {
      const key = privateKeyBody(text, from, to);
      if (key) {
        out.push(key);
        continue;
      }
    }
    // Reversed (`rev`, red team M, M4): a body that ends the way one starts.
    const last = text.charCodeAt(to - 1);
    const before = text.charCodeAt(to - 2);
    if (last === 0x4d && (before === 0x49 || before === 0x48 || before === 0x43) && to - from >= MIN_KEY_RUN) {
      const key = privateKeyBody(text, from, to, [...text.slice(from, to)].reverse().join(''));
      if (key) {
        out.push(key);
        continue;
      }
    }
    // Most runs (ids, hashes) start with bytes that are no text read either way: turned down on their
    // first units, before reading the whole run to tell hex from base64.
    const asBase64 = textKind(base64Head(text, from));
    const asHex = to - from >= 20 ? textKind(hexHead(text, from)) : undefined;
    // Base32: its first units decide, then the whole run is checked for the alphabet.
    const asBase32 = to - from >= 16 && isBase32(text, from, from + 16) ? textKind(base32Bytes(text, from, to, 6)) : undefined;
    if (!asBase64 && !asHex && !asBase32) continue;
    if (asBase32 && isBase32(text, from, to)) {
      let end = to;
      while (end < text.length && text[end] === '=') end++;
      const decoded = decodeBytes(base32Bytes(text, from, to), asBase32);
      if (isText(decoded)) {
        out.push(wholeRun(decoded, from, end, 'base32'));
        continue;
      }
    }
    // Hex digits alone are hex (20 or more, even), not base64.
    if (isHex(text, from, to)) {
      if (!asHex) continue;
      const run = text.slice(from, to);
      const decoded = decodeBytes(Buffer.from(run.length % 2 === 0 ? run : run.slice(0, -1), 'hex'), asHex);
      if (isText(decoded)) out.push(wholeRun(decoded, from, to, 'hex'));
      continue;
    }
    if (!asBase64) continue;
    // Most runs whose first bytes read as text are still binary (hex ids and UUIDs decoded as base64
    // start like UTF-8): judged on bytes decoded in place, they cost no string and no buffer.
    if (asBase64 === 'utf8' && !base64Utf8IsText(text, from, to)) continue;
    const run = text.slice(from, to);
    while (to < text.length && to - found[k + 1]! < 2 && text[to] === '=') to++;
    const decoded = decodeBytes(Buffer.from(run, 'base64'), asBase64);
    if (isText(decoded)) out.push(wholeRun(decoded, from, to, /[-_]/.test(run) ? 'base64url' : 'base64'));
  }
}

/** The shortest private key body looked for: an Ed25519 PKCS#8 key is 48 bytes (64 base64 units). */
const MIN_KEY_RUN = 64;
/** Object identifiers of private keys' algorithms and curves, as DER bytes (rsaEncryption, ecPublicKey, the prime and SEC curves, Ed25519, Ed448, X25519, DSA, PBES2). */
const KEY_OIDS = ['2a864886f70d010101', '2a8648ce3d0201', '2a8648ce3d0301', '2b8104', '2b6570', '2b6571', '2b656e', '2a8648ce380401', '2a864886f70d01050d'].map((h) => Buffer.from(h, 'hex'));

/**
 * A base64 run that is the DER body of a private key (PKCS#1 RSA, SEC 1 EC, PKCS#8 plain or
 * encrypted) or of an OpenSSH private key: a view that gives it back its PEM armour, so that the
 * private-key rules find it with its header changed or gone. The DER test: a SEQUENCE whose length
 * is the run's, then version 0 or 1 (an INTEGER) and a key algorithm's identifier, or the RSA
 * structure's second INTEGER.
 */
function privateKeyBody(text: string, from: number, to: number, body = text.slice(from, to)): DecodedView | undefined {
  if (body.length < MIN_KEY_RUN) return undefined;
  const der = Buffer.from(body, 'base64');
  const openssh = der.subarray(0, 15).toString('latin1') === 'openssh-key-v1\0';
  if (!openssh && !isPrivateKeyDer(der)) return undefined;
  // A run that goes on past the key (a word on the line after a body: the unwrapped view joins it) is cut where the DER ends.
  const span = openssh ? 0 : derLength(der);
  if (span > 0) to = Math.min(to, from + Math.ceil(span / 3) * 4);
  const label = openssh ? 'OPENSSH PRIVATE KEY' : 'PRIVATE KEY';
  const armoured = `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;
  return wholeRun(armoured, from, to, 'private-key');
}

/**
 * A private key's DER bytes, read from the text at [from, to) however they were written (hex, a byte
 * list), given back their PEM armour for the private-key rules; undefined when they are no key's.
 */
export function privateKeyDerView(der: Buffer, from: number, to: number): DecodedView | undefined {
  if (!isPrivateKeyDer(der)) return undefined;
  const armoured = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----`;
  return { text: armoured, encoding: 'private-key', starts: new Int32Array(armoured.length).fill(from), ends: new Int32Array(armoured.length).fill(to) };
}

/** The bytes a DER SEQUENCE's header says it spans (header included), or 0 when its length is not one of one or two octets. */
function derLength(der: Buffer): number {
  const length = der[1]!;
  if (!(length & 0x80)) return 2 + length;
  const octets = length & 0x7f;
  if (octets < 1 || octets > 2) return 0;
  return 2 + octets + (octets === 1 ? der[2]! : (der[2]! << 8) | der[3]!);
}

export function isPrivateKeyDer(der: Buffer): boolean {
  if (der.length < 48 || der[0] !== 0x30) return false;
  // The SEQUENCE's length (short or long form): the key may be cut short, or followed by more (what
  // came after it on the next line; the view is cut where it ends), but not be shorter than a key.
  const whole = derLength(der);
  if (whole < 48) return false;
  const at = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  // Version: INTEGER 0 (PKCS#1, PKCS#8) or 1 (SEC 1 EC); an encrypted PKCS#8 starts with a SEQUENCE.
  const versioned = der[at] === 0x02 && der[at + 1] === 0x01 && (der[at + 2] === 0 || der[at + 2] === 1);
  if (!versioned && der[at] !== 0x30) return false;
  const head = der.subarray(at, Math.min(der.length, at + 64));
  if (KEY_OIDS.some((oid) => head.includes(oid))) return true;
  // PKCS#1 RSA: version 0, then the modulus as an INTEGER with a long length.
  return versioned && der[at + 2] === 0 && der[at + 3] === 0x02 && (der[at + 4]! & 0x80) !== 0;
}

/** Base64 written in groups of four with a space between them (`Z2hw X1I4 …`), four groups or more. */
const SPACED_BASE64 = /(?:[A-Za-z0-9+/]{4} ){3,}[A-Za-z0-9+/]{2,4}(?:={1,2})?(?![A-Za-z0-9+/=])/y;
const isBase64Letter = (u: number): boolean => RUN_UNIT[u] === 1 && u !== 0x2d && u !== 0x5f;
/** Four base64 units before `at` and none before them: where a group starts. */
const groupEndsAt = (text: string, at: number): boolean => {
  for (let i = at - 4; i < at; i++) if (i < 0 || !isBase64Letter(text.charCodeAt(i))) return false;
  return at - 5 < 0 || !isBase64Letter(text.charCodeAt(at - 5));
};
/**
 * Where two groups of four between spaces (` XXXX XXXX `, base64 units) start at or after `from`, or
 * -1: where `SPACED_BASE64` is tried. Found by hopping from space to space with a native search, then
 * looking at the two spaces after it: a pattern starting with a space stumbles on each of the spaces
 * ordinary text is full of (paired, loaded: log lines 62 → 15 µs, prose 195 → 62 µs).
 */
export function nextSpacedGroups(text: string, from: number): number {
  const n = text.length;
  for (let s = text.indexOf(' ', from); s >= 0 && s + 10 < n; s = text.indexOf(' ', s + 1)) {
    if (text.charCodeAt(s + 5) !== 0x20 || text.charCodeAt(s + 10) !== 0x20) continue;
    let k = s + 1;
    while (k < s + 10 && (k === s + 5 || isBase64Letter(text.charCodeAt(k)))) k++;
    if (k === s + 10) return s;
  }
  return -1;
}
function spacedBase64(text: string, out: DecodedView[]): void {
  for (let i = nextSpacedGroups(text, 0); i >= 0; ) {
    if (!groupEndsAt(text, i)) {
      i = nextSpacedGroups(text, i + 1);
      continue;
    }
    SPACED_BASE64.lastIndex = i - 4;
    const m = SPACED_BASE64.exec(text);
    if (!m) {
      i = nextSpacedGroups(text, i + 1);
      continue;
    }
    i = nextSpacedGroups(text, m.index + m[0].length);
    const run = m[0].replaceAll(' ', '');
    const kind = textKind(base64Head(run, 0));
    if (!kind) continue;
    const decoded = decodeBytes(Buffer.from(run, 'base64'), kind);
    if (isText(decoded)) out.push(wholeRun(decoded, m.index, m.index + m[0].length, 'base64'));
  }
}

/**
 * Whether `text` still holds a base64, base32 or hex run that decodes to text (or a key body): asked at
 * the deepest level decoded, where such a run is past what is read (the caller fails closed).
 */
export function hasEncodedRun(text: string, found: readonly number[] = longRuns(text)): boolean {
  const out: DecodedView[] = [];
  runs(text, found, out);
  if (out.length === 0) spacedBase64(text, out);
  return out.length > 0;
}

/** Named character references for ASCII punctuation (HTML5), the ones that can spell a secret or a phrase. */
const NAMED: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', lowbar: '_', period: '.', colon: ':', sol: '/', bsol: '\\', equals: '=',
  plus: '+', num: '#', excl: '!', commat: '@', dollar: '$', percnt: '%', lpar: '(', rpar: ')', ast: '*', comma: ',', semi: ';',
  quest: '?', lsqb: '[', rsqb: ']', lcub: '{', rcub: '}', verbar: '|', grave: '`', Hat: '^', tab: '\t', NewLine: '\n', hyphen: '\u2010',
};

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', '/': '/', "'": "'" };

interface EscapeKind {
  encoding: string;
  /** Finds one escape, or a run of escapes decoded together (UTF-8 bytes). */
  pattern: RegExp;
  /** Whether the text is worth a look at all (cheap). */
  trigger: RegExp;
  /** Items with separators (`hasItemList` gates it, not `ANY_ESCAPE`). */
  list?: boolean;
  decode(match: string): string | undefined;
}

const bytes = (hexPairs: string, prefix: number): string => {
  const step = prefix + 2;
  if (hexPairs.length === step) {
    // One escape (`%20`, `=3D`): the common case, without a buffer.
    const b = (HEX[hexPairs.charCodeAt(prefix)]! << 4) | HEX[hexPairs.charCodeAt(prefix + 1)]!;
    if (b < 0x80) return String.fromCharCode(b);
  }
  const buf = Buffer.alloc((hexPairs.length / (prefix + 2)) | 0);
  for (let i = 0, k = 0; i < hexPairs.length; i += prefix + 2, k++) buf[k] = parseInt(hexPairs.slice(i + prefix, i + prefix + 2), 16);
  return buf.toString('utf8');
};

const codePoint = (cp: number): string | undefined => (cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined);

/** `decoded` when it reads as text (no control but tab and line breaks, no undecodable byte), else undefined. */
const printable = (decoded: string): string | undefined => (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/.test(decoded) ? undefined : decoded);

const ESCAPES: readonly EscapeKind[] = [
  { encoding: 'url', trigger: /%[0-9A-Fa-f]{2}/, pattern: /(?:%[0-9A-Fa-f]{2})+/g, decode: (m) => bytes(m, 1) },
  // `%uXXXX`: JavaScript's old `escape()`, still decoded by many servers.
  { encoding: 'url', trigger: /%u[0-9A-Fa-f]{4}/, pattern: /%u[0-9A-Fa-f]{4}/g, decode: (m) => String.fromCharCode(parseInt(m.slice(2), 16)) },
  { encoding: 'quoted-printable', trigger: /=[0-9A-F]{2}=[0-9A-F]{2}/, pattern: /(?:=[0-9A-F]{2}){2,}|=\r?\n/g, decode: (m) => (m.startsWith('=\n') || m.startsWith('=\r') ? '' : bytes(m, 1)) },
  {
    encoding: 'html',
    trigger: /&(?:#|[A-Za-z]{2,8};)/,
    // Numeric references without their `;` too: browsers read `&#103&#104` as `gh`.
    pattern: /&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z]{2,8};)/g,
    decode: (m) => {
      const body = m.endsWith(';') ? m.slice(1, -1) : m.slice(1);
      if (body[0] !== '#') return NAMED[body];
      return codePoint(body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10));
    },
  },
  {
    encoding: 'escape',
    trigger: /\\(?:[uU0-7]|x[0-9A-Fa-f{])/,
    // Octal escapes (`\147`: C, Python, shell, JavaScript strings) among them, one byte each.
    // `\U0001F600` (Python, C), `\x{41}` (Perl, PCRE) too.
    pattern: /\\(?:u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|[0-3][0-7]{2}|[0-7]{1,2}(?![0-7])|[nrt"\\/'])/g,
    decode: (m) => {
      const c = m[1]!;
      if (c === 'u' || c === 'U') return codePoint(parseInt(m[2] === '{' ? m.slice(3, -1) : m.slice(2), 16));
      if (c === 'x') return m[2] === '{' ? codePoint(parseInt(m.slice(3, -1), 16)) : String.fromCharCode(parseInt(m.slice(2), 16));
      if (c >= '0' && c <= '7') return String.fromCharCode(parseInt(m.slice(1), 8));
      return SIMPLE_ESCAPES[c];
    },
  },
  {
    // CSS (CSS Syntax 3, §4.3.7 "consume an escaped code point"): `\41 KIA…`, `\000041`, 1–6 hex digits
    // and one optional whitespace that ends the escape. Only escapes of printable ASCII are read (what
    // spells a secret or a phrase); `\101` is octal above and CSS here, each view reading it its way.
    encoding: 'css',
    trigger: /\\[0-9A-Fa-f]/,
    pattern: /\\[0-9A-Fa-f]{1,6}(?:\r\n|[ \t\n\r\f])?/g,
    decode: (m) => {
      const cp = parseInt(m.slice(1), 16);
      return cp > 0x20 && cp < 0x7f ? String.fromCharCode(cp) : undefined;
    },
  },
  {
    // Bytes in hex one by one: `0x67, 0x68, …` (a C or Python array).
    encoding: 'hex-bytes',
    trigger: /0[xX][0-9A-Fa-f]{2}[ \t]*[,; ][ \t]*0[xX]/,
    pattern: /0[xX][0-9A-Fa-f]{2}(?:[ \t]*[,; ][ \t]*0[xX][0-9A-Fa-f]{2}){7,}/g,
    decode: (m) => printable(Buffer.from(m.replace(/0[xX]|[^0-9A-Fa-f]/g, ''), 'hex').toString('utf8')),
  },
  {
    // … or `67:68:…`, `67,68,…` (a dump).
    encoding: 'hex-bytes',
    list: true,
    trigger: /[0-9A-Fa-f]{2}[:,][0-9A-Fa-f]{2}[:,][0-9A-Fa-f]{2}/,
    pattern: /(?<![0-9A-Za-z])[0-9A-Fa-f]{2}(?:[:,][0-9A-Fa-f]{2}){7,}(?![0-9A-Za-z])/g,
    decode: (m) => printable(Buffer.from(m.replace(/[^0-9A-Fa-f]/g, ''), 'hex').toString('utf8')),
  },
  {
    // Character codes in decimal: `[103, 104, …]`, `String.fromCharCode(103,104,…)`.
    encoding: 'char-codes',
    list: true,
    trigger: /\d{2,7}[ \t]*,[ \t]*\d{2,7}[ \t]*,[ \t]*\d{2,7}/,
    pattern: /(?<![\d.])\d{2,7}(?:[ \t]*,[ \t]*\d{2,7}){7,}(?![\d.])/g,
    decode: (m) => {
      let out = '';
      for (const code of m.split(',')) {
        const c = codePoint(Number(code.trim()));
        if (c === undefined) return undefined;
        out += c;
      }
      return printable(out);
    },
  },
];

/** What escapes of spaces and markup decode to (`%20`, `&amp;`, `&lt;`, `\n`): on their own, everywhere. */
const ORDINARY_ESCAPE = /^[\s&<>"'+,/:;=?@#]*$/;

/**
 * A cluster of escapes is decoded when one of them is not ordinary (a letter, a digit), or when three
 * or more come close together with no literal space between them (`Ignore%20all%20previous…`): a lone
 * `red%20shoes` in a query string is not worth a second reading of its window.
 */
function worthDecoding(text: string, found: ReadonlyArray<[number, number, string]>, first: number, last: number): boolean {
  let close = 1;
  for (let j = first; j <= last; j++) {
    if (!ORDINARY_ESCAPE.test(found[j]![2])) return true;
    // An escaped `@` between word characters is an e-mail address written `jo%40example.org` (red team C4).
    if (found[j]![2] === '@' && isWordUnit(text.charCodeAt(found[j]![0] - 1)) && isWordUnit(text.charCodeAt(found[j]![1]))) return true;
    if (j > first) {
      const gap = text.slice(found[j - 1]![1], found[j]![0]);
      close = gap.length <= 16 && !/\s/.test(gap) ? close + 1 : 1;
      if (close >= 3) return true;
    }
  }
  return false;
}

const isWordUnit = (u: number): boolean => (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a) || u === 0x5f;

/** How far around a cluster of escapes the decoded window reaches (a secret or a phrase fits). */
const WINDOW = 256;

/** The windows of `text` around its escapes of one kind, decoded. */
function escapes(text: string, kind: EscapeKind, out: DecodedView[]): void {
  if (!kind.trigger.test(text)) return;
  const found: Array<[number, number, string]> = [];
  kind.pattern.lastIndex = 0;
  for (let m = kind.pattern.exec(text); m; m = kind.pattern.exec(text)) {
    const decoded = kind.decode(m[0]);
    if (decoded !== undefined && decoded.length <= m[0].length) found.push([m.index, m.index + m[0].length, decoded]);
  }
  let k = 0;
  while (k < found.length) {
    // One window per cluster: escapes closer than two windows apart share it.
    let last = k;
    while (last + 1 < found.length && found[last + 1]![0] - found[last]![1] < 2 * WINDOW) last++;
    if (!worthDecoding(text, found, k, last)) {
      k = last + 1;
      continue;
    }
    const from = Math.max(0, found[k]![0] - WINDOW);
    const to = Math.min(text.length, found[last]![1] + WINDOW);
    const view = new MappedBuilder();
    let at = from;
    for (let j = k; j <= last; j++) {
      const [s, e, decoded] = found[j]!;
      view.copy(text, at, s);
      view.mark(decoded, s, e);
      at = e;
    }
    view.copy(text, at, to);
    out.push({ ...view.view(), encoding: kind.encoding });
    k = last + 1;
  }
}

/** Any escape this file decodes, in one pattern (`anyEscape` asks it in parts; each kind is then looked for only when it matches). */
export const ANY_ESCAPE = /%[0-9A-Fa-fu]|=[0-9A-F]{2}=[0-9A-F]{2}|&(?:#|[A-Za-z]{2,8};)|\\(?:[uU0-9A-Fa-f]|x[0-9A-Fa-f{])|0[xX][0-9A-Fa-f]{2}[ \t]*[,; ]/;
/** `ANY_ESCAPE`'s alternatives one by one, each behind the native search for the unit it starts with. */
const PERCENT_ESCAPE = /%[0-9A-Fa-fu]/;
const QP_ESCAPE = /=[0-9A-F]{2}=[0-9A-F]{2}/;
const HTML_ESCAPE = /&(?:#|[A-Za-z]{2,8};)/;
const BACKSLASH_ESCAPE = /\\(?:[uU0-9A-Fa-f]|x[0-9A-Fa-f{])/;
const HEX_BYTE = /0[xX][0-9A-Fa-f]{2}[ \t]*[,; ]/;

/** Hops from one `x` to the next this many times at most before asking the pattern instead (a text of x's). */
const MAX_X_HOPS = 16;

/** Whether `0` + `x` occurs (x: the lower or upper case letter); undefined when `x` occurs too often to hop. */
function zeroThen(text: string, x: 'x' | 'X'): boolean | undefined {
  let hops = 0;
  for (let i = text.indexOf(x); i >= 0; i = text.indexOf(x, i + 1)) {
    if (text.charCodeAt(i - 1) === 0x30) return true;
    if (++hops > MAX_X_HOPS) return undefined;
  }
  return false;
}

/**
 * `ANY_ESCAPE.test(text)`, asked in parts: a text without `%`, `\`, `&`, `=` or `0x` is answered by a
 * few native single-unit searches. The one pattern stops at every `=` and `0` of log lines and JSON
 * records (paired: log lines 34 → 12 µs, JSON records 10 → 3 µs).
 */
export function anyEscape(text: string): boolean {
  if (text.includes('%') && PERCENT_ESCAPE.test(text)) return true;
  if (text.includes('\\') && BACKSLASH_ESCAPE.test(text)) return true;
  if (text.includes('&') && HTML_ESCAPE.test(text)) return true;
  if (text.includes('=') && QP_ESCAPE.test(text)) return true;
  const lower = zeroThen(text, 'x');
  if (lower === true) return HEX_BYTE.test(text);
  const upper = lower === undefined ? undefined : zeroThen(text, 'X');
  if (upper === false) return false;
  // `0X` seen, or too many x's to hop (where the one pattern is the faster search).
  return upper === true ? HEX_BYTE.test(text) : ANY_ESCAPE.test(text);
}

const isHexUnit = (u: number): boolean => (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x46) || (u >= 0x61 && u <= 0x66);
/**
 * Eight items or more (1–7 hex digits or decimal digits each) with `sep` between them, somewhere in
 * `text`: a byte dump (`67:68:…`) or character codes (`103,104,…`).
 */
/**
 * Whether `sep` at `i` starts two items in a row and a third separator (`, ?H{1,7} ?, ?H{1,7} ?,`, H a
 * hex digit: spaces, digits and the separator are apart, so one reading decides).
 */
function listStartsAt(text: string, i: number, sep: number): boolean {
  const n = text.length;
  let at = i;
  for (let item = 0; item < 2; item++) {
    let k = at + 1;
    if (k < n && text.charCodeAt(k) === 0x20) k++;
    const from = k;
    while (k < n && k - from < 8 && isHexUnit(text.charCodeAt(k))) k++;
    if (k === from || k - from > 7) return false;
    if (k < n && text.charCodeAt(k) === 0x20) k++;
    if (k >= n || text.charCodeAt(k) !== sep) return false;
    at = k;
  }
  return true;
}

/**
 * Where the next `sep` at or after `from` starts a list (`listStartsAt`), or -1: hopping from one
 * `sep` to the next with a native search (a pattern starting with the separator cost more on JSON and
 * log lines, full of commas and colons, and as much on text without any).
 */
export function nextListStart(text: string, sep: ',' | ':', from: number): number {
  const s = sep.charCodeAt(0);
  for (let i = text.indexOf(sep, from); i >= 0; i = text.indexOf(sep, i + 1)) if (listStartsAt(text, i, s)) return i;
  return -1;
}

/**
 * What `listStartsAt` asks at a separator, for either separator at once (`,` or `:`, then two items and
 * a third separator): every list `hasItemList` finds starts where this matches, and one native search
 * over JSON records or log lines costs a third to a half of hopping from comma to comma and colon to
 * colon, which most texts then need not do.
 */
const MAYBE_ITEM_LIST = /[,:] ?[0-9A-Fa-f]{1,7} ?[,:] ?[0-9A-Fa-f]{1,7} ?[,:]/;

function hasItemList(text: string, sep: ',' | ':'): boolean {
  const n = text.length;
  const s = sep.charCodeAt(0);
  // Three items in a row, then counted on.
  for (let i = nextListStart(text, sep, 0); i >= 0; i = nextListStart(text, sep, i + 1)) {
    let items = 0;
    let at = i;
    while (items < 7) {
      let j = at + 1;
      while (j < n && text.charCodeAt(j) === 0x20) j++;
      let k = j;
      while (k < n && k - j < 8 && isHexUnit(text.charCodeAt(k))) k++;
      if (k === j || k - j > 7) break;
      items++;
      while (k < n && text.charCodeAt(k) === 0x20) k++;
      if (text.charCodeAt(k) !== s) break;
      at = k;
    }
    if (items >= 7) return true;
  }
  return false;
}

/** Ascii85 read raw (without `<~ ~>`) only in texts up to this length: in a long one every word of punctuation and letters would be tried. */
const RAW_ASCII85_MAX = 4096;
/** The longest delimited block read. */
const MAX_ASCII85 = 1 << 16;
/** A run of Ascii85 units (`!`–`u`) long enough to hold a secret. */
const ASCII85_RUN = /[!-u]{20,}/g;
/** Units Ascii85 has and base64 and hex have not (a run without any is read as those). */
const ASCII85_ONLY = /[!-*,.:-@[-`]/;

/**
 * Ascii85 (Adobe's `btoa`, PostScript and PDF, Python's `a85encode`) of `text[from, to)` with its
 * blanks skipped: 4 bytes per 5 units `!`–`u` (base 85), `z` for four zero bytes, a short last group
 * padded with `u`. Undefined when a group is out of range or a unit is not Ascii85.
 */
function ascii85Bytes(text: string, from: number, to: number): Buffer | undefined {
  const out = Buffer.alloc(Math.ceil(((to - from) * 4) / 5) + 4);
  let k = 0;
  let value = 0;
  let units = 0;
  for (let i = from; i < to; i++) {
    const u = text.charCodeAt(i);
    if (u === 0x20 || u === 0x09 || u === 0x0a || u === 0x0d) continue;
    if (u === 0x7a && units === 0) {
      k += 4;
      continue;
    }
    if (u < 0x21 || u > 0x75) return undefined;
    value = value * 85 + (u - 0x21);
    if (++units === 5) {
      if (value > 0xffffffff) return undefined;
      out.writeUInt32BE(value, k);
      k += 4;
      value = 0;
      units = 0;
    }
  }
  if (units === 1) return undefined;
  if (units > 0) {
    for (let p = units; p < 5; p++) value = value * 85 + 84;
    if (value > 0xffffffff) return undefined;
    const last = Buffer.alloc(4);
    last.writeUInt32BE(value);
    last.copy(out, k, 0, units - 1);
    k += units - 1;
  }
  return out.subarray(0, k);
}

/** Whether `text` may hold Ascii85 (`ascii85` below reads it): a `<~` block, or a raw run in a short text. */
export function mayBeAscii85(text: string): boolean {
  if (text.includes('<~')) return true;
  if (text.length > RAW_ASCII85_MAX) return false;
  ASCII85_RUN.lastIndex = 0;
  return ASCII85_RUN.test(text);
}

/**
 * Ascii85 that decodes to text (red team C3): `<~…~>` blocks in any text, raw runs of 20 units or more
 * with a unit base64 has not in texts up to `RAW_ASCII85_MAX`. The first group decides before the rest
 * is decoded. Not read: Z85 and RFC 1924 base85 (other alphabets, rarely met outside their protocols).
 */
function ascii85(text: string, out: DecodedView[]): void {
  // Every block decoded goes into one view, a line each (one reading however many blocks).
  let view = '';
  const starts: number[] = [];
  const ends: number[] = [];
  const add = (from: number, to: number, spanFrom: number, spanTo: number): void => {
    const head = ascii85Bytes(text, from, Math.min(to, from + 10));
    if (!head || !startsText(head.subarray(0, 6))) return;
    const bytes = ascii85Bytes(text, from, to);
    if (!bytes) return;
    const decoded = bytes.toString('utf8');
    if (!isText(decoded)) return;
    const line = view === '' ? decoded : `\n${decoded}`;
    view += line;
    for (let k = 0; k < line.length; k++) {
      starts.push(spanFrom);
      ends.push(spanTo);
    }
  };
  for (let at = text.indexOf('<~'); at >= 0; at = text.indexOf('<~', at + 2)) {
    const end = text.indexOf('~>', at + 2);
    if (end < 0 || end - at > MAX_ASCII85) break;
    add(at + 2, end, at, end + 2);
    at = end;
  }
  if (text.length <= RAW_ASCII85_MAX) {
    ASCII85_RUN.lastIndex = 0;
    for (let m = ASCII85_RUN.exec(text); m; m = ASCII85_RUN.exec(text)) {
      if (ASCII85_ONLY.test(m[0]) && !m[0].includes('<~')) add(m.index, m.index + m[0].length, m.index, m.index + m[0].length);
    }
  }
  if (view !== '') out.push({ text: view, encoding: 'ascii85', starts: Int32Array.from(starts), ends: Int32Array.from(ends) });
}

/**
 * The decoded stretches of `text` (none for most texts); `found` is `longRuns(text)` when the caller has
 * it, `spacedGroups` what the character classes saw (detect.ts `PassesSaw.spacedGroups`).
 */
export function decodedViews(text: string, found: readonly number[] = longRuns(text), spacedGroups?: boolean): DecodedView[] {
  const out: DecodedView[] = [];
  runs(text, found, out);
  // Base64 whose bytes are not text (binary around a secret, a misaligned run): its printable runs.
  binaryBase64Views(text, found, out);
  // `spacedGroups` false: no three spaces five units apart (detect.ts `PassesSaw`), where every group starts.
  if (spacedGroups !== false) spacedBase64(text, out);
  if (mayBeAscii85(text)) ascii85(text, out);
  for (const view of byteListViews(text, found)) out.push(view);
  // (A text with neither separator is answered by two native searches, faster than the pattern.)
  const lists = (text.includes(',') || text.includes(':')) && MAYBE_ITEM_LIST.test(text) && (hasItemList(text, ',') || hasItemList(text, ':'));
  if (lists || anyEscape(text)) for (const kind of ESCAPES) if (lists || !kind.list) escapes(text, kind, out);
  return out;
}

/**
 * Decoded base64 (a `blob`) when it is UTF-16 or UTF-32 text (red team C3: `base64Text` reads UTF-8
 * only, and the printable runs of binary-text.ts are one byte wide), with the kind it was read as so
 * that a masked text can be written back the same way. Undefined for anything else.
 */
export function base64WideText(data: string): { text: string; kind: TextKind } | undefined {
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length < 16) return undefined;
  const kind = textKind(bytes.subarray(0, 6));
  if (kind === undefined || kind === 'utf8') return undefined;
  const text = decodeBytes(bytes, kind);
  return isText(text) ? { text, kind } : undefined;
}

/** `text` written as `kind` (what `base64WideText` read it as). */
export function encodeText(text: string, kind: TextKind): Buffer {
  if (kind === 'utf8' || kind === 'utf16le') return Buffer.from(text, kind);
  if (kind === 'utf16be') return Buffer.from(text, 'utf16le').swap16();
  const points = [...text].map((c) => c.codePointAt(0)!);
  const out = Buffer.alloc(points.length * 4);
  points.forEach((cp, i) => (kind === 'utf32le' ? out.writeUInt32LE(cp, 4 * i) : out.writeUInt32BE(cp, 4 * i)));
  return out;
}

/**
 * Decoded base64 (a `blob`, an image's `data`) when it is text: the first bytes decide, so a real image
 * or archive costs one small decode. Undefined when it is binary.
 */
export function base64Text(data: string): string | undefined {
  const head = Buffer.from(data.slice(0, 1024), 'base64').toString('utf8');
  if (!isText(head.length > 8 ? head.slice(0, -2) : head)) return undefined;
  const decoded = Buffer.from(data, 'base64').toString('utf8');
  return isText(decoded) ? decoded : undefined;
}
