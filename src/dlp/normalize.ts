/**
 * The normalised view of a text: what a reader (or a receiving program) takes it to say once the
 * characters that hide or disguise it are undone. Detection runs on this view too (src/dlp/views.ts),
 * so that a secret with invisible characters between its letters, written in fullwidth or mathematical
 * letters, or with Cyrillic and Greek look-alikes, is found like the plain one.
 *
 *   removed      format characters (Unicode category Cf: zero-width space/joiner/non-joiner, word
 *                joiner, BOM, soft hyphen, bidi controls, tag characters…), every
 *                Default_Ignorable_Code_Point (combining grapheme joiner, variation selectors
 *                U+FE00–FE0F and U+E0100–E01EF, Hangul fillers…), C0 controls other than tab, line feed
 *                and carriage return, DEL and the C1 controls
 *   folded       compatibility forms whose NFKC form is ASCII (fullwidth, mathematical alphanumerics,
 *                enclosed and super/subscript letters and digits, ligatures, non-ASCII spaces), and
 *                the Cyrillic and Greek letters that look like Latin ones (`CONFUSABLES`)
 *
 * Everything else (accented letters, other scripts, emoji) is left as it is: it cannot spell an ASCII
 * secret. Each unit of the view remembers the source span it came from, so a finding in the view masks
 * the original characters, the invisible ones between them included.
 *
 * Cost: one native character-class test decides whether a text needs a view at all; ordinary ASCII
 * text never gets one.
 */

/**
 * Cyrillic and Greek letters that render like Latin ones, with the Latin letter each is confused with.
 * Facts from Unicode's confusables data (UTS #39, confusables.txt, "MA" entries whose target is a
 * single Latin letter), selected by hand: only letters a reader cannot tell apart in common fonts.
 */
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic capitals
  '\u0405': 'S', '\u0406': 'I', '\u0408': 'J', '\u0410': 'A', '\u0412': 'B', '\u0415': 'E', '\u041A': 'K', '\u041C': 'M', '\u041D': 'H',
  '\u041E': 'O', '\u0420': 'P', '\u0421': 'C', '\u0422': 'T', '\u0425': 'X', '\u04AE': 'Y', '\u04C0': 'I', '\u051A': 'Q', '\u051C': 'W',
  // Cyrillic small letters
  '\u0430': 'a', '\u0435': 'e', '\u043E': 'o', '\u0440': 'p', '\u0441': 'c', '\u0443': 'y', '\u0445': 'x', '\u0455': 's', '\u0456': 'i',
  '\u0458': 'j', '\u04BB': 'h', '\u04CF': 'l', '\u0501': 'd', '\u051B': 'q', '\u051D': 'w',
  // Greek capitals
  '\u0391': 'A', '\u0392': 'B', '\u0395': 'E', '\u0396': 'Z', '\u0397': 'H', '\u0399': 'I', '\u039A': 'K', '\u039C': 'M', '\u039D': 'N',
  '\u039F': 'O', '\u03A1': 'P', '\u03A4': 'T', '\u03A5': 'Y', '\u03A7': 'X',
  // Greek small letters
  '\u03BF': 'o', '\u03BD': 'v', '\u03B1': 'a', '\u03B9': 'i', '\u03C1': 'p',
};

/** Invisible or control: removed from the view. */
const INVISIBLE = /^[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Cc}]$/u;
const KEPT_CONTROLS = new Set([0x09, 0x0a, 0x0d]);

/** Supplementary planes with characters the view changes (their high surrogates gate the test). */
const SUPPLEMENTARY_BLOCKS: ReadonlyArray<[number, number]> = [
  [0x1bca0, 0x1bca3], // shorthand format controls
  [0x1d173, 0x1d17a], // musical format controls
  [0x1d400, 0x1d7ff], // mathematical alphanumerics
  [0x1f100, 0x1f1ff], // enclosed alphanumeric supplement
  [0x1fbf0, 0x1fbf9], // segmented digits
  [0xe0000, 0xe0fff], // tags, variation selectors supplement
];

interface FoldTable {
  /** BMP code unit → replacement ('' removes it); undefined: kept. */
  bmp: Array<string | undefined>;
  supplementary: Map<number, string>;
  /** Matches any unit the view would change. */
  needed: RegExp;
}

function foldOf(cp: number): string | undefined {
  if (cp < 0x80) return cp < 0x20 && !KEPT_CONTROLS.has(cp) ? '' : cp === 0x7f ? '' : undefined;
  const ch = String.fromCodePoint(cp);
  if (INVISIBLE.test(ch)) return '';
  const own = CONFUSABLES[ch];
  if (own !== undefined) return own;
  const nfkc = ch.normalize('NFKC');
  if (nfkc === ch) return undefined;
  let out = '';
  for (const c of nfkc) out += CONFUSABLES[c] ?? c;
  // Only folds that reach ASCII: other compatibility changes cannot spell what the detectors look for.
  for (let i = 0; i < out.length; i++) if (out.charCodeAt(i) >= 0x80) return undefined;
  return out;
}

let table: FoldTable | undefined;
/** Built on first use (about 64 K NFKC look-ups, once per process). */
function foldTable(): FoldTable {
  if (table) return table;
  const bmp: Array<string | undefined> = new Array(0x10000);
  const ranges: Array<[number, number]> = [];
  for (let cp = 0; cp < 0x10000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const f = foldOf(cp);
    if (f === undefined) continue;
    bmp[cp] = f;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else ranges.push([cp, cp]);
  }
  const supplementary = new Map<number, string>();
  const highs = new Set<number>();
  for (const [from, to] of SUPPLEMENTARY_BLOCKS) {
    for (let cp = from; cp <= to; cp++) {
      const f = foldOf(cp);
      if (f === undefined) continue;
      supplementary.set(cp, f);
      highs.add(String.fromCodePoint(cp).charCodeAt(0));
    }
  }
  for (const h of [...highs].sort((a, b) => a - b)) ranges.push([h, h]);
  const hex = (u: number): string => `\\u${u.toString(16).padStart(4, '0')}`;
  const cls = ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
  table = { bmp, supplementary, needed: new RegExp(`[${cls}]`) };
  return table;
}

/** A text derived from another, with the source span of each of its units. */
export interface MappedText {
  text: string;
  /** Source start of view unit i. */
  starts: Int32Array;
  /** Source end (exclusive) of view unit i. */
  ends: Int32Array;
}

const SHORT = 512;
const NON_ASCII_OR_CONTROL = /[^\t\n\r\x20-\x7e]/;
const CONTROLS = [...Array.from({ length: 0x20 }, (_, u) => u).filter((u) => u !== 0x09 && u !== 0x0a && u !== 0x0d), 0x7f].map((u) => String.fromCharCode(u));

/** Whether every unit of `text` is ASCII (its UTF-8 length is its length: one native pass). */
export const isAscii = (text: string): boolean => Buffer.byteLength(text, 'utf8') === text.length;

/**
 * Any unit at or above 0x80, or a control other than tab and line breaks: the only texts the view can
 * change. Built from operations the engine runs a word at a time (a UTF-8 length, single-character
 * searches), several times faster than one regular-expression pass. `ascii`: whether the text is all
 * ASCII, when the caller knows (`detect` does: `PassesSaw.ascii`).
 */
export function hasNonAsciiOrControl(text: string, ascii?: boolean): boolean {
  if (ascii === false) return true;
  // Short strings: one regular-expression test costs less than thirty searches' calls.
  if (text.length < SHORT) return NON_ASCII_OR_CONTROL.test(text);
  if (ascii === undefined && !isAscii(text)) return true;
  for (const c of CONTROLS) if (text.includes(c)) return true;
  return false;
}

/** The normalised view of `text`, or undefined when it would be the same text (`ascii` as above). */
export function normalizedView(text: string, ascii?: boolean): MappedText | undefined {
  if (!hasNonAsciiOrControl(text, ascii)) return undefined;
  const { bmp, supplementary, needed } = foldTable();
  if (!needed.test(text)) return undefined;
  const n = text.length;
  const starts: number[] = [];
  const ends: number[] = [];
  let out = '';
  let plainFrom = 0;
  const flushPlain = (to: number): void => {
    if (to <= plainFrom) return;
    for (let j = plainFrom; j < to; j++) {
      starts.push(j);
      ends.push(j + 1);
    }
    out += text.slice(plainFrom, to);
  };
  for (let i = 0; i < n; i++) {
    const u = text.charCodeAt(i);
    let fold: string | undefined;
    let width = 1;
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < n) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) {
        width = 2;
        fold = supplementary.get(cp);
      }
    } else if (u < 0x20 || u >= 0x7f) fold = bmp[u];
    if (fold === undefined) {
      i += width - 1;
      continue;
    }
    flushPlain(i);
    for (let j = 0; j < fold.length; j++) {
      starts.push(i);
      ends.push(i + width);
    }
    out += fold;
    i += width - 1;
    plainFrom = i + 1;
  }
  flushPlain(n);
  if (out === text) return undefined;
  return { text: out, starts: Int32Array.from(starts), ends: Int32Array.from(ends) };
}

/**
 * A configured field name or an argument key, as compared: invisible characters removed, compatibility
 * forms and look-alikes folded, surrounding whitespace trimmed, lower case.
 */
export function foldName(name: string): string {
  return (normalizedView(name)?.text ?? name).trim().toLowerCase();
}

/**
 * Texts with letters spaced out (`g h p _ …`): each character followed by one space, a space of the
 * original becoming three. Returns the de-spaced view of each such run of at least `MIN_SPACED`
 * characters, mapped to the source.
 */
const SPACED_RUN = /(?:[^ ] |  ){8,}[^ ]?/g;
export function despacedViews(text: string): MappedText[] {
  const out: MappedText[] = [];
  SPACED_RUN.lastIndex = 0;
  for (let m = SPACED_RUN.exec(text); m; m = SPACED_RUN.exec(text)) {
    const run = m[0];
    let view = '';
    let visible = 0;
    const starts: number[] = [];
    for (let j = 0; j < run.length; j += 2) {
      const c = run[j]!;
      view += c;
      if (c !== ' ' && c !== '\n' && c !== '\t') visible++;
      starts.push(m.index + j);
    }
    if (visible * 5 < view.length * 3) continue;
    out.push({ text: view, starts: Int32Array.from(starts), ends: Int32Array.from(starts, (s) => s + 1) });
    // The run may have started on the text's own `: ` and ended on the next word's first letter:
    // the same view without its first and last characters, set apart by spaces.
    if (view.length > 4) {
      const inner = starts.slice(1, -1);
      out.push({ text: ` ${view.slice(1, -1)} `, starts: Int32Array.from([inner[0]!, ...inner, inner[inner.length - 1]!]), ends: Int32Array.from([inner[0]!, ...inner.map((s) => s + 1), inner[inner.length - 1]! + 1]) });
    }
  }
  return out;
}

/** The text with its line breaks (and the spaces around them) removed: a value broken over two lines. */
export function joinedView(text: string): MappedText | undefined {
  return removed(text, /[ \t]*\r?\n[ \t]*/g);
}

/** A unit of the base64 or base64url alphabet. */
const isBase64Unit = (u: number): boolean => (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a) || (u >= 0x30 && u <= 0x39) || u === 0x2b || u === 0x2f || u === 0x5f || u === 0x2d;
const isBlank = (u: number): boolean => u === 0x20 || u === 0x09;

/**
 * The text with the line breaks inside wrapped base64 removed (and nothing else), mapped to the
 * source. Wrapped base64 is how MIME and the `base64` command write it (76 columns): lines holding
 * nothing but the alphabet, each but the last 16 units or more, the last ending in `=` padding or not.
 * Each block becomes one run, which the base64 view then decodes whole — a value whose encoding
 * straddles a line break is decoded in one piece. Every line is read a bounded number of times
 * (linear). Undefined when there is no such block.
 */
export function unwrappedView(text: string): MappedText | undefined {
  if (!text.includes('\n')) return undefined;
  /** [from, to) of line content (indentation and trailing blanks or `\r` left out), and whether it is all base64. */
  const line = (at: number): { from: number; to: number; next: number; base64: boolean; padded: boolean } => {
    const newline = text.indexOf('\n', at);
    const next = newline === -1 ? text.length : newline;
    let from = at;
    while (from < next && isBlank(text.charCodeAt(from))) from++;
    let to = next;
    while (to > from && (isBlank(text.charCodeAt(to - 1)) || text.charCodeAt(to - 1) === 0x0d)) to--;
    let end = to;
    while (end > from && to - end < 2 && text.charCodeAt(end - 1) === 0x3d) end--;
    let base64 = end > from;
    for (let i = from; base64 && i < end; i++) base64 = isBase64Unit(text.charCodeAt(i));
    return { from, to, next, base64, padded: end < to };
  };
  // Made at the first block only: most texts with line breaks (logs) have none.
  let starts: Int32Array | undefined;
  const parts: string[] = [];
  let length = 0;
  const keep = (from: number, to: number): void => {
    starts ??= new Int32Array(text.length);
    parts.push(text.slice(from, to));
    for (let i = from; i < to; i++) starts[length++] = i;
  };
  let at = 0;
  let current = line(0);
  while (current.next < text.length) {
    const following = line(current.next + 1);
    if (current.base64 && !current.padded && current.to - current.from >= 16 && following.base64 && following.to - following.from >= 4) {
      keep(at, current.to);
      at = following.from;
    }
    current = following;
  }
  if (at === 0) return undefined;
  keep(at, text.length);
  const mapped = starts!.slice(0, length);
  return { text: parts.join(''), starts: mapped, ends: mapped.map((s) => s + 1) };
}

function removed(text: string, what: RegExp): MappedText | undefined {
  const starts: number[] = [];
  let view = '';
  let at = 0;
  what.lastIndex = 0;
  for (let m = what.exec(text); m; m = what.exec(text)) {
    for (let i = at; i < m.index; i++) starts.push(i);
    view += text.slice(at, m.index);
    at = m.index + m[0].length;
  }
  if (at === 0) return undefined;
  for (let i = at; i < text.length; i++) starts.push(i);
  view += text.slice(at);
  return { text: view, starts: Int32Array.from(starts), ends: Int32Array.from(starts, (s) => s + 1) };
}

/** The text without any whitespace (a secret broken by a space or a line break), mapped to the source. */
export function compactedView(text: string): MappedText | undefined {
  if (!/\S\s+\S/.test(text)) return undefined;
  const starts: number[] = [];
  let view = '';
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (u === 0x20 || (u >= 0x09 && u <= 0x0d)) continue;
    view += text[i];
    starts.push(i);
  }
  return { text: view, starts: Int32Array.from(starts), ends: Int32Array.from(starts, (s) => s + 1) };
}
