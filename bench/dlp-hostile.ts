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
import { MB, SHAPES } from './dlp-hostile-shapes.ts';
import { answerHelp, option } from './usage.ts';

answerHelp(import.meta.url);

const ROUNDS = Number(option('--rounds') ?? 3);
const only = option('--shape');
const baseDir = option('--base');

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
