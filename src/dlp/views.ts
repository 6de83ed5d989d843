/**
 * Detection beyond the literal text: the same detectors (src/dlp/detect.ts) run again on the views of
 * a text that undo the usual ways of hiding a value from them —
 *
 *   normalized   invisible characters removed, compatibility forms and look-alikes folded (normalize.ts)
 *   decoded:*    base64, base32, hex (also of UTF-16 text), %-encoding, quoted-printable, HTML references,
 *                \u and octal escapes, byte and character-code lists, private-key bodies (decode.ts),
 *                tag characters and variation selectors one per byte (hidden-text.ts),
 *                four levels deep (so `%2541` and base64 of base64 of base64 are read); a string still
 *                encoded at the fourth level is uninspectable
 *   despaced     letters spaced out (`g h p _ …`)
 *   concatenated string literals joined in code (`"AKIA" + "…"`, `'ghp_' . '…'`, `"".join([…])`:
 *                concatenated.ts); only findings of rules with a distinctive shape count here
 *   dechunked    a value cut in regular chunks (`AKIA Q3EG …`, `4539.1488.…`), any length of string
 *   unprefixed   base64 lines under one prefix each (`> `, `# `, `12: `, a timestamp) read without it
 *                (line-prefixes.ts), so that the unwrapped view joins them
 *   unwrapped    the line breaks inside wrapped base64 (MIME, `base64`'s 76 columns) removed, so the
 *                decoded view reads a value whose encoding straddles a break
 *   compacted    whitespace removed, for strings up to `COMPACT_MAX` characters (a secret broken by a
 *                space or a line break; in results only strings with a line break, `ViewOptions`);
 *                only findings of rules with a distinctive shape count here
 *   unglued      a secret with a distinctive prefix glued to word characters (`_AKIA…_`, `x` + JWT),
 *                which the rules' word-boundary anchors would let through: cut out and checked alone;
 *                also AWS key ids in lower case, and card numbers and IBANs glued to letters or `-`
 *
 * A finding in a view counts like one in the text, at the source span its characters came from (the
 * whole encoded run, for base64 and hex; the invisible characters between the letters, for the
 * normalised view), and says where it was seen (`location`).
 *
 * Cost: ordinary text pays a few native character-class tests (`MAYBE_HIDING`); the views are built only
 * when one of them matches, and their total size is bounded (`VIEW_BUDGET`), past which the text is
 * uninspectable (the caller fails closed).
 */
import { decodedViews, hasEncodedRun, longRuns, mayBeAscii85 } from './decode.ts';
import { detect, type CompiledPatterns, type Detectors, type PassesSaw, type TextFinding, type TextReport } from './detect.ts';
import { GLUED, LOWER_AWS } from './glued.ts';
import { compactedView, dechunkedView, despacedViews, hasNonAsciiOrControl, joinedView, normalizedView, unwrappedView, type MappedText } from './normalize.ts';
import { PII_KINDS, regions, type PiiKind, type Regions } from './pii.ts';
import { secretRules } from './secrets.ts';
import { MAX_MATCHES } from './rule-scan.ts';
import { rejoinViews } from './rejoin.ts';
import { hiddenTextView } from './hidden-text.ts';
import { concatenatedView, mayBeConcatenated } from './concatenated.ts';
import { unprefixedView } from './line-prefixes.ts';

export interface ViewFinding extends TextFinding {
  /** Where the finding was seen when not in the text as written: `normalized`, `decoded:base64`, `decoded:url/decoded:url`… */
  location?: string;
}

export interface DeepReport extends TextReport {
  findings: ViewFinding[];
}

/** Strings up to this length are also read with their whitespace removed. */
export const COMPACT_MAX = 1024;
/** Views' total length, as a multiple of the text's (plus a floor); beyond, the text is uninspectable. */
const VIEW_BUDGET = 8;
const VIEW_FLOOR = 1 << 14;
/** Encodings read inside each other this deep (base64 of base64 of base64…); a deeper one fails closed. */
const MAX_DECODE_DEPTH = 4;

/**
 * IBANs are upper case; one written in lower or mixed case (`de89…`, `De89 3704 …`), compact or in
 * groups, is read upper-cased (AWS key ids too: glued.ts). Only a match with a lower-case letter is
 * cut out (`hasLower`): the scanner reads the others as written.
 */
const LOWER_IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]| (?=[A-Za-z0-9])){10,40}(?![A-Za-z0-9])/g;
const hasLower = (s: string): boolean => /[a-z]/.test(s);
/** Card numbers and IBANs, kept when glued to letters, digits or `-` (the PII scanners want them apart). */
const NUMBER_CLUSTER = /\d(?:[ -]?\d){12,18}/g;
const IBAN_CLUSTER = /[A-Z]{2}\d{2}(?:[A-Z0-9]| (?=[A-Z0-9])){10,34}/g;
/** The same, at one place (where the personal-data pass saw an IBAN start). */
const IBAN_AT = new RegExp(IBAN_CLUSTER.source, 'y');
const isGlue = (u: number): boolean => isWord(u) || u === 0x2d;

/** Whether a text's view could differ from it: `gate` below (the fast path) or, on views, these. */
const MAYBE_GLUED_NUMBER = /[A-Za-z_-]\d{4}|\d{13}[A-Za-z_]/;

const isWord = (u: number): boolean => (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a) || u === 0x5f;

let distinctive: ReadonlySet<string> | undefined;
/**
 * Findings that count in the compacted and joined views: secret rules whose match starts with a shape
 * of its own (a prefix, a scheme, a key header; not a keyword such as `user=` and any value, which
 * joining lines of code would make up), administrator patterns, and e-mails, cards and IBANs (their
 * checks hold wherever the characters came from).
 */
export function isDistinctive(f: TextFinding): boolean {
  if (f.type === 'pattern') return true;
  if (f.type === 'pii') return f.rule === 'email' || f.rule === 'payment-card' || f.rule === 'iban';
  if (f.type !== 'secret') return false;
  distinctive ??= new Set(secretRules().filter((r) => r.family !== 'generic' && (r.before === 0 || r.family === 'jwt' || r.family === 'private-key')).map((r) => r.id));
  return distinctive.has(f.rule);
}

interface View extends MappedText {
  location: string;
  /** Only distinctive findings count. */
  strict?: boolean;
  /** What may be looked for inside it: every view, or only glued prefixes. */
  inner: 'all' | 'glued' | 'none';
  decodes: number;
  /** Only these detectors run on it (a cut-out card number needs no secret rules). */
  only?: 'secrets' | 'pii';
}

/** Cuts `text[from, to)` out as a view of its own, between spaces, optionally transformed (same length). */
function isolated(text: string, from: number, to: number, location: string, only: View['only'], transform?: (s: string) => string): View {
  const core = text.slice(from, to);
  const starts = new Int32Array(core.length + 2);
  const ends = new Int32Array(core.length + 2);
  starts[0] = ends[0] = from;
  for (let i = 0; i < core.length; i++) {
    starts[i + 1] = from + i;
    ends[i + 1] = from + i + 1;
  }
  starts[core.length + 1] = ends[core.length + 1] = to;
  return { text: ` ${transform ? transform(core) : core} `, starts, ends, location, inner: 'none', decodes: 0, only };
}

/**
 * The glued and upper-cased views of `text`. `seen`: what `detect` saw in it — whether a glued-prefix
 * literal occurs at all (else the two regular expressions are not run) and where the personal-data pass
 * found number runs and IBAN starts (else they are found here). Where to cut is found first (numbers
 * only: the shared regular expressions are not held across a `yield`, which lets the caller read a view,
 * and its own views, before the next is cut); each view is cut when the caller asks for it, so a text
 * given up on (uninspectable) cuts no more.
 */
function* gluedViews(text: string, pii: boolean, seen: PassesSaw | undefined): Generator<View> {
  if (seen?.glued !== false) {
    const cuts: number[] = [];
    GLUED.lastIndex = 0;
    for (let m = GLUED.exec(text); m; m = GLUED.exec(text)) {
      const end = m.index + m[0].length;
      if (isWord(text.charCodeAt(m.index - 1)) || isWord(text.charCodeAt(end))) cuts.push(m.index, end);
    }
    for (let k = 0; k < cuts.length; k += 2) yield isolated(text, cuts[k]!, cuts[k + 1]!, 'unglued', 'secrets');
    yield* upperCased(text, LOWER_AWS, 'secrets');
  }
  if (pii && text.length <= COMPACT_MAX) yield* upperCased(text, LOWER_IBAN, 'pii');
  if (!pii) return;
  yield* separatedCards(text);
  /** [from, to) of each glued card number or IBAN, in the order they are looked for. */
  const cuts: number[] = [];
  const glued = (from: number, to: number, number: boolean): void => {
    if (number && !cardShaped(text, from, to)) return;
    if (isGlue(text.charCodeAt(from - 1)) || (number && isGlue(text.charCodeAt(to)) && !isDigit(text.charCodeAt(to)))) cuts.push(from, to);
  };
  if (text.length <= COMPACT_MAX) {
    if (!MAYBE_GLUED_NUMBER.test(text)) return;
    for (const cluster of [NUMBER_CLUSTER, IBAN_CLUSTER]) {
      cluster.lastIndex = 0;
      for (let m = cluster.exec(text); m; m = cluster.exec(text)) glued(m.index, m.index + m[0].length, cluster === NUMBER_CLUSTER);
    }
  } else {
    // Long texts: the card-shaped clusters in the number runs, the IBANs where one starts.
    const found = regionsOf(text, seen);
    forEachCardCluster(text, found, (from, to) => glued(from, to, true));
    for (let k = 0, floor = 0; k < found.ibans.length; k++) {
      const at = found.ibans[k]!;
      if (at < floor || !isGlue(text.charCodeAt(at - 1))) continue;
      IBAN_AT.lastIndex = at;
      const m = IBAN_AT.exec(text);
      if (!m) continue;
      floor = at + m[0].length;
      glued(at, floor, false);
    }
  }
  for (let k = 0; k < cuts.length; k += 2) yield isolated(text, cuts[k]!, cuts[k + 1]!, 'unglued', 'pii');
}

/** Each match of `pattern` (global, lower case) cut out and read upper-cased. */
function* upperCased(text: string, pattern: RegExp, only: View['only']): Generator<View> {
  const cuts: number[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) if (hasLower(m[0])) cuts.push(m.index, m.index + m[0].length);
  for (let k = 0; k < cuts.length; k += 2) yield isolated(text, cuts[k]!, cuts[k + 1]!, 'uppercased', only, (s) => s.toUpperCase());
}

/**
 * Separators a reader takes for a card number's blanks but the card scanner does not (it wants spaces
 * or `-`; `.`, `/`, `:`, `,`, `|` are the dechunked view's): `4111_1111_1111_1111`, `4111*1111*…`,
 * `4111'1111'…` (Swiss grouping), middle dots and bullets (red team C9): every ASCII punctuation the
 * other two leave, not a list of those seen (red team M, M9: `4539;1488;…`).
 */
const CARD_SEPARATORS = [...'_*~\'+=#;!"$%&?@^`\\<>[]{}', '\u00b7', '\u2022', '\u2219', '\u22c5', '\u2027', '\uff3f'];
const MAYBE_SEPARATED_CARD = new RegExp(`\\d[${CARD_SEPARATORS.map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}]\\d`);

/**
 * Card-shaped digit groups with one of `CARD_SEPARATORS` between them (the same one throughout),
 * cut out with the separators read as spaces, for the card scanner. Found by hopping from separator
 * to separator with a native search (a text without them pays one search per separator); a separator
 * with a digit on each side is read once, as part of one cluster at most.
 */
function* separatedCards(text: string): Generator<View> {
  // A short text (many, in structured content) is asked once; a long one hops (a digit class costs a pass).
  if (text.length < 15 || (text.length <= COMPACT_MAX && !MAYBE_SEPARATED_CARD.test(text))) return;
  for (const sep of CARD_SEPARATORS) {
    const s = sep.charCodeAt(0);
    for (let p = text.indexOf(sep), floor = 0; p >= 0; p = text.indexOf(sep, Math.max(p + 1, floor))) {
      if (!isDigit(text.charCodeAt(p - 1)) || !isDigit(text.charCodeAt(p + 1))) continue;
      let from = p;
      while (from > 0 && (isDigit(text.charCodeAt(from - 1)) || (text.charCodeAt(from - 1) === s && isDigit(text.charCodeAt(from - 2))))) from--;
      let to = p + 1;
      while (to < text.length && (isDigit(text.charCodeAt(to)) || (text.charCodeAt(to) === s && isDigit(text.charCodeAt(to + 1))))) to++;
      floor = to;
      if (to - from > 40 || isWord(text.charCodeAt(from - 1)) || isWord(text.charCodeAt(to))) continue;
      const spaced = text.slice(from, to).replaceAll(sep, ' ');
      if (cardShaped(spaced, 0, spaced.length)) yield isolated(text, from, to, 'unglued', 'pii', () => spaced);
    }
  }
}

/** The personal-data pass's regions of `text`: `detect`'s when it ran, else found now. */
const regionsOf = (text: string, seen: PassesSaw | undefined): Regions => seen?.regions ?? regions(Buffer.from(text, 'latin1'), text.length);

const inCluster = (u: number): boolean => isDigit(u) || u === 0x20 || u === 0x2d;

/**
 * Each cluster of digits with single spaces or dashes between them (13+ digits, card-shaped) in the
 * number runs of `found`, as [from, to). Every such cluster lies inside one run.
 */
function forEachCardCluster(text: string, found: Regions, visit: (from: number, to: number) => void): void {
  const runs = found.numbers;
  for (let k = 0; k < runs.length; k += 2) {
    const end = runs[k + 1]!;
    for (let i = runs[k]!; i < end; ) {
      if (!isDigit(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let e = i + 1;
      while (e < end && inCluster(text.charCodeAt(e))) e++;
      let last = e;
      while (!isDigit(text.charCodeAt(last - 1))) last--;
      if (last - i >= 13) visit(i, last);
      i = e;
    }
  }
}

/**
 * 13–19 digits in the groups cards are printed in (4-4-4-4…, 4-6-5, 4-6-4), in `text[from, to)` (digits
 * with single spaces or `-` between them; two separators in a row make an empty group). Digits glued to
 * a word without separators are an id or a timestamp (`order-1765080316123`), as the card scanner judges
 * them. Read in place, without cutting the cluster out or splitting it.
 */
function cardShaped(text: string, from: number, to: number): boolean {
  let groups = 0;
  let first = 0;
  let second = 0;
  let length = 0;
  let digits = 0;
  /** Whether every group before the current one has four digits. */
  let fours = true;
  for (let i = from; i < to; i++) {
    const u = text.charCodeAt(i);
    if (u === 0x20 || u === 0x2d) {
      if (groups === 0) first = length;
      else if (groups === 1) second = length;
      fours &&= length === 4;
      groups++;
      length = 0;
    } else {
      length++;
      digits++;
    }
  }
  groups++;
  if (digits < 13 || digits > 19 || groups === 1) return false;
  if (groups === 3 && first === 4 && second === 6 && (length === 5 || length === 4)) return true;
  return fours && length >= 1 && length <= 4;
}

/** A card-shaped cluster or the start of an IBAN glued to a letter or `-` (what the unglued view cuts out). */
function hasGluedNumber(text: string, found: Regions): boolean {
  if (found.ibans.some((at) => isGlue(text.charCodeAt(at - 1)))) return true;
  let hit = false;
  forEachCardCluster(text, found, (from, to) => {
    hit ||= cardShaped(text, from, to) && (isGlue(text.charCodeAt(from - 1)) || (isGlue(text.charCodeAt(to)) && !isDigit(text.charCodeAt(to))));
  });
  return hit;
}

/** Whether the compacted and joined views apply: short strings with whitespace (arguments) or a line break (results). */
const breakable = (text: string, compact: boolean): boolean => text.length <= COMPACT_MAX && (compact ? /\S\s/.test(text) : text.includes('\n'));

/**
 * `dechunked`: the text's dechunked view when the caller has made it already (`withViews`), null for
 * none; undefined to make it here. `whole`: read a short text in full for a value cut once (rejoin.ts).
 */
function* viewsOf(text: string, on: Detectors, compact: boolean, decodes: number, inner: View['inner'], seen: PassesSaw | undefined, dechunked?: MappedText | null, whole = compact): Generator<View> {
  if (inner === 'none') return;
  const runs = seen?.runs ?? longRuns(text);
  if (inner === 'all') {
    const normalized = normalizedView(text, seen?.ascii, false, seen?.controls);
    if (normalized) yield { ...normalized, location: 'normalized', inner: 'all', decodes };
    // Blanks read as spaces keep the phrases' words apart; removed, they no longer split a word or a value.
    const unspaced = normalized?.blanks ? normalizedView(text, seen?.ascii, true, seen?.controls) : undefined;
    if (unspaced) yield { ...unspaced, location: 'normalized', inner: 'glued', decodes };
    // A key body given back its armour is the same run, not a layer of encoding: read by the rules, not decoded again (red team C9).
    if (decodes < MAX_DECODE_DEPTH) for (const d of decodedViews(text, runs, seen?.spacedGroups)) yield { ...d, location: `decoded:${d.encoding}`, inner: d.encoding === 'private-key' ? 'glued' : 'all', decodes: decodes + 1 };
    // Text smuggled in tag characters or variation selectors, decoded where the normalised view removes it.
    const hidden = decodes < MAX_DECODE_DEPTH ? hiddenTextView(text) : undefined;
    if (hidden) yield { text: hidden.text, starts: hidden.starts, ends: hidden.ends, location: `decoded:${hidden.encoding}`, inner: 'all', decodes: decodes + 1 };
    // Base64 lines under a prefix each (`> `, `# `, `12: `) read without it, so that the view below joins them.
    const unprefixed = decodes < MAX_DECODE_DEPTH && runs.length > 0 ? unprefixedView(text, runs) : undefined;
    if (unprefixed) yield { ...unprefixed, location: 'unprefixed', inner: 'all', decodes };
    // Wrapped base64 (76-column lines) joined, so that its base64 view decodes across the breaks.
    const unwrapped = decodes < MAX_DECODE_DEPTH ? unwrappedView(text, runs) : undefined;
    if (unwrapped) yield { ...unwrapped, location: 'unwrapped', inner: 'all', decodes };
    if (hasSpacedLetters(text, seen?.spacedLetters)) for (const s of despacedViews(text)) yield { ...s, location: 'despaced', inner: 'glued', decodes };
    const concatenated = concatenatedView(text);
    if (concatenated) yield { ...concatenated, location: 'concatenated', strict: true, inner: 'glued', decodes };
    if (breakable(text, compact)) {
      const compacted = compactedView(text);
      if (compacted) yield { ...compacted, location: 'compacted', strict: true, inner: 'glued', decodes };
      const joined = text.includes('\n') ? joinedView(text) : undefined;
      if (joined) yield { ...joined, location: 'joined', strict: true, inner: 'glued', decodes };
    }
  }
  if (runs.length > 0 || on.pii) yield* gluedViews(text, on.pii, seen);
  const chunked = inner === 'all' ? (dechunked === undefined ? dechunkedOf(text) : dechunked) : null;
  if (chunked) yield { ...chunked, location: 'dechunked', strict: true, inner: 'glued', decodes };
  if (inner === 'all') yield* rejoinedViews(text, seen, runs, decodes, whole);
}

/**
 * A value cut once by a blank, cut by its own punctuation, reversed or in ROT13 (rejoin.ts): a short
 * text is read in full when `whole` (ViewOptions), any other around the runs and glued-prefix literals
 * `detect` saw.
 */
function* rejoinedViews(text: string, seen: PassesSaw | undefined, runs: readonly number[], decodes: number, whole: boolean): Generator<View> {
  for (const view of rejoinViews(text, { runs, glued: seen?.glued, turned: seen?.turned }, whole && text.length <= COMPACT_MAX)) yield { ...view, strict: true, inner: 'glued', decodes };
}

/** The units that start an escape. */
const ESCAPE_STARTS = ['%', '&', '=', '\\'];

/** Any unit past ASCII, any control (but tab and line breaks), any `%`, `&`, `=` or `\` (`ascii`: when known). */
function hasSuspectUnit(text: string, seen: PassesSaw | undefined): boolean {
  for (const c of ESCAPE_STARTS) if (text.includes(c)) return true;
  return hasNonAsciiOrControl(text, seen?.ascii, seen?.controls);
}

const isDigit = (u: number): boolean => u >= 0x30 && u <= 0x39;

/** Spaced letters have a space every other unit: a probe every 13 units lands in each run of 16. */
const SPACED_STRIDE = 13;

/**
 * Letters spaced out (`g h p _ …`, eight pairs or more) somewhere in `text`? Looked for around one
 * unit in `SPACED_STRIDE`, which every such run covers: the run's spaces fall on one parity, so one of
 * the probe and the unit after it is one of them. A long text without a space has none (one native
 * search; for a short one the call costs more than the probes). `maybe`: false when the character
 * classes saw no eight spaces two units apart (detect.ts `PassesSaw.spacedLetters`), which such a run has.
 */
export function hasSpacedLetters(text: string, maybe?: boolean): boolean {
  const n = text.length;
  if (maybe === false || n < 15 || (n >= 256 && !text.includes(' '))) return false;
  for (let p = SPACED_STRIDE - 1; p < n; p += SPACED_STRIDE) {
    for (let s = p; s <= p + 1; s++) {
      // A space with another two units before or after it: the few probes that need counting.
      if (text.charCodeAt(s) !== 0x20 || (text.charCodeAt(s + 2) !== 0x20 && text.charCodeAt(s - 2) !== 0x20)) continue;
      let pairs = 1;
      for (let k = s + 2; pairs < 8 && k < n && text.charCodeAt(k) === 0x20; k += 2) pairs++;
      for (let k = s - 2; pairs < 8 && k >= 0 && text.charCodeAt(k) === 0x20; k -= 2) pairs++;
      if (pairs >= 8) return true;
    }
  }
  return false;
}

/**
 * The dechunked view of `text`, or null. Every piece it joins has a digit (`dechunkedView`), and one
 * native search (a simple class, several times faster than any pattern of letters next to digits) tells
 * whether the text has one at all: prose without a digit costs that search, and a text with digits the
 * view itself, which is as fast as a pattern looking for where chunks could be.
 */
const dechunkedOf = (text: string): MappedText | null => (hasDigit(text) ? (dechunkedView(text) ?? null) : null);

/** A value cut or turned could be there (rejoin.ts): any short text with a blank or punctuation; a long one where a glued-prefix literal or a `.`-cut JWT occurs (its runs count above). */
const mayBeCut = (text: string, seen: PassesSaw | undefined): boolean => (text.length <= COMPACT_MAX ? text.length >= 12 && /\s|[-_.]/.test(text) : seen?.glued !== false || text.includes('y.J') || text.includes('.yJ'));

/**
 * A digit in a text of 14 units or more: what every pattern of the gate before it (a letter next to a
 * digit, a digit beside a `.`, `/`, `|`, `:`, `,` or `-`) needed. That gate also let through the byte and
 * character-code lists (`67:68:…`, `0x67;0x68;…`, `103,104,…`) that no other term below sees, so this one
 * must stay at least as wide as it was.
 */
const hasDigit = (text: string): boolean => text.length >= 14 && /[0-9]/.test(text);

/** Whether a text could have a view at all (the fast path: most texts do not). */
function mayHide(text: string, on: Detectors, compact: boolean, runs: readonly number[], seen: PassesSaw | undefined): boolean {
  return runs.length > 0 || hasDigit(text) || breakable(text, compact) || hasSuspectUnit(text, seen) || hasSpacedLetters(text, seen?.spacedLetters) || mayBeCut(text, seen) || mayBeConcatenated(text) || mayBeAscii85(text) || (on.pii && hasGluedNumber(text, regionsOf(text, seen)));
}

const overlaps = (a: TextFinding, b: TextFinding): boolean => a.start < b.end && b.start < a.end;

export interface ViewOptions {
  /**
   * Read short strings with all their whitespace removed (arguments: a value broken by a space goes
   * out whole to a receiver that removes it). Without it, only strings with a line break are joined
   * (results, where doing it for every short string would double the cost of structured content).
   */
  compact?: boolean;
  /**
   * Read short strings in full for a value cut once or by its own punctuation (rejoin.ts); default:
   * `compact`. Results set it for their text items but not for the many strings of structuredContent,
   * which are read around what the passes saw, like long texts.
   */
  whole?: boolean;
}

/**
 * Every finding in `text` and in its views, in source positions. Same contract as `detect`; findings
 * seen only in a view carry a `location`.
 */
export function detectDeep(text: string, on: Detectors, patterns: CompiledPatterns | undefined, piiKinds: ReadonlySet<PiiKind> = new Set(PII_KINDS), options: ViewOptions = {}): DeepReport {
  return withViews(text, detect(text, on, patterns, piiKinds), on, patterns, piiKinds, options);
}

/** `base` (the text's own report) with the findings of the text's views added: all `detectDeep` adds. */
export function withViews(text: string, base: TextReport, on: Detectors, patterns: CompiledPatterns | undefined, piiKinds: ReadonlySet<PiiKind> = new Set(PII_KINDS), options: ViewOptions = {}): DeepReport {
  if (base.uninspectable) return base;
  const compact = options.compact === true;
  const whole = options.whole ?? compact;
  const runs = base.seen?.runs ?? longRuns(text);
  if (!mayHide(text, on, compact, runs, base.seen)) return base;
  const dechunked = dechunkedOf(text);
  const findings: ViewFinding[] = [...base.findings];
  let uninspectable: string | undefined;
  let budget = VIEW_BUDGET * text.length + VIEW_FLOOR;
  const visit = (view: View, depth: number): void => {
    if (uninspectable) return;
    budget -= view.text.length;
    if (budget < 0) {
      uninspectable = 'too many encoded or disguised parts to inspect';
      return;
    }
    const detectors = view.only === undefined ? on : { secrets: view.only === 'secrets' && on.secrets, pii: view.only === 'pii' && on.pii, injection: false, patterns: false };
    const report = detect(view.text, detectors, patterns, piiKinds);
    if (report.uninspectable) uninspectable = report.uninspectable;
    for (const f of report.findings) {
      if (view.strict && !isDistinctive(f)) continue;
      const last = Math.max(f.start, f.end - 1);
      const mapped: ViewFinding = { ...f, start: view.starts[f.start] ?? view.starts[view.starts.length - 1] ?? 0, end: view.ends[last] ?? view.ends[view.ends.length - 1] ?? 0, location: view.location };
      if (mapped.end <= mapped.start) continue;
      const same = findings.findIndex((g) => g.rule === mapped.rule && overlaps(g, mapped));
      if (same >= 0) {
        // The view saw more of the value (the rest of a value cut once): the finding covers both.
        const g = findings[same]!;
        if (mapped.start < g.start || mapped.end > g.end) findings[same] = { ...g, start: Math.min(g.start, mapped.start), end: Math.max(g.end, mapped.end) };
        continue;
      }
      findings.push(mapped);
      // As for one text (rule-scan.ts): past the cap the string is uninspectable, and the overlap test
      // above stays bounded (1 MB of `AKIA` glued in a row made 52,000 cut-out views and took 11 s).
      if (findings.length > MAX_MATCHES) {
        uninspectable = `more than ${MAX_MATCHES} findings in one text`;
        return;
      }
    }
    if (view.decodes >= MAX_DECODE_DEPTH && view.inner === 'all' && hasEncodedRun(view.text, report.seen?.runs)) {
      uninspectable = `encoded more than ${MAX_DECODE_DEPTH} levels deep`;
      return;
    }
    if (depth >= MAX_DECODE_DEPTH + 2) return;
    for (const child of viewsOf(view.text, on, compact, view.decodes, view.inner, report.seen, undefined, whole)) {
      // A text given up on reads no more views (they are made one at a time, as they are read).
      if (uninspectable) return;
      // Compose the child's map with this view's: child units → this view's units → source.
      const starts = child.starts.map((s) => view.starts[s] ?? 0);
      const ends = child.ends.map((e) => view.ends[Math.max(0, e - 1)] ?? 0);
      visit({ ...child, starts, ends, location: `${view.location}/${child.location}`, strict: child.strict || view.strict }, depth + 1);
    }
  };
  for (const view of viewsOf(text, on, compact, 0, 'all', base.seen, dechunked, whole)) {
    if (uninspectable) break;
    visit(view, 1);
  }
  findings.sort((a, b) => a.start - b.start);
  return uninspectable ? { findings, uninspectable } : { findings };
}
