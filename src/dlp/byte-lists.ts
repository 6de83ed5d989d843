/**
 * Bytes or character codes written one by one as a list, decoded (a view of src/dlp/decode.ts):
 * `41 4b 49 41 …`, `0x41 0x4b …`, `\x41 \x4b`, `65 75 73 65 …`, `0100 0001 …` in binary, octal, one a
 * line, with `,`, `;`, `:`, `|` or `-` between them (and blanks around it). decode.ts reads the lists
 * it has always read (`0x41,0x4b`, `41:4b`, `65,75`); this reads the rest, whatever the separator, as
 * long as it is the same one all along the list.
 *
 * A list is eight items or more. Its items say its base: eight binary digits each (binary), two hex
 * digits with a letter among them (hex), decimal digits (decimal, and also hex when every item has two
 * digits, and octal when every item has up to three octal digits: a list of digits alone is ambiguous, so
 * each reading that gives printable text is a view). A reading whose text has a control character or
 * an undecodable byte is dropped: most lists of numbers (a table, a series) decode to nothing.
 *
 * Cost: a probe every `PROBE` units, skipping the long runs decode.ts found (hashes, UUIDs); each
 * stretch of list units long enough is then read once, by character codes.
 */
import { privateKeyDerView, type DecodedView } from './decode.ts';

/**
 * Units a list of bare items is written with: hex digits, blanks and the separators. (Items with `0x`
 * or `\x` before them are decode.ts's: its hex-bytes and escape decoders read them whatever the
 * separator.)
 */
const LIST_UNIT = Uint8Array.from({ length: 128 }, (_, u) => Number(/[0-9A-Fa-f \t\n\r,;:|-]/.test(String.fromCharCode(u))));
const isListUnit = (u: number): boolean => u < 128 && LIST_UNIT[u] === 1;
/** The shortest list: eight items of two units and seven one-unit separators. */
const MIN_SPAN = 23;
/** A probe every this many units lands in every stretch of list units as long as MIN_SPAN. */
const PROBE = 11;
const MIN_ITEMS = 8;
const MAX_ITEM = 8;

const isHex = (u: number): boolean => (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x46) || (u >= 0x61 && u <= 0x66);
const isWordUnit = (u: number): boolean => (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a) || u === 0x5f;
const isSpace = (u: number): boolean => u === 0x20 || u === 0x09;
const isSeparator = (u: number): boolean => u === 0x0a || u === 0x20 || u === 0x2c || u === 0x3b || u === 0x3a || u === 0x7c || u === 0x2d;

/** One list: its items as [from, to) of their digits, and where each item (with its prefix) starts and ends. */
interface List {
  digits: number[];
  spans: number[];
}

/** The list of items starting at `at`, read for as long as the separator stays the same. */
function readList(text: string, at: number): { list: List; end: number } {
  const n = text.length;
  const digits: number[] = [];
  const spans: number[] = [];
  let separator = -1;
  let i = at;
  for (;;) {
    const start = i;
    if (text.charCodeAt(i) === 0x30 && (text.charCodeAt(i + 1) | 0x20) === 0x78) i += 2;
    else if (text.charCodeAt(i) === 0x5c && text.charCodeAt(i + 1) === 0x78) i += 2;
    const from = i;
    while (i < n && i - from < MAX_ITEM && isHex(text.charCodeAt(i))) i++;
    if (i === from || isWordUnit(text.charCodeAt(i))) break;
    digits.push(from, i);
    spans.push(start, i);
    // The separator: blanks, then at most one separator character, then blanks.
    let k = i;
    while (k < n && isSpace(text.charCodeAt(k))) k++;
    let sep = 0x20;
    if (k < n && isSeparator(text.charCodeAt(k)) && text.charCodeAt(k) !== 0x20) sep = text.charCodeAt(k++);
    else if (k === i) break;
    while (k < n && isSpace(text.charCodeAt(k))) k++;
    if (separator >= 0 && sep !== separator) break;
    separator = sep;
    i = k;
  }
  return { list: { digits, spans }, end: spans.length > 0 ? spans[spans.length - 1]! : at + 1 };
}

/** `%`-free decode: each item's value in `radix`, as bytes (UTF-8) or as character codes; undefined when not text. */
function decodeList(text: string, list: List, radix: number, codes: boolean): string | undefined {
  const values: number[] = [];
  for (let k = 0; k < list.digits.length; k += 2) {
    const v = Number.parseInt(text.slice(list.digits[k]!, list.digits[k + 1]!), radix);
    if (!Number.isFinite(v) || v > (codes ? 0x10ffff : 0xff)) return undefined;
    values.push(v);
  }
  let out: string;
  if (codes) {
    out = '';
    for (const v of values) out += String.fromCodePoint(v);
    // One unit per item: a code past the BMP takes two, and would shift the map.
    if (out.length !== values.length) return undefined;
  } else {
    out = Buffer.from(values).toString('latin1');
    // Multi-byte UTF-8 would not keep one unit per item: only ASCII is read as bytes.
    if (/[\x80-\xff]/.test(out)) return undefined;
  }
  // Text: no control character, and letters or a number as long as the shortest looked for (a card's digits).
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(out) || !(/[A-Za-z]/.test(out) || (out.match(/\d/g)?.length ?? 0) >= 8) ? undefined : out;
}

/** The readings of one list (see the file's comment). */
function readings(text: string, list: List): Array<[string, string]> {
  let allBinary = true;
  let allTwo = true;
  /** Octal digits, three at most in every item and three in one at least. */
  let allOctal = true;
  let three = false;
  let letters = false;
  for (let k = 0; k < list.digits.length; k += 2) {
    const from = list.digits[k]!;
    const to = list.digits[k + 1]!;
    const length = to - from;
    allTwo &&= length === 2;
    allBinary &&= length === 8;
    allOctal &&= length <= 3;
    three ||= length === 3;
    for (let i = from; i < to; i++) {
      const u = text.charCodeAt(i);
      if (u > 0x39) letters = true;
      if (u > 0x31) allBinary = false;
      if (u > 0x37) allOctal = false;
    }
  }
  const out: Array<[string, string]> = [];
  const add = (radix: number, codes: boolean, name: string): void => {
    const decoded = decodeList(text, list, radix, codes);
    if (decoded !== undefined) out.push([name, decoded]);
  };
  if (allBinary) add(2, false, 'binary-bytes');
  else if (letters) {
    if (allTwo) add(16, false, 'hex-bytes');
  } else {
    add(10, true, 'char-codes');
    if (allTwo) add(16, false, 'hex-bytes');
    if (allOctal && three) add(8, false, 'octal-bytes');
  }
  return out;
}

/**
 * The stretches of list units (`LIST_UNIT`) long enough to hold a list, with seven separators or more
 * and eight digits, as [from, to) pairs: found by probing one unit in `PROBE` and growing around the
 * ones that hit, so prose (whose words are rarely all hex letters) costs a fraction of a pass.
 */
function listStretches(text: string, runs: readonly number[]): number[] {
  const out: number[] = [];
  const n = text.length;
  let floor = 0;
  let r = 0;
  for (let p = PROBE - 1; p < n; p += PROBE) {
    if (p < floor || !isListUnit(text.charCodeAt(p))) continue;
    // Inside a long run (a hash, a UUID): skipped, unless it starts like a list cut by `-` (`41-4b-…`).
    while (r < runs.length && runs[r + 1]! <= p) r += 2;
    if (r < runs.length && runs[r]! <= p) {
      const s = runs[r]!;
      if (text.charCodeAt(s + 1) !== 0x2d && text.charCodeAt(s + 2) !== 0x2d && text.charCodeAt(s + 3) !== 0x2d) {
        floor = runs[r + 1]!;
        continue;
      }
    }
    // A stretch of MIN_SPAN holds two probes in a row: when the next probe is no list unit, the
    // stretch around this one is too short, or was read from the probe before (which saw this one
    // too). Log lines and records are full of short stretches (dates, times, numbers) that were each
    // read both ways for nothing. Skipping the read leaves `floor` lower, which changes nothing: the
    // stretches of later probes start after the unit at p + PROBE.
    if (!isListUnit(text.charCodeAt(p + PROBE))) continue;
    let s = p;
    while (s > floor && isListUnit(text.charCodeAt(s - 1))) s--;
    let e = p;
    let separators = 0;
    let digits = 0;
    for (let i = s; i < n; i++) {
      const u = text.charCodeAt(i);
      if (!isListUnit(u)) break;
      if (u >= 0x30 && u <= 0x39) digits++;
      else if (!(u >= 0x41 && u <= 0x46) && !(u >= 0x61 && u <= 0x66)) separators++;
      e = i + 1;
    }
    if (e - s >= MIN_SPAN && separators >= MIN_ITEMS - 1 && digits >= MIN_ITEMS) out.push(s, e);
    floor = e;
  }
  return out;
}

/**
 * Where a private key's DER may start as a byte list: its SEQUENCE tag and length byte, `30 82`,
 * `0x30, 0x81`, `30:2e`, `\x30\x82`, or in decimal `48, 130` (red team M, M4: `openssl asn1parse -dump`,
 * `xxd -i`, Python's `list(der)`, colon hex).
 */
const DER_HEX_START = /(?:0x|\\x)?30[ \t]*[,:;| -]?[ \t]*(?:0x|\\x)?(?:8[12]|[0-7][0-9a-fA-F])(?![0-9A-Za-z])/y;
const DER_DECIMAL_START = /48[ \t]*[,;: ][ \t]*(?:129|130|[1-9][0-9]?|1[01][0-9]|12[0-7])(?![0-9A-Za-z.])/y;
/** The longest key read from a list (a 16384-bit RSA key is under 10 KB of DER). */
const MAX_DER = 1 << 14;
/** Between two bytes: blanks and line breaks, separators, brackets (a list wrapped over lines). */
const BETWEEN = /[\s,:;|\-[\](){}]/;

/**
 * Private keys written as DER byte lists, one line or many, in hex or decimal: read to bytes and
 * given their PEM armour when the bytes are a key's (`isPrivateKeyDer`), the whole list the key's span.
 * Every byte-list rendering thus meets the same DER check as base64 and hex runs.
 */
function derListViews(text: string, out: DecodedView[]): void {
  for (const [start, hex] of [[DER_HEX_START, true], [DER_DECIMAL_START, false]] as const) {
    // Candidates by a native search for the tag (`30`, `48`), each tried with the sticky pattern.
    const tag = hex ? '30' : '48';
    for (let p = text.indexOf(tag); p >= 0; p = text.indexOf(tag, p + 1)) {
      const prefixed = hex && p >= 2 && (text.charCodeAt(p - 2) === 0x30 || text.charCodeAt(p - 2) === 0x5c) && (text.charCodeAt(p - 1) | 0x20) === 0x78;
      const s = prefixed ? p - 2 : p;
      if (s > 0 && (isWordUnit(text.charCodeAt(s - 1)) || text.charCodeAt(s - 1) === 0x2e)) continue;
      start.lastIndex = s;
      if (!start.test(text)) continue;
      const bytes: number[] = [];
      let i = s;
      let end = i;
      while (bytes.length < MAX_DER) {
        let gap = 0;
        while (i < text.length && gap < 12 && BETWEEN.test(text[i]!)) {
          i++;
          gap++;
        }
        if (hex && (text.startsWith('0x', i) || text.startsWith('0X', i) || text.startsWith('\\x', i))) i += 2;
        const from = i;
        while (i < text.length && i - from < 3 && (hex ? isHex(text.charCodeAt(i)) : text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39)) i++;
        if (i === from || (hex && i - from !== 2) || isWordUnit(text.charCodeAt(i))) break;
        const value = Number.parseInt(text.slice(from, i), hex ? 16 : 10);
        if (value > 0xff) break;
        bytes.push(value);
        end = i;
      }
      if (bytes.length < 48) continue;
      const key = privateKeyDerView(Buffer.from(bytes), s, end);
      if (key) {
        out.push(key);
        p = end;
      }
    }
  }
}

/** The byte and character-code lists of `text`, decoded (none for most texts); `runs`: decode.ts `longRuns(text)`. */
export function byteListViews(text: string, runs: readonly number[]): DecodedView[] {
  const out: DecodedView[] = [];
  derListViews(text, out);
  const stretches = listStretches(text, runs);
  for (let k = 0; k < stretches.length; k += 2) {
    const to = stretches[k + 1]!;
    for (let i = stretches[k]!; i < to; ) {
      const u = text.charCodeAt(i);
      // A list starts with an item: a digit not inside a word.
      if (!(u >= 0x30 && u <= 0x39) || (i > 0 && isWordUnit(text.charCodeAt(i - 1)))) {
        i++;
        continue;
      }
      const { list, end } = readList(text, i);
      i = Math.max(end, i + 1);
      if (list.digits.length / 2 < MIN_ITEMS) continue;
      for (const [encoding, decoded] of readings(text, list)) {
        const starts = new Int32Array(decoded.length);
        const ends = new Int32Array(decoded.length);
        for (let j = 0; j < decoded.length; j++) {
          starts[j] = list.spans[2 * j]!;
          ends[j] = list.spans[2 * j + 1]!;
        }
        out.push({ text: decoded, encoding, starts, ends });
      }
    }
  }
  return out;
}
