/**
 * Where the gateway allocates, per call: `node bench/alloc.ts [legacy|modern] [concurrency] [seconds] [off|full]`.
 * `off` and `full` as in bench/profile.ts (the benchmark's passthrough and full chain; without either,
 * allow-all with the SQLite audit). Starts an echo upstream and the gateway with its inspector on a
 * loopback port, drives a closed loop under V8's sampling heap profiler — objects the young and old
 * collections freed included, so it counts everything allocated, not what stayed — and prints the
 * bytes allocated per call, by function (self) and with what it calls (inclusive).
 *
 * Every byte allocated is young-generation work and, when it outlives a scavenge, old-generation work
 * (the GC time and the p99 pauses under load). Unlike wall time, bytes per call barely move when other
 * processes load the machine, so a change can be judged on a busy machine: compare two runs' totals.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGatewayFor } from './echo-gateway.ts';
import { closedLoop } from './loadgen.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const [eraArg = 'legacy', cArg = '32', sArg = '3', mode] = process.argv.slice(2);
const era = eraArg === 'modern' ? 'modern' : 'legacy';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** A free loopback port for the inspector (chosen here: the gateway's own output is not read for it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One DevTools-protocol connection to the gateway's inspector. */
async function inspector(port: number): Promise<{ call: (method: string, params?: object) => Promise<any>; close: () => void }> {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const socket = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? message.error);
  });
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pc-alloc-'));
const port = await freePort();
const gateway = await startGatewayFor(mode, dir, [`--inspect=127.0.0.1:${port}`]);
const target = { url: `${gateway.base}/mcp/echo`, era, ...(gateway.headers ? { headers: gateway.headers } : {}) } as const;
const echo = { name: 'echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello, gateway' } } };
let profile: { head: SamplingNode };
let calls: number;
try {
  await closedLoop(target, echo, 4, 1500, 0); // JIT warm-up
  const devtools = await inspector(port);
  await devtools.call('HeapProfiler.enable');
  await devtools.call('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const result = await closedLoop(target, echo, Number(cArg), Number(sArg) * 1000, 0);
  ({ profile } = (await devtools.call('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } });
  devtools.close();
  calls = result.requests;
  process.stdout.write(`${era} c=${cArg}${mode ? ` ${mode}` : ''}: ${calls} calls, ${result.achievedRps.toFixed(0)} rps, errors ${result.errors}\n`);
} finally {
  await gateway.stop();
}

const name = (n: SamplingNode): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, 'src/')}:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
const walk = (node: SamplingNode, stack: string[]): void => {
  const here = [...stack, name(node)];
  if (node.selfSize > 0) {
    total += node.selfSize;
    self.set(name(node), (self.get(name(node)) ?? 0) + node.selfSize);
    for (const frame of new Set(here)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, here);
};
walk(profile.head, []);
const perCall = (bytes: number): string => `${(bytes / calls / 1024).toFixed(2).padStart(7)} KB`;
process.stdout.write(`allocated: ${(total / calls / 1024).toFixed(1)} KB per call\n\nby function (self):\n`);
for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${perCall(bytes)}  ${key}\n`);
process.stdout.write('\nthe gateway\'s own functions with what they call (inclusive):\n');
const own = [...inclusive].filter(([key]) => / src\//.test(key)).sort((a, b) => b[1] - a[1]);
for (const [key, bytes] of own.slice(0, 30)) process.stdout.write(`${perCall(bytes)}  ${key}\n`);
// Self bytes by file: the gateway's modules, node's and each dependency's.
const byFile = new Map<string, number>();
for (const [key, bytes] of self) {
  const file = key.replace(/^.* /, '').replace(/:\d+$/, '').replace(/^((?:@[^/]+\/)?[^/]+)\/.*$/, (m, pkg: string) => (m.startsWith('src/') ? m : pkg));
  byFile.set(file, (byFile.get(file) ?? 0) + bytes);
}
process.stdout.write('\nby file (self):\n');
for (const [key, bytes] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${perCall(bytes)}  ${key}\n`);

// `ALLOC_CALLERS=name` also prints where the functions of that name were called from (six frames up).
const callersOf = process.env.ALLOC_CALLERS;
if (callersOf) {
  const stacks = new Map<string, number>();
  const find = (node: SamplingNode, stack: string[]): void => {
    const here = [...stack, name(node)];
    if (node.selfSize > 0 && node.callFrame.functionName === callersOf) {
      const key = here.slice(-7, -1).reverse().join(' < ');
      stacks.set(key, (stacks.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) find(child, here);
  };
  find(profile.head, []);
  process.stdout.write(`\ncallers of ${callersOf}:\n`);
  for (const [key, bytes] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 12)) process.stdout.write(`${perCall(bytes)}  ${key}\n`);
}
