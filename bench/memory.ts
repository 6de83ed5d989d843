/**
 * Idle memory of the embedded default: `node bench/memory.ts [--quick]`.
 *
 * Starts what `npm start` starts — `bin/portcullis.js serve` with no config file (the embedded default:
 * server-filesystem as a stdio child, authentication on, the starter policy, the SQLite audit trail) —
 * on a fresh data dir and a free loopback port, waits until it listens, lets it settle, and reads the
 * gateway process's resident set (VmRSS) and its anonymous part (RssAnon, what the gateway allocated, as
 * opposed to the pages of the Node binary) from /proc. Three starts (one with --quick); the median is
 * the figure. Writes bench/results/memory.jsonl.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstMatch } from '../test/helpers/gateway.ts';
import { stamp, writeResults } from './results.ts';

const QUICK = process.argv.includes('--quick');
const ROOT = new URL('..', import.meta.url).pathname;
const STARTS = QUICK ? 1 : 3;
const SETTLE_MS = QUICK ? 2000 : 5000;

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
  const child = spawn(process.execPath, ['bin/portcullis.js', 'serve', '--data-dir', dataDir, '--port', '0', '--no-reload'], {
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
process.stdout.write(`${JSON.stringify(figure)}\nwrote ${writeResults('memory', at, [figure])}\n`);
