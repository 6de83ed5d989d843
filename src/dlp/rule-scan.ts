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

interface Automaton {
  classes: Uint8Array;
  upper: Map<number, number>;
  width: number;
  delta: Int32Array;
  /** For each state, the literal ids recognised there: outputs[outStart[s] .. outStart[s + 1]). */
  outStart: Int32Array;
  outputs: Int32Array;
  /** Literal id → its length and the rules anchored on it. */
  literalLength: Int32Array;
  literalRules: number[][];
}

function buildAutomaton(rules: readonly TextRule[]): Automaton {
  const literals = new Map<string, number>();
  const literalRules: number[][] = [];
  rules.forEach((rule, r) => {
    for (const literal of rule.anchors) {
      let id = literals.get(literal);
      if (id === undefined) {
        id = literals.size;
        literals.set(literal, id);
        literalRules.push([]);
      }
      if (!literalRules[id]!.includes(r)) literalRules[id]!.push(r);
    }
  });
  // Units that occur in literals get classes (ASCII letters case-folded); every other unit is class 0.
  const classes = new Uint8Array(128);
  const upper = new Map<number, number>();
  let width = 1;
  const classOf = (u: number): number => (u < 128 ? classes[u]! : (upper.get(u) ?? 0));
  for (const literal of literals.keys()) {
    for (let k = 0; k < literal.length; k++) {
      const u = literal.charCodeAt(k);
      if (classOf(u) !== 0) continue;
      if (width >= 255) throw new Error('too many distinct characters in anchors');
      const c = width++;
      if (u < 128) {
        classes[u] = c;
        if (u >= 0x61 && u <= 0x7a) classes[u - 32] = c;
      } else upper.set(u, c);
    }
  }
  // Trie.
  const goto: number[][] = [new Array<number>(width).fill(-1)];
  const ends: number[][] = [[]];
  for (const [literal, id] of literals) {
    let s = 0;
    for (let k = 0; k < literal.length; k++) {
      const c = classOf(literal.charCodeAt(k));
      if (goto[s]![c] === -1) {
        goto[s]![c] = goto.length;
        goto.push(new Array<number>(width).fill(-1));
        ends.push([]);
      }
      s = goto[s]![c]!;
    }
    ends[s]!.push(id);
  }
  // Failure links, breadth first; the goto table becomes a full transition table.
  const fail = new Int32Array(goto.length);
  const queue: number[] = [];
  for (let c = 0; c < width; c++) {
    const t = goto[0]![c]!;
    if (t === -1) goto[0]![c] = 0;
    else {
      fail[t] = 0;
      queue.push(t);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head]!;
    ends[s]!.push(...ends[fail[s]!]!);
    for (let c = 0; c < width; c++) {
      const t = goto[s]![c]!;
      if (t === -1) goto[s]![c] = goto[fail[s]!]![c]!;
      else {
        fail[t] = goto[fail[s]!]![c]!;
        queue.push(t);
      }
    }
  }
  const delta = new Int32Array(goto.length * width);
  goto.forEach((row, s) => delta.set(row, s * width));
  const outStart = new Int32Array(goto.length + 1);
  const outputs: number[] = [];
  ends.forEach((list, s) => {
    outStart[s] = outputs.length;
    outputs.push(...new Set(list));
  });
  outStart[goto.length] = outputs.length;
  const literalLength = new Int32Array(literals.size);
  for (const [literal, id] of literals) literalLength[id] = literal.length;
  return { classes, upper, width, delta, outStart, outputs: Int32Array.from(outputs), literalLength, literalRules };
}

/** A set of rules, ready to scan texts. Build once (the automaton is the expensive part). */
export class RuleScanner {
  readonly rules: readonly TextRule[];
  readonly #automaton: Automaton;
  readonly #unanchored: number[];

  constructor(rules: readonly TextRule[]) {
    this.rules = rules;
    this.#automaton = buildAutomaton(rules);
    this.#unanchored = rules.flatMap((rule, r) => (rule.anchors.length === 0 ? [r] : []));
  }

  /** Finds the matches of the rules `enabled` lets through (by index), in text order. */
  scan(text: string, enabled: (rule: number) => boolean = () => true): ScanOutcome {
    const n = text.length;
    const { classes, upper, width, delta, outStart, outputs, literalLength, literalRules } = this.#automaton;
    // Per rule: where its anchors start, ascending.
    const hits = new Map<number, number[]>();
    const allowed = new Map<number, boolean>();
    const isEnabled = (r: number): boolean => {
      let on = allowed.get(r);
      if (on === undefined) {
        on = enabled(r);
        allowed.set(r, on);
      }
      return on;
    };
    let s = 0;
    for (let i = 0; i < n; i++) {
      const u = text.charCodeAt(i);
      const c = u < 128 ? classes[u]! : (upper.get(u) ?? 0);
      s = delta[s * width + c]!;
      const o0 = outStart[s]!;
      const o1 = outStart[s + 1]!;
      if (o0 === o1) continue;
      for (let o = o0; o < o1; o++) {
        const literal = outputs[o]!;
        const at = i + 1 - literalLength[literal]!;
        for (const r of literalRules[literal]!) {
          if (!isEnabled(r)) continue;
          let list = hits.get(r);
          if (!list) hits.set(r, (list = []));
          // Outputs of one position come longest literal first; keep positions ascending.
          if (list.length === 0 || list[list.length - 1]! < at) list.push(at);
          else if (!list.includes(at)) {
            list.push(at);
            list.sort((x, y) => x - y);
          }
        }
      }
    }
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
