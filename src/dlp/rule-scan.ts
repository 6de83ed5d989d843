/**
 * Runs many pattern rules over one text at the cost of about one pass: an Aho–Corasick automaton finds
 * every rule's anchors (literals each of its matches contains, case-insensitively) in a single pass;
 * a rule's own automaton then runs only over the stretches of text around its anchors (merged when
 * they overlap, so no rule reads a unit twice). Rules without anchors (some administrator patterns)
 * read the whole text.
 *
 * Everything is linear: the anchor pass is one table lookup per unit, each rule reads at most the
 * whole text once, and the total reading for one text is capped (`MAX_READ_FACTOR` times its length):
 * a text that needs more — only one built to make every rule look everywhere — is reported as
 * `uninspectable`, and the caller fails closed.
 */
import type { FirstUnits } from './regex/analyze.ts';
import type { LinearRegex } from './regex/automaton.ts';
import { trigramFrequency, trigramOf, UNIT_CLASS } from './regex/rarity.ts';

export interface TextRule {
  readonly id: string;
  /** The regex, compiled on first use. */
  regex(): LinearRegex;
  /**
   * Literals every match contains (empty: the rule reads every text). A lower-case letter matches
   * either case, an upper-case one only itself (the rules' literals are lower case: case-insensitive).
   */
  readonly anchors: readonly string[];
  readonly before: number | null;
  readonly after: number | null;
  /** Capture group of the sensitive part (0: the whole match). */
  readonly group: number;
  /** Post-checks on a match (entropy, allowlists); true keeps it. */
  accept?(secret: string, match: string): boolean;
  /**
   * A cheap look at the text, before a match known to start in `[from, to]` is run again for its
   * captures: false when `accept` would turn down every match starting there, whatever it captured
   * (optional; only ever an over-approximation of `accept`).
   */
  mayAccept?(text: string, from: number, to: number): boolean;
  /**
   * The same look ahead: the first position in `[from, to)` where a match that `accept` could keep may
   * start (`to` when none), so that a search over a window skips what can only be near misses
   * (optional; never past a position where such a match starts).
   */
  nextStart?(text: string, from: number, to: number): number;
  /**
   * A marker runs no regex: the scan only reports whether one of its anchors occurs
   * (`ScanOutcome.marked`), which costs nothing beyond the anchor pass that runs anyway (the views of
   * src/dlp/views.ts use it to skip searches the text cannot need).
   */
  readonly marker?: boolean;
}

export interface RuleMatch {
  rule: TextRule;
  /** The sensitive part. */
  start: number;
  end: number;
}

export interface ScanOutcome {
  matches: RuleMatch[];
  /** The text needed more reading than the cap, or had more matches than `MAX_MATCHES`. */
  uninspectable?: string;
  /** The enabled markers one of whose anchors occurs. */
  marked?: string[];
}

/** Matches kept per text; beyond, the text is uninspectable (a result with a thousand secrets is blocked). */
export const MAX_MATCHES = 1000;
/** Total units the rule automata may read, as a multiple of the text length (plus a floor). */
export const MAX_READ_FACTOR = 12;
const READ_FLOOR = 1 << 16;
/**
 * How far a match is looked for around its anchor when the pattern sets no bound (`.*`, `+`, `{n,}`):
 * for detection, such repetitions are taken to end within this many units (16 K: a PEM private key of
 * 8192 bits fits). A longer match is found cut to this length, or not at all when its end is needed.
 */
export const MAX_MATCH_UNITS = 1 << 14;
/** Rules whose matches start at most this far ahead of an anchor are searched anchor by anchor. */
const NEAR = 64;
/** Anchors of one rule recorded per text; past this, the rule is searched from its first anchor on. */
const SATURATED = 4096;
/** Texts at least this long stop on keys no live rule needs no more (see `scan`). */
const DROP_KEYS_FROM = 1 << 15;
/** Average distance between a rule's anchors under which they count as packed (see `scan`). */
const DENSE_GAP = 32;

/**
 * The anchor search: the text is read once, as Latin-1 bytes (a native copy), each byte mapped to one
 * of 64 classes (src/dlp/regex/rarity.ts); the last three classes form an 18-bit key tested in a 32 KB
 * bit set that stays in cache. Each anchor sets one bit: that of its rarest trigram, judged by how often
 * the trigram occurs in ordinary text, so that the few keys the set lets through are rarely false
 * alarms; a key that gets through is checked against the anchors keyed by it, in full. Two-character
 * anchors set the keys of every class before them. Every occurrence of an anchor contains its keyed
 * trigram at a known offset, so what is found does not depend on the choice of key.
 */
interface AnchorIndex {
  /** Bit `key` set where some anchor is keyed by that class trigram. */
  bits: Int32Array;
  /** Key → [anchor id, units from the anchor's start to the key's last unit, …]. */
  byKey: Map<number, number[]>;
  /** Anchor id → the lower-case literal and the rules anchored on it. */
  literals: string[];
  literalRules: number[][];
}

function buildIndex(rules: readonly TextRule[]): AnchorIndex {
  const ids = new Map<string, number>();
  const literals: string[] = [];
  const literalRules: number[][] = [];
  rules.forEach((rule, r) => {
    for (const literal of rule.anchors) {
      if (literal.length < 2) throw new Error(`anchor "${literal}" of ${rule.id} is shorter than two characters`);
      let id = ids.get(literal);
      if (id === undefined) {
        id = literals.length;
        ids.set(literal, id);
        literals.push(literal);
        literalRules.push([]);
      }
      if (!literalRules[id]!.includes(r)) literalRules[id]!.push(r);
    }
  });
  const bits = new Int32Array(1 << 13);
  const byKey = new Map<number, number[]>();
  const classAt = (literal: string, at: number): number => UNIT_CLASS[literal.charCodeAt(at) & 0xff]!;
  const keyAt = (literal: string, at: number): number => trigramOf(classAt(literal, at), classAt(literal, at + 1), classAt(literal, at + 2));
  const enter = (key: number, id: number, back: number): void => {
    bits[key >>> 5]! |= 1 << (key & 31);
    const list = byKey.get(key);
    if (list) list.push(id, back);
    else byKey.set(key, [id, back]);
  };
  // How many anchors contain each trigram: a trigram many anchors share is checked against all of them.
  const sharing = new Map<number, number>();
  for (const literal of literals) {
    if (literal.length < 3) continue;
    for (const key of new Set(Array.from({ length: literal.length - 2 }, (_, at) => keyAt(literal, at)))) sharing.set(key, (sharing.get(key) ?? 0) + 1);
  }
  literals.forEach((literal, id) => {
    if (literal.length === 2) {
      for (let before = 0; before < 64; before++) enter(trigramOf(before, classAt(literal, 0), classAt(literal, 1)), id, 1);
      return;
    }
    let best = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let at = 0; at + 3 <= literal.length; at++) {
      const cost = trigramFrequency(literal, at) * (sharing.get(keyAt(literal, at)) ?? 1);
      if (cost < bestCost) {
        bestCost = cost;
        best = at;
      }
    }
    enter(keyAt(literal, best), id, best + 2);
  });
  return { bits, byKey, literals, literalRules };
}

/** The class trigram ending at `i` (classes before the text's start count as 0). */
function keyAt(bytes: Uint8Array, i: number): number {
  const a = i >= 2 ? UNIT_CLASS[bytes[i - 2]!]! : 0;
  const b = i >= 1 ? UNIT_CLASS[bytes[i - 1]!]! : 0;
  return trigramOf(a, b, UNIT_CLASS[bytes[i]!]!);
}

/**
 * The first position at or after `from` where the class trigram ending there has its bit set, or -1:
 * the whole anchor pass is this loop (kept in a function of its own, which the compiler optimises best).
 */
function nextKeyed(bytes: Uint8Array, bits: Int32Array, from: number, n: number): number {
  let key = from >= 2 ? keyAt(bytes, from - 1) : from === 1 ? UNIT_CLASS[bytes[0]!]! : 0;
  for (let i = from; i < n; i++) {
    key = ((key << 6) | UNIT_CLASS[bytes[i]!]!) & 0x3ffff;
    if ((bits[key >>> 5]! & (1 << (key & 31))) !== 0) return i;
  }
  return -1;
}

/** Whether a unit of `text[from, to]` (`to` included) is one `first` says a match can start with. */
function startsIn(text: string, from: number, to: number, first: FirstUnits): boolean {
  for (let i = from; i <= to; i++) {
    const u = text.charCodeAt(i);
    if (u < 128 ? first.ascii[u] === 1 : first.other) return true;
  }
  return false;
}

/** Whether the units of `text` from `at` on are ones a match starting there can have (`LinearRegex.prefixUnits`). */
function prefixFits(text: string, at: number, prefix: Uint8Array): boolean {
  const rows = prefix[0]!;
  if (at + rows > text.length) return false;
  for (let k = 0; k < rows; k++) {
    const u = text.charCodeAt(at + k);
    if (prefix[1 + 129 * k + (u < 128 ? u : 128)] !== 1) return false;
  }
  return true;
}

/** ASCII letters to lower case. */
const FOLD = Uint8Array.from({ length: 128 }, (_, u) => (u >= 0x41 && u <= 0x5a ? u + 32 : u));

/** Whether `literal` (lower case) is at `at` in `text`, ASCII case-insensitively. */
function literalAt(text: string, at: number, literal: string): boolean {
  if (at < 0 || at + literal.length > text.length) return false;
  for (let k = 0; k < literal.length; k++) {
    const u = text.charCodeAt(at + k);
    const l = literal.charCodeAt(k);
    if (u !== l && (u >= 128 || FOLD[u] !== l)) return false;
  }
  return true;
}

/** A set of rules, ready to scan texts. Build once (the automaton is the expensive part). */
export class RuleScanner {
  readonly rules: readonly TextRule[];
  readonly #index: AnchorIndex;
  readonly #unanchored: number[];
  /** Anchors recorded per rule and text before it counts as saturated (a marker needs one). */
  readonly #recorded: Int32Array;

  constructor(rules: readonly TextRule[]) {
    this.rules = rules;
    this.#index = buildIndex(rules);
    this.#unanchored = rules.flatMap((rule, r) => (rule.anchors.length === 0 && !rule.marker ? [r] : []));
    this.#recorded = Int32Array.from(rules, (rule) => (rule.marker ? 1 : SATURATED));
  }

  /** Whether some anchor literal occurs in `text`, from the keyed position `first` on (enabled rules or not). */
  #anyLiteral(text: string, bytes: Uint8Array, bits: Int32Array, first: number): boolean {
    const { byKey, literals } = this.#index;
    const n = text.length;
    for (let i = first; i >= 0; i = nextKeyed(bytes, bits, i + 1, n)) {
      const entry = byKey.get(keyAt(bytes, i));
      if (entry === undefined) continue;
      for (let k = 0; k < entry.length; k += 2) if (literalAt(text, i - entry[k + 1]!, literals[entry[k]!]!)) return true;
    }
    return false;
  }

  /**
   * Finds the matches of the rules `enabled` lets through (by index), in text order. `bytes`: the text
   * as Latin-1 bytes, when the caller has them already (`Buffer.from(text, 'latin1')`).
   */
  scan(text: string, enabled: (rule: number) => boolean = () => true, bytes: Uint8Array = Buffer.from(text, 'latin1')): ScanOutcome {
    const n = text.length;
    const { byKey, literals, literalRules } = this.#index;
    let bits = this.#index.bits;
    let ownBits = false;
    const first = nextKeyed(bytes, bits, 0, n);
    // Most strings of a result (names, ids, short values) hold no anchor: nothing is made for them.
    if (first < 0 && this.#unanchored.length === 0) return { matches: [] };
    // Nor for a text whose keyed trigrams are all false alarms (no anchor literal is there): every
    // short word of a call ("echo", "tools/call") passes some key. Only a literal that is there puts a
    // position on a rule's list below, so without one every list stays empty and nothing is found.
    if (this.#unanchored.length === 0 && n < DROP_KEYS_FROM && !this.#anyLiteral(text, bytes, bits, first)) return { matches: [] };
    // Per rule: where its anchors start, ascending.
    const lists: Array<number[] | undefined> = new Array<number[] | undefined>(this.rules.length);
    const enabledRule = new Int8Array(this.rules.length); // 0 unknown, 1 on, -1 off
    // A rule with more anchors than SATURATED in one text is searched from its first anchor to the end
    // instead; its further anchors are not recorded, and a key none of whose rules still needs it stops
    // the pass no more (a text of one anchor repeated costs one stop per repetition only until then).
    const saturated = new Int8Array(this.rules.length);
    const unsorted = new Set<number[]>();
    for (let i = first; i >= 0; i = nextKeyed(bytes, bits, i + 1, n)) {
      const key = keyAt(bytes, i);
      const entry = byKey.get(key);
      if (entry === undefined) continue;
      let needed = false;
      for (let k = 0; k < entry.length; k += 2) {
        const id: number = entry[k]!;
        const anchored: readonly number[] = literalRules[id]!;
        let live = false;
        for (let j = 0; j < anchored.length && !live; j++) {
          const r = anchored[j]!;
          let on = enabledRule[r]!;
          if (on === 0) enabledRule[r] = on = enabled(r) ? 1 : -1;
          live = on > 0 && saturated[r] === 0;
        }
        if (!live) continue;
        needed = true;
        const at = i - entry[k + 1]!;
        if (!literalAt(text, at, literals[id]!)) continue;
        for (let j = 0; j < anchored.length; j++) {
          const r = anchored[j]!;
          let on = enabledRule[r]!;
          if (on === 0) enabledRule[r] = on = enabled(r) ? 1 : -1;
          if (on < 0 || saturated[r] === 1) continue;
          let list = lists[r];
          if (list === undefined) lists[r] = list = [];
          // Anchors are keyed by trigrams at different offsets, so starts can arrive out of order:
          // such lists are sorted once after the pass (never searched per hit, which could be quadratic).
          const last = list.length === 0 ? -1 : list[list.length - 1]!;
          if (at === last) continue;
          if (at < last) unsorted.add(list);
          list.push(at);
          if (list.length >= this.#recorded[r]!) saturated[r] = 1;
        }
      }
      // Dropping a key copies the 32 KB key set once per text: worth it for a long text (a text of one
      // anchor repeated), not for each of a flood of short ones (100,000 progress notifications made
      // 3 GB of copies, and the gateway's RSS grew by 200 MB).
      if (!needed && n >= DROP_KEYS_FROM) {
        if (!ownBits) {
          bits = bits.slice();
          ownBits = true;
        }
        bits[key >>> 5]! &= ~(1 << (key & 31));
      }
    }
    for (const list of unsorted) {
      list.sort((x, y) => x - y);
      let kept = 0;
      for (let k = 0; k < list.length; k++) if (k === 0 || list[k] !== list[kept - 1]) list[kept++] = list[k]!;
      list.length = kept;
    }
    const isEnabled = (r: number): boolean => {
      let on = enabledRule[r]!;
      if (on === 0) enabledRule[r] = on = enabled(r) ? 1 : -1;
      return on > 0;
    };
    for (const r of this.#unanchored) if (isEnabled(r)) lists[r] = [0];

    let marked: string[] | undefined;
    const search = new Search(text);
    for (let r = 0; r < lists.length; r++) {
      const positions = lists[r];
      if (positions === undefined) continue;
      const rule = this.rules[r]!;
      if (rule.marker) {
        (marked ??= []).push(rule.id);
        continue;
      }
      // Anchors packed closer than this on average make walks from each of them overlap: one search
      // over the merged windows then reads each unit once instead.
      const dense = saturated[r] === 1 || (positions.length >= 64 && positions[positions.length - 1]! - positions[0]! < DENSE_GAP * positions.length);
      const stop = rule.before !== null && rule.before <= NEAR && rule.anchors.length > 0 && !dense ? search.fromAnchors(rule, positions) : search.windows(rule, positions, saturated[r] === 1);
      if (stop !== undefined) return { matches: search.matches, uninspectable: stop };
    }
    const matches = search.matches;
    matches.sort((a, b) => a.start - b.start || b.end - a.end);
    return marked ? { matches, marked } : { matches };
  }
}

/**
 * The search phase of one `scan`: the matches found so far, the reading budget left, and the last
 * candidate a rule's post-checks turned down. Each way of searching is a method of its own, so that
 * the engine optimises (and, when a new kind of text takes a path for the first time, re-optimises)
 * small functions rather than the whole scan.
 */
class Search {
  readonly text: string;
  readonly matches: RuleMatch[] = [];
  #budget: number;
  // The last candidate a rule's post-checks turned down: a text repeating one near miss is checked once.
  #refusedRule: TextRule | undefined;
  #refusedSecret = '';
  #refusedMatch = '';

  constructor(text: string) {
    this.text = text;
    this.#budget = MAX_READ_FACTOR * text.length + READ_FLOOR;
  }

  static readonly overBudget = `inspecting it would read the text more than ${MAX_READ_FACTOR} times`;
  static readonly tooMany = `more than ${MAX_MATCHES} findings in one text`;

  /** Records a match (when the rule's post-checks keep it); the reason to stop, when there are too many. */
  #found(rule: TextRule, caps: Int32Array): string | undefined {
    const gs = caps[2 * rule.group]!;
    const ge = caps[2 * rule.group + 1]!;
    if (gs < 0 || ge <= gs) return undefined;
    if (rule.accept) {
      const secret = this.text.slice(gs, ge);
      const match = this.text.slice(caps[0]!, caps[1]!);
      if (rule === this.#refusedRule && secret === this.#refusedSecret && match === this.#refusedMatch) return undefined;
      if (!rule.accept(secret, match)) {
        this.#refusedRule = rule;
        this.#refusedSecret = secret;
        this.#refusedMatch = match;
        return undefined;
      }
    }
    this.matches.push({ rule, start: gs, end: ge });
    return this.matches.length > MAX_MATCHES ? Search.tooMany : undefined;
  }

  /**
   * Matches start at most `rule.before` units ahead of an anchor: from each anchor (never from inside
   * a match already found), search only for matches starting there, and stop when the automaton gives
   * up (usually a few units past the anchor). Returns the reason to stop, if any.
   */
  fromAnchors(rule: TextRule, positions: readonly number[]): string | undefined {
    const text = this.text;
    const n = text.length;
    const before = rule.before!;
    const re = rule.regex();
    // A rule whose anchor comes after the start of its matches (np.facebook.1: `facebook` or `fb`,
    // then `api`, `app`, `key`…): no match starts before its anchor where no unit a match starts
    // with is (the `api` of every path in a log), which a look at those few units tells without a walk.
    const first = before > 0 ? re.firstUnits : undefined;
    // A rule whose matches start at its anchor (`pat` of airtable's tokens, the keywords of the generic
    // assignment rule): the units after the anchor must be ones a match can have there (`path=`, the
    // `api/` of a URL are not), which a look at a few of them tells without a walk.
    const prefix = before === 0 ? re.prefixUnits : undefined;
    let next = 0;
    for (const at of positions) {
      if (at < next) continue;
      if (this.#budget < 0) return Search.overBudget;
      const from = Math.max(next, at - before);
      if (first !== undefined && !startsIn(text, from, at, first)) {
        this.#budget -= at + 1 - from;
        continue;
      }
      if (prefix !== undefined && !prefixFits(text, at, prefix)) {
        this.#budget -= prefix[0]! + 1;
        continue;
      }
      const limit = Math.min(n, at + (rule.after ?? MAX_MATCH_UNITS));
      const end = before === 0 ? re.firstEnd(text, at, limit, true) : re.firstEnd(text, from, limit, false, at + 1);
      this.#budget -= re.read + 1;
      if (end < 0 || (before === 0 && rule.mayAccept?.(text, at, at) === false)) continue;
      const longest = Math.min(re.maxLength, MAX_MATCH_UNITS);
      const caps = re.fixedCaptures(end) ?? (before === 0 ? re.exec(text, at, limit, true) : re.exec(text, Math.max(from, end - longest), Math.min(n, end + longest)));
      this.#budget -= end - from;
      if (!caps) continue;
      const stop = this.#found(rule, caps);
      if (stop !== undefined) return stop;
      next = Math.max(caps[1]!, at + 1);
    }
    return undefined;
  }

  /**
   * The stretches around the anchors, merged, each read once (a saturated rule: from its first anchor
   * to the end; a rule without anchors: the whole text). Returns the reason to stop, if any.
   */
  windows(rule: TextRule, positions: readonly number[], saturated: boolean): string | undefined {
    const text = this.text;
    const n = text.length;
    const re = rule.regex();
    const spans: number[] = [];
    // A saturated rule: from the first anchor, the window below reaches the end.
    for (const at of saturated ? positions.slice(0, 1) : positions) {
      const from = rule.anchors.length === 0 ? 0 : Math.max(0, at - (rule.before ?? MAX_MATCH_UNITS));
      const to = rule.anchors.length === 0 || saturated ? n : Math.min(n, at + (rule.after ?? MAX_MATCH_UNITS));
      const last = spans.length - 1;
      if (last > 0 && from <= spans[last]!) spans[last] = Math.max(spans[last]!, to);
      else spans.push(from, to);
    }
    for (let k = 0; k < spans.length; k += 2) {
      const spanEnd = spans[k + 1]!;
      let pos = spans[k]!;
      while (pos < spanEnd) {
        if (this.#budget < 0) return Search.overBudget;
        if (rule.nextStart) {
          pos = rule.nextStart(text, pos, spanEnd);
          if (pos >= spanEnd) break;
        }
        const end = re.firstEnd(text, pos, spanEnd);
        this.#budget -= re.read + 1;
        if (end < 0) break;
        // Every match starting in [pos, end] turned down before its captures are run: the search
        // goes on after `end` (a match starting inside such a near miss is still looked for).
        if (rule.mayAccept?.(text, pos, end) === false) {
          pos = end + 1;
          continue;
        }
        // The leftmost match starts at most its longest length before the earliest end, and ends at
        // most that far after it.
        const longest = Math.min(re.maxLength, MAX_MATCH_UNITS);
        const from = Math.max(pos, end - longest);
        this.#budget -= end - from;
        const caps = re.fixedCaptures(end) ?? re.exec(text, from, Math.min(spanEnd, end + longest));
        if (!caps) {
          pos = end + 1;
          continue;
        }
        const stop = this.#found(rule, caps);
        if (stop !== undefined) return stop;
        pos = Math.max(caps[1]!, caps[0]! + 1);
      }
    }
    return undefined;
  }
}
