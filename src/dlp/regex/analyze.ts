/**
 * What can be known of a pattern before running it: the shortest and longest text it matches, and a
 * set of literals at least one of which every match contains (the "anchors"), with how far a match can
 * reach before and after an anchor. A scanner looks for the anchors first (one pass over the text for
 * all rules) and runs a rule's automaton only around where its anchors are.
 *
 * Anchors are lower-case (the anchor search is case-insensitive; the automaton then decides).
 */
import type { Node, Ranges } from './parse.ts';
import { literalFrequency } from './rarity.ts';

/** At most this many alternative strings are tracked for one node. */
const MAX_ALTERNATIVES = 64;
/** Sets of at most this many units are expanded into alternative strings. */
const MAX_SET_EXPANSION = 4;

export interface Anchors {
  /** Lower-case literals; every match contains one of them. */
  literals: string[];
  /** Longest stretch of a match before the start of the anchor (Infinity: unbounded). */
  before: number;
  /** Longest stretch of a match from the start of the anchor to its end (Infinity: unbounded). */
  after: number;
}

/** The shortest and the longest text a node matches (Infinity: unbounded). */
export function lengths(node: Node): { min: number; max: number } {
  switch (node.t) {
    case 'empty':
    case 'assert':
      return { min: 0, max: 0 };
    case 'set':
      return { min: 1, max: 1 };
    case 'group':
      return lengths(node.item);
    case 'cat':
    case 'alt': {
      const parts = node.items.map(lengths);
      if (node.t === 'alt') return { min: Math.min(...parts.map((p) => p.min)), max: Math.max(...parts.map((p) => p.max)) };
      return { min: parts.reduce((s, p) => s + p.min, 0), max: parts.reduce((s, p) => s + p.max, 0) };
    }
    case 'rep': {
      const item = lengths(node.item);
      return { min: node.min * item.min, max: item.max === 0 ? 0 : node.max === Infinity ? Infinity : node.max * item.max };
    }
  }
}

export const minLength = (node: Node): number => lengths(node).min;
export const maxLength = (node: Node): number => lengths(node).max;

function lowerUnit(unit: number): number {
  return unit >= 0x41 && unit <= 0x5a ? unit + 32 : unit;
}

/** The lower-cased units of a small set, or undefined when it is too large to expand. */
function setUnits(ranges: Ranges): string[] | undefined {
  const units = new Set<number>();
  for (let k = 0; k < ranges.length; k += 2) {
    if (ranges[k + 1]! - ranges[k]! > 2 * MAX_SET_EXPANSION) return undefined;
    for (let u = ranges[k]!; u <= ranges[k + 1]!; u++) {
      units.add(lowerUnit(u));
      if (units.size > MAX_SET_EXPANSION) return undefined;
    }
  }
  return [...units].map((u) => String.fromCharCode(u));
}

interface Info {
  /** Every string the node can match (lower-cased), when few; undefined otherwise. */
  exact: string[] | undefined;
  /** Anchors of the node, when it has some. */
  anchors: Anchors | undefined;
}

/**
 * Expected occurrences of any of the anchors per million units of ordinary text: the anchor set chosen
 * is the rarest one, so that the rule's automaton runs on few stretches of ordinary results (a rule
 * anchored on `user` would run at every log line; the same rule anchored on `password` almost never).
 */
const MIN_USEFUL = 3;
const frequency = (a: Anchors): number => a.literals.reduce((sum, l) => sum + literalFrequency(l), 0);

function better(a: Anchors | undefined, b: Anchors | undefined): Anchors | undefined {
  if (!a) return b;
  if (!b) return a;
  // Literals shorter than three units are near useless to look for (and the secret rules refuse them).
  const shortA = a.literals.some((l) => l.length < MIN_USEFUL);
  const shortB = b.literals.some((l) => l.length < MIN_USEFUL);
  if (shortA !== shortB) return shortA ? b : a;
  const fa = frequency(a);
  const fb = frequency(b);
  if (fa !== fb) return fb < fa ? b : a;
  // Equally rare: the narrower window around them.
  return b.before + b.after < a.before + a.after ? b : a;
}

function cross(a: string[], b: string[]): string[] | undefined {
  if (a.length * b.length > MAX_ALTERNATIVES) return undefined;
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return [...out];
}

function fromExact(exact: string[] | undefined, before: number, after: number): Anchors | undefined {
  if (!exact || exact.length === 0 || exact.some((s) => s.length === 0)) return undefined;
  return { literals: exact, before, after };
}

function info(node: Node): Info {
  switch (node.t) {
    case 'empty':
    case 'assert':
      return { exact: [''], anchors: undefined };
    case 'set': {
      const exact = setUnits(node.ranges);
      return { exact, anchors: fromExact(exact, 0, 1) };
    }
    case 'group':
      return info(node.item);
    case 'alt': {
      const parts = node.items.map(info);
      let exact: string[] | undefined = [];
      for (const p of parts) {
        if (!p.exact || !exact) {
          exact = undefined;
          break;
        }
        exact = [...new Set([...exact, ...p.exact])];
        if (exact.length > MAX_ALTERNATIVES) exact = undefined;
      }
      let anchors: Anchors | undefined;
      if (parts.every((p) => p.anchors)) {
        const literals = [...new Set(parts.flatMap((p) => p.anchors!.literals))];
        if (literals.length <= MAX_ALTERNATIVES) {
          anchors = { literals, before: Math.max(...parts.map((p) => p.anchors!.before)), after: Math.max(...parts.map((p) => p.anchors!.after)) };
        }
      }
      return { exact, anchors: better(anchors, fromExact(exact, 0, maxLength(node))) };
    }
    case 'rep': {
      const inner = info(node.item);
      const itemMax = maxLength(node.item);
      let exact: string[] | undefined;
      if (inner.exact && node.max !== Infinity && node.max <= 8) {
        exact = [];
        let power: string[] | undefined = [''];
        for (let k = 0; k <= node.max && power; k++) {
          if (k >= node.min) exact = [...new Set([...exact, ...power])];
          power = k < node.max ? cross(power, inner.exact) : undefined;
        }
        if (exact.length > MAX_ALTERNATIVES) exact = undefined;
      }
      let anchors: Anchors | undefined;
      if (node.min >= 1 && inner.anchors) {
        const extra = node.max === Infinity ? Infinity : (node.max - 1) * itemMax;
        anchors = { literals: inner.anchors.literals, before: inner.anchors.before + extra, after: inner.anchors.after + extra };
      }
      return { exact, anchors: better(anchors, fromExact(exact, 0, maxLength(node))) };
    }
    case 'cat': {
      const parts = node.items.map(info);
      const maxes = node.items.map(maxLength);
      const prefix = (i: number): number => maxes.slice(0, i).reduce((s, m) => s + m, 0);
      const suffix = (i: number): number => maxes.slice(i).reduce((s, m) => s + m, 0);
      let best: Anchors | undefined;
      // Each child's own anchors, shifted by what comes before and after it.
      parts.forEach((p, i) => {
        if (!p.anchors) return;
        best = better(best, { literals: p.anchors.literals, before: prefix(i) + p.anchors.before, after: suffix(i + 1) + p.anchors.after });
      });
      // Runs of consecutive children with known strings, joined.
      let exactAll: string[] | undefined = [''];
      for (let i = 0; i < parts.length; i++) {
        let run: string[] | undefined = [''];
        for (let j = i; j < parts.length && run; j++) {
          const e = parts[j]!.exact;
          run = e ? cross(run, e) : undefined;
          if (!run) break;
          const anchors = fromExact(run, prefix(i), suffix(i));
          if (anchors) best = better(best, anchors);
        }
      }
      for (const p of parts) {
        exactAll = exactAll && p.exact ? cross(exactAll, p.exact) : undefined;
        if (!exactAll) break;
      }
      return { exact: exactAll, anchors: best };
    }
  }
}

/** The anchors of a pattern, or undefined when some match need not contain any literal. */
export function anchorsOf(node: Node): Anchors | undefined {
  return info(node).anchors;
}

/** The units a match can start with: a flag per ASCII unit, and whether a unit past ASCII can. */
export interface FirstUnits {
  readonly ascii: Uint8Array;
  readonly other: boolean;
}

/**
 * What every match of `node` starts with (`FirstUnits`); undefined when the node matches empty text
 * (then a match needs no unit at all). Assertions are zero-width: the units after them count.
 */
export function firstUnits(node: Node): FirstUnits | undefined {
  const ascii = new Uint8Array(128);
  let other = false;
  /** Adds the units `n` can start with; whether `n` can match empty text. */
  const visit = (n: Node): boolean => {
    switch (n.t) {
      case 'empty':
      case 'assert':
        return true;
      case 'set':
        for (let k = 0; k < n.ranges.length; k += 2) {
          for (let u = n.ranges[k]!; u <= Math.min(n.ranges[k + 1]!, 127); u++) ascii[u] = 1;
          if (n.ranges[k + 1]! >= 128) other = true;
        }
        return false;
      case 'group':
        return visit(n.item);
      case 'cat':
        for (const item of n.items) if (!visit(item)) return false;
        return true;
      case 'alt': {
        let empty = false;
        for (const item of n.items) empty = visit(item) || empty;
        return empty;
      }
      case 'rep':
        if (n.max === 0) return true;
        return visit(n.item) || n.min === 0;
    }
  };
  return visit(node) ? undefined : { ascii, other };
}

/**
 * Whether every match of `node` starts at the start of the text (each alternative begins with `^`
 * outside multi-line mode): such a pattern is searched from position 0 only, anchored there.
 */
export function startsAtTextStart(node: Node): boolean {
  switch (node.t) {
    case 'assert':
      return node.kind === 'bot';
    case 'group':
      return startsAtTextStart(node.item);
    case 'cat':
      return node.items.length > 0 && startsAtTextStart(node.items[0]!);
    case 'alt':
      return node.items.length > 0 && node.items.every(startsAtTextStart);
    default:
      return false;
  }
}
