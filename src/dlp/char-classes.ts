/**
 * One pass that sorts every byte of a text into the character classes the later passes look for, as
 * bitsets (bit j of word w: byte 32·w + j is in the class), in WebAssembly with 128-bit SIMD: 16 bytes
 * are compared at a time and each comparison's lanes folded into 16 bits (`i8x16.bitmask`), about a
 * tenth of what one JavaScript pass over the text costs. The passes that start from these bitsets
 * (decode.ts `runsInClasses`, pii.ts `regionsInClasses`) find their candidates 32 bytes at a time with
 * word operations and read the bytes only around them.
 *
 * The module is written here at load time by src/dlp/wasm-emit.ts: no binary in the repository, no
 * native add-on, no build step. Where WebAssembly or its SIMD instructions are not there (an engine
 * without them, `node --jitless`), `charClasses` answers undefined and the callers run their
 * JavaScript passes over the bytes, which find the same things (test/dlp/char-classes.test.ts).
 */
import { emitModule, op, type FunctionSpec } from './wasm-emit.ts';

/** The classes, one bitset each. */
export interface CharClasses {
  /** Base64 and base64url alphabet: `A-Z a-z 0-9 + / _ -` (decode.ts `RUN_UNIT`). */
  readonly run: Uint32Array;
  /** `0-9`. */
  readonly digit: Uint32Array;
  /** A digit or one of the separators of a written number, ` ().\/-` (pii.ts `CODE`). */
  readonly number: Uint32Array;
  /** `A-Z`. */
  readonly upper: Uint32Array;
  /** A unit of a chunk or a separator of the dechunked view, `A-Z a-z 0-9 _ + =` and ` \t./|:,-` (normalize.ts `CHUNK_CLASS`). */
  readonly joinable: Uint32Array;
  /** Bytes classified; every bit from `n` on is clear, and each bitset has a clear word past the last. */
  readonly n: number;
}

/** Texts shorter than this are left to the JavaScript passes (the call and the copy cost more than they save). */
export const MIN_CLASSIFIED = 512;
/** Texts longer than this are too (the memory stays small; `detect`'s own scratch buffer has the same bound). */
export const MAX_CLASSIFIED = 1 << 20;

const V128 = 0x7b;
const I32 = 0x7f;
// Parameters, then locals, by index.
const N = 0;
const OUT_RUN = 1;
const OUT_DIGIT = 2;
const OUT_NUMBER = 3;
const OUT_UPPER = 4;
const OUT_JOINABLE = 5;
const P = 6;
const LO = 7;
const HI = 8;

/** Lanes of the vector in local `v` minus `low`, below `span` unsigned: `low ≤ byte < low + span`. */
const inRange = (v: number, low: number, span: number): number[] => [
  ...op.localGet(v), ...op.i32Const(low), ...op.i8x16Splat(), ...op.i8x16Sub(),
  ...op.i32Const(span), ...op.i8x16Splat(), ...op.i8x16LtU(),
];
const equals = (v: number, byte: number): number[] => [...op.localGet(v), ...op.i32Const(byte), ...op.i8x16Splat(), ...op.i8x16Eq()];
/** The lanes of every part or'ed together. */
const anyOf = (parts: number[][]): number[] => [...parts[0]!, ...parts.slice(1).flatMap((part) => [...part, ...op.v128Or()])];

const digit = (v: number): number[] => inRange(v, 0x30, 10);
const upper = (v: number): number[] => inRange(v, 0x41, 26);
/** A letter of either case: the byte with 0x20 set is `a-z` (no other byte becomes one). */
const letter = (v: number): number[] => [...op.localGet(v), ...op.i32Const(0x20), ...op.i8x16Splat(), ...op.v128Or(), ...op.i32Const(0x61), ...op.i8x16Splat(), ...op.i8x16Sub(), ...op.i32Const(26), ...op.i8x16Splat(), ...op.i8x16LtU()];
const chars = (v: number, set: string): number[][] => [...set].map((c) => equals(v, c.charCodeAt(0)));

const CLASSES: ReadonlyArray<{ out: number; lanes: (v: number) => number[] }> = [
  { out: OUT_RUN, lanes: (v) => anyOf([letter(v), digit(v), ...chars(v, '+/_-')]) },
  { out: OUT_DIGIT, lanes: digit },
  { out: OUT_NUMBER, lanes: (v) => anyOf([digit(v), ...chars(v, ' ().\\/-')]) },
  { out: OUT_UPPER, lanes: upper },
  { out: OUT_JOINABLE, lanes: (v) => anyOf([letter(v), digit(v), ...chars(v, '_+= \t./|:,-')]) },
];

/**
 * `classify(n, run, digit, number, upper, joinable)`: for each 32 bytes from 0 while below `n`, one word per class
 * at `class + p / 8` — the 16-bit masks of the two halves, the second shifted up 16.
 */
function classifyFunction(): FunctionSpec {
  const store = ({ out, lanes }: (typeof CLASSES)[number]): number[] => [
    ...op.localGet(out), ...op.localGet(P), ...op.i32Const(3), ...op.i32ShrU(), ...op.i32Add(),
    ...lanes(LO), ...op.i8x16Bitmask(),
    ...lanes(HI), ...op.i8x16Bitmask(), ...op.i32Const(16), ...op.i32Shl(), ...op.i32Or(),
    ...op.i32Store(),
  ];
  return {
    name: 'classify',
    params: 6,
    locals: [I32, V128, V128],
    body: [
      ...op.block(), ...op.loop(),
      ...op.localGet(P), ...op.localGet(N), ...op.i32GeU(), ...op.brIf(1),
      ...op.localGet(P), ...op.v128Load(0), ...op.localSet(LO),
      ...op.localGet(P), ...op.v128Load(16), ...op.localSet(HI),
      ...CLASSES.flatMap(store),
      ...op.localGet(P), ...op.i32Const(32), ...op.i32Add(), ...op.localSet(P),
      ...op.br(0),
      ...op.end(), ...op.end(),
    ],
  };
}

const PAGE = 1 << 16;
const CLASS_COUNT = 5;
/** Text bytes, then a bitset of an eighth of that per class, for the longest text classified (plus padding). */
const MAX_PAGES = Math.ceil(((MAX_CLASSIFIED + 64) * (8 + CLASS_COUNT)) / 8 / PAGE);

interface Instance {
  memory: WebAssembly.Memory;
  classify: (n: number, run: number, digit: number, number: number, upper: number, joinable: number) => void;
}

/** Compiles the module; undefined where WebAssembly or SIMD is missing (or the module is refused). */
export function instantiateClassifier(): Instance | undefined {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined) return undefined;
  try {
    const bytes = emitModule([classifyFunction()], 1, MAX_PAGES);
    if (!wasm.validate(bytes)) return undefined;
    const instance = new wasm.Instance(new wasm.Module(bytes));
    const { memory, classify } = instance.exports as unknown as Instance;
    return { memory, classify };
  } catch {
    return undefined;
  }
}

let state: { instance: Instance | undefined; capacity: number; text: Uint8Array } | undefined;

/** Whether `charClasses` runs the WebAssembly pass in this process (false: the JavaScript passes run). */
export function hasClassifier(): boolean {
  state ??= { instance: instantiateClassifier(), capacity: 0, text: new Uint8Array(0) };
  return state.instance !== undefined;
}

/**
 * The classes of `bytes[0, n)`, or undefined when the text is outside the bounds above or the
 * WebAssembly pass is not available. The bitsets live in the module's memory and are overwritten by the
 * next call: read them before classifying another text.
 */
export function charClasses(bytes: Uint8Array, n: number): CharClasses | undefined {
  if (n < MIN_CLASSIFIED || n > MAX_CLASSIFIED || !hasClassifier()) return undefined;
  const s = state!;
  const instance = s.instance!;
  // Room for the text rounded up to 32 bytes and one more word of zero bytes (the clear word past the last).
  const padded = (Math.ceil(n / 32) + 1) * 32;
  if (padded > s.capacity) {
    const capacity = Math.min(Math.max(padded, 2 * s.capacity, 1 << 15), MAX_CLASSIFIED + 64);
    const need = Math.ceil((capacity * (8 + CLASS_COUNT)) / 8 / PAGE) - instance.memory.buffer.byteLength / PAGE;
    if (need > 0) instance.memory.grow(need);
    s.capacity = capacity;
    s.text = new Uint8Array(instance.memory.buffer, 0, capacity);
  }
  s.text.set(bytes.length === n ? bytes : bytes.subarray(0, n));
  s.text.fill(0, n, padded);
  const stride = s.capacity / 8;
  const base = s.capacity;
  instance.classify(padded, base, base + stride, base + 2 * stride, base + 3 * stride, base + 4 * stride);
  const words = padded / 32;
  const view = (k: number): Uint32Array => new Uint32Array(instance.memory.buffer, base + k * stride, words);
  return { run: view(0), digit: view(1), number: view(2), upper: view(3), joinable: view(4), n };
}

// Word operations on the bitsets. Bits past `n` are clear and each bitset ends with a clear word, so
// the searches forward stop without a bound test.

const lowest = (x: number): number => 31 - Math.clz32(x & -x);

/** The first position from `p` on whose bit is clear. */
export function nextClear(bits: Uint32Array, p: number): number {
  let w = p >>> 5;
  let x = ~bits[w]! & (-1 << (p & 31));
  while (x === 0) x = ~bits[++w]!;
  return (w << 5) + lowest(x);
}

/** The first position from `p` on whose bit is set (`limit` when none before it). */
export function nextSet(bits: Uint32Array, p: number, limit: number): number {
  let w = p >>> 5;
  let x = bits[w]! & (-1 << (p & 31));
  const last = (limit - 1) >>> 5;
  while (x === 0) {
    if (++w > last) return limit;
    x = bits[w]!;
  }
  return Math.min(limit, (w << 5) + lowest(x));
}

/** Where the stretch of set bits that holds position `p` (set) starts. */
export function stretchStart(bits: Uint32Array, p: number): number {
  let w = p >>> 5;
  let x = ~bits[w]! & ((1 << (p & 31)) - 1);
  while (x === 0) {
    if (w === 0) return 0;
    x = ~bits[--w]!;
  }
  return (w << 5) + 32 - Math.clz32(x);
}

/** Set bits in `[from, to)`. */
export function countSet(bits: Uint32Array, from: number, to: number): number {
  let count = 0;
  for (let p = from; p < to; ) {
    const w = p >>> 5;
    const end = Math.min(to, (w + 1) << 5);
    const span = end - p;
    let x = (bits[w]! >>> (p & 31)) & (span === 32 ? -1 : (1 << span) - 1);
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    count += (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
    p = end;
  }
  return count;
}

/**
 * Per word, a bit at the start of each aligned group of `width` (4 or 8) bits that are all set. A
 * stretch of `2·width − 1` set bits or more always covers such a group, so these are the only places
 * where one can be.
 */
export function fullGroups(x: number, width: 4 | 8): number {
  let t = x & (x >>> 1);
  t &= t >>> 2;
  if (width === 4) return t & 0x11111111;
  t &= t >>> 4;
  return t & 0x01010101;
}

/**
 * The stretches of set bits of `minLength` or more (at most `2·width − 1`), as [start, end) pairs in
 * text order, from `words` words.
 */
export function longStretches(bits: Uint32Array, words: number, minLength: number, width: 4 | 8, out: number[] = []): number[] {
  let floor = 0;
  for (let w = 0; w < words; w++) {
    const x = bits[w]!;
    if (x === 0) continue;
    let groups = fullGroups(x, width);
    if ((w << 5) < floor) groups &= floor - (w << 5) >= 32 ? 0 : -1 << (floor - (w << 5));
    while (groups !== 0) {
      const p = (w << 5) + lowest(groups);
      const start = stretchStart(bits, p);
      const end = nextClear(bits, p);
      if (end - start >= minLength) out.push(start, end);
      floor = end;
      if (end >>> 5 > w) break;
      groups &= -1 << (end & 31);
    }
  }
  return out;
}
