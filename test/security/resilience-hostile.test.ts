/**
 * Hostile servers cannot take the gateway down (issue 13): a server that answers with an SSE event that
 * never ends, with a 400 MB JSON body, with a stdout line that never ends, or floods its stderr with
 * `\r` progress, costs the gateway a bounded amount of memory and time. Each call it ruins fails with
 * PC_UPSTREAM_TOO_LARGE, the connection is dropped (the server sees its stream cut), repeats mark the
 * server unhealthy — and all the while a second client's calls to a well-behaved server keep succeeding
 * with normal latency. The gateway runs in its own process, so its resident memory is its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVERYTHING, stdioServer, waitFor } from '../helpers/gateway.ts';
import {
  assertUnharmed as assertBounded,
  callTool,
  errorCode,
  hostileStdio,
  legacySession,
  startGatewayProcess,
  startHostileHttp,
  underAttack,
  type AttackReport,
} from '../fixtures/flood-client.ts';

const MIB = 1024 * 1024;
/** What a whole attack may add to the gateway's resident memory; unbounded, these attacks took it to 4–8 GB. */
const RSS_HEADROOM_MB = 200;

const assertUnharmed = (report: AttackReport<unknown>, what: string): void => assertBounded(report, what, RSS_HEADROOM_MB);

const healthOf = async (base: string): Promise<Record<string, string>> => ((await (await fetch(`${base}/healthz`)).json()) as { servers: Record<string, string> }).servers;

describe('hostile HTTP servers', () => {
  it('fails endless SSE events and 400 MB JSON answers with PC_UPSTREAM_TOO_LARGE in both eras, cutting each transfer short', async () => {
    const hostile = await startHostileHttp();
    const servers: Record<string, unknown> = { good: stdioServer(EVERYTHING, ['stdio']) };
    const attacks = [
      ['modern-sse', 'modern', 'endless_event', {}],
      ['modern-json', 'modern', 'huge_json', {}],
      ['legacy-sse', 'legacy', 'endless_event', {}],
      ['legacy-json', 'legacy', 'huge_json', {}],
      ['declared', 'modern', 'huge_json', { declared: true }],
    ] as const;
    for (const [name, era] of attacks) servers[name] = { url: hostile.url, era, ...(era === 'legacy' ? { transport: 'streamable-http' } : {}) };
    // A 4 MiB limit keeps the test quick on a shared machine; the mechanism is the same at the 16 MiB default.
    const gw = await startGatewayProcess({ defaults: { maxMessageBytes: 4 * MIB }, servers });
    try {
      const report = await underAttack(gw, `${gw.base}/mcp/good`, () =>
        Promise.all(
          attacks.map(async ([name, , tool, args]) => {
            const endpoint = `${gw.base}/mcp/${name}`;
            const headers = await legacySession(endpoint);
            // All five at once (the bench runs eight 400 MB answers together, as in the review).
            return [[name, errorCode(await callTool(endpoint, headers, tool, args, 1), 1)]];
          }),
        ),
      );
      for (const [name, code] of report.result.flat()) assert.equal(code, 'PC_UPSTREAM_TOO_LARGE', `${name} answer refused`);
      assertUnharmed(report, 'oversized answers');
      const stats = await hostile.stats();
      assert.equal(stats.length, 5);
      for (const attack of stats) {
        assert.ok(attack.cut && !attack.done, `${attack.tool}: the gateway dropped the connection before the end`);
        assert.ok(attack.bytesSent < 32 * MIB, `${attack.tool}: the server could send only ${(attack.bytesSent / MIB).toFixed(1)} MiB, not 400`);
      }
      const metrics = await gw.metrics();
      for (const [name] of attacks) {
        assert.match(metrics, new RegExp(`portcullis_limit_hits_total\\{limit="upstream_message_too_large",server="${name}"\\} 1\\n`));
        const records = await gw.audit(name);
        assert.ok(records.some((r) => r.method === 'tools/call' && r.code === 'PC_UPSTREAM_TOO_LARGE'), `${name}: the failed call is in the audit trail`);
      }
    } finally {
      await gw.stop();
      await hostile.close();
    }
  });

  it('marks a server unhealthy after repeated oversized messages — even on a legacy GET stream no call asked for — and refuses only its calls', async () => {
    const hostile = await startHostileHttp();
    const endlessGet = await startHostileHttp({ endlessGet: true });
    const gw = await startGatewayProcess({
      defaults: { maxMessageBytes: 4 * MIB },
      servers: {
        good: stdioServer(EVERYTHING, ['stdio']),
        bad: { url: hostile.url, era: 'modern' },
        sibling: { url: hostile.url, era: 'modern' },
        getstream: { url: endlessGet.url, era: 'legacy', transport: 'streamable-http' },
      },
    });
    try {
      const report = await underAttack(gw, `${gw.base}/mcp/good`, async () => {
        const endpoint = `${gw.base}/mcp/bad`;
        const headers = await legacySession(endpoint);
        const codes: Array<string | undefined> = [];
        for (let id = 1; id <= 3; id++) codes.push(errorCode(await callTool(endpoint, headers, 'endless_event', {}, id), id));
        const refused = (await callTool(endpoint, headers, 'echo', { text: 'x' }, 4)).find((m) => m.id === 4);
        // The legacy session reopens its GET stream with backoff; three endless events mark it unhealthy too.
        await waitFor(async () => (await healthOf(gw.base)).getstream === 'unhealthy' || undefined, 15_000, 'getstream unhealthy');
        return { codes, refused };
      });
      assert.deepEqual(report.result.codes, ['PC_UPSTREAM_TOO_LARGE', 'PC_UPSTREAM_TOO_LARGE', 'PC_UPSTREAM_TOO_LARGE']);
      assert.equal(report.result.refused?.error?.data?.code, 'PC_UPSTREAM_UNAVAILABLE');
      assert.equal(report.result.refused?.error?.data?.state, 'unhealthy');
      assert.ok((await gw.audit('bad')).some((r) => r.target === 'echo' && r.code === 'PC_UPSTREAM_UNAVAILABLE'), 'the refusal is in the audit trail');
      assertUnharmed(report, 'repeated oversized messages');
      const health = await healthOf(gw.base);
      assert.equal(health.bad, 'unhealthy');
      assert.equal(health.good, 'ready');
      assert.equal(health.sibling, 'ready', 'the same URL under another name is a separate server, still served');
      const sibling = `${gw.base}/mcp/sibling`;
      assert.match(JSON.stringify(await callTool(sibling, await legacySession(sibling), 'echo', { text: 'fine' })), /fine/);
      assert.ok((await endlessGet.stats()).filter((s) => s.tool === 'get_stream').every((s) => s.cut && s.bytesSent < 32 * MIB));
      assert.equal(await gw.metric('portcullis_limit_hits_total{limit="upstream_unhealthy",server="bad"}'), 1);
      assert.equal(await gw.metric('portcullis_limit_hits_total{limit="upstream_message_too_large",server="bad"}'), 3);
      // Three refusals in a burst: logged once, then (at most) one summary line — never once per event.
      const logged = gw.log().split('\n').filter((l) => l.includes('"limit":"upstream_message_too_large"') && l.includes('"server":"bad"'));
      assert.ok(logged.length >= 1 && logged.length <= 2, `${logged.length} log lines`);
    } finally {
      await gw.stop();
      await hostile.close();
      await endlessGet.close();
    }
  });
});

describe('hostile stdio servers', () => {
  it('skips an oversized stdout line (id first or last) and fails only its call; an endless line gets the child restarted', async () => {
    // Two servers, so that three oversized messages do not add up to one server marked unhealthy; the
    // endless one has the smallest limit, so that "endless" (64 times the limit) comes in a test's time.
    const restart = { initialDelayMs: 50, maxDelayMs: 200 };
    const gw = await startGatewayProcess({
      servers: {
        good: stdioServer(EVERYTHING, ['stdio']),
        lines: hostileStdio({ restart }),
        endless: hostileStdio({ maxMessageBytes: 64 * 1024, restart }),
      },
    });
    try {
      const report = await underAttack(gw, `${gw.base}/mcp/good`, async () => {
        const lines = `${gw.base}/mcp/lines`;
        const headers = await legacySession(lines);
        const first = errorCode(await callTool(lines, headers, 'huge_line', { mb: 64 }, 1), 1);
        const last = errorCode(await callTool(lines, headers, 'huge_line', { mb: 24, idLast: true }, 2), 2);
        const after = await callTool(lines, headers, 'echo', { text: 'same child' }, 3);
        const endless = `${gw.base}/mcp/endless`;
        const cut = (await callTool(endless, await legacySession(endless), 'endless_line', {}, 4)).find((m) => m.id === 4);
        await waitFor(async () => (await healthOf(gw.base)).endless === 'ready' || undefined, 15_000, 'restart');
        const restarted = await callTool(endless, await legacySession(endless), 'echo', { text: 'new child' }, 5);
        return { first, last, after, cut, restarted };
      });
      assert.equal(report.result.first, 'PC_UPSTREAM_TOO_LARGE');
      assert.equal(report.result.last, 'PC_UPSTREAM_TOO_LARGE');
      assert.match(JSON.stringify(report.result.after), /same child/, 'the server kept serving after a skipped line');
      assert.equal(report.result.cut?.error?.data?.code, 'PC_UPSTREAM_CRASHED');
      assert.match(report.result.cut?.error?.message, /stopped by the gateway: its stdout line passed/);
      assert.match(JSON.stringify(report.result.restarted), /new child/);
      assertUnharmed(report, 'oversized stdout lines');
      const records = await gw.audit('lines');
      assert.equal(records.filter((r) => r.target === 'huge_line' && r.code === 'PC_UPSTREAM_TOO_LARGE').length, 2, 'both refusals are in the audit trail');
      assert.equal(await gw.metric('portcullis_limit_hits_total{limit="upstream_message_too_large",server="lines"}'), 2);
    } finally {
      await gw.stop();
    }
  });

  it('reads 100 MB of \\r-only stderr progress in linear time, holding nothing', async () => {
    const gw = await startGatewayProcess({ servers: { good: stdioServer(EVERYTHING, ['stdio']), hostile: hostileStdio() } });
    try {
      const endpoint = `${gw.base}/mcp/hostile`;
      const cpu = async () => (await gw.metric('process_cpu_user_seconds_total')) + (await gw.metric('process_cpu_system_seconds_total'));
      const before = await cpu();
      const report = await underAttack(gw, `${gw.base}/mcp/good`, async () => callTool(endpoint, await legacySession(endpoint), 'stderr_flood', { mb: 100 }));
      const used = (await cpu()) - before;
      assert.match(JSON.stringify(report.result), /wrote 100 MiB/);
      assertUnharmed(report, 'stderr flood');
      // The quadratic scan this replaces spent 1.4 cores for minutes on the same input.
      assert.ok(report.durationMs < 20_000, `the flood was read in ${report.durationMs.toFixed(0)} ms`);
      assert.ok(used < 8, `the gateway spent ${used.toFixed(2)} s of CPU on 100 MB of stderr`);
    } finally {
      await gw.stop();
    }
  });
});
