/**
 * Memory under load: `node bench/memcheck.ts [legacy|modern] [concurrency] [seconds] [rounds] [--rps N] [--full]`.
 * Drives the gateway (started with --expose-gc) in rounds and prints heap after a full collection and
 * RSS after each round: a leak shows as heap that keeps growing from round to round. `--rps N` drives an
 * open loop at N requests a second instead of a closed loop (concurrency is then ignored) and also
 * prints the resident set sampled every half second during the round (mean and peak); `--full` puts
 * the benchmark's full chain in front of the echo server (an API key, the 20-rule policy with a rate
 * limit, the SQLite audit trail), as bench/profile.ts does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoGateway, startFullEchoGateway } from './echo-gateway.ts';
import { closedLoop, openLoop, type Era } from './loadgen.ts';
import { rssBytes } from './procs.ts';

const args = process.argv.slice(2);
const rpsAt = args.indexOf('--rps');
const rps = rpsAt >= 0 ? Number(args[rpsAt + 1]) : undefined;
const full = args.includes('--full');
const positional = args.filter((a, i) => !a.startsWith('--') && (rpsAt < 0 || i !== rpsAt + 1));
const [eraArg = 'legacy', cArg = '32', sArg = '5', rArg = '4'] = positional;
const era: Era = eraArg === 'modern' ? 'modern' : 'legacy';
const dir = mkdtempSync(join(tmpdir(), 'pc-mem-'));
const flags = ['--expose-gc', ...(process.env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
const gateway = full ? await startFullEchoGateway(dir, flags) : await startEchoGateway(dir, flags);
const { base, pid, stop } = gateway;
const target = { url: `${base}/mcp/echo`, era, ...(gateway.headers ? { headers: gateway.headers } : {}) };
const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
const read = async () => {
  const text = await (await fetch(`${base}/metrics?gc=1`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return `heap ${mb(value('nodejs_heap_used_bytes'))} MB, rss ${mb(value('process_resident_memory_bytes'))} MB, sessions ${/portcullis_sessions_active (\d+)/.exec(text)?.[1]}`;
};
process.stdout.write(`${full ? 'full chain' : 'allow-all'}, ${era}, ${rps ? `open loop ${rps} rps` : `closed loop c=${cArg}`}\nidle: ${await read()}\n`);
const workload = { name: 'echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } };
for (let round = 1; round <= Number(rArg); round++) {
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssBytes(pid)), 500);
  const r = rps ? await openLoop(target, workload, rps, Number(sArg) * 1000, 0) : await closedLoop(target, workload, Number(cArg), Number(sArg) * 1000, 0);
  clearInterval(sampler);
  const during = samples.length ? `, rss during: mean ${mb(samples.reduce((a, b) => a + b, 0) / samples.length)} MB, peak ${mb(Math.max(...samples))} MB` : '';
  process.stdout.write(`round ${round}: ${r.requests} requests, ${r.errors} errors, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms${during}; after: ${await read()}\n`);
}
await stop();
