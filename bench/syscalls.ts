/**
 * System calls per call of the gateway, counted by strace, not timed: a figure that holds on a busy
 * machine. `node bench/syscalls.ts [off|full] [--calls N] [--warmup N] [--root DIR]`.
 *
 * Starts the echo gateway (bench/echo-gateway.ts; `off` the passthrough, `full` the full chain),
 * warms it with `--warmup` legacy-era `tools/call` echoes (default 500), attaches `strace -c` to every
 * thread of the gateway for `--calls` more (default 1000) at concurrency 1, and prints the calls per
 * request by system call. `--root` runs another built checkout's gateway (the before of a change).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startGatewayFor } from './echo-gateway.ts';
import { Client } from './loadgen.ts';
import { answerHelp, option } from './usage.ts';

answerHelp(import.meta.url);
const mode = process.argv[2] === 'full' ? 'full' : 'off';
const calls = Number(option('--calls') ?? 1000);
const warmup = Number(option('--warmup') ?? 500);
const root = option('--root');
const dir = mkdtempSync(join(tmpdir(), 'pc-syscalls-'));
const gateway = await startGatewayFor(mode, dir, [], root ? { root: resolve(root) } : {});
const client = new Client({ url: `${gateway.base}/mcp/echo`, era: 'legacy', ...(gateway.headers ? { headers: gateway.headers } : {}) }, 1);
const workload = { name: 'echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello, gateway' } } };
const session = await client.session();
let id = 1;
let errors = 0;
const run = async (count: number): Promise<void> => {
  for (let i = 0; i < count; i++) if (await client.call(workload, session, id++)) errors += 1;
};
await run(warmup);
const out = join(dir, 'strace.txt');
const threads = readdirSync(`/proc/${gateway.pid}/task`);
const strace = spawn('strace', ['-c', '-o', out, ...threads.flatMap((t) => ['-p', t])], { stdio: ['ignore', 'ignore', 'pipe'] });
// strace says "Process N attached" once per thread on stderr.
await new Promise<void>((done) => {
  let attached = 0;
  strace.stderr.on('data', (chunk: Buffer) => {
    attached += (chunk.toString().match(/attached/g) ?? []).length;
    if (attached >= threads.length) done();
  });
});
await run(calls);
const exited = new Promise((done) => strace.once('exit', done));
strace.kill('SIGINT');
await exited;
await client.close();
await gateway.stop();
const rows = readFileSync(out, 'utf8')
  .split('\n')
  .map((line) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line))
  .filter((m): m is RegExpExecArray => m !== null && m[2] !== 'total')
  .map((m) => ({ name: m[2]!, count: Number(m[1]) }))
  .sort((a, b) => b.count - a.count);
const total = rows.reduce((n, r) => n + r.count, 0);
process.stdout.write(
  `${mode} ${root ?? 'this tree'}: ${calls} calls, ${errors} errors, ${(total / calls).toFixed(2)} system calls per call (${rows.map((r) => `${r.name} ${(r.count / calls).toFixed(2)}`).join(', ')})\n`,
);
