/**
 * A small WebAssembly binary writer: just what the character-class pass (src/dlp/char-classes.ts) needs —
 * one memory, functions of i32 parameters and locals, structured control flow, integer and 128-bit
 * SIMD instructions. The module is written at load time from readable code, so the repository holds no
 * binary and the build has no extra step (WebAssembly Core Specification 2.0, §5 "Binary Format").
 *
 * Not checked here: that the instructions form a valid body — `WebAssembly.validate` and the engine's
 * own validation do that when the module is compiled.
 */

/** Unsigned LEB128 (§5.2.2). */
export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit value (§5.2.2). */
export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const I32 = 0x7f;
const SIMD = 0xfd;

/** The instructions used, by their specification names (§5.4); each returns its bytes. */
export const op = {
  block: (): number[] => [0x02, 0x40],
  loop: (): number[] => [0x03, 0x40],
  end: (): number[] => [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  localGet: (index: number): number[] => [0x20, ...uleb(index)],
  localSet: (index: number): number[] => [0x21, ...uleb(index)],
  localTee: (index: number): number[] => [0x22, ...uleb(index)],
  /** Memory access: alignment as log2 of bytes, then the static offset (§5.4.6). */
  i32Store: (offset = 0): number[] => [0x36, 2, ...uleb(offset)],
  i32Const: (value: number): number[] => [0x41, ...sleb(value)],
  i32GeU: (): number[] => [0x4f],
  i32Add: (): number[] => [0x6a],
  i32Or: (): number[] => [0x72],
  i32Shl: (): number[] => [0x74],
  i32ShrU: (): number[] => [0x76],
  v128Load: (offset = 0): number[] => [SIMD, ...uleb(0x00), 4, ...uleb(offset)],
  v128Const: (lanes: readonly number[]): number[] => [SIMD, ...uleb(0x0c), ...lanes.map((b) => b & 0xff)],
  i8x16Swizzle: (): number[] => [SIMD, ...uleb(0x0e)],
  i8x16Splat: (): number[] => [SIMD, ...uleb(0x0f)],
  v128Or: (): number[] => [SIMD, ...uleb(0x50)],
  i8x16Bitmask: (): number[] => [SIMD, ...uleb(0x64)],
  i8x16Shl: (): number[] => [SIMD, ...uleb(0x6b)],
  i8x16Sub: (): number[] => [SIMD, ...uleb(0x71)],
} as const;

export interface FunctionSpec {
  name: string;
  params: number;
  /** Locals beyond the parameters, by type (0x7f i32, 0x7b v128). */
  locals: number[];
  body: number[];
}

const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vector([...Buffer.from(s, 'utf8')].map((b) => [b]));

/**
 * A module of functions `(i32 × params) → ()` sharing one memory of `pages` 64 KiB pages (growable
 * to `maxPages`), exported as `memory`, each function exported by its name.
 */
export function emitModule(functions: readonly FunctionSpec[], pages: number, maxPages: number): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(Array.from({ length: f.params }, () => [I32])), ...uleb(0)]);
  const bodies = functions.map((f) => {
    const locals = vector(f.locals.map((type) => [...uleb(1), type]));
    const code = [...locals, ...f.body, ...op.end()];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, k) => uleb(k)))),
    ...section(5, vector([[0x01, ...uleb(pages), ...uleb(maxPages)]])),
    ...section(7, vector([[...name('memory'), 0x02, 0], ...functions.map((f, k) => [...name(f.name), 0x00, ...uleb(k)])])),
    ...section(10, vector(bodies)),
  ]);
}
