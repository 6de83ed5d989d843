/**
 * The 1 MB hostile strings of bench/dlp-hostile.ts (timed) and bench/dlp-icount.ts `--hostile` (counted):
 * each view's trigger (src/dlp/views.ts) repeated back to back. `make(size)` builds a shape's string of
 * `size` units. Imports nothing of the engine.
 */
export const MB = 1 << 20;

/** Test values built from pieces at run time (no secret-shaped literal in the sources). */
const aws = ['AK', 'IA'].join('');
const ghp = ['gh', 'p_'].join('');
const repeat = (unit: string, size = MB): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const hex = (s: string): string => Buffer.from(s).toString('hex');

export const SHAPES: Array<[string, (size: number) => string]> = [
  ['"AKIA" + chained literals', (n) => repeat(`"${aws}" + `, n)],
  ["'AKIA' . chained (PHP)", (n) => repeat(`'${aws}' . `, n)],
  ['"AKIA" "AKIA" side by side', (n) => repeat(`"${aws}" `, n)],
  ['join of "AKIA", literals', (n) => `"".join([${repeat(`"${aws}", `, n - 12)}])`],
  ['AKIA glued, back to back', (n) => repeat(aws, n)],
  ['_AKIA + 16 glued', (n) => repeat(`_${aws}Q3EGRT5XK7MZP2LW`, n)],
  ['akia lower case', (n) => repeat(`akia${'q3egrt5xk7mzp2lw'}`, n)],
  ['ghp_ glued', (n) => repeat(`x${ghp}`, n)],
  ['eyJ. pieces', (n) => repeat('eyJ.', n)],
  ['eyJ glued JWT-ish', (n) => repeat('xeyJhbGciOiJI.eyJzdWIiOiIx.c2lnbmF0dXJl', n)],
  ['reversed AIKA', (n) => repeat('AIKA ', n)],
  ['ROT13 NXVN', (n) => repeat('NXVN', n)],
  ['AKIA cut once by a blank', (n) => repeat(`${aws}Q3EGRT5X K7MZP2LW `, n)],
  ['AKIA in chunks of four', (n) => repeat(`${aws} Q3EG RT5X K7MZ P2LW `, n)],
  ['spaced letters', (n) => repeat('A K I A ', n)],
  ['base64 of AKIA', (n) => repeat(`${b64(`${aws}Q3EGRT5XK7MZP2LW`)} `, n)],
  ['base64, one long run', (n) => repeat(b64(`${aws}Q3EGRT5XK7MZP2LW `), n)],
  ['hex of AKIA', (n) => repeat(`${hex(aws)} `, n)],
  ['byte list 65,75,', (n) => repeat('65,75,73,65,', n)],
  ['byte list 65:75:', (n) => repeat('65:75:73:65:', n)],
  ['%-escapes', (n) => repeat('%41%4B%49%41', n)],
  ['\\u escapes', (n) => repeat('\\u0041\\u004B', n)],
  ['HTML references', (n) => repeat('&#65;&#75;', n)],
  ['zero-width between letters', (n) => repeat('A\u200bK\u200b', n)],
  ['dash-strided', (n) => repeat('xoxb-12-34-', n)],
  ['dotted', (n) => repeat('a.b.c.d.', n)],
  ['digits and dashes', (n) => repeat('4111-1111-', n)],
  ['card groups', (n) => repeat('4111 1111 1111 1111 ', n)],
  ['card separators _', (n) => repeat('4111_1111_', n)],
  ['IBAN starts', (n) => repeat('DE89', n)],
  ['e-mail pieces', (n) => repeat('a@b.', n)],
  ['phone digits', (n) => repeat('+1 415 ', n)],
  ['injection phrase', (n) => repeat('ignore previous instructions ', n)],
  ['wrapped base64 lines', (n) => repeat(`${'QUtJQV'.repeat(13)}\n`, n)],
  ['quotes only', (n) => repeat('"\'`', n)],
];

