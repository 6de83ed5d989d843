/**
 * A regular expression compiled for linear-time matching: a Thompson NFA program, searched with a lazy
 * DFA (each text unit costs one table lookup once the states it meets are built), and a Pike VM that
 * recovers the capture groups of a match the DFA found. Neither backtracks: time is linear in the text
 * for any pattern (the DFA's state cache is bounded; past the bound it is cleared and rebuilt, which
 * costs time but never changes the result).
 *
 * Semantics are RE2's leftmost-first: the match found is the one starting leftmost, and among those the
 * one a backtracking engine would pick (greedy and lazy repetitions are honoured by the Pike VM).
 */
import { anchorsOf, firstUnits, lengths, maxLength, minLength, startsAtTextStart, type Anchors, type FirstUnits } from './analyze.ts';
import { MAX_UNIT, parseRegex, WORD, type Assertion, type Node, type Ranges } from './parse.ts';

const OP_SET = 0;
const OP_SPLIT = 1;
const OP_JMP = 2;
const OP_SAVE = 3;
const OP_ASSERT = 4;
const OP_MATCH = 5;
/** Offsets from a match's start whose possible units `prefixUnits` lists. */
const PREFIX_UNITS = 8;

const ASSERT_CODE: Readonly<Record<Assertion, number>> = { bot: 0, eot: 1, bol: 2, eol: 3, word: 4, notword: 5 };

/** Largest program (instructions) a pattern may compile to. */
export const MAX_PROGRAM = 40_000;
/** DFA states kept per pattern before the cache is cleared. */
const MAX_DFA_STATES = 8_000;

/** Marks (one bit per instruction × window position) the backtracker may use; larger windows use the Pike VM. */
const MAX_MARKS = 1 << 24;
let marksBuffer = new Int32Array(1 << 10);
/** The shared mark bits, all zero (the backtracker clears what it set). */
function scratchMarks(bits: number): Int32Array {
  const words = (bits >>> 5) + 1;
  if (marksBuffer.length < words) marksBuffer = new Int32Array(Math.max(words, 2 * marksBuffer.length));
  return marksBuffer;
}
const scratchTouched: number[] = [];
/**
 * Backtracker marks up to this many words (32 KB) are cleared with one fill after a search; a larger
 * window remembers the words it set instead (a search that sets few of many). Remembering every word
 * cost more than the search itself on a long counted class (`sk-[…]{20,250}`: a new word each step).
 */
const FILL_WORDS = 1 << 13;
/**
 * The backtracker's stack of [pc, position] pairs (a capture to restore is [-1 - slot, value]), kept
 * from call to call and grown as needed: a JS array emptied with `length = 0` gave its storage back on
 * every call and grew it again push by push.
 */
let scratchStack = new Int32Array(1 << 10);
function grownStack(): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(2 * scratchStack.length);
  grown.set(scratchStack);
  return (scratchStack = grown);
}

/** The transition row of the state `walk` stopped in. */
let walkRow = 0;

/**
 * Follows known DFA transitions from the state at `row` over `text[from, to)` while units are ASCII and nothing is
 * to be reported; returns where it stopped (`to` when it read everything) and leaves the state's row
 * in `walkRow`. Kept apart so that the compiler optimises this loop on its own.
 */
function walk(text: string, from: number, to: number, row: number, trans: Int32Array, ascii: Uint8Array): number {
  for (let i = from; i < to; i++) {
    const u = text.charCodeAt(i);
    if (u >= 128) {
      walkRow = row;
      return i;
    }
    const t = trans[row + ascii[u]!]!;
    if (t < 0 || (t & 3) !== 0) {
      walkRow = row;
      return i;
    }
    row = t >> 2;
  }
  walkRow = row;
  return to;
}

/** Previous-unit context of a DFA state: start of text, after a newline, after a word unit, after another unit. */
const PREV_START = 0;
const PREV_NEWLINE = 1;
const PREV_WORD = 2;
const PREV_OTHER = 3;

export class PatternTooLarge extends Error {
  override readonly name = 'PatternTooLarge';
}

interface Program {
  op: Int32Array;
  a: Int32Array;
  b: Int32Array;
  sets: Ranges[];
  slots: number;
}

function isWordUnit(u: number): boolean {
  return (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) || u === 0x5f || (u >= 0x61 && u <= 0x7a);
}

function inRanges(ranges: Ranges, u: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (u < ranges[2 * mid]!) hi = mid - 1;
    else if (u > ranges[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Removes leading optional repetitions (`[\w.-]{0,50}?…`): they change where a match starts, never whether there is one. */
export function trimLeadingOptional(node: Node): Node {
  if (node.t === 'group' && node.capture === 0) return { ...node, item: trimLeadingOptional(node.item) };
  if (node.t !== 'cat') return node;
  const items = [...node.items];
  while (items.length > 1 && items[0]!.t === 'rep' && items[0]!.min === 0 && !hasCapture(items[0]!)) items.shift();
  if (items.length > 0) items[0] = trimLeadingOptional(items[0]!);
  return items.length === 1 ? items[0]! : { t: 'cat', items };
}

function hasCapture(node: Node): boolean {
  switch (node.t) {
    case 'group':
      return node.capture > 0 || hasCapture(node.item);
    case 'cat':
    case 'alt':
      return node.items.some(hasCapture);
    case 'rep':
      return hasCapture(node.item);
    default:
      return false;
  }
}

/** Offsets of every capture slot from the match start, when the pattern fixes them (see `fixedCaptures`). */
function fixedSlots(node: Node, captures: number): Int32Array | undefined {
  const length = lengths(node);
  if (length.min !== length.max) return undefined;
  const slots = new Int32Array(2 * (captures + 1)).fill(-1);
  slots[0] = 0;
  slots[1] = length.max;
  let fixed = true;
  const walk = (n: Node, at: number): void => {
    if (n.t === 'group') {
      if (n.capture > 0) {
        slots[2 * n.capture] = at;
        slots[2 * n.capture + 1] = at + lengths(n.item).max;
      }
      walk(n.item, at);
    } else if (n.t === 'cat') {
      let offset = at;
      for (const item of n.items) {
        walk(item, offset);
        offset += lengths(item).max; // each part has one length when the whole has
      }
    } else if ((n.t === 'alt' || n.t === 'rep') && hasCapture(n)) fixed = false; // a group that may not take part
  };
  walk(node, 0);
  return fixed ? slots : undefined;
}

function compileProgram(node: Node, captures: number): Program {
  const op: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const sets: Ranges[] = [];
  const setIndex = new Map<string, number>();
  const emit = (o: number, x = 0, y = 0): number => {
    if (op.length >= MAX_PROGRAM) throw new PatternTooLarge(`the pattern compiles to more than ${MAX_PROGRAM} instructions`);
    op.push(o);
    a.push(x);
    b.push(y);
    return op.length - 1;
  };
  const gen = (n: Node): void => {
    switch (n.t) {
      case 'empty':
        return;
      case 'set': {
        const key = n.ranges.join(',');
        let index = setIndex.get(key);
        if (index === undefined) {
          index = sets.length;
          sets.push(n.ranges);
          setIndex.set(key, index);
        }
        emit(OP_SET, index);
        return;
      }
      case 'assert':
        emit(OP_ASSERT, ASSERT_CODE[n.kind]);
        return;
      case 'group':
        if (n.capture > 0) emit(OP_SAVE, 2 * n.capture);
        gen(n.item);
        if (n.capture > 0) emit(OP_SAVE, 2 * n.capture + 1);
        return;
      case 'cat':
        for (const item of n.items) gen(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let k = 0; k < n.items.length; k++) {
          if (k < n.items.length - 1) {
            const split = emit(OP_SPLIT);
            a[split] = op.length;
            gen(n.items[k]!);
            jumps.push(emit(OP_JMP));
            b[split] = op.length;
          } else gen(n.items[k]!);
        }
        for (const j of jumps) a[j] = op.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) gen(n.item);
        if (n.max === Infinity) {
          const split = emit(OP_SPLIT);
          const body = op.length;
          gen(n.item);
          emit(OP_JMP, split);
          const out = op.length;
          a[split] = n.greedy ? body : out;
          b[split] = n.greedy ? out : body;
          return;
        }
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          const split = emit(OP_SPLIT);
          splits.push(split);
          a[split] = op.length; // provisional: body
          gen(n.item);
        }
        const out = op.length;
        for (const split of splits) {
          const body = a[split]!;
          a[split] = n.greedy ? body : out;
          b[split] = n.greedy ? out : body;
        }
        return;
      }
    }
  };
  emit(OP_SAVE, 0);
  gen(node);
  emit(OP_SAVE, 1);
  emit(OP_MATCH);
  return { op: Int32Array.from(op), a: Int32Array.from(a), b: Int32Array.from(b), sets, slots: 2 * (captures + 1) };
}

/** The partition of code units into classes no set of the program tells apart. */
interface UnitClasses {
  ascii: Uint8Array;
  /** Class boundaries above ASCII: class of u is `upperClass[k]` for the last `upperStart[k] <= u`. */
  upperStart: number[];
  upperClass: number[];
  count: number;
  word: Uint8Array;
  newline: Uint8Array;
  /** member[set * count + class] */
  member: Uint8Array;
}

function unitClasses(program: Program): UnitClasses {
  const cuts = new Set<number>([0, 0x0a, 0x0b, 0x80, MAX_UNIT + 1]);
  for (let k = 0; k < WORD.length; k += 2) {
    cuts.add(WORD[k]!);
    cuts.add(WORD[k + 1]! + 1);
  }
  for (const ranges of program.sets) {
    for (let k = 0; k < ranges.length; k += 2) {
      cuts.add(ranges[k]!);
      cuts.add(ranges[k + 1]! + 1);
    }
  }
  const starts = [...cuts].filter((c) => c <= MAX_UNIT).sort((x, y) => x - y);
  // Intervals with the same membership in every set (and the same word/newline nature) share a class.
  const signature = (u: number): string => `${isWordUnit(u) ? 1 : 0}${u === 0x0a ? 1 : 0}${program.sets.map((s) => (inRanges(s, u) ? 1 : 0)).join('')}`;
  const classOf = new Map<string, number>();
  const reps: number[] = [];
  const intervalClass = starts.map((start) => {
    const sig = signature(start);
    let k = classOf.get(sig);
    if (k === undefined) {
      k = reps.length;
      classOf.set(sig, k);
      reps.push(start);
    }
    return k;
  });
  const ascii = new Uint8Array(128);
  const upperStart: number[] = [];
  const upperClass: number[] = [];
  starts.forEach((start, i) => {
    const end = (starts[i + 1] ?? MAX_UNIT + 1) - 1;
    if (start < 128) for (let u = start; u <= Math.min(end, 127); u++) ascii[u] = intervalClass[i]!;
    if (end >= 128) {
      upperStart.push(Math.max(start, 128));
      upperClass.push(intervalClass[i]!);
    }
  });
  const count = reps.length;
  if (count > 255) throw new PatternTooLarge('the pattern distinguishes too many character classes');
  const member = new Uint8Array(program.sets.length * count);
  program.sets.forEach((s, si) => reps.forEach((u, k) => (member[si * count + k] = inRanges(s, u) ? 1 : 0)));
  return {
    ascii,
    upperStart,
    upperClass,
    count,
    word: Uint8Array.from(reps, (u) => (isWordUnit(u) ? 1 : 0)),
    newline: Uint8Array.from(reps, (u) => (u === 0x0a ? 1 : 0)),
    member,
  };
}

function classFor(classes: UnitClasses, u: number): number {
  if (u < 128) return classes.ascii[u]!;
  const starts = classes.upperStart;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= u) lo = mid;
    else hi = mid - 1;
  }
  return classes.upperClass[lo]!;
}

function assertionHolds(code: number, prev: number, nextWord: boolean, nextNewline: boolean, atEnd: boolean): boolean {
  const prevWord = prev === PREV_WORD;
  switch (code) {
    case 0: return prev === PREV_START;
    case 1: return atEnd;
    case 2: return prev === PREV_START || prev === PREV_NEWLINE;
    case 3: return atEnd || nextNewline;
    case 4: return prevWord !== nextWord;
    default: return prevWord === nextWord;
  }
}

function prevContext(text: string, at: number): number {
  if (at === 0) return PREV_START;
  const u = text.charCodeAt(at - 1);
  return u === 0x0a ? PREV_NEWLINE : isWordUnit(u) ? PREV_WORD : PREV_OTHER;
}

/** One compiled pattern. */
export class LinearRegex {
  readonly source: string;
  readonly captures: number;
  readonly anchors: Anchors | undefined;
  readonly minLength: number;
  readonly maxLength: number;
  /** The units a match starts with (undefined: it can match empty text). */
  readonly firstUnits: FirstUnits | undefined;
  /** Every match starts at the start of the text (`^…`, `^a|^b`). */
  readonly startsAtTextStart: boolean;
  /** Capture slots as offsets from the match start, when every match has them at the same offsets. */
  readonly #fixedSlots: Int32Array | undefined;
  #fixedCaps: Int32Array | undefined;
  readonly #node: Node;
  #compiled: { program: Program; classes: UnitClasses; mark: Int32Array; stack: Int32Array } | undefined;
  // Lazy DFA: kernels (NFA pcs after a step) and prev-context per state; transitions per class.
  /** State ids by a hash of (anchored, prev, kernel); colliding states are told apart by comparing kernels. */
  #stateKey = new Map<number, number[]>();
  #stateKernel: Int32Array[] = [];
  #statePrev: number[] = [];
  #stateAnchored: boolean[] = [];
  /**
   * Transitions, one row of `classes.count` per state: (row of the next state << 2) | flags (see
   * `#step`), or -1 when not made yet. Rows, not state numbers, so that a step is one addition and one
   * load.
   */
  #trans = new Int32Array(0);
  #endMatch: Int8Array[] = [];
  /**
   * Per state: the same threads as an anchored state (no new ones start), or -1 when not made yet:
   * `firstEnd` switches to it where matches can no longer start, once per anchor of a rule searched
   * anchor by anchor, and interning the kernel there cost more than the rest of a short walk.
   */
  #anchoredTwin: number[] = [];
  /** Start states by previous-unit context and anchoring (-1: not made yet). */
  #starts = new Int32Array(8).fill(-1);
  // Scratch for closures.
  #generation = 0;
  /** How often the DFA cache was cleared (for the benchmark). */
  cacheResets = 0;

  constructor(source: string, options: { trimLeading?: boolean } = {}) {
    this.source = source;
    const parsed = parseRegex(source);
    const node = options.trimLeading ? trimLeadingOptional(parsed.node) : parsed.node;
    this.captures = parsed.captures;
    this.anchors = anchorsOf(node);
    this.minLength = minLength(node);
    this.maxLength = maxLength(node);
    this.#fixedSlots = fixedSlots(node, parsed.captures);
    this.firstUnits = firstUnits(node);
    this.startsAtTextStart = startsAtTextStart(node);
    this.#node = node;
  }

  /**
   * Builds the automaton now (it is otherwise built on first use, so that loading hundreds of rules
   * costs only their parsing); throws PatternTooLarge when it cannot be.
   */
  compile(): this {
    if (!this.#compiled) {
      const program = compileProgram(this.#node, this.captures);
      this.#compiled = { program, classes: unitClasses(program), mark: new Int32Array(program.op.length), stack: new Int32Array(program.op.length + 1) };
    }
    return this;
  }

  get #program(): Program {
    return this.compile().#compiled!.program;
  }

  get #classes(): UnitClasses {
    return this.compile().#compiled!.classes;
  }

  get #mark(): Int32Array {
    return this.compile().#compiled!.mark;
  }

  get #stack(): Int32Array {
    return this.compile().#compiled!.stack;
  }

  /** Epsilon closure of `pcs` (plus the start, when `unanchored`) in a context; returns [closure pcs, matched]. */
  #closure(pcs: Int32Array, unanchored: boolean, prev: number, cls: number, atEnd: boolean): { out: number[]; matched: boolean } {
    const { op, a, b } = this.#program;
    const gen = ++this.#generation;
    const nextWord = !atEnd && this.#classes.word[cls] === 1;
    const nextNewline = !atEnd && this.#classes.newline[cls] === 1;
    const out: number[] = [];
    let matched = false;
    const stack = this.#stack;
    const visit = (start: number): void => {
      let sp = 0;
      stack[sp++] = start;
      while (sp > 0) {
        const pc = stack[--sp]!;
        if (this.#mark[pc] === gen) continue;
        this.#mark[pc] = gen;
        switch (op[pc]) {
          case OP_SET:
            out.push(pc);
            break;
          case OP_MATCH:
            matched = true;
            break;
          case OP_JMP:
            stack[sp++] = a[pc]!;
            break;
          case OP_SPLIT:
            stack[sp++] = b[pc]!;
            stack[sp++] = a[pc]!;
            break;
          case OP_SAVE:
            stack[sp++] = pc + 1;
            break;
          case OP_ASSERT:
            if (assertionHolds(a[pc]!, prev, nextWord, nextNewline, atEnd)) stack[sp++] = pc + 1;
            break;
        }
      }
    };
    for (const pc of pcs) visit(pc);
    if (unanchored) visit(0);
    return { out, matched };
  }

  #intern(kernel: Int32Array, prev: number, anchored: boolean): number {
    // FNV-1a over the kernel: no string is built per state (states are made while text is read).
    let hash = (0x811c9dc5 ^ (prev * 2 + (anchored ? 1 : 0))) >>> 0;
    for (let k = 0; k < kernel.length; k++) hash = Math.imul(hash ^ kernel[k]!, 0x01000193) >>> 0;
    const bucket = this.#stateKey.get(hash);
    if (bucket) {
      for (const id of bucket) {
        if (this.#statePrev[id] !== prev || this.#stateAnchored[id] !== anchored) continue;
        const other = this.#stateKernel[id]!;
        if (other.length !== kernel.length) continue;
        let same = true;
        for (let k = 0; k < kernel.length && same; k++) same = other[k] === kernel[k];
        if (same) return id;
      }
    }
    const id = this.#stateKernel.length;
    if (bucket) bucket.push(id);
    else this.#stateKey.set(hash, [id]);
    this.#stateKernel.push(kernel);
    this.#statePrev.push(prev);
    this.#stateAnchored.push(anchored);
    const count = this.#classes.count;
    if (this.#trans.length < (id + 1) * count) {
      const grown = new Int32Array(Math.max(64, 2 * (id + 1)) * count).fill(-1);
      grown.set(this.#trans);
      this.#trans = grown;
    }
    this.#endMatch.push(Int8Array.of(-1));
    this.#anchoredTwin.push(-1);
    return id;
  }

  #resetCache(): void {
    this.#starts.fill(-1);
    this.#stateKey = new Map();
    this.#stateKernel = [];
    this.#statePrev = [];
    this.#stateAnchored = [];
    this.#trans.fill(-1);
    this.#endMatch = [];
    this.#anchoredTwin = [];
    this.cacheResets++;
  }

  /**
   * Computes the transition of `state` on `cls`: (row of the next state << 2) | (2 when an anchored search can no
   * longer match from there) | (1 when a match ended before this unit).
   */
  #step(state: number, cls: number): number {
    const anchored = this.#stateAnchored[state]!;
    const { out, matched } = this.#closure(this.#stateKernel[state]!, !anchored, this.#statePrev[state]!, cls, false);
    const { op, a } = this.#program;
    const member = this.#classes.member;
    const count = this.#classes.count;
    const next: number[] = [];
    for (const pc of out) if (op[pc] === OP_SET && member[a[pc]! * count + cls] === 1) next.push(pc + 1);
    next.sort((x, y) => x - y);
    const prev = this.#classes.word[cls] === 1 ? PREV_WORD : this.#classes.newline[cls] === 1 ? PREV_NEWLINE : PREV_OTHER;
    const kernel = Int32Array.from(next);
    const flags = (anchored && kernel.length === 0 ? 2 : 0) | (matched ? 1 : 0);
    if (this.#stateKernel.length >= MAX_DFA_STATES) {
      // The caller continues from the returned state only, so the cache can start afresh here.
      this.#resetCache();
      return ((this.#intern(kernel, prev, anchored) * count) << 2) | flags;
    }
    const to = this.#intern(kernel, prev, anchored);
    const value = ((to * count) << 2) | flags;
    this.#trans[state * this.#classes.count + cls] = value;
    return value;
  }

  #matchesAtEnd(state: number): boolean {
    const cached = this.#endMatch[state]![0]!;
    if (cached !== -1) return cached === 1;
    const { matched } = this.#closure(this.#stateKernel[state]!, !this.#stateAnchored[state]!, this.#statePrev[state]!, 0, true);
    this.#endMatch[state]![0] = matched ? 1 : 0;
    return matched;
  }

  /** Units the last `firstEnd` call read (for the caller's budget). */
  read = 0;

  /**
   * The end of the earliest-ending match that starts at or after `from` (exactly at `from` when
   * `anchored`, before `startsBefore` otherwise) and ends at or before `to` (a match may look at the
   * unit at `to` for an assertion); -1 when there is none. The search stops as soon as no match can
   * start in its range any more.
   */
  firstEnd(text: string, from: number, to: number, anchored = false, startsBefore = to): number {
    if (this.#stateKernel.length >= MAX_DFA_STATES) this.#resetCache();
    const prev = prevContext(text, from);
    const startKey = prev * 2 + (anchored ? 1 : 0);
    let state = this.#starts[startKey]!;
    if (state < 0) state = this.#starts[startKey] = this.#intern(anchored ? Int32Array.of(0) : new Int32Array(0), prev, anchored);
    const classes = this.#classes;
    const ascii = classes.ascii;
    const count = classes.count;
    let trans = this.#trans;
    let row = state * count;
    let starting = !anchored && startsBefore < to;
    for (let i = from; ; i++) {
      // The common steps (ASCII, known transition, nothing to report) in a tight loop of their own.
      const limit = starting ? startsBefore : to;
      i = walk(text, i, limit, row, trans, ascii);
      row = walkRow;
      if (i >= limit && starting) {
        // No match starts from here on: the same threads, without new ones (an anchored state).
        starting = false;
        const id = row / count;
        const kernel = this.#stateKernel[id]!;
        if (kernel.length === 0) {
          this.read = i - from;
          return -1;
        }
        let twin = this.#anchoredTwin[id]!;
        if (twin < 0) twin = this.#anchoredTwin[id] = this.#intern(kernel, this.#statePrev[id]!, true);
        row = twin * count;
        trans = this.#trans;
        i--;
        continue;
      }
      if (i >= to) break;
      const u = text.charCodeAt(i);
      const cls = u < 128 ? ascii[u]! : classFor(classes, u);
      let t = trans[row + cls]!;
      if (t < 0) {
        t = this.#step(row / count, cls);
        trans = this.#trans;
      }
      if ((t & 1) === 1) {
        this.read = i - from;
        return i;
      }
      row = t >> 2;
      if ((t & 2) === 2) {
        this.read = i + 1 - from;
        return -1;
      }
    }
    this.read = to - from;
    if (to >= text.length) return this.#matchesAtEnd(row / count) ? text.length : -1;
    const u = text.charCodeAt(to);
    const cls = u < 128 ? ascii[u]! : classFor(classes, u);
    let t = this.#trans[row + cls]!;
    if (t < 0) t = this.#step(row / count, cls);
    return (t & 1) === 1 ? to : -1;
  }

  #prefixUnits: Uint8Array | undefined;

  /**
   * What the first units of every match can be: the number of rows r (at most `PREFIX_UNITS`: as many
   * offsets as no match can end before), then r rows of 129 flags (the 128 ASCII units, then any unit
   * past ASCII), row k for the unit at offset k from the match's start. Found once on the program,
   * taking every branch and every assertion as possible, so it only ever says too much: no match
   * starts where the text ends within r units or has a unit at offset k that row k leaves out.
   */
  get prefixUnits(): Uint8Array {
    if (this.#prefixUnits) return this.#prefixUnits;
    const { op, a, b, sets } = this.#program;
    const rows = new Uint8Array(1 + PREFIX_UNITS * 129);
    let current = [0];
    for (let k = 0; k < PREFIX_UNITS; k++) {
      // The instructions reachable without reading a unit.
      const seen = new Set<number>();
      const stack = [...current];
      const reads: number[] = [];
      let ends = false;
      while (stack.length > 0) {
        const pc = stack.pop()!;
        if (seen.has(pc)) continue;
        seen.add(pc);
        const code = op[pc]!;
        if (code === OP_SET) reads.push(pc);
        else if (code === OP_MATCH) ends = true;
        else if (code === OP_SPLIT) stack.push(a[pc]!, b[pc]!);
        else if (code === OP_JMP) stack.push(a[pc]!);
        else stack.push(pc + 1); // a capture, or an assertion taken to hold
      }
      if (ends) break;
      rows[0] = k + 1;
      const row = rows.subarray(1 + 129 * k, 1 + 129 * (k + 1));
      for (const pc of reads) {
        const ranges = sets[a[pc]!]!;
        for (let r = 0; r < ranges.length; r += 2) {
          for (let u = ranges[r]!; u <= Math.min(ranges[r + 1]!, 127); u++) row[u] = 1;
          if (ranges[r + 1]! >= 128) row[128] = 1;
        }
      }
      current = reads.map((pc) => pc + 1);
    }
    return (this.#prefixUnits = rows);
  }

  /**
   * The captures of the match ending at `end` that `firstEnd` found, without running anything, when
   * the pattern has one length and its groups fixed places (most token patterns: a prefix and a counted
   * class): that match is then also the leftmost-first one (any match starting earlier would end
   * earlier). Undefined otherwise (use `exec`). The array is this pattern's own, overwritten by the next
   * call: read it before (a text with thousands of near misses allocated one per miss).
   */
  fixedCaptures(end: number): Int32Array | undefined {
    const slots = this.#fixedSlots;
    if (!slots) return undefined;
    const start = end - this.maxLength;
    const caps = (this.#fixedCaps ??= new Int32Array(slots.length));
    for (let k = 0; k < slots.length; k++) caps[k] = slots[k]! < 0 ? -1 : start + slots[k]!;
    return caps;
  }

  /**
   * The leftmost-first match starting at or after `from` (exactly at `from` when `anchored`), read no
   * further than `limit`: capture slots [start0, end0, start1, end1, …] (-1 for a group that took no
   * part), or undefined.
   *
   * A bounded backtracker (RE2's "bit state"): it follows the pattern in priority order, which finds
   * the leftmost-first match directly, and marks each (instruction, position) it has tried so that none
   * is tried twice — at most program × window steps, usually a few per unit of the match, and no
   * allocation per step. Windows too large for the marks fall back to a Pike VM (same result, more work
   * per unit).
   */
  exec(text: string, from: number, limit = text.length, anchored = false): Int32Array | undefined {
    const width = limit - from + 1;
    if (this.#program.op.length * width <= MAX_MARKS) return this.#backtrack(text, from, limit, anchored);
    return this.#pike(text, from, limit, anchored);
  }

  #backtrack(text: string, from: number, limit: number, anchored: boolean): Int32Array | undefined {
    const { op, a, b, slots } = this.#program;
    const { ascii, count, member, word: wordClass } = this.#classes;
    const classes = this.#classes;
    const width = limit - from + 1;
    const marks = scratchMarks(op.length * width);
    const words = ((op.length * width) >>> 5) + 1;
    // Small windows: the marks are cleared with one fill at the end; large ones remember what they set.
    const track = words > FILL_WORDS;
    const touched = scratchTouched;
    touched.length = 0;
    const caps = new Int32Array(slots).fill(-1);
    let stack = scratchStack;
    let sp = 0;
    let found: Int32Array | undefined;
    const last = anchored ? from : limit;
    for (let start = from; start <= last && !found; start++) {
      sp = 0;
      stack[sp++] = 0;
      stack[sp++] = start;
      while (sp > 0 && !found) {
        const pos0 = stack[--sp]!;
        let pc = stack[--sp]!;
        if (pc < 0) {
          caps[-1 - pc] = pos0; // a capture restored on the way back
          continue;
        }
        let pos = pos0;
        for (;;) {
          const mark = pc * width + (pos - from);
          const bit = 1 << (mark & 31);
          const slot = mark >>> 5;
          if ((marks[slot]! & bit) !== 0) break;
          if (track && marks[slot] === 0) touched.push(slot);
          marks[slot]! |= bit;
          const code = op[pc]!;
          if (code === OP_SET) {
            if (pos >= limit) break;
            const u = text.charCodeAt(pos);
            const cls = u < 128 ? ascii[u]! : classFor(classes, u);
            if (member[a[pc]! * count + cls] !== 1) break;
            pc++;
            pos++;
          } else if (code === OP_SPLIT) {
            if (sp + 2 > stack.length) stack = grownStack();
            stack[sp++] = b[pc]!;
            stack[sp++] = pos;
            pc = a[pc]!;
          } else if (code === OP_JMP) {
            pc = a[pc]!;
          } else if (code === OP_SAVE) {
            if (sp + 2 > stack.length) stack = grownStack();
            stack[sp++] = -1 - a[pc]!;
            stack[sp++] = caps[a[pc]!]!;
            caps[a[pc]!] = pos;
            pc++;
          } else if (code === OP_ASSERT) {
            const atEnd = pos >= text.length;
            const next = atEnd ? 0 : text.charCodeAt(pos);
            const nextWord = !atEnd && (next < 128 ? wordClass[ascii[next]!] === 1 : isWordUnit(next));
            if (!assertionHolds(a[pc]!, prevContext(text, pos), nextWord, !atEnd && next === 0x0a, atEnd)) break;
            pc++;
          } else {
            found = caps.slice();
            break;
          }
        }
      }
    }
    if (track) for (const slot of touched) marks[slot] = 0;
    else marks.fill(0, 0, words);
    return found;
  }

  #pike(text: string, from: number, limit: number, anchored: boolean): Int32Array | undefined {
    const { op, a, b, sets, slots } = this.#program;
    const n = op.length;
    type Thread = { pc: number; caps: Int32Array };
    let clist: Thread[] = [];
    let nlist: Thread[] = [];
    const mark = new Int32Array(n).fill(-1);
    let matched: Int32Array | undefined;
    const add = (list: Thread[], pc0: number, caps0: Int32Array, at: number): void => {
      const prev = prevContext(text, at);
      const atEnd = at >= text.length;
      const next = atEnd ? 0 : text.charCodeAt(at);
      const nextWord = !atEnd && isWordUnit(next);
      const nextNewline = !atEnd && next === 0x0a;
      const stack: Array<{ pc: number; caps: Int32Array }> = [{ pc: pc0, caps: caps0 }];
      while (stack.length > 0) {
        const { pc, caps } = stack.pop()!;
        if (mark[pc] === at) continue;
        mark[pc] = at;
        switch (op[pc]) {
          case OP_SET:
          case OP_MATCH:
            list.push({ pc, caps });
            break;
          case OP_JMP:
            stack.push({ pc: a[pc]!, caps });
            break;
          case OP_SPLIT:
            stack.push({ pc: b[pc]!, caps }, { pc: a[pc]!, caps });
            break;
          case OP_SAVE: {
            const copy = caps.slice();
            copy[a[pc]!] = at;
            stack.push({ pc: pc + 1, caps: copy });
            break;
          }
          case OP_ASSERT:
            if (assertionHolds(a[pc]!, prev, nextWord, nextNewline, atEnd)) stack.push({ pc: pc + 1, caps });
            break;
        }
      }
    };
    for (let i = from; ; i++) {
      if (!matched && i <= limit && (!anchored || i === from)) add(clist, 0, new Int32Array(slots).fill(-1), i);
      if (clist.length === 0 && (matched || i >= limit)) break;
      const u = i < limit ? text.charCodeAt(i) : -1;
      for (const thread of clist) {
        if (op[thread.pc] === OP_MATCH) {
          matched = thread.caps;
          break; // lower-priority threads are cut
        }
        if (u >= 0 && inRanges(sets[a[thread.pc]!]!, u)) add(nlist, thread.pc + 1, thread.caps, i + 1);
      }
      if (i >= limit) break;
      [clist, nlist] = [nlist, []];
    }
    return matched;
  }
}

