/**
 * Memory under load: `node bench/memcheck.ts [legacy|modern] [concurrency] [seconds] [rounds]`.
 * Drives the gateway (started with --expose-gc) in rounds and prints heap after a full collection and
 * RSS after each round: a leak shows as heap that keeps growing from round to round.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop } from './loadgen.ts';

const [eraArg = 'legacy', cArg = '32', sArg = '5', rArg = '4'] = process.argv.slice(2);
const era = eraArg === 'modern' ? 'modern' : 'legacy';
const dir = mkdtempSync(join(tmpdir(), 'pc-mem-'));
const root = new URL('..', import.meta.url).pathname;
const upstream = spawn(process.execPath, ['bench/echo-server.ts', '--http', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<string>((resolve) => upstream.stdout.on('data', (d: Buffer) => resolve(/listening (\d+)/.exec(d.toString())![1]!)));
writeFileSync(join(dir, 'gw.yaml'), `listen: { port: 0 }\nlogging: { level: warn }\nsupply: { allowUnpinned: true }\nservers:\n  echo: { url: "http://127.0.0.1:${port}/mcp" }\n`);
const gateway = spawn(process.execPath, ['--expose-gc', ...(process.env.GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean), 'bin/portcullis.js', 'serve', '-c', join(dir, 'gw.yaml')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise<string>((resolve) => {
  let seen = '';
  gateway.stdout.on('data', (d: Buffer) => {
    seen += d.toString();
    const m = /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/.exec(seen);
    if (m) resolve(m[1]!);
  });
});
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
gateway.kill('SIGINT');
upstream.kill();
