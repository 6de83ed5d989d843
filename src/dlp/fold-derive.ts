/**
 * Where the normalised view's character table comes from (src/dlp/normalize.ts describes the view):
 * the rules below, applied to every code point by the Unicode data of the running Node.js (its ICU).
 * The gateway does not run them: deriving the table takes ~130 K look-ups (0.4 s of CPU per process),
 * so `node scripts/dlp-fold-table.ts` runs them once and writes the result to src/dlp/fold-data.ts,
 * and test/dlp/fold-data.test.ts checks that the shipped table is what these rules give on the Node.js
 * that runs the tests (a Node.js with newer Unicode data fails it until the table is regenerated).
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

/**
 * Removed from the view: what renders as nothing or changes a letter without making another one —
 * format characters, default-ignorables, controls, combining marks (Mn, Me: an accent or an overlay
 * on any letter), surrogates left alone, unassigned and private-use code points (no font draws them
 * as a letter).
 */
const INVISIBLE = /^[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Mn}\p{Me}\p{Cs}\p{Cn}\p{Co}]$/u;
/**
 * Read as a space: what renders as blank space (every space separator, the line and paragraph
 * separators, the blank braille pattern, the musical null notehead). A space, not nothing: injected
 * phrases need their words apart; the dechunked view (`dechunkedViews`) joins a value split by one.
 */
const BLANK = /^[\p{Zs}\p{Zl}\p{Zp}\u2800\u{1D159}]$/u;
/** Dashes and the minus sign: read as `-` (a card or an IBAN written with en-dashes). */
const DASH = /^[\p{Pd}\u2212]$/u;
const MARKS = /[\p{Mn}\p{Me}]/gu;
const DECIMAL = /^\p{Nd}$/u;
const KEPT_CONTROLS = new Set([0x09, 0x0a, 0x0d]);

/** A decimal digit of any script as its ASCII digit (Unicode keeps each script's 0–9 contiguous and in order). */
function decimalValue(cp: number): string {
  let zero = cp;
  while (DECIMAL.test(String.fromCodePoint(zero - 1))) zero--;
  return String((cp - zero) % 10);
}

/** What the view makes of code point `cp`: its replacement ('' removes it), or undefined: kept. */
export function foldOf(cp: number): string | undefined {
  if (cp < 0x80) return cp < 0x20 && !KEPT_CONTROLS.has(cp) ? '' : cp === 0x7f ? '' : undefined;
  const ch = String.fromCodePoint(cp);
  if (BLANK.test(ch)) return cp === 0x2028 || cp === 0x2029 ? '\n' : ' ';
  if (INVISIBLE.test(ch)) return '';
  if (DECIMAL.test(ch)) return decimalValue(cp);
  if (DASH.test(ch)) return '-';
  const own = CONFUSABLES[ch];
  if (own !== undefined) return own;
  // Compatibility forms and accented letters: decomposed, marks dropped (`é` → `e`, `ﬁ` → `fi`).
  const bare = ch.normalize('NFKD').replace(MARKS, '');
  if (bare === ch) return undefined;
  let out = '';
  for (const c of bare) out += CONFUSABLES[c] ?? c;
  // Only folds that reach ASCII: other compatibility changes cannot spell what the detectors look for.
  for (let i = 0; i < out.length; i++) if (out.charCodeAt(i) >= 0x80) return undefined;
  return out;
}

/**
 * Every code point the view changes, in order, with its replacement ('' removes it): every plane. The
 * supplementary planes' unassigned, private-use and noncharacter code points are removed like the basic
 * plane's (red team M, M1): whole planes of them — 4 to 13 unassigned, 14 Default_Ignorable (Unicode's
 * DerivedCoreProperties.txt lists `E0000..E0FFF ; Default_Ignorable_Code_Point`, its unassigned
 * U+E0080–E00FF and U+E01F0–E0FFF included), 15 and 16 private use (Co) and noncharacters — render as
 * nothing or as a box no font draws as a letter, and a receiving program strips them with one pattern.
 * A generator: the ~1 M entries are folded into runs (`foldRuns`) as they come.
 */
export function* deriveFolds(): Generator<[number, string]> {
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const f = foldOf(cp);
    if (f !== undefined) yield [cp, f];
  }
}

/**
 * The folds as runs, flat: start, length, replacement, step — step 0: every code point of the run gets
 * the replacement; step 1: the replacement is one character and each next code point gets the next one
 * (`０`–`９` → `0`–`9`, mathematical `𝐀`–`𝐙` → `A`–`Z`).
 */
export function foldRuns(folds: Iterable<[number, string]>): Array<number | string> {
  const runs: Array<number | string> = [];
  // The open run: its start, length, replacement and step (-1: its step is not known yet, one code point).
  let start = -1;
  let length = 0;
  let fold = '';
  let step = -1;
  const close = (): void => {
    if (start >= 0) runs.push(start, length, fold, Math.max(step, 0));
  };
  for (const [cp, f] of folds) {
    if (start >= 0 && cp === start + length) {
      const next = f.length === 1 && fold.length === 1 && f.charCodeAt(0) === fold.charCodeAt(0) + length;
      if (step === -1 && (f === fold || next)) step = f === fold ? 0 : 1;
      if ((step === 0 && f === fold) || (step === 1 && next)) {
        length++;
        continue;
      }
    }
    close();
    start = cp;
    length = 1;
    fold = f;
    step = -1;
  }
  close();
  return runs;
}
