/**
 * `node bench/hostile.ts [--quick]`: what each attack of issue 13 costs the gateway, and the
 * well-behaved client beside it. One gateway process (its memory is its own) fronts a well-behaved
 * server and one hostile server per attack (so that no attack inherits another's unhealthy mark); a
 * client calls the well-behaved one at 20 calls/s, open loop, before (baseline) and during each attack.
 *
 *   --quick   smaller volumes (about a minute on 2 cores; the default volumes are the review's)
 *
 * Writes bench/results/hostile.jsonl (one JSON line per attack, stamped with commit, date, machine and
 * Node); `node bench/figures.ts` renders README.md's table from it. Also prints the full table.
 */
import { once } from 'node:events';
import { PRIMING_DELAY_MS } from '../src/downstream/response-writer.ts';
import { EVERYTHING, stdioServer } from '../test/helpers/gateway.ts';
import {
  callTool,
  errorCode,
  hostileStdio,
  legacySession,
  rawRequest,
  startGatewayProcess,
  startHostileHttp,
  trickle,
  underAttack,
  unreadResponse,
  type AttackReport,
  type GatewayProcess,
} from '../test/fixtures/flood-client.ts';
import { stamp, writeResults } from './results.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const QUICK = process.argv.includes('--quick');
const MIB = 1024 * 1024;
/** Volumes: the review's by default, a fraction with --quick. */
const V = QUICK
  ? { jsonMb: 400, concurrent: 4, lineMb: 64, stderrMb: 50, notifications: 100_000, cutSessions: 3, cutCalls: 12, slow: 100 }
  : { jsonMb: 400, concurrent: 8, lineMb: 400, stderrMb: 200, notifications: 200_000, cutSessions: 4, cutCalls: 64, slow: 400 };

interface Attack {
  name: string;
  /** What the attacker sends, in words, for the table. */
  what: string;
  run: (gw: GatewayProcess) => Promise<string>;
}

const hostile = await startHostileHttp();
const endlessGet = await startHostileHttp({ endlessGet: true });
const httpServer = (era: 'modern' | 'legacy', url = hostile.url) => ({ url, era, ...(era === 'legacy' ? { transport: 'streamable-http' } : {}) });
/** Two oversized answers per server name at most, so that none is marked unhealthy mid-attack (three would). */
const PAIRS = Math.max(1, V.concurrent / 2);
const pairs = (prefix: string, era: 'modern' | 'legacy') => Object.fromEntries(Array.from({ length: PAIRS }, (_, i) => [`${prefix}${i}`, httpServer(era)]));
const gw = await startGatewayProcess({
  listen: { headersTimeoutMs: 2000, requestTimeoutMs: 4000 },
  servers: {
    good: stdioServer(EVERYTHING, ['stdio']),
    ...pairs('sse', 'modern'),
    ...pairs('json', 'modern'),
    ...pairs('legacyjson', 'legacy'),
    getstream: httpServer('legacy', endlessGet.url),
    lines: hostileStdio(),
    stderr: hostileStdio(),
    notify: hostileStdio(),
    cut: hostileStdio(),
  },
});

/** `count` concurrent calls of `tool` on each of `servers`; the codes they ended with, counted. */
async function concurrently(servers: string[], tool: string, args: Record<string, unknown>, count: number): Promise<string> {
  const calls = await Promise.all(
    servers.map(async (server) => {
      const endpoint = `${gw.base}/mcp/${server}`;
      const headers = await legacySession(endpoint);
      return Promise.all(Array.from({ length: count }, async (_, i) => errorCode(await callTool(endpoint, headers, tool, args, i + 1), i + 1) ?? 'answered'));
    }),
  );
  const codes = calls.flat();
  const tally = new Map<string, number>();
  for (const code of codes) tally.set(code, (tally.get(code) ?? 0) + 1);
  return [...tally].map(([code, n]) => `${n}× ${code}`).join(', ');
}

const names = (prefix: string, count = PAIRS) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const sentPerAttack = async (tool: string): Promise<string> => {
  const sent = (await hostile.stats()).filter((s) => s.tool === tool);
  const max = Math.max(...sent.map((s) => s.bytesSent)) / MIB;
  return `server sent ≤ ${max.toFixed(0)} MiB each before the cut`;
};

const attacks: Attack[] = [
  {
    name: 'endless SSE event',
    what: `${V.concurrent} answers at once of data lines that never end their event`,
    run: async () => `${await concurrently(names('sse'), 'endless_event', {}, 2)}; ${await sentPerAttack('endless_event')}`,
  },
  {
    name: `${V.jsonMb} MB JSON answers`,
    what: `${V.concurrent} at once in the modern era, ${V.concurrent} in the legacy era`,
    run: async () => {
      const [a, b] = await Promise.all([concurrently(names('json'), 'huge_json', { mb: V.jsonMb }, 2), concurrently(names('legacyjson'), 'huge_json', { mb: V.jsonMb }, 2)]);
      return `modern ${a}; legacy ${b}; ${await sentPerAttack('huge_json')}`;
    },
  },
  {
    name: 'endless event on a legacy GET stream',
    what: 'no call needed: the server\'s standalone stream',
    run: async (g) => {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const health = (await (await fetch(`${g.base}/healthz`)).json()) as { servers: Record<string, string> };
        if (health.servers.getstream === 'unhealthy') return 'server marked unhealthy after 3 oversized events';
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return 'not marked unhealthy within 20 s';
    },
  },
  {
    name: `${V.lineMb} MB stdout line`,
    what: 'a stdio server answers with one huge line',
    run: async () => concurrently(['lines'], 'huge_line', { mb: V.lineMb }, 1),
  },
  {
    name: `${V.stderrMb} MB stderr of \\r progress`,
    what: 'a progress bar that never writes a newline',
    run: async () => {
      const started = performance.now();
      const outcome = await concurrently(['stderr'], 'stderr_flood', { mb: V.stderrMb }, 1);
      return `${outcome} in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    },
  },
  {
    name: `${V.notifications / 1000}k notifications, unread`,
    what: 'progress on a call stream and list_changed to a GET stream, neither read',
    run: async (g) => {
      const endpoint = `${g.base}/mcp/notify`;
      const headers = await legacySession(endpoint);
      const get = await unreadResponse(endpoint, 'GET', { ...headers, accept: 'text/event-stream' });
      const call = await unreadResponse(endpoint, 'POST', headers, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'progress_flood', arguments: { count: V.notifications }, _meta: { progressToken: 'p' } } }));
      await callTool(endpoint, await legacySession(endpoint), 'list_changed_flood', { count: V.notifications }, 8);
      const dropped = await g.metric('portcullis_limit_hits_total{limit="stream_notification_dropped"}');
      const closed = await g.metric('portcullis_limit_hits_total{limit="stream_closed_slow"}');
      await Promise.all([get.read(), call.read()]);
      return `${dropped} progress notifications dropped, ${closed} slow stream closed`;
    },
  },
  {
    name: 'cut streams',
    what: `${V.cutSessions} sessions × ${V.cutCalls} calls of 900 KB, each connection dropped after the priming event`,
    run: async (g) => {
      const endpoint = `${g.base}/mcp/cut`;
      let peak = 0;
      let id = 1;
      for (let s = 0; s < V.cutSessions; s++) {
        const headers = await legacySession(endpoint);
        for (let c = 0; c < V.cutCalls; c++) {
          // Answered after the priming event, so the client leaves before the answer comes.
          const body = JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'big_answer', arguments: { kb: 900, delayMs: PRIMING_DELAY_MS + 150 } } });
          const socket = await rawRequest(endpoint, 'POST', headers, body);
          await once(socket, 'data');
          socket.destroy();
        }
        peak = Math.max(peak, await g.metric('portcullis_resume_bytes'));
      }
      await callTool(endpoint, await legacySession(endpoint), 'echo', { text: 'idle' });
      peak = Math.max(peak, await g.metric('portcullis_resume_bytes'));
      return `resume logs peaked at ${(peak / MIB).toFixed(1)} MiB (budget 16 MiB a session, 128 MiB in all) for ${((V.cutSessions * V.cutCalls * 900) / 1024).toFixed(0)} MB cut`;
    },
  },
  {
    name: 'slow headers and bodies',
    what: `${V.slow} connections sending a byte every 100 ms`,
    run: async (g) => {
      const host = new URL(g.base).host;
      const head = `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: 1000\r\n\r\n`;
      const results = await Promise.all(
        Array.from({ length: V.slow }, (_, i) => (i % 2 === 0 ? trickle(g.base, `${head}${'x'.repeat(1000)}`, 100) : trickle(g.base, `${head}${'x'.repeat(1000)}`, 100, head.length))),
      );
      const answered = results.filter((r) => r.answer.startsWith('HTTP/1.1 408')).length;
      const slowest = Math.max(...results.map((r) => r.closedAfterMs));
      return `${answered} of ${V.slow} answered 408 and closed, the last after ${(slowest / 1000).toFixed(1)} s`;
    },
  },
];

const env = stamp(QUICK);
const lines: Array<Record<string, unknown>> = [];
try {
  for (const attack of attacks) {
    process.stdout.write(`${attack.name}… `);
    const report: AttackReport<string> = await underAttack(gw, `${gw.base}/mcp/good`, () => attack.run(gw));
    const line = {
      figure: 'attack',
      attack: attack.name,
      what: attack.what,
      outcome: report.result,
      goodCalls: report.good.latencies.length,
      goodErrors: report.good.errors.length,
      baselineP50Ms: report.before.p50,
      baselineP99Ms: report.before.p99,
      goodP50Ms: report.good.p50,
      goodP99Ms: report.good.p99,
      rssBeforeMb: report.baselineMb,
      rssPeakMb: report.peakMb,
      heapAfterGcMb: await gw.heapAfterGcMb(),
      attackMs: report.durationMs,
    };
    lines.push(line);
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
} finally {
  await gw.stop();
  await hostile.close();
  await endlessGet.close();
}

const f = (n: unknown, digits = 0): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');
const table = [
  `Measured ${env.date} on ${env.machine}, Node ${env.node}, commit ${env.commit}${QUICK ? ' (quick run)' : ''}. ` +
    'The well-behaved client calls 20 times a second: p50/p99 before the attack, then during it; RSS of the gateway process.',
  '',
  '| attack | outcome | well-behaved p50 / p99 before (ms) | during (ms) | failed calls | gateway RSS before → peak (MB) | heap after GC (MB) |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...lines.map(
    (l) =>
      `| ${String(l.attack)} (${String(l.what)}) | ${String(l.outcome)} | ${f(l.baselineP50Ms)} / ${f(l.baselineP99Ms)} | ${f(l.goodP50Ms)} / ${f(l.goodP99Ms)} | ${String(l.goodErrors)} of ${Number(l.goodCalls) + Number(l.goodErrors)} | ${f(l.rssBeforeMb)} → ${f(l.rssPeakMb)} | ${f(l.heapAfterGcMb, 1)} |`,
  ),
  '',
].join('\n');
process.stdout.write(`\n${table}\nwrote ${writeResults('hostile', env, lines as Array<{ figure: string }>)}\n`);
