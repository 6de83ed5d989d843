/**
 * More views of a text (src/dlp/views.ts), for a value cut or turned in ways the dechunked view
 * (normalize.ts `dechunkedView`) cannot read:
 *
 *   rejoined   a value cut once by a blank (`AKIA… …rest`, a GitHub token in two halves): two tokens
 *              with one to three blanks between them, joined, when the pair could be a secret
 *   destrided  a value cut in chunks by one of its own characters (a JWT by `.`, `-` or `_`, a Slack
 *              token or a canary by `-`), where the dechunked view cannot tell separator from content:
 *              a separator that comes back at a fixed stride is removed (the value's own, off the
 *              stride, stay); also a value cut once by `-`, `_` or `.`; and chunks between blanks when
 *              the value's own punctuation falls next to a blank (`xoxb -123…`)
 *   reversed,  a glued-prefix family's value (glued.ts) written backwards or in ROT13, turned back
 *   rot13
 *
 * All are read strictly (only findings of distinctive rules and administrator patterns count, like the
 * compacted view). A short text (`whole`) is read in full. A long one is read only around seeds the
 * passes over it found anyway, so that ordinary text pays nothing: the long base64-alphabet runs of
 * decode.ts `longRuns` (one half of a value cut once is such a run when the value has 32 characters or
 * more; so is a value cut by `-` or `_`, or turned) and the glued-prefix literals the anchor pass saw
 * (an AWS key id cut in two halves of ten; a JWT cut by `.` or blanks). What a long text leaves out is
 * listed in docs/dlp.md.
 */
import { MappedBuilder } from './mapped.ts';
import type { MappedText } from './normalize.ts';

/** Units of a token: letters, digits and the punctuation of tokens and JWTs (not base64's `+`, `/`, `=`). */
const TOKEN = Uint8Array.from({ length: 128 }, (_, u) => {
  const c = String.fromCharCode(u);
  return /[A-Za-z0-9_.-]/.test(c) ? (/[0-9a-f-]/.test(c) ? 3 : 1) : 0;
});
/** The bit of `TOKEN` set for the units of hex words (`hexWords`: digits, `a`–`f`, `-`). */
const HEX_WORD_UNIT = 2;
const isToken = (u: number): boolean => u < 128 && TOKEN[u] !== 0;
const isBlank = (u: number): boolean => u === 0x20 || u === 0x09 || u === 0x0a || u === 0x0d;
const isDigit = (u: number): boolean => u >= 0x30 && u <= 0x39;
const isUpper = (u: number): boolean => u >= 0x41 && u <= 0x5a;
const isLower = (u: number): boolean => u >= 0x61 && u <= 0x7a;
const isLetter = (u: number): boolean => isUpper(u) || isLower(u);

/** The shortest joined value looked for (`CANARY-482913` has 13 characters; secrets with a prefix 16 or more). */
const MIN_JOINED = 12;
/** A token longer than this is not looked at (the longest tokens, JWTs, stay well below). */
const MAX_TOKEN = 4096;
/** The most blanks between the two halves. */
const MAX_GAP = 3;
/** Capitals in a row that make a token worth joining without a digit (an AWS key id of letters only). */
const CAPITALS = 12;
/** How far around a glued-prefix literal a long text is read. */
const AROUND = 1024;

/** Pieces of a view, each `[from, to)` ranges of the source, written as lines of one view. */
class Pieces {
  readonly #out = new MappedBuilder();

  /** A line holding the units of `ranges` ([from, to) pairs), mapped back to them. */
  add(source: string, ranges: readonly number[]): void {
    const first = ranges[0]!;
    this.#out.mark(this.#out.length === 0 ? ' ' : '\n ', first, first);
    let last = first;
    for (let k = 0; k < ranges.length; k += 2) {
      this.#out.copy(source, ranges[k]!, ranges[k + 1]!);
      last = ranges[k + 1]!;
    }
    this.#out.mark(' ', last, last);
  }

  view(): MappedText | undefined {
    return this.#out.length === 0 ? undefined : this.#out.view();
  }
}

interface Shape {
  letters: number;
  digits: number;
  underscore: boolean;
  /** The longest run of capitals (digits after a capital continue it; punctuation neither counts nor breaks it). */
  capitals: number;
  /** Every letter a hex digit in lower case, or none a letter (a hash, a UUID, a date). */
  lowerHex: boolean;
  /** Letters only. */
  word: boolean;
}

/** What `ranges` of `text` are made of. */
function shapeOf(text: string, ranges: readonly number[]): Shape {
  const shape: Shape = { letters: 0, digits: 0, underscore: false, capitals: 0, lowerHex: true, word: true };
  let capitals = 0;
  for (let k = 0; k < ranges.length; k += 2) {
    for (let i = ranges[k]!; i < ranges[k + 1]!; i++) {
      const u = text.charCodeAt(i);
      if (isDigit(u)) {
        shape.digits++;
        shape.word = false;
        if (capitals > 0) capitals++;
      } else if (isLetter(u)) {
        shape.letters++;
        if (!(u >= 0x61 && u <= 0x66)) shape.lowerHex = false;
        capitals = isUpper(u) ? capitals + 1 : 0;
      } else {
        shape.word = false;
        if (u === 0x5f) shape.underscore = true;
        if (u !== 0x2d) shape.lowerHex = false;
      }
      if (capitals > shape.capitals) shape.capitals = capitals;
    }
  }
  return shape;
}

/** Digits, `a`–`f` and `-` only (a UUID, a dashed hash): what `worth` turns down, told without counting. */
function hexWords(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const u = text.charCodeAt(i);
    if (!((u >= 0x30 && u <= 0x39) || (u >= 0x61 && u <= 0x66) || u === 0x2d)) return false;
  }
  return true;
}

/** Letters only. */
function letters(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isLetter(text.charCodeAt(i))) return false;
  return true;
}

/** Whether a value with this shape and length could be a secret: long enough, letters with digits, `_` or capitals, and not hex words in lower case. */
const worthShape = (s: Shape, length: number): boolean => length >= MIN_JOINED && s.letters > 0 && (s.digits > 0 || s.underscore || s.capitals >= CAPITALS) && !s.lowerHex;

/** Whether `ranges` together could be a secret (`worthShape`). */
function worth(text: string, ranges: readonly number[]): boolean {
  let length = 0;
  for (let k = 0; k < ranges.length; k += 2) length += ranges[k + 1]! - ranges[k]!;
  return length >= MIN_JOINED && worthShape(shapeOf(text, ranges), length);
}

/**
 * The pair `[a, b)` + `[c, d)` (two tokens with blanks between them), when worth joining. A hash or a
 * UUID next to a plain word (`…3f2a user`) is not: in logs every id has one.
 */
function pair(text: string, a: number, b: number, c: number, d: number, out: Pieces, hexA = -1, hexC = -1): void {
  if (b <= a || d <= c || b - a > MAX_TOKEN || d - c > MAX_TOKEN || b - a + (d - c) < MIN_JOINED) return;
  // The usual case in logs, told before anything is counted: an id, then a word (`…3f2a user=`).
  // `hexA`, `hexC`: whether either token is hex words, when the caller read it already (1 or 0).
  if ((letters(text, c, d) && (hexA < 0 ? hexWords(text, a, b) : hexA === 1)) || (letters(text, a, b) && (hexC < 0 ? hexWords(text, c, d) : hexC === 1))) return;
  const left = shapeOf(text, [a, b]);
  const right = shapeOf(text, [c, d]);
  if ((left.lowerHex && left.digits > 0 && right.word) || (right.lowerHex && right.digits > 0 && left.word)) return;
  // Together: capitals may run on across the cut, so the joined run is measured (only when it matters).
  const both: Shape = {
    letters: left.letters + right.letters,
    digits: left.digits + right.digits,
    underscore: left.underscore || right.underscore,
    capitals: left.capitals + right.capitals,
    lowerHex: left.lowerHex && right.lowerHex,
    word: false,
  };
  if (!worthShape(both, b - a + (d - c))) return;
  out.add(text, [a, b, c, d]);
}

/** Every two tokens of `[lo, hi)` with one to three blanks between them (the `rejoined` view, in full). */
function pairsIn(text: string, lo: number, hi: number, out: Pieces): void {
  let prevFrom = -1;
  let prevTo = -1;
  let i = lo;
  while (i < hi) {
    if (!isToken(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const from = i;
    while (i < hi && isToken(text.charCodeAt(i))) i++;
    const to = i;
    if (prevTo >= 0 && from - prevTo <= MAX_GAP) pair(text, prevFrom, prevTo, from, to, out);
    let k = i;
    while (k < hi && k - i < MAX_GAP && isBlank(text.charCodeAt(k))) k++;
    if (k > i && k < hi && isToken(text.charCodeAt(k))) {
      prevFrom = from;
      prevTo = to;
    } else prevFrom = prevTo = -1;
    i = k > i ? k : i;
  }
}

/** Whether the token the last `tokenStart` or `tokenEnd` read is hex words (`hexWords`): 1 or 0. */
let readHex = 0;

/** The token that ends at `end` (exclusive), read back at most MAX_TOKEN units: its start (`readHex` set). */
function tokenStart(text: string, end: number): number {
  let i = end;
  let hex = HEX_WORD_UNIT;
  for (; i > 0 && end - i < MAX_TOKEN; i--) {
    const u = text.charCodeAt(i - 1);
    const c = u < 128 ? TOKEN[u]! : 0;
    if (c === 0) break;
    hex &= c;
  }
  readHex = hex >> 1;
  return i;
}
/** The token that starts at `start`: its end (`readHex` set). */
function tokenEnd(text: string, start: number): number {
  let i = start;
  let hex = HEX_WORD_UNIT;
  for (; i < text.length && i - start < MAX_TOKEN; i++) {
    const u = text.charCodeAt(i);
    const c = u < 128 ? TOKEN[u]! : 0;
    if (c === 0) break;
    hex &= c;
  }
  readHex = hex >> 1;
  return i;
}

/** A space or a tab: what cuts a value within a line (a line break in a long text is the line's end, in logs and listings). */
const isSpace = (u: number): boolean => u === 0x20 || u === 0x09;

/** The pairs across the spaces before and after the run `[s, e)` (seeded reading of a long text). */
function pairsAround(text: string, s: number, e: number, out: Pieces): void {
  // Before: spaces, then a token.
  let k = s;
  while (k > 0 && s - k < MAX_GAP && isSpace(text.charCodeAt(k - 1))) k--;
  if (k < s && k > 0 && isToken(text.charCodeAt(k - 1))) {
    const a = tokenStart(text, k);
    const hexA = readHex;
    const d = tokenEnd(text, s);
    pair(text, a, k, s, d, out, hexA, readHex);
  }
  // After.
  k = e;
  while (k < text.length && k - e < MAX_GAP && isSpace(text.charCodeAt(k))) k++;
  if (k > e && k < text.length && isToken(text.charCodeAt(k))) {
    const a = tokenStart(text, e);
    const hexA = readHex;
    const d = tokenEnd(text, k);
    pair(text, a, e, k, d, out, hexA, readHex);
  }
}

/** A value's own punctuation that also serves to cut it (a JWT's `.`, base64url's `-` and `_`), and a blank. */
const PUNCTUATION = [0x2d, 0x5f, 0x2e] as const;
const BLANK = 0x20;
/** Strides tried: chunks of 2 to 16 units (and the separator). */
const MIN_STRIDE = 3;
const MAX_STRIDE = 17;
/** Runs shorter than this are not looked at (the shortest value and a cut). */
const MIN_RUN = 14;
/** Readings of one run at most (chains of one length, single cuts). */
const MAX_READINGS = 4;
/** A run with this many separators or fewer is also read with each of them removed alone (a value cut once). */
const FEW = 3;

/**
 * The ways `text[from, to)` may have been cut by `sep`, as [first, last, stride] each: the longest
 * chains of separators at one stride (two or more; a value's own separator may form a chain as long,
 * so every chain of that length is a reading), and, but for a blank, each separator alone when there
 * are few (a value cut once by punctuation).
 */
function cuts(text: string, from: number, to: number, sep: number): Array<[number, number, number]> {
  const at: number[] = [];
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === sep) at.push(i);
  const out: Array<[number, number, number]> = [];
  if (at.length === 0) return out;
  const present = new Set(at);
  let bestCount = 2;
  for (let s = MIN_STRIDE; s <= MAX_STRIDE; s++) {
    for (const p of at) {
      // Chains are counted from their first separator only.
      if (present.has(p - s)) continue;
      let count = 1;
      while (present.has(p + count * s)) count++;
      if (count < bestCount) continue;
      if (count > bestCount) {
        bestCount = count;
        out.length = 0;
      }
      if (out.length < MAX_READINGS) out.push([p, p + (count - 1) * s, s]);
    }
  }
  if (sep !== BLANK && at.length <= FEW) for (const p of at) out.push([p, p, 1]);
  return out;
}

/** Units of a run cut by `sep`: token units, and single blanks between two of them when `sep` is a blank. */
const inRun = (text: string, i: number, sep: number): boolean => {
  const u = text.charCodeAt(i);
  return isToken(u) || (sep === BLANK && u === 0x20 && isToken(text.charCodeAt(i + 1)) && isToken(text.charCodeAt(i - 1)));
};

/** The run `[from, to)` read without its separators `sep` at each stride `cuts` finds (the `destrided` view). */
function destride(text: string, from: number, to: number, sep: number, out: Pieces): void {
  if (to - from < MIN_RUN || to - from > MAX_TOKEN) return;
  const blank = sep === BLANK;
  for (const [first, last, step] of cuts(text, from, to, sep)) {
    // The chain's stretch: the chunk before its first separator to the chunk after its last (up to a
    // blank, or a few strides); a single cut: the whole run.
    let a = first - 1;
    while (a > from && first - a < MAX_STRIDE * 4 && !(blank && text.charCodeAt(a - 1) === BLANK)) a--;
    let b = last + 1;
    while (b < to && b - last < MAX_STRIDE * 4 && !(blank && text.charCodeAt(b) === BLANK)) b++;
    if (!blank && first === last) {
      a = from;
      b = to;
    }
    const ranges: number[] = [];
    let at = a;
    for (let p = first; p <= last; p += step) {
      if (p > at) ranges.push(at, p);
      at = p + 1;
    }
    if (at < b) ranges.push(at, b);
    if (ranges.length >= 4 && worth(text, ranges)) out.add(text, ranges);
  }
}

/** Every run of `[lo, hi)` destrided for each separator in `seps`. */
function stridesIn(text: string, lo: number, hi: number, seps: readonly number[], out: Pieces): void {
  for (const sep of seps) {
    let i = lo;
    while (i < hi) {
      if (!inRun(text, i, sep)) {
        i++;
        continue;
      }
      const from = i;
      while (i < hi && inRun(text, i, sep)) i++;
      destride(text, from, i, sep, out);
    }
  }
}

/**
 * The prefixes of the glued-prefix families (glued.ts: AWS key ids, GitHub, Slack and Stripe tokens,
 * JWTs, a private key's armour) written backwards or in ROT13. Where one occurs in a long run, the
 * run (and the tokens around it) is read turned back: a reader undoes either in one step.
 */
const REVERSED = /AIKA|AISA|AIBA|ACCA|_[pousr]hg|_tap_buhtig|-[abposr]xox|_(?:evil|tset)_[kr]s|Jye|NIGEB-----/;
const ROT13 = /NXVN|NFVN|ABVN|NPPN|tu[cbhfe]_|tvguho_cng_|kbk[nobcfe]-|[fe]x_(?:yvir|grfg)_|rlW|-----ORTVA/;

/** The longest run searched for a turned prefix. */
const MAX_TURNED = 1024;
/** How far a turned run is read on: the rest of its value (a JWT's other segments, a key's armour). */
const TURNED_AROUND = 256;

const rot13 = (u: number): number => (isUpper(u) ? ((u - 0x41 + 13) % 26) + 0x41 : isLower(u) ? ((u - 0x61 + 13) % 26) + 0x61 : u);

/** `[from, to)` turned back: reversed (each unit stands for the whole span, which runs the other way in the source) or ROT13. */
function turned(text: string, from: number, to: number, how: 'reversed' | 'rot13'): MappedText {
  const length = to - from;
  const units = new Array<number>(length);
  const starts = new Int32Array(length + 2);
  const ends = new Int32Array(length + 2);
  starts[0] = ends[0] = from;
  for (let k = 0; k < length; k++) {
    const source = how === 'reversed' ? to - 1 - k : from + k;
    const u = text.charCodeAt(source);
    units[k] = how === 'rot13' ? rot13(u) : u;
    starts[k + 1] = how === 'reversed' ? from : source;
    ends[k + 1] = how === 'reversed' ? to : source + 1;
  }
  starts[length + 1] = ends[length + 1] = to;
  return { text: ` ${String.fromCharCode(...units)} `, starts, ends };
}

/** The literals a glued-prefix value starts with (glued.ts `GLUED_LITERALS`), any case: where a long text is read around. */
const GLUED_START = /akia|asia|abia|acca|gh[pousr]_|github_pat_|xox|[rs]k_(?:live|test)_|eyJ|-----BEGIN/gi;
/** A JWT cut by `.` in chunks of one or two (its `eyJ` cut too): `e.y.J`, `ey.Jh`, `xe.yJ`. */
const DOTTED_JWT = ['y.J', '.yJ'];

export interface RejoinView extends MappedText {
  location: 'rejoined' | 'destrided' | 'reversed' | 'rot13';
}

export interface Seeds {
  /** decode.ts `longRuns` of the text, [start, end) pairs. */
  runs: readonly number[];
  /** Whether the anchor pass saw a glued-prefix literal (undefined: not known, looked for here). */
  glued: boolean | undefined;
  /** Whether the anchor pass saw a turned glued-prefix literal (glued.ts `TURNED_LITERALS`; undefined: not known). */
  turned: boolean | undefined;
}

/** Quick test for a short text: two token units around a blank, or punctuation inside a token. */
const MAYBE_CUT = /[A-Za-z0-9_.-][ \t\r\n]|[A-Za-z0-9][-_.][A-Za-z0-9]/;

/**
 * The rejoined, destrided and turned views of `text` (none for most texts). `whole`: read all of it (a
 * short text); else only around `seeds`.
 */
export function rejoinViews(text: string, seeds: Seeds, whole: boolean): RejoinView[] {
  const n = text.length;
  const rejoined = new Pieces();
  const destrided = new Pieces();
  const out: RejoinView[] = [];
  const runs = seeds.runs;
  if (whole) {
    if (n >= MIN_JOINED && MAYBE_CUT.test(text)) {
      pairsIn(text, 0, n, rejoined);
      stridesIn(text, 0, n, [...PUNCTUATION, BLANK], destrided);
    }
  } else {
    // Around each long run: the tokens across blanks on either side; its own `-` and `_` as separators.
    let dash = -1;
    let underscore = -1;
    for (let k = 0; k < runs.length; k += 2) {
      const s = runs[k]!;
      const e = runs[k + 1]!;
      pairsAround(text, s, e, rejoined);
      if (dash < s) dash = text.indexOf('-', s);
      if (underscore < s) underscore = text.indexOf('_', s);
      if ((dash >= 0 && dash < e) || (underscore >= 0 && underscore < e)) {
        const from = tokenStart(text, s);
        const hexBefore = readHex;
        const to = tokenEnd(text, s);
        // UUIDs and dashed hashes, the usual runs with a `-`, hold no value cut (`worth`): skipped at
        // once (`hexWords` of the token, told by the two readings that found its ends).
        if (to - from >= MIN_RUN && (hexBefore === 0 || readHex === 0)) for (const sep of PUNCTUATION) destride(text, from, to, sep, destrided);
      }
      if (dash < 0) dash = n;
      if (underscore < 0) underscore = n;
    }
    // Around each glued-prefix literal and each `.`-cut JWT start: everything, within AROUND.
    const around: number[] = [];
    if (seeds.glued !== false) {
      GLUED_START.lastIndex = 0;
      for (let m = GLUED_START.exec(text); m; m = GLUED_START.exec(text)) around.push(m.index);
    }
    for (const literal of DOTTED_JWT) for (let at = text.indexOf(literal); at >= 0; at = text.indexOf(literal, at + 1)) around.push(Math.max(0, at - 2));
    around.sort((a, b) => a - b);
    let done = 0;
    for (const at of around) {
      if (at < done) continue;
      const from = tokenStart(text, at);
      done = Math.min(n, at + AROUND);
      pairsIn(text, from, done, rejoined);
      stridesIn(text, from, done, [...PUNCTUATION, BLANK], destrided);
    }
  }
  // Turned: long runs with a turned prefix, read with the tokens around them (a run longer than a
  // value is not searched: a turned value glued inside a long blob is not read).
  for (let k = 0; seeds.turned !== false && k < runs.length; k += 2) {
    const s = runs[k]!;
    const e = runs[k + 1]!;
    if (e - s > MAX_TURNED) continue;
    const run = text.slice(s, e);
    for (const [pattern, how] of [[REVERSED, 'reversed'], [ROT13, 'rot13']] as const) {
      if (!pattern.test(run)) continue;
      let from = s;
      while (from > 0 && s - from < TURNED_AROUND && (isToken(text.charCodeAt(from - 1)) || text.charCodeAt(from - 1) === BLANK)) from--;
      let to = e;
      while (to < n && to - e < TURNED_AROUND && (isToken(text.charCodeAt(to)) || text.charCodeAt(to) === BLANK)) to++;
      out.push({ ...turned(text, from, to, how), location: how });
    }
  }
  const r = rejoined.view();
  if (r) out.push({ ...r, location: 'rejoined' });
  const d = destrided.view();
  if (d) out.push({ ...d, location: 'destrided' });
  return out;
}
