/**
 * Encoded stretches of a text, decoded, so that detection can run on what they say (src/dlp/views.ts):
 *
 *   base64, base64url   runs of 16+ alphabet characters whose decoded bytes are text
 *   hex                 runs of 20+ hex digits (even) whose decoded bytes are text
 *   url                 %XX escapes (UTF-8), also %25XX (decoded again one level down)
 *   quoted-printable    =XX escapes, two or more in a row (a single one is ordinary `key=AB12`)
 *   html                character references: &#NN; &#xNN; and the named ones for ASCII punctuation
 *   escape              \uXXXX, \u{…}, \xXX (and \n \t \" \\ \/ around them): a JSON or JavaScript
 *                       string literal inside the text, a JSON document inside a string included
 *
 * Bounds: a decoded text is never longer than its source; runs and escapes are decoded only where a
 * secret could hide (the lengths above); escapes are decoded in a window around each cluster of them,
 * not over the whole text. How deep decoding goes (two levels) is the caller's.
 *
 * Each decoded unit maps to the source span of the escape (or the whole run, for base64 and hex), so
 * that a finding masks the encoded characters it came from.
 */
import type { MappedText } from './normalize.ts';

export interface DecodedView extends MappedText {
  /** `base64`, `hex`, `url`, `quoted-printable`, `html`, `escape`. */
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
 * reading the string); otherwise the string's units are read.
 */
export function longRuns(text: string, ascii?: Uint8Array): number[] {
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

function runs(text: string, found: readonly number[], out: DecodedView[]): void {
  for (let k = 0; k < found.length; k += 2) {
    const from = found[k]!;
    let to = found[k + 1]!;
    // Most runs (ids, hashes) start with bytes that are no text read either way: turned down on their
    // first units, before reading the whole run to tell hex from base64.
    const asBase64 = startsText(base64Head(text, from));
    const asHex = to - from >= 20 && startsText(hexHead(text, from));
    if (!asBase64 && !asHex) continue;
    // Hex digits alone are hex (20 or more, even), not base64.
    if (isHex(text, from, to)) {
      if (!asHex) continue;
      const run = text.slice(from, to);
      const decoded = Buffer.from(run.length % 2 === 0 ? run : run.slice(0, -1), 'hex').toString('utf8');
      if (isText(decoded)) out.push(wholeRun(decoded, from, to, 'hex'));
      continue;
    }
    if (!asBase64) continue;
    const run = text.slice(from, to);
    while (to < text.length && to - found[k + 1]! < 2 && text[to] === '=') to++;
    const decoded = Buffer.from(run, 'base64').toString('utf8');
    if (isText(decoded)) out.push(wholeRun(decoded, from, to, /[-_]/.test(run) ? 'base64url' : 'base64'));
  }
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

const ESCAPES: readonly EscapeKind[] = [
  { encoding: 'url', trigger: /%[0-9A-Fa-f]{2}/, pattern: /(?:%[0-9A-Fa-f]{2})+/g, decode: (m) => bytes(m, 1) },
  { encoding: 'quoted-printable', trigger: /=[0-9A-F]{2}=[0-9A-F]{2}/, pattern: /(?:=[0-9A-F]{2}){2,}|=\r?\n/g, decode: (m) => (m.startsWith('=\n') || m.startsWith('=\r') ? '' : bytes(m, 1)) },
  {
    encoding: 'html',
    trigger: /&(?:#|[A-Za-z]{2,8};)/,
    pattern: /&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});/g,
    decode: (m) => {
      if (m[1] !== '#') return NAMED[m.slice(1, -1)];
      return codePoint(m[2] === 'x' || m[2] === 'X' ? parseInt(m.slice(3, -1), 16) : parseInt(m.slice(2, -1), 10));
    },
  },
  {
    encoding: 'escape',
    trigger: /\\(?:u|x[0-9A-Fa-f]{2})/,
    pattern: /\\(?:u\{[0-9a-fA-F]{1,6}\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[nrt"\\/'])/g,
    decode: (m) => {
      const c = m[1]!;
      if (c === 'u') return codePoint(parseInt(m[2] === '{' ? m.slice(3, -1) : m.slice(2), 16));
      if (c === 'x') return String.fromCharCode(parseInt(m.slice(2), 16));
      return SIMPLE_ESCAPES[c];
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
    if (j > first) {
      const gap = text.slice(found[j - 1]![1], found[j]![0]);
      close = gap.length <= 16 && !/\s/.test(gap) ? close + 1 : 1;
      if (close >= 3) return true;
    }
  }
  return false;
}

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
    const starts: number[] = [];
    const ends: number[] = [];
    let view = '';
    let at = from;
    for (let j = k; j <= last; j++) {
      const [s, e, decoded] = found[j]!;
      for (let i = at; i < s; i++) {
        starts.push(i);
        ends.push(i + 1);
      }
      view += text.slice(at, s) + decoded;
      for (let i = 0; i < decoded.length; i++) {
        starts.push(s);
        ends.push(e);
      }
      at = e;
    }
    for (let i = at; i < to; i++) {
      starts.push(i);
      ends.push(i + 1);
    }
    view += text.slice(at, to);
    out.push({ text: view, encoding: kind.encoding, starts: Int32Array.from(starts), ends: Int32Array.from(ends) });
    k = last + 1;
  }
}

/** Any escape this file decodes (one native pass; each kind is then looked for only when this matches). */
const ANY_ESCAPE = /%[0-9A-Fa-f]{2}|=[0-9A-F]{2}=[0-9A-F]{2}|&(?:#|[A-Za-z]{2,8};)|\\(?:u|x[0-9A-Fa-f]{2})/;

/** The decoded stretches of `text` (none for most texts); `found` is `longRuns(text)` when the caller has it. */
export function decodedViews(text: string, found: readonly number[] = longRuns(text)): DecodedView[] {
  const out: DecodedView[] = [];
  runs(text, found, out);
  if (ANY_ESCAPE.test(text)) for (const kind of ESCAPES) escapes(text, kind, out);
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
