/**
 * Instructions per call of the gateway, counted by valgrind (callgrind), not timed: a figure that
 * holds on a busy machine. `node bench/icount.ts [off|full] [--calls N] [--warmup N] [--concurrency C] [--root DIR] [--perf-map]`.
 *
 * Starts the echo upstream natively and the gateway under `valgrind --tool=callgrind` with
 * instrumentation off, warms the JIT with `--warmup` calls (default 1500), switches instrumentation on
 * (`callgrind_control -i on`) for `--calls` legacy-era `tools/call` echoes (default 500) at `--concurrency`
 * (default 1), switches it off, counts the same length of time again without calls (timers and background
 * work, which valgrind's slow clock would otherwise charge to the calls) and prints the gateway's
 * instructions (Ir) per call less that idle share, for its main thread and for all threads. `off` is
 * the benchmark's passthrough, `full` its full chain; `--root` runs another built checkout's gateway
 * (the before of a change). Slow (valgrind runs node ~50× slower): minutes, not seconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startGatewayFor } from './echo-gateway.ts';
import { Client } from './loadgen.ts';
import { answerHelp, option } from './usage.ts';

answerHelp(import.meta.url);
const mode = process.argv[2] === 'full' ? 'full' : 'off';
const calls = Number(option('--calls') ?? 500);
const warmup = Number(option('--warmup') ?? 1500);
const concurrency = Number(option('--concurrency') ?? 1);
const root = option('--root');
/** `--perf-map`: V8 writes /tmp/perf-<pid>.map, which names the JIT code of the dumps (JavaScript functions). */
const nodeFlags = process.argv.includes('--perf-map') ? ['--perf-basic-prof'] : [];
const dir = mkdtempSync(join(tmpdir(), 'pc-icount-'));
// --trace-children: the launcher (bin/portcullis.js) replaces itself once with its V8 flags (execve).
// --separate-threads: the main thread's count is reported on its own too — V8's background threads
// (concurrent marking, sweeping, compilation) run on their own schedule, which a loaded machine's slow
// clock shifts into or out of the window; the main thread's work is what each call asks for.
const wrapper = ['valgrind', '--tool=callgrind', '--trace-children=yes', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'cg.%p')}`];
const gateway = await startGatewayFor(mode, dir, nodeFlags, { wrapper, ...(root ? { root: resolve(root) } : {}) });
const client = new Client({ url: `${gateway.base}/mcp/echo`, era: 'legacy', ...(gateway.headers ? { headers: gateway.headers } : {}) }, concurrency);
const workload = { name: 'echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello, gateway' } } };
const sessions = await Promise.all(Array.from({ length: concurrency }, () => client.session()));
let id = 1;
let errors = 0;
const run = async (count: number): Promise<void> => {
  let left = count;
  await Promise.all(
    sessions.map(async (headers) => {
      while (left-- > 0) if (await client.call(workload, headers, id++)) errors += 1;
    }),
  );
};
await run(warmup);
// valgrind's own process is the gateway's pid (valgrind execs in place).
const control = (flag: string): void => void execFileSync('callgrind_control', [flag, String(gateway.pid)], { stdio: 'ignore' });
const dumped = (): number => new Set(readdirSync(dir).flatMap((f) => /^cg\.\d+\.(\d+)-\d+$/.exec(f)?.[1] ?? [])).size;
/** Instruments `work` alone and dumps its counts: resolves with its wall time (ms). */
const window = async (work: () => Promise<void>): Promise<number> => {
  const before = dumped();
  control('-z');
  control('--instr=on');
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  control('--instr=off');
  control('-d');
  while (dumped() === before) await new Promise((resolve) => setTimeout(resolve, 50));
  // One file per thread: the others are written right after the first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return ms;
};
const loadMs = await window(() => run(calls));
// The same time without calls: what timers and background work (the approvals sweep, collectors)
// cost whatever the traffic, which under valgrind's slow clock would otherwise be charged to the calls.
const idleMs = await window(() => new Promise((resolve) => setTimeout(resolve, loadMs)));
await client.close();
await gateway.stop();
// Each dump is one file per thread (`cg.<pid>.<dump>-<thread>`, thread 01 the main one), each ending
// with its totals line: "totals: <Ir>"; dump 1 is the calls, dump 2 the idle window.
const totals = (n: number, mainOnly: boolean): number =>
  readdirSync(dir)
    .filter((f) => new RegExp(`^cg\\.\\d+\\.${n}-${mainOnly ? '01' : '\\d+'}$`).test(f))
    .reduce((sum, file) => sum + Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? Number.NaN), 0);
const k = (ir: number): string => (ir / calls / 1000).toFixed(1);
const net = (mainOnly: boolean): string => {
  const load = totals(1, mainOnly);
  const idle = totals(2, mainOnly) * (loadMs / idleMs);
  return `${k(load - idle)} k instructions per call (${k(load)} k with the idle window's ${k(idle)} k)`;
};
process.stdout.write(
  `${mode} ${root ?? 'this tree'} c=${concurrency}: ${calls} calls, ${errors} errors, main thread ${net(true)}; all threads ${net(false)}; ${(loadMs / 1000).toFixed(0)} s — dumps in ${dir}\n`,
);
