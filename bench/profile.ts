/**
 * Profiles the gateway under load: `node bench/profile.ts [legacy|modern] [concurrency] [seconds] [full|off] [--warmup S]`.
 * `off` is the benchmark's passthrough (allow-all, audit off); the default keeps the SQLite audit on.
 * `full` adds what the benchmark's full treatment has: an API key on every request, its 20-rule policy
 * with a rate limit, and the SQLite audit trail (schema validation, the supply-chain guard and DLP's
 * defaults always run).
 * Starts an echo upstream and a gateway with `--cpu-prof`, drives a closed loop, and prints the
 * functions with the most self time (the hot path to fix first).
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGatewayFor } from './echo-gateway.ts';
import { closedLoop } from './loadgen.ts';
import { option } from './usage.ts';

const [eraArg = 'legacy', cArg = '32', sArg = '5', fullArg] = process.argv.slice(2).filter((a, i, all) => a !== '--warmup' && all[i - 1] !== '--warmup');
const era = eraArg === 'modern' ? 'modern' : 'legacy';
const dir = mkdtempSync(join(tmpdir(), 'pc-prof-'));
const flags = ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', dir];
const gateway = await startGatewayFor(fullArg, dir, flags);
const { base, stop } = gateway;
const headers = gateway.headers;
const workload = { name: 'echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } };
const target = { url: `${base}/mcp/echo`, era, ...(headers ? { headers } : {}) } as const;
// Load before the profiled window (`--warmup S`): the start-up's background reviews finish and the JIT settles.
const warmupS = Number(option('--warmup') ?? 0);
if (warmupS > 0) await closedLoop(target, workload, Number(cArg), warmupS * 1000, 0);
// The profile's sample times are on the monotonic clock process.hrtime reads: only samples taken
// while the load ran count (not the start-up's reviews and module loading).
const loadStartUs = Number(process.hrtime.bigint() / 1000n);
const result = await closedLoop(target, workload, Number(cArg), Number(sArg) * 1000, 500);
process.stdout.write(`${era} c=${cArg}: ${result.achievedRps.toFixed(0)} rps, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms, errors ${result.errors}\n`);
await stop();

// A worker thread writes a profile of its own: the gateway's main thread is the largest.
const file = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]!;
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  startTime: number;
  timeDeltas: number[];
};
let at = profile.startTime;
const during = profile.samples.filter((_, i) => (at += profile.timeDeltas[i]!) >= loadStartUs);
const samples = during.length > 0 ? during : profile.samples;
const self = new Map<number, number>();
for (const id of samples) self.set(id, (self.get(id) ?? 0) + 1);
const byName = new Map<string, number>();
for (const node of profile.nodes) {
  const count = self.get(node.id) ?? 0;
  if (!count) continue;
  const where = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/');
  const key = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
  byName.set(key, (byName.get(key) ?? 0) + count);
}
const total = samples.length;
process.stdout.write(`${total} samples during the load (of ${profile.samples.length})\n`);
for (const [key, count] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  process.stdout.write(`${((count / total) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
}
// Self time per source file: which module of the gateway (or dependency) the time is spent in.
const byFile = new Map<string, number>();
for (const node of profile.nodes) {
  const count = self.get(node.id) ?? 0;
  if (!count) continue;
  const url = node.callFrame.url;
  const where = !url ? `(${node.callFrame.functionName || 'native'})` : url.includes('node_modules/') ? url.replace(/^.*node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1') : url.replace(/^file:\/\/.*\/(src|dist)\//, 'src/').replace(/\.js$/, '.ts');
  byFile.set(where, (byFile.get(where) ?? 0) + count);
}
process.stdout.write('\nself time by file:\n');
for (const [key, count] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  process.stdout.write(`${((count / total) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
}
process.stdout.write(`profile: ${join(dir, file)}\n`);
