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
 * The anchor search: every anchor is found by its first three characters (two for two-character
 * anchors), case-folded, looked up in a 64 KB table while the text is read once; the few positions the
 * table lets through are checked against the anchors that start that way. One pass, a small table that
 * stays in cache, no state that jumps around memory.
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
  literals.forEach((literal, id) => {
    const u = [...literal.slice(0, 3)].map((c) => fold(c.charCodeAt(0)));
    if (literal.length === 2) {
      const key = (u[0]! << 7) | u[1]!;
      bigramTable[key] = 1;
      byBigram.set(key, [...(byBigram.get(key) ?? []), id]);
      return;
    }
    const key = trigramKey(u[0]!, u[1]!, u[2]!);
    trigramTable[trigramSlot(key)] = 1;
    byTrigram.set(key, [...(byTrigram.get(key) ?? []), id]);
  });
  return { trigramTable, byTrigram, bigramTable, byBigram, literals, literalRules };
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
    const { trigramTable, byTrigram, bigramTable, byBigram, literals, literalRules } = this.#index;
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
        if (list.length === 0 || list[list.length - 1]! < at) list.push(at);
        else if (!list.includes(at)) {
          list.push(at);
          list.sort((x, y) => x - y);
        }
      }
    };
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
        if (ids) for (const id of ids) hit(id, i - 2);
      }
      a = b;
      b = c;
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
