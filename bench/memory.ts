/**
 * Idle memory of the embedded default, and memory under load: `node bench/memory.ts [--quick] [--load]`.
 *
 * Starts what `npm start` starts — `bin/portcullis.js serve` with no config file (the embedded default:
 * server-filesystem as a stdio child, authentication on, the starter policy, the SQLite audit trail) —
 * on a fresh data dir and a free loopback port, waits until it listens, lets it settle, and reads the
 * gateway process's resident set (VmRSS) and its anonymous part (RssAnon, what the gateway allocated, as
 * opposed to the pages of the Node binary) from /proc. Three starts (one with --quick); the median is
 * the figure. With `--load`, then also the full chain of bench/run.ts (API key, 20-rule policy,
 * rate limit, SQLite audit) in front of the echo server, started through the launcher as `npm start`
 * would, under an open loop of 1,000 legacy-era `tools/call` a second for 60 s (15 s with --quick) in three rounds: the
 * gateway's resident set sampled every half second (mean, peak, and the last round's mean against the
 * first's: a leak or an unbounded buffer shows as growth) and its heap after a full collection at the
 * end of each round. Writes bench/results/memory.jsonl.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstMatch } from '../test/helpers/gateway.ts';
import { startFullEchoGateway } from './echo-gateway.ts';
import { openLoop } from './loadgen.ts';
import { rssBytes } from './procs.ts';
import { stamp, writeResults } from './results.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const QUICK = process.argv.includes('--quick');
const ROOT = new URL('..', import.meta.url).pathname;
const STARTS = QUICK ? 1 : 3;
const SETTLE_MS = QUICK ? 2000 : 5000;
const LOAD_S = process.argv.includes('--load') ? (QUICK ? 15 : 60) : 0;
const LOAD_RPS = 1000;
const ROUNDS = 3;

function status(pid: number): { rssMb: number; anonMb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024 };
}

const median = (values: number[]): number => {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

async function idleOnce(): Promise<{ rssMb: number; anonMb: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-idle-'));
  const child = spawn(process.execPath, ['bin/portcullis.js', 'serve', '--data-dir', dataDir, '--port', '0', '--no-reload', '--metrics', 'loopback'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: dataDir, PORTCULLIS_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await firstMatch(child, /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/);
    child.stdout!.resume();
    child.stderr!.resume();
    // Settle: start-up garbage collected, the stdio child connected. Five samples a second apart at
    // the end of it; the median is this start's figure.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const samples: Array<{ rssMb: number; anonMb: number }> = [];
    for (let i = 0; i < 5; i++) {
      samples.push(status(child.pid!));
      await new Promise((r) => setTimeout(r, 200));
    }
    return { rssMb: median(samples.map((s) => s.rssMb)), anonMb: median(samples.map((s) => s.anonMb)) };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const at = stamp(QUICK);
const runs: Array<{ rssMb: number; anonMb: number }> = [];
for (let i = 0; i < STARTS; i++) runs.push(await idleOnce());
const figure = {
  figure: 'idle-rss',
  config: 'embedded default (npm start)',
  starts: STARTS,
  rssMb: median(runs.map((r) => r.rssMb)),
  anonMb: median(runs.map((r) => r.anonMb)),
};

async function underLoad(seconds: number): Promise<{ figure: string } & Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'pc-load-'));
  const gateway = await startFullEchoGateway(dir, ['--expose-gc']);
  const heapAfterGc = async (): Promise<number> => {
    const text = await (await fetch(`${gateway.base}/metrics?gc=1`)).text();
    return Number(/^nodejs_heap_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN) / 1048576;
  };
  const rounds: Array<{ rssMeanMb: number; rssPeakMb: number; heapMb: number; rps: number; p50: number; p99: number; errors: number }> = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(rssBytes(gateway.pid) / 1048576), 500);
      const r = await openLoop({ url: `${gateway.base}/mcp/echo`, era: 'legacy', headers: gateway.headers! }, { name: 'echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }, LOAD_RPS, (seconds * 1000) / ROUNDS, 0);
      clearInterval(sampler);
      rounds.push({ rssMeanMb: samples.reduce((a, b) => a + b, 0) / samples.length, rssPeakMb: Math.max(...samples), heapMb: await heapAfterGc(), rps: r.achievedRps, p50: r.p50, p99: r.p99, errors: r.errors });
    }
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const first = rounds[0]!;
  const last = rounds.at(-1)!;
  return {
    figure: 'load-rss',
    config: 'full chain (API key, 20 rules, rate limit, SQLite audit), legacy tools/call echo',
    offeredRps: LOAD_RPS,
    seconds,
    rounds: ROUNDS,
    achievedRps: median(rounds.map((r) => r.rps)),
    p50Ms: median(rounds.map((r) => r.p50)),
    p99Ms: median(rounds.map((r) => r.p99)),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    rssMeanMb: rounds.reduce((a, r) => a + r.rssMeanMb, 0) / rounds.length,
    rssPeakMb: Math.max(...rounds.map((r) => r.rssPeakMb)),
    rssGrowthPct: ((last.rssMeanMb - first.rssMeanMb) / first.rssMeanMb) * 100,
    heapFirstMb: first.heapMb,
    heapLastMb: last.heapMb,
  };
}

const figures: Array<{ figure: string } & Record<string, unknown>> = [figure];
if (LOAD_S > 0) figures.push(await underLoad(LOAD_S));
process.stdout.write(`${figures.map((f) => JSON.stringify(f)).join('\n')}\nwrote ${writeResults('memory', at, figures)}\n`);
