/**
 * One pass that sorts every byte of a text into the character classes the later passes look for, as
 * bitsets (bit j of word w: byte 32·w + j is in the class), in WebAssembly with 128-bit SIMD: 16 bytes
 * at a time get their class bytes from small tables (`i8x16.swizzle`), and each class's bits are
 * gathered into 16 bits (`i8x16.bitmask`) — about a quarter of what one JavaScript pass over the text
 * costs. The passes that start from these bitsets (decode.ts `longRuns`, pii.ts `regionsInClasses`)
 * find their candidates 32 bytes at a time with word operations and read only around them.
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
  /** The space ` ` (views.ts: letters spaced out, base64 in spaced groups). */
  readonly space: Uint32Array;
  /** A control other than tab and line breaks: 0x00–0x08, 0x0b, 0x0c, 0x0e–0x1f, 0x7f (normalize.ts `hasNonAsciiOrControl`). */
  readonly control: Uint32Array;
  /** Bytes classified; every bit from `n` on is clear, and each bitset has a clear word past the last. */
  readonly n: number;
}

/** Texts shorter than this are left to the JavaScript passes (the call and the copy cost more than they save). */
export const MIN_CLASSIFIED = 512;
/** Texts longer than this are too (the memory stays small; `detect`'s own scratch buffer has the same bound). */
export const MAX_CLASSIFIED = 1 << 20;

/** The classes by their bit in a byte's class byte, as the bitsets are returned (decode.ts `RUN_UNIT`, pii.ts `CODE`). */
const CLASS_TESTS: ReadonlyArray<(c: string) => boolean> = [
  (c) => /[A-Za-z0-9+/_-]/.test(c), // run
  (c) => /[0-9]/.test(c), // digit
  (c) => /[0-9 ().\\/-]/.test(c), // number
  (c) => /[A-Z]/.test(c), // upper
  (c) => c === ' ', // space
  (c) => /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(c), // control
];
const CLASS_COUNT = CLASS_TESTS.length;
/** The control class's index (the only class the zero bytes padding a text belong to). */
const CONTROL = 5;

/** A byte's class byte: bit k set when the byte is in class k. Every class is ASCII: bytes from 0x80 have none. */
const classByte = (byte: number): number => (byte < 0x80 ? CLASS_TESTS.reduce((bits, test, k) => bits | (Number(test(String.fromCharCode(byte))) << k), 0) : 0);

/**
 * The blocks of 16 byte values holding a byte of some class, each with its 16 class bytes. A lane's
 * class byte is the or, over the blocks, of `i8x16.swizzle(table, byte − base)`: the swizzle gives 0 for
 * an index of 16 or more, which is what every byte outside the block becomes (below it, it wraps past 0x7f).
 */
const BLOCKS = Array.from({ length: 8 }, (_, k) => ({ base: 16 * k, table: Array.from({ length: 16 }, (_, i) => classByte(16 * k + i)) })).filter((block) => block.table.some((bits) => bits !== 0));

const V128 = 0x7b;
const I32 = 0x7f;
// Parameters, then locals, by index.
const N = 0;
const OUTS = Array.from({ length: CLASS_COUNT }, (_, k) => 1 + k);
const P = 1 + CLASS_COUNT;
const LO = P + 1;
const HI = P + 2;
const CLASS_LO = P + 3;
const CLASS_HI = P + 4;
/** Per block, two locals: its base in every lane, its table. */
const blockLocal = (k: number): { base: number; table: number } => ({ base: P + 5 + 2 * k, table: P + 6 + 2 * k });

/** The class bytes of the 16 bytes in local `v`, into local `out`. */
const classBytes = (v: number, out: number): number[] => [
  ...BLOCKS.flatMap((_, k) => [
    ...op.localGet(blockLocal(k).table), ...op.localGet(v), ...op.localGet(blockLocal(k).base), ...op.i8x16Sub(), ...op.i8x16Swizzle(),
    ...(k > 0 ? op.v128Or() : []),
  ]),
  ...op.localSet(out),
];

/**
 * `classify(n, out0, …, out3)`: for each 32 bytes from 0 while below `n`, one word per class at
 * `out_k + p / 8` — the class bytes' bit k moved to the top (`i8x16.shl`) and gathered
 * (`i8x16.bitmask`), the second half's 16 bits above the first's.
 */
function classifyFunction(): FunctionSpec {
  const store = (k: number): number[] => [
    ...op.localGet(OUTS[k]!), ...op.localGet(P), ...op.i32Const(3), ...op.i32ShrU(), ...op.i32Add(),
    ...op.localGet(CLASS_LO), ...op.i32Const(7 - k), ...op.i8x16Shl(), ...op.i8x16Bitmask(),
    ...op.localGet(CLASS_HI), ...op.i32Const(7 - k), ...op.i8x16Shl(), ...op.i8x16Bitmask(), ...op.i32Const(16), ...op.i32Shl(), ...op.i32Or(),
    ...op.i32Store(),
  ];
  return {
    name: 'classify',
    params: 1 + CLASS_COUNT,
    locals: [I32, V128, V128, V128, V128, ...BLOCKS.flatMap(() => [V128, V128])],
    body: [
      ...BLOCKS.flatMap((block, k) => [
        ...op.i32Const(block.base), ...op.i8x16Splat(), ...op.localSet(blockLocal(k).base),
        ...op.v128Const(block.table), ...op.localSet(blockLocal(k).table),
      ]),
      ...op.block(), ...op.loop(),
      ...op.localGet(P), ...op.localGet(N), ...op.i32GeU(), ...op.brIf(1),
      ...op.localGet(P), ...op.v128Load(0), ...op.localSet(LO),
      ...op.localGet(P), ...op.v128Load(16), ...op.localSet(HI),
      ...classBytes(LO, CLASS_LO),
      ...classBytes(HI, CLASS_HI),
      ...OUTS.flatMap((_, k) => store(k)),
      ...op.localGet(P), ...op.i32Const(32), ...op.i32Add(), ...op.localSet(P),
      ...op.br(0),
      ...op.end(), ...op.end(),
    ],
  };
}

const PAGE = 1 << 16;
/** Text bytes (the longest text classified, rounded up, and a clear word), then a bitset of an eighth of that per class. */
const CAPACITY = MAX_CLASSIFIED + 64;
const STRIDE = CAPACITY / 8;
/**
 * All of it from the start, never grown (growing detaches the buffer every view is made on, so each
 * call would have to check): 1.7 MB reserved, of which a text touches only what it needs.
 */
const PAGES = Math.ceil((CAPACITY + CLASS_COUNT * STRIDE) / PAGE);
/** Where each class's bitset is written, in class order. */
const OUT_OFFSETS = Array.from({ length: CLASS_COUNT }, (_, k) => CAPACITY + k * STRIDE);

interface Instance {
  memory: WebAssembly.Memory;
  classify: (n: number, ...outs: number[]) => void;
}

/** Compiles the module; undefined where WebAssembly or SIMD is missing (or the module is refused). */
export function instantiateClassifier(): Instance | undefined {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined) return undefined;
  try {
    const bytes = emitModule([classifyFunction()], PAGES, PAGES);
    if (!wasm.validate(bytes)) return undefined;
    const instance = new wasm.Instance(new wasm.Module(bytes));
    const { memory, classify } = instance.exports as unknown as Instance;
    return { memory, classify };
  } catch {
    return undefined;
  }
}

let state: { instance: Instance; text: Uint8Array } | null | undefined;

/** Whether `charClasses` runs the WebAssembly pass in this process (false: the JavaScript passes run). */
export function hasClassifier(): boolean {
  if (state === undefined) {
    const instance = instantiateClassifier();
    state = instance ? { instance, text: new Uint8Array(instance.memory.buffer, 0, CAPACITY) } : null;
  }
  return state !== null;
}

/**
 * The classes of `bytes[0, n)`, or undefined when the text is outside the bounds above or the
 * WebAssembly pass is not available. The bitsets live in the module's memory and are overwritten by the
 * next call: read them before classifying another text.
 */
export function charClasses(bytes: Uint8Array, n: number): CharClasses | undefined {
  if (n < MIN_CLASSIFIED || n > MAX_CLASSIFIED || !hasClassifier()) return undefined;
  const { instance, text } = state!;
  // The text rounded up to 32 bytes and one more word of zero bytes (the clear word past the last).
  const padded = (Math.ceil(n / 32) + 1) * 32;
  text.set(bytes.length === n ? bytes : bytes.subarray(0, n));
  text.fill(0, n, padded);
  instance.classify(padded, ...OUT_OFFSETS);
  const words = padded / 32;
  const view = (k: number): Uint32Array => new Uint32Array(instance.memory.buffer, OUT_OFFSETS[k]!, words);
  // The padding's zero bytes are controls: their bits are cleared, as every class's are past `n`.
  const control = view(CONTROL);
  if ((n & 31) !== 0) control[n >>> 5]! &= (1 << (n & 31)) - 1;
  control.fill(0, Math.ceil(n / 32));
  return { run: view(0), digit: view(1), number: view(2), upper: view(3), space: view(4), control, n };
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
 * Whether some position p has its bit set and also p + stride, p + 2·stride, … (`count` positions in
 * all; `(count − 1)·stride` below 32), in the first `words` words (the last of them clear, as every
 * bitset here ends): word by word, each shifted view of the bits and'ed together.
 */
export function hasStrided(bits: Uint32Array, words: number, stride: number, count: number): boolean {
  for (let w = 0; w + 1 < words; w++) {
    const x = bits[w]!;
    if (x === 0) continue;
    const y = bits[w + 1]!;
    let all = x;
    for (let k = 1; k < count && all !== 0; k++) {
      const shift = k * stride;
      all &= (x >>> shift) | (y << (32 - shift));
    }
    if (all !== 0) return true;
  }
  return false;
}

/** Whether any bit is set in the first `words` words. */
export function anySet(bits: Uint32Array, words: number): boolean {
  for (let w = 0; w < words; w++) if (bits[w] !== 0) return true;
  return false;
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
