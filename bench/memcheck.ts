/**
 * Memory under load: `node bench/memcheck.ts [legacy|modern] [concurrency] [seconds] [rounds]`.
 * Drives the gateway (started with --expose-gc) in rounds and prints heap after a full collection and
 * RSS after each round: a leak shows as heap that keeps growing from round to round.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoGateway } from './echo-gateway.ts';
import { closedLoop } from './loadgen.ts';

const [eraArg = 'legacy', cArg = '32', sArg = '5', rArg = '4'] = process.argv.slice(2);
const era = eraArg === 'modern' ? 'modern' : 'legacy';
const dir = mkdtempSync(join(tmpdir(), 'pc-mem-'));
const { base, stop } = await startEchoGateway(dir, ['--expose-gc', ...(process.env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean)]);
const read = async () => {
  const text = await (await fetch(`${base}/metrics?gc=1`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
  return `heap ${value('nodejs_heap_used_bytes').toFixed(1)} MB, rss ${value('process_resident_memory_bytes').toFixed(1)} MB, sessions ${/portcullis_sessions_active (\d+)/.exec(text)?.[1]}`;
};
process.stdout.write(`idle: ${await read()}\n`);
for (let round = 1; round <= Number(rArg); round++) {
  const r = await closedLoop({ url: `${base}/mcp/echo`, era }, { name: 'echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }, Number(cArg), Number(sArg) * 1000, 0);
  process.stdout.write(`round ${round}: ${r.requests} requests, ${await read()}\n`);
}
await stop();
