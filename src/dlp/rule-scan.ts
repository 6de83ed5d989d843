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
import type { LinearRegex } from './regex/automaton.ts';

export interface TextRule {
  readonly id: string;
  /** The regex, compiled on first use. */
  regex(): LinearRegex;
  /** Lower-case literals every match contains (empty: the rule reads every text). */
  readonly anchors: readonly string[];
  readonly before: number | null;
  readonly after: number | null;
  /** Capture group of the sensitive part (0: the whole match). */
  readonly group: number;
  /** Post-checks on a match (entropy, allowlists); true keeps it. */
  accept?(secret: string, match: string): boolean;
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
}

/** Matches kept per text; beyond, the text is uninspectable (a result with a thousand secrets is blocked). */
export const MAX_MATCHES = 1000;
/** Total units the rule automata may read, as a multiple of the text length (plus a floor). */
export const MAX_READ_FACTOR = 12;
const READ_FLOOR = 1 << 16;

/**
 * The anchor search: every anchor is found by one of its trigrams (two-character anchors by their
 * bigram), case-folded, looked up in a 64 KB table while the text is read once; the few positions the
 * table lets through are checked against the anchors keyed by that trigram. One pass, a small table
 * that stays in cache, no state that jumps around memory.
 *
 * The trigram of an anchor is its rarest one, not its first: "the password is '" keyed by "the" would
 * be checked at every "the" of a text (and twenty anchors start that way), keyed by "s '" almost never.
 * Rarity is judged without looking at any text: a trigram shared by fewer anchors, not among the most
 * frequent English trigrams, and with fewer letters and spaces is preferred. Every occurrence of an
 * anchor contains its trigram at a known offset, so what is found does not depend on the choice.
 */
interface AnchorIndex {
  /** 1 where some anchor starts with this (hashed) trigram. */
  trigramTable: Uint8Array;
  byTrigram: Map<number, number[]>;
  /** Two-character anchors, by their exact folded bigram. */
  bigramTable: Uint8Array;
  byBigram: Map<number, number[]>;
  /** Anchor id → the lower-case literal and the rules anchored on it. */
  literals: string[];
  literalRules: number[][];
  /** Anchor id → where its keyed trigram starts within it (0 for bigram anchors). */
  offsets: number[];
}

/** The most frequent trigrams of English text (and of identifiers made of words): keys to avoid. */
const COMMON_TRIGRAMS = new Set(
  ('the and ing ion tio ent ati for her ter hat tha ere ate his con res ver all ons nce men ith ted ers pro thi wit are ess not ive was ' +
    'ect rea com eve per int est sta cti ica ist ear ain one our iti rat ser use ess ord tor ame ica ine ide ice ent ase ass acc key tok ' +
    'sec cre ret pas wor val api app cli ien dat ata fil ile log id_ _id ey_ _ke').split(' '),
);

/** How often a (folded) trigram is likely to occur in a text: lower is rarer. */
function commonness(trigram: string): number {
  let score = COMMON_TRIGRAMS.has(trigram) ? 100 : 0;
  for (const ch of trigram) score += ch === ' ' ? 3 : ch >= 'a' && ch <= 'z' ? 2 : ch >= '0' && ch <= '9' ? 1 : 0;
  return score;
}

/** ASCII letters to lower case; every unit past ASCII to one "other" value (anchors are checked in full anyway). */
const FOLD = Uint8Array.from({ length: 128 }, (_, u) => (u >= 0x41 && u <= 0x5a ? u + 32 : u));
const OTHER = 0x7f;
const fold = (u: number): number => (u < 128 ? FOLD[u]! : OTHER);
const trigramKey = (a: number, b: number, c: number): number => (a << 14) | (b << 7) | c;
const trigramSlot = (key: number): number => ((key * 2654435761) >>> 16) & 0xffff;

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
  const trigramTable = new Uint8Array(1 << 16);
  const byTrigram = new Map<number, number[]>();
  const bigramTable = new Uint8Array(1 << 14);
  const byBigram = new Map<number, number[]>();
  const offsets = literals.map(() => 0);
  const folded = (literal: string, at: number, length: number): number[] => [...literal.slice(at, at + length)].map((c) => fold(c.charCodeAt(0)));
  const keyAt = (literal: string, at: number): number => {
    const u = folded(literal, at, 3);
    return trigramKey(u[0]!, u[1]!, u[2]!);
  };
  // How many anchors contain each trigram: a trigram many anchors share is checked against all of them.
  const sharing = new Map<number, number>();
  for (const literal of literals) {
    if (literal.length < 3) continue;
    for (const key of new Set(Array.from({ length: literal.length - 2 }, (_, at) => keyAt(literal, at)))) sharing.set(key, (sharing.get(key) ?? 0) + 1);
  }
  literals.forEach((literal, id) => {
    if (literal.length === 2) {
      const u = folded(literal, 0, 2);
      const key = (u[0]! << 7) | u[1]!;
      bigramTable[key] = 1;
      byBigram.set(key, [...(byBigram.get(key) ?? []), id]);
      return;
    }
    let best = 0;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let at = 0; at + 3 <= literal.length; at++) {
      const trigram = String.fromCharCode(...folded(literal, at, 3));
      const score = commonness(trigram) + 8 * (sharing.get(keyAt(literal, at)) ?? 1);
      if (score < bestScore) {
        bestScore = score;
        best = at;
      }
    }
    offsets[id] = best;
    const key = keyAt(literal, best);
    trigramTable[trigramSlot(key)] = 1;
    byTrigram.set(key, [...(byTrigram.get(key) ?? []), id]);
  });
  return { trigramTable, byTrigram, bigramTable, byBigram, literals, literalRules, offsets };
}

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

  constructor(rules: readonly TextRule[]) {
    this.rules = rules;
    this.#index = buildIndex(rules);
    this.#unanchored = rules.flatMap((rule, r) => (rule.anchors.length === 0 ? [r] : []));
  }

  /** Finds the matches of the rules `enabled` lets through (by index), in text order. */
  scan(text: string, enabled: (rule: number) => boolean = () => true): ScanOutcome {
    const n = text.length;
    const { trigramTable, byTrigram, bigramTable, byBigram, literals, literalRules, offsets } = this.#index;
    // Per rule: where its anchors start, ascending.
    const hits = new Map<number, number[]>();
    let enabledRule: Int8Array | undefined; // 0 unknown, 1 on, -1 off; made on the first anchor found
    const hit = (id: number, at: number): void => {
      const literal = literals[id]!;
      if (!literalAt(text, at, literal)) return;
      enabledRule ??= new Int8Array(this.rules.length);
      for (const r of literalRules[id]!) {
        let on = enabledRule[r]!;
        if (on === 0) enabledRule[r] = on = enabled(r) ? 1 : -1;
        if (on < 0) continue;
        let list = hits.get(r);
        if (!list) hits.set(r, (list = []));
        // Anchors are keyed by trigrams at different offsets, so starts can arrive out of order:
        // such lists are sorted once after the pass (never searched per hit, which could be quadratic).
        const last = list.length === 0 ? -1 : list[list.length - 1]!;
        if (at === last) continue;
        if (at < last) unsorted.add(list);
        list.push(at);
      }
    };
    const unsorted = new Set<number[]>();
    const bigrams = byBigram.size > 0;
    let a = OTHER;
    let b = OTHER;
    for (let i = 0; i < n; i++) {
      const u = text.charCodeAt(i);
      const c = u < 128 ? FOLD[u]! : OTHER;
      if (bigrams && bigramTable[(b << 7) | c] === 1) for (const id of byBigram.get((b << 7) | c) ?? []) hit(id, i - 1);
      const key = (a << 14) | (b << 7) | c;
      if (trigramTable[((key * 2654435761) >>> 16) & 0xffff] === 1) {
        const ids = byTrigram.get(key);
        if (ids) for (const id of ids) hit(id, i - 2 - offsets[id]!);
      }
      a = b;
      b = c;
    }
    for (const list of unsorted) {
      list.sort((x, y) => x - y);
      let kept = 0;
      for (let k = 0; k < list.length; k++) if (k === 0 || list[k] !== list[kept - 1]) list[kept++] = list[k]!;
      list.length = kept;
    }
    const isEnabled = (r: number): boolean => {
      enabledRule ??= new Int8Array(this.rules.length);
      let on = enabledRule[r]!;
      if (on === 0) enabledRule[r] = on = enabled(r) ? 1 : -1;
      return on > 0;
    };
    for (const r of this.#unanchored) if (isEnabled(r)) hits.set(r, [0]);

    const matches: RuleMatch[] = [];
    let budget = MAX_READ_FACTOR * n + READ_FLOOR;
    const overBudget = (): ScanOutcome => ({ matches, uninspectable: `inspecting it would read the text more than ${MAX_READ_FACTOR} times` });
    const found = (rule: TextRule, caps: Int32Array): boolean => {
      const gs = caps[2 * rule.group]!;
      const ge = caps[2 * rule.group + 1]!;
      if (gs >= 0 && ge > gs && (!rule.accept || rule.accept(text.slice(gs, ge), text.slice(caps[0]!, caps[1]!)))) {
        matches.push({ rule, start: gs, end: ge });
      }
      return matches.length > MAX_MATCHES;
    };
    const tooMany = (): ScanOutcome => ({ matches, uninspectable: `more than ${MAX_MATCHES} findings in one text` });
    for (const [r, positions] of hits) {
      const rule = this.rules[r]!;
      const re = rule.regex();
      if (rule.before === 0 && rule.anchors.length > 0) {
        // Matches start at an anchor: walk from each one until the automaton gives up (usually a
        // few units), never from inside a match already found.
        let next = 0;
        for (const at of positions) {
          if (at < next) continue;
          if (budget < 0) return overBudget();
          const limit = rule.after === null ? n : Math.min(n, at + rule.after);
          const end = re.firstEnd(text, at, limit, true);
          budget -= re.read + 1;
          if (end < 0) continue;
          const caps = re.exec(text, at, limit);
          budget -= end - at;
          if (!caps) continue;
          if (found(rule, caps)) return tooMany();
          next = Math.max(caps[1]!, at + 1);
        }
        continue;
      }
      // Otherwise: the stretches around the anchors, merged, each read once.
      const spans: number[] = [];
      for (const at of positions) {
        const from = rule.before === null || rule.anchors.length === 0 ? 0 : Math.max(0, at - rule.before);
        const to = rule.after === null || rule.anchors.length === 0 ? n : Math.min(n, at + rule.after);
        const last = spans.length - 1;
        if (last > 0 && from <= spans[last]!) spans[last] = Math.max(spans[last]!, to);
        else spans.push(from, to);
      }
      for (let k = 0; k < spans.length; k += 2) {
        const spanEnd = spans[k + 1]!;
        let pos = spans[k]!;
        while (pos < spanEnd) {
          if (budget < 0) return overBudget();
          const end = re.firstEnd(text, pos, spanEnd);
          budget -= re.read + 1;
          if (end < 0) break;
          const from = Number.isFinite(re.maxLength) ? Math.max(pos, end - re.maxLength) : pos;
          budget -= end - from;
          const caps = re.exec(text, from, spanEnd);
          if (!caps) {
            pos = end + 1;
            continue;
          }
          if (found(rule, caps)) return tooMany();
          pos = Math.max(caps[1]!, caps[0]! + 1);
        }
      }
    }
    matches.sort((a, b) => a.start - b.start || b.end - a.end);
    return { matches };
  }
}
