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

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /(?:[0-9A-Fa-f]{2}){10,}/g;

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

function runs(text: string, out: DecodedView[]): void {
  BASE64_RUN.lastIndex = 0;
  for (let m = BASE64_RUN.exec(text); m; m = BASE64_RUN.exec(text)) {
    const run = m[0];
    // Hex digits alone are a hex run (below), not base64.
    if (/^[0-9A-Fa-f]+$/.test(run)) continue;
    const decoded = Buffer.from(run, 'base64').toString('utf8');
    if (isText(decoded)) out.push(wholeRun(decoded, m.index, m.index + run.length, /[-_]/.test(run) ? 'base64url' : 'base64'));
  }
  HEX_RUN.lastIndex = 0;
  for (let m = HEX_RUN.exec(text); m; m = HEX_RUN.exec(text)) {
    const decoded = Buffer.from(m[0], 'hex').toString('utf8');
    if (isText(decoded)) out.push(wholeRun(decoded, m.index, m.index + m[0].length, 'hex'));
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

/** Any character an encoding this file decodes needs, or a run long enough to be base64 or hex. */
export const MAYBE_ENCODED = /[%\\&=]|[A-Za-z0-9+/_-]{16}/;

/** The decoded stretches of `text` (none for most texts). */
export function decodedViews(text: string): DecodedView[] {
  const out: DecodedView[] = [];
  if (!MAYBE_ENCODED.test(text)) return out;
  runs(text, out);
  for (const kind of ESCAPES) escapes(text, kind, out);
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
