/**
 * `npm run bench` (through bench/all.ts) or `node bench/run.ts`: Portcullis against direct calls, a
 * naive Node proxy hop and the npm peers `supergateway` and `mcp-proxy`, measured in the same run and
 * interleaved A B A B (this machine's speed drifts up to 2x between runs, so only paired figures mean
 * anything). A second, identical naive hop ("naive hop (A/A)") in the key cells shows the noise floor of
 * the run. Loopback only; every loop is bounded in count and time.
 *
 *   node bench/run.ts                  the full matrix (about 12 minutes on 2 cores)
 *   node bench/run.ts --quick          one short trial per cell (smoke test, about 3 minutes)
 *   node bench/run.ts --key            only the cells of the README table (legacy c=1 and c=32 echo,
 *                                      modern c=1 and c=32, stdio c=32), 5 paired rounds each
 *   node bench/run.ts --soak 1000000   also run N stateless requests and report heap growth
 *   node bench/run.ts --out FILE       write the lines there instead of bench/results/performance.jsonl
 *
 * Writes bench/results/performance.jsonl (one JSON line per cell, stamped with commit, date, machine and
 * Node); `node bench/figures.ts` renders the tables of README.md and docs/performance.md from it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, median, rssBytes, start, type Proc } from './procs.ts';
import { stamp, writeResults } from './results.ts';
import { FULL_POLICY } from './full-policy.ts';
import { closedLoop, Client, openLoop, type CellResult, type Target, type Workload } from './loadgen.ts';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const KEY = argv.includes('--key');
const SOAK = argv.includes('--soak') ? Number(argv[argv.indexOf('--soak') + 1]) || 0 : 0;
const OUT = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
const TRIALS_KEY = QUICK ? 1 : 5;
const TRIALS = QUICK ? 1 : 3;
const CELL_MS = QUICK ? 1000 : 2000;
const WARMUP_MS = QUICK ? 300 : 500;
const ROOT = new URL('..', import.meta.url).pathname;
const NODE = process.execPath;

async function scrape(base: string, gc = false): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics${gc ? '?gc=1' : ''}`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m) out[`${m[1]}${m[2] ?? ''}`] = Number(m[3]);
  }
  return out;
}

// ---------- the run ----------

interface Treatment {
  name: string;
  target: Target;
  /** The process whose CPU and memory are the proxy's (none for direct). */
  pid?: number;
  metricsBase?: string;
}

interface Cell {
  family: string;
  workload: Workload;
  load: { kind: 'closed'; concurrency: number } | { kind: 'open'; rps: number };
  trials: number;
  treatments: Treatment[];
}

interface Measured extends CellResult {
  cpuUsPerRequest?: number;
  rssMb?: number;
  rssPeakMb?: number;
  eventLoopP99Ms?: number;
}

const echo: Workload = { name: 'tools/call echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello, gateway' } } };
const blob = (kb: number): Workload => ({ name: `tools/call ${kb} KB result`, method: 'tools/call', params: { name: 'blob', arguments: { bytes: kb * 1024 } } });
const list = (n: number): Workload => ({ name: `tools/list ${n} tools`, method: 'tools/list', params: {} });
const denied: Workload = { name: 'denied call (unknown tool)', method: 'tools/call', params: { name: 'not_a_tool', arguments: {} } };
const invalid: Workload = { name: 'invalid arguments', method: 'tools/call', params: { name: 'strict', arguments: { n: 'seven' } } };

async function measure(cell: Cell, treatment: Treatment): Promise<Measured> {
  const cpuBefore = treatment.pid ? cpuSeconds(treatment.pid) : 0;
  let peak = 0;
  const samples: number[] = [];
  const sampler = treatment.pid
    ? setInterval(() => {
        const rss = rssBytes(treatment.pid!);
        peak = Math.max(peak, rss);
        samples.push(rss);
      }, 100)
    : undefined;
  const result =
    cell.load.kind === 'closed'
      ? await closedLoop(treatment.target, cell.workload, cell.load.concurrency, CELL_MS, WARMUP_MS)
      : await openLoop(treatment.target, cell.workload, cell.load.rps, CELL_MS, WARMUP_MS);
  clearInterval(sampler);
  const measured: Measured = { ...result };
  if (treatment.pid) {
    const total = result.requests + result.errors;
    // Warm-up requests burn CPU too; scale by the share of the cell they made up.
    const share = CELL_MS / (CELL_MS + WARMUP_MS);
    measured.cpuUsPerRequest = total > 0 ? ((cpuSeconds(treatment.pid) - cpuBefore) * share * 1e6) / total : undefined;
    measured.rssMb = samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length / 1048576 : rssBytes(treatment.pid) / 1048576;
    measured.rssPeakMb = Math.max(peak, rssBytes(treatment.pid)) / 1048576;
  }
  if (treatment.metricsBase) {
    const m = await scrape(treatment.metricsBase).catch(() => ({}) as Record<string, number>);
    const p99 = m['nodejs_eventloop_delay_seconds{quantile="0.99",window="5s"}'];
    if (p99 !== undefined) measured.eventLoopP99Ms = p99 * 1000;
  }
  return measured;
}


async function main(): Promise<void> {
  const procs: Proc[] = [];
  const stopAll = async () => {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const upstream = async (name: string, tools: number) => {
      const p = await start(name, NODE, ['bench/echo-server.ts', '--http', '0', '--tools', String(tools)], /listening (\d+)/);
      procs.push(p);
      return `http://127.0.0.1:${p.match[1]}/mcp`;
    };
    const echoUrl = await upstream('echo-10', 10);
    const url100 = await upstream('echo-100', 100);
    const url1000 = await upstream('echo-1000', 1000);
    const naive = async (name: string, target: string) => {
      const p = await start(name, NODE, ['bench/naive-proxy.ts', '0', target], /listening (\d+)/);
      procs.push(p);
      return { url: `http://127.0.0.1:${p.match[1]}/mcp`, pid: p.pid };
    };
    const naiveEcho = await naive('naive-10', echoUrl);
    const naiveEchoB = await naive('naive-10-aa', echoUrl);
    const naive100 = await naive('naive-100', url100);
    const naive1000 = await naive('naive-1000', url1000);

    const dir = join(tmpdir(), `pc-bench-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const gateway = async (name: string, yaml: string, nodeFlags: string[] = []) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, yaml);
      const p = await start(name, NODE, [...nodeFlags, 'bin/portcullis.js', 'serve', '-c', file], /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/);
      procs.push(p);
      return { base: p.match[1]!, pid: p.pid };
    };
    const stdioEcho = `{ command: ${JSON.stringify(NODE)}, args: [bench/echo-server.ts, --stdio] }`;
    const servers = `servers:\n  echo: { url: "${echoUrl}" }\n  t100: { url: "${url100}" }\n  t1000: { url: "${url1000}" }\n  stdio: ${stdioEcho}\n`;
    const base = `listen: { port: 0, metrics: loopback }\nlogging: { level: warn }\nsupply: { allowUnpinned: true }\n`;
    // The relay with the least the gateway can run: no audit, one allow-everything rule (without a policy
    // every call is denied). Schema validation and the supply-chain check still run.
    const allowAll = 'policy: { rules: [{ name: all, effect: allow }] }\n';
    const pass = await gateway('portcullis', `${base}audit: { store: off }\n${allowAll}${servers}`);
    // Every security feature: an API key checked on each request (identity), a policy of 20 rules with
    // CEL conditions, a value guard and a rate limit set high enough not to bite, schema validation,
    // the supply-chain check, and the audit trail (SQLite, hash-chained, redacted arguments).
    const fullDir = join(dir, 'full');
    const fullYaml = `${base}dataDir: ${JSON.stringify(fullDir)}\naudit: { store: sqlite }\nidentity: { apiKeys: {} }\n${FULL_POLICY}${servers}`;
    writeFileSync(join(dir, 'portcullis-full.yaml'), fullYaml);
    const apiKey = (JSON.parse(execFileSync(NODE, ['bin/portcullis.js', 'key', 'create', '--agent', 'bench', '--scopes', 'mcp', '--expires', '1d', '--json', '-c', join(dir, 'portcullis-full.yaml')], { encoding: 'utf8' })) as { key: string }).key;
    const full = await gateway('portcullis-full', fullYaml);

    // supergateway and mcp-proxy take a port, so each gets a free one chosen here.
    const freePort = async () => {
      const { createServer } = await import('node:net');
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      const port = (s.address() as { port: number }).port;
      await new Promise<void>((r) => s.close(() => r()));
      return port;
    };
    const sgPort = await freePort();
    const sg = await start('supergateway', NODE, [
      'node_modules/supergateway/dist/index.js', '--stdio', `${NODE} bench/echo-server.ts --stdio`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(sgPort), '--logLevel', 'info',
    ], /Listening on port|listening on/i);
    procs.push(sg);
    const mpPort = await freePort();
    const mp = await start('mcp-proxy', NODE, ['node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs', '--port', String(mpPort), '--host', '127.0.0.1', '--', NODE, 'bench/echo-server.ts', '--stdio'], /starting server on port/);
    procs.push(mp);
    await new Promise((r) => setTimeout(r, 500));

    const T = (name: string, url: string, era: 'legacy' | 'modern', pid?: number, metricsBase?: string): Treatment => {
      const t: Treatment = { name, target: { url, era } };
      if (pid) t.pid = pid;
      if (metricsBase) t.metricsBase = metricsBase;
      return t;
    };
    const http10 = [
      T('direct', echoUrl, 'legacy'),
      T('naive hop', naiveEcho.url, 'legacy', naiveEcho.pid),
      T('portcullis', `${pass.base}/mcp/echo`, 'legacy', pass.pid, pass.base),
      { ...T('portcullis full', `${full.base}/mcp/echo`, 'legacy', full.pid, full.base), target: { url: `${full.base}/mcp/echo`, era: 'legacy' as const, headers: { authorization: `Bearer ${apiKey}` } } },
    ];
    // The A/A control: a second naive hop, identical to the first, measured in the same rounds.
    const http10aa = [...http10.slice(0, 2), T('naive hop (A/A)', naiveEchoB.url, 'legacy', naiveEchoB.pid), ...http10.slice(2)];
    const httpN = (n: 100 | 1000) => [
      T('direct', n === 100 ? url100 : url1000, 'legacy'),
      T('naive hop', (n === 100 ? naive100 : naive1000).url, 'legacy', (n === 100 ? naive100 : naive1000).pid),
      T('portcullis', `${pass.base}/mcp/t${n}`, 'legacy', pass.pid, pass.base),
    ];
    const modern = [
      T('direct', echoUrl, 'modern'),
      T('naive hop', naiveEcho.url, 'modern', naiveEcho.pid),
      T('portcullis', `${pass.base}/mcp/echo`, 'modern', pass.pid, pass.base),
      { ...T('portcullis full', `${full.base}/mcp/echo`, 'modern', full.pid, full.base), target: { url: `${full.base}/mcp/echo`, era: 'modern' as const, headers: { authorization: `Bearer ${apiKey}` } } },
    ];
    const stdio = [
      T('portcullis', `${pass.base}/mcp/stdio`, 'legacy', pass.pid, pass.base),
      T('supergateway', `http://127.0.0.1:${sgPort}/mcp`, 'legacy', sg.pid),
      T('mcp-proxy', `http://127.0.0.1:${mpPort}/mcp`, 'legacy', mp.pid),
    ];
    const closed = (concurrency: number) => ({ kind: 'closed' as const, concurrency });
    const open = (rps: number) => ({ kind: 'open' as const, rps });
    const allCells: Cell[] = [
      { family: 'HTTP upstream, legacy era', workload: echo, load: closed(1), trials: TRIALS_KEY, treatments: http10aa },
      { family: 'HTTP upstream, legacy era', workload: echo, load: closed(8), trials: TRIALS, treatments: http10 },
      { family: 'HTTP upstream, legacy era', workload: echo, load: closed(32), trials: TRIALS_KEY, treatments: http10aa },
      { family: 'HTTP upstream, legacy era', workload: echo, load: open(250), trials: TRIALS, treatments: http10 },
      { family: 'HTTP upstream, legacy era', workload: echo, load: open(500), trials: TRIALS, treatments: http10 },
      { family: 'HTTP upstream, legacy era', workload: echo, load: open(1000), trials: TRIALS, treatments: http10 },
      { family: 'HTTP upstream, legacy era', workload: blob(32), load: closed(1), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, legacy era', workload: blob(32), load: closed(32), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, legacy era', workload: blob(256), load: closed(1), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, legacy era', workload: blob(256), load: closed(8), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, legacy era', workload: list(10), load: closed(1), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, legacy era', workload: list(100), load: closed(1), trials: TRIALS, treatments: httpN(100) },
      { family: 'HTTP upstream, legacy era', workload: list(1000), load: closed(1), trials: TRIALS, treatments: httpN(1000) },
      { family: 'HTTP upstream, legacy era', workload: denied, load: closed(1), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, legacy era', workload: denied, load: closed(32), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, legacy era', workload: invalid, load: closed(1), trials: TRIALS, treatments: http10.slice(0, 3) },
      { family: 'HTTP upstream, modern era', workload: echo, load: closed(1), trials: TRIALS, treatments: modern },
      { family: 'HTTP upstream, modern era', workload: echo, load: closed(32), trials: TRIALS, treatments: modern },
      { family: 'stdio upstream (peers)', workload: echo, load: closed(1), trials: TRIALS, treatments: stdio },
      { family: 'stdio upstream (peers)', workload: echo, load: closed(8), trials: TRIALS, treatments: stdio },
      { family: 'stdio upstream (peers)', workload: echo, load: closed(32), trials: TRIALS, treatments: stdio },
      { family: 'stdio upstream (peers)', workload: echo, load: open(500), trials: TRIALS, treatments: stdio },
    ];
    const keyCell = (c: Cell) => c.workload === echo && c.load.kind === 'closed' && (c.load.concurrency === 32 || (c.load.concurrency === 1 && !c.family.startsWith('stdio')));
    const cells = KEY ? allCells.filter(keyCell).map((c) => ({ ...c, trials: Math.max(c.trials, 5) })) : allCells;

    const idle = { portcullisRssMb: rssBytes(pass.pid) / 1048576 };
    // Warm-up: let the JIT see every path once before anything is measured (the first cell would
    // otherwise pay for compilation in its tail latencies).
    for (const treatment of [...http10, ...modern, ...stdio]) {
      await closedLoop(treatment.target, echo, 4, QUICK ? 300 : 1500, 0);
    }
    const env = stamp(QUICK);
    const lines: Record<string, unknown>[] = [];
    for (const cell of cells) {
      const trials = new Map<string, Measured[]>();
      for (let trial = 0; trial < cell.trials; trial++) {
        // A B A B: every treatment once per round, the order rotated each round.
        const order = cell.treatments.map((_, i) => cell.treatments[(i + trial) % cell.treatments.length]!);
        for (const treatment of order) {
          const m = await measure(cell, treatment);
          const list = trials.get(treatment.name) ?? [];
          list.push(m);
          trials.set(treatment.name, list);
        }
      }
      const load = cell.load.kind === 'closed' ? `c=${cell.load.concurrency}` : `${cell.load.rps} rps`;
      const reference = trials.get('direct') ?? trials.get('portcullis');
      for (const treatment of cell.treatments) {
        const runs = trials.get(treatment.name)!;
        const paired = (key: 'p50' | 'p99') => (reference && treatment.name !== 'direct' && trials.has('direct') ? median(runs.map((r, i) => r[key] - (reference[i]?.[key] ?? Number.NaN))) : undefined);
        const line = {
          figure: 'cell',
          family: cell.family,
          workload: cell.workload.name,
          load,
          offeredRps: cell.load.kind === 'open' ? cell.load.rps : undefined,
          treatment: treatment.name,
          trials: runs.length,
          achievedRps: median(runs.map((r) => r.achievedRps)),
          p50Ms: median(runs.map((r) => r.p50)),
          p90Ms: median(runs.map((r) => r.p90)),
          p99Ms: median(runs.map((r) => r.p99)),
          p999Ms: median(runs.map((r) => r.p999)),
          addedP50Ms: paired('p50'),
          addedP99Ms: paired('p99'),
          errors: runs.reduce((a, r) => a + r.errors, 0),
          firstError: runs.find((r) => r.firstError)?.firstError,
          cpuUsPerRequest: treatment.pid ? median(runs.map((r) => r.cpuUsPerRequest ?? Number.NaN)) : undefined,
          rssSteadyMb: treatment.pid ? median(runs.map((r) => r.rssMb ?? Number.NaN)) : undefined,
          rssPeakMb: treatment.pid ? Math.max(...runs.map((r) => r.rssPeakMb ?? 0)) : undefined,
          eventLoopP99Ms: treatment.metricsBase ? median(runs.map((r) => r.eventLoopP99Ms ?? Number.NaN)) : undefined,
        };
        lines.push(line);
        process.stdout.write(
          `${cell.family} | ${cell.workload.name} | ${load} | ${treatment.name}: ${line.achievedRps.toFixed(0)} rps, p50 ${line.p50Ms.toFixed(3)} ms, p99 ${line.p99Ms.toFixed(3)} ms` +
            (line.addedP50Ms !== undefined ? `, +${line.addedP50Ms.toFixed(3)}/+${(line.addedP99Ms ?? 0).toFixed(3)} ms` : '') +
            (line.errors ? `, ${line.errors} errors (${line.firstError})` : '') +
            '\n',
        );
      }
    }

    if (!KEY) {
      // Legacy-era session churn: open, one call, abandon. Memory per live session, then reaping.
      const churnYaml = `${base}  sessionIdleMs: 3000\n${servers}`.replace('listen: { port: 0 }\n', 'listen: { port: 0, sessionIdleMs: 3000 }\n').replace('  sessionIdleMs: 3000\n', '');
      const churnGw = await gateway('portcullis-churn', churnYaml.replace('servers:', 'audit: { store: off }\nservers:'), ['--expose-gc']);
      const sessionsN = QUICK ? 500 : 3000;
      await closedLoop({ url: `${churnGw.base}/mcp/echo`, era: 'legacy' }, echo, 4, 1000, 0);
      await new Promise((r) => setTimeout(r, 1500));
      const before = await scrape(churnGw.base, true);
      const client = new Client({ url: `${churnGw.base}/mcp/echo`, era: 'legacy' }, 8);
      for (let i = 0; i < sessionsN; i += 8) {
        await Promise.all(
          Array.from({ length: Math.min(8, sessionsN - i) }, async (_, j) => {
            const headers = await client.session();
            await client.call(echo, headers, i + j + 1);
          }),
        );
      }
      const live = await scrape(churnGw.base, true);
      const liveRss = rssBytes(churnGw.pid);
      await new Promise((r) => setTimeout(r, 3000 + 2500));
      const reaped = await scrape(churnGw.base, true);
      await client.close();
      const churn = {
        figure: 'session-churn',
        sessions: sessionsN,
        liveSessions: live.portcullis_sessions_active,
        heapPerSessionKb: ((live.nodejs_heap_used_bytes ?? 0) - (before.nodejs_heap_used_bytes ?? 0)) / sessionsN / 1024,
        rssPerSessionKb: (liveRss - (before.process_resident_memory_bytes ?? 0)) / sessionsN / 1024,
        sessionsAfterTtl: reaped.portcullis_sessions_active,
        heapAfterTtlMb: (reaped.nodejs_heap_used_bytes ?? 0) / 1048576,
        heapBeforeMb: (before.nodejs_heap_used_bytes ?? 0) / 1048576,
      };
      lines.push(churn);
      process.stdout.write(`session churn: ${JSON.stringify(churn)}\n`);
    }

    if (SOAK > 0) {
      const soakClient = new Client({ url: `${pass.base}/mcp/echo`, era: 'modern' }, 32);
      const start = await scrape(pass.base);
      let id = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (id < SOAK) await soakClient.call(echo, {}, ++id);
        }),
      );
      await new Promise((r) => setTimeout(r, 2000));
      const end = await scrape(pass.base);
      await soakClient.close();
      const soak = { figure: 'stateless-soak', requests: SOAK, heapStartMb: (start.nodejs_heap_used_bytes ?? 0) / 1048576, heapEndMb: (end.nodejs_heap_used_bytes ?? 0) / 1048576, rssStartMb: (start.process_resident_memory_bytes ?? 0) / 1048576, rssEndMb: (end.process_resident_memory_bytes ?? 0) / 1048576 };
      lines.push(soak);
      process.stdout.write(`stateless soak: ${JSON.stringify(soak)}\n`);
    }

    lines.push({ figure: 'idle-rss', config: 'bench config, 4 servers', rssMb: idle.portcullisRssMb });
    const written = OUT ? (writeFileSync(OUT, lines.map((l) => JSON.stringify({ ...env, ...l })).join('\n') + '\n'), OUT) : writeResults('performance', env, lines as Array<{ figure: string }>);
    process.stdout.write(`\nwrote ${written}; render the tables with node bench/figures.ts\n`);
  } finally {
    await stopAll();
  }
}

await main();
