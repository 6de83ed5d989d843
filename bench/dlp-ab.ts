/**
 * Two DLP engines in one paired run: `node bench/dlp-ab.ts --base DIR [--rounds N]`.
 *
 * DIR is another tree of Portcullis's sources (e.g. a commit before a change:
 * `mkdir DIR && git archive <commit> src | tar -x -C DIR`, then `cp package.json DIR/` and
 * `ln -s "$PWD/node_modules" DIR/node_modules`). Both engines inspect the ordinary 32 KB results of
 * bench/dlp-texts.ts in one process, every family on and with the defaults (secrets only), against the
 * same walk with every family off; each round times a batch of 10 inspections of each, the two trees
 * in turn and the order swapped every round, in CPU time of the process (the machine is shared). Prints
 * the medians, the quartiles and the ratio; writes nothing.
 */
import { resolve } from 'node:path';
import { processSecretSource } from '../src/config/secrets.ts';
import { Dlp } from '../src/dlp/engine.ts';
import type { DlpConfig } from '../src/dlp/schema.ts';
import { ordinaryTexts } from './dlp-texts.ts';
import { answerHelp, option, requiredBase } from './usage.ts';

answerHelp(import.meta.url);

const base = requiredBase('node bench/dlp-ab.ts --base DIR [--rounds N]');
const ROUNDS = Number(option('--rounds') ?? 60);
const BATCH = 10;

const BaseDlp = ((await import(resolve(base, 'src/dlp/engine.ts'))) as { Dlp: typeof Dlp }).Dlp;
const allOn = { results: { secrets: 'mask', pii: 'mask', injection: 'flag' }, arguments: {}, patterns: [{ name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block', arguments: true }], servers: {} } as unknown as DlpConfig;
const allOff = { results: { secrets: 'off', pii: 'off', injection: 'off' }, arguments: {}, patterns: [], servers: {} } as unknown as DlpConfig;
const env = processSecretSource(process.env);
const engines = (Engine: typeof Dlp) => ({ on: new Engine(allOn, env), defaults: new Engine(undefined, env), off: new Engine(allOff, env) });
const trees = { base: engines(BaseDlp), branch: engines(Dlp) };
const where = { server: 'bench', tool: 'blob', direction: 'result' as const };

/** CPU µs per inspection, over a batch. */
const cpu = (f: () => unknown): number => {
  const start = process.cpuUsage();
  for (let k = 0; k < BATCH; k++) f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / BATCH;
};
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
const cell = (xs: number[]): string => `${quantile(xs, 0.5).toFixed(0)} [${quantile(xs, 0.25).toFixed(0)}–${quantile(xs, 0.75).toFixed(0)}]`;

console.log(`| 32 KB of | added, every family on: base → this tree (CPU µs, p50 [p25–p75]) | ratio | added, defaults: base → this tree | ratio |`);
console.log('|---|---:|---:|---:|---:|');
for (const [name, text] of ordinaryTexts()) {
  const result = { content: [{ type: 'text', text }] };
  for (const tree of Object.values(trees)) for (let k = 0; k < 30; k++) for (const engine of Object.values(tree)) engine.inspect(result, where);
  const added = { base: { on: [] as number[], defaults: [] as number[] }, branch: { on: [] as number[], defaults: [] as number[] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? (['base', 'branch'] as const) : (['branch', 'base'] as const)) {
      const tree = trees[name];
      const off = cpu(() => tree.off.inspect(result, where));
      added[name].on.push(cpu(() => tree.on.inspect(result, where)) - off);
      added[name].defaults.push(cpu(() => tree.defaults.inspect(result, where)) - off);
    }
  }
  const ratio = (key: 'on' | 'defaults'): string => (quantile(added.branch[key], 0.5) / quantile(added.base[key], 0.5)).toFixed(2);
  console.log(`| ${name} | ${cell(added.base.on)} → ${cell(added.branch.on)} | ${ratio('on')} | ${cell(added.base.defaults)} → ${cell(added.branch.defaults)} | ${ratio('defaults')} |`);
}
