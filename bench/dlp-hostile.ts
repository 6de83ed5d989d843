/**
 * What a 1 MB hostile string costs the whole inspection (the text, every view, every family on):
 * `node bench/dlp-hostile.ts [--base DIR] [--rounds N] [--shape NAME]`.
 *
 * bench/dlp.ts times each secret rule's scan alone on its own two 1 MB strings; this one sends 1 MB
 * strings built to make the views (src/dlp/views.ts) work hardest through the engine as a tool's text
 * result: each view's trigger repeated back to back (`"AKIA" + ` chained literals, glued prefixes, base64
 * and hex runs, byte lists, %-escapes, spaced letters, chunks, JWT pieces, turned prefixes, cards,
 * IBANs, e-mails, zero-width characters…). Main-thread CPU time (`process.threadCpuUsage`: what the
 * event loop spends on the string), median of `--rounds` (default 3) after one warm-up on a 64 KB
 * version of the same shape; the outcome (findings, or blocked as uninspectable) beside it. With
 * `--base DIR` (another tree of sources, as for bench/dlp-ab.ts) both trees run each shape in turn in
 * one process, and their outcomes must agree. Prints a table; writes nothing.
 */
import { resolve } from 'node:path';
import { processSecretSource } from '../src/config/secrets.ts';
import { Dlp } from '../src/dlp/engine.ts';
import type { DlpConfig } from '../src/dlp/schema.ts';
import { answerHelp, option } from './usage.ts';

answerHelp(import.meta.url);

const MB = 1 << 20;
const ROUNDS = Number(option('--rounds') ?? 3);
const only = option('--shape');
const baseDir = option('--base');

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

const allOn = { results: { secrets: 'mask', pii: 'mask', injection: 'flag' }, arguments: {}, patterns: [{ name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block', arguments: true }], servers: {} } as unknown as DlpConfig;
const env = processSecretSource(process.env);
const where = { server: 'bench', tool: 'hostile', direction: 'result' as const };
const trees: Array<[string, Dlp]> = [];
if (baseDir) {
  const BaseDlp = ((await import(resolve(baseDir, 'src/dlp/engine.ts'))) as { Dlp: typeof Dlp }).Dlp;
  trees.push(['base', new BaseDlp(allOn, env)]);
}
trees.push(['this tree', new Dlp(allOn, env)]);

const outcome = (r: ReturnType<Dlp['inspect']>): string => ('refusal' in r ? `blocked (${r.findings.length} findings)` : `${r.findings.length} findings`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const threadMs = (f: () => void): number => {
  const start = process.threadCpuUsage();
  f();
  const used = process.threadCpuUsage(start);
  return (used.user + used.system) / 1000;
};

console.log(`| 1 MB of | ${trees.map(([name]) => `${name}: ms (main thread, median)`).join(' | ')} | outcome |`);
console.log(`|---|${trees.map(() => '---:').join('|')}|---|`);
let differ = 0;
for (const [name, make] of SHAPES) {
  if (only !== undefined && !name.includes(only)) continue;
  const text = make(MB);
  const warm = { content: [{ type: 'text', text: make(64 * 1024) }] };
  const result = { content: [{ type: 'text', text }] };
  const times = trees.map(() => [] as number[]);
  const outcomes = trees.map(() => '');
  for (const [, engine] of trees) engine.inspect(warm, where);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? trees.keys() : [...trees.keys()].reverse();
    for (const t of order) times[t]!.push(threadMs(() => void (outcomes[t] = outcome(trees[t]![1].inspect(result, where)))));
  }
  if (new Set(outcomes).size > 1) differ++;
  console.log(`| ${name} | ${times.map((xs) => median(xs).toFixed(1)).join(' | ')} | ${outcomes.join(' / ')} |`);
}
if (differ > 0) {
  console.log(`\n${differ} shape(s) with different outcomes`);
  process.exitCode = 1;
}
