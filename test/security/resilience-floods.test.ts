/**
 * Floods cannot take the gateway down (issue 13): clients that stop reading their streams while a server
 * floods notifications, clients that cut every stream and open session after session, and clients that
 * send their headers or bodies a byte at a time each cost a bounded amount of memory, are counted in
 * /metrics — and a second client's calls keep succeeding with normal latency throughout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { PRIMING_DELAY_MS } from '../../src/downstream/response-writer.ts';
import { EVERYTHING, runCli, stdioServer, waitFor } from '../helpers/gateway.ts';
import {
  assertUnharmed as assertBounded,
  callTool,
  hostileStdio,
  legacySession,
  messagesOf,
  rawRequest,
  unreadResponse,
  startGatewayProcess,
  trickle,
  underAttack,
  type AttackReport,
  type GatewayProcess,
} from '../fixtures/flood-client.ts';

const MIB = 1024 * 1024;
const MODERN = '2026-07-28';
const RSS_HEADROOM_MB = 150;

const assertUnharmed = (report: AttackReport<unknown>, what: string, headroomMb = RSS_HEADROOM_MB): void => assertBounded(report, what, headroomMb);

const hits = (gw: GatewayProcess, limit: string): Promise<number> => gw.metric(`portcullis_limit_hits_total{limit="${limit}"}`);

/** A modern-era request body with the envelope every request carries. */
function modernBody(id: number, method: string, params: Record<string, unknown>): string {
  const _meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'flood', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  return JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta } });
}

describe('notification floods into streams nobody reads', () => {
  it('drops progress past the queue limit on a call stream, but still delivers the answer', async () => {
    const gw = await startGatewayProcess({ servers: { good: stdioServer(EVERYTHING, ['stdio']), hostile: hostileStdio() } });
    try {
      const endpoint = `${gw.base}/mcp/hostile`;
      const report = await underAttack(gw, `${gw.base}/mcp/good`, async () => {
        const headers = await legacySession(endpoint);
        const body = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'progress_flood', arguments: { count: 100_000 }, _meta: { progressToken: 'p' } } });
        const response = await unreadResponse(endpoint, 'POST', headers, body);
        // The server answers in order: once this echo is back, the flood and its answer have been read.
        await callTool(endpoint, await legacySession(endpoint), 'echo', { text: 'after the flood' });
        return messagesOf(await response.read());
      });
      const progress = report.result.filter((m) => m.method === 'notifications/progress');
      assert.ok(progress.length < 100_000, `${progress.length} of 100000 progress notifications were delivered; the rest were dropped`);
      assert.match(JSON.stringify(report.result.find((m) => m.id === 9)?.result), /sent 100000 notifications/, 'the answer is never dropped');
      assertUnharmed(report, 'progress flood');
      // A burst is logged once (and summarised), not once per dropped notification.
      assert.ok(gw.log().split('\n').filter((l) => l.includes('"limit":"stream_notification_dropped"')).length <= 3);
    } finally {
      await gw.stop();
    }
  });

  it('closes a legacy GET stream and a modern listen stream whose clients stop reading during a list_changed flood', async () => {
    const gw = await startGatewayProcess({ servers: { good: stdioServer(EVERYTHING, ['stdio']), hostile: hostileStdio() } });
    try {
      const endpoint = `${gw.base}/mcp/hostile`;
      const report = await underAttack(gw, `${gw.base}/mcp/good`, async () => {
        const headers = await legacySession(endpoint);
        const get = await unreadResponse(endpoint, 'GET', { ...headers, accept: 'text/event-stream' });
        const listen = await unreadResponse(
          endpoint,
          'POST',
          { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen' },
          modernBody(1, 'subscriptions/listen', { notifications: { toolsListChanged: true } }),
        );
        assert.equal(get.status, 200);
        assert.equal(listen.status, 200);
        const flood = await callTool(endpoint, await legacySession(endpoint), 'list_changed_flood', { count: 200_000 }, 2);
        await waitFor(async () => ((await hits(gw, 'stream_closed_slow')) >= 2 ? true : undefined), 20_000, 'both slow streams closed');
        // Both streams end once read: the gateway closed them, nothing holds them open any more.
        const received = await Promise.all([get.read(), listen.read()]);
        return { flood, received };
      });
      assert.match(JSON.stringify(report.result.flood), /sent 200000 list_changed/);
      for (const text of report.result.received) {
        const delivered = (text.match(/notifications\/tools\/list_changed/g) ?? []).length;
        assert.ok(delivered < 200_000, `a closed stream got ${delivered} of the 200000 notifications`);
      }
      assertUnharmed(report, 'list_changed flood');
    } finally {
      await gw.stop();
    }
  });
});

describe('cut streams and session floods', () => {
  it('keeps resumable streams within their byte budgets and each principal within its session cap; other principals are untouched', async () => {
    const keys: Record<string, string> = {};
    const gw = await startGatewayProcess(
      {
        identity: { apiKeys: {} },
        // The counters are read from /metrics, which needs a credential while identity is on: loopback here.
        listen: { maxSessionsPerPrincipal: 4, maxResumeBytesPerSession: 1 * MIB, maxResumeBytes: 2 * MIB, metrics: 'loopback' },
        servers: { good: stdioServer(EVERYTHING, ['stdio']), hostile: hostileStdio() },
      },
      async (config) => {
        for (const agent of ['flood', 'worker']) {
          const created = await runCli(['key', 'create', '--agent', agent, '--expires', '1d', '--json', '-c', config]);
          assert.equal(created.code, 0, created.stderr);
          keys[agent] = (JSON.parse(created.stdout) as { key: string }).key;
        }
      },
    );
    try {
      const flood = { authorization: `Bearer ${keys.flood}` };
      const endpoint = `${gw.base}/mcp/hostile`;
      let peakResume = 0;
      const heapBefore = await gw.heapAfterGcMb();
      const report = await underAttack(
        gw,
        `${gw.base}/mcp/good`,
        async () => {
          let id = 100;
          for (let session = 0; session < 12; session++) {
            const headers = await legacySession(endpoint, flood);
            for (let call = 0; call < 3; call++) {
              // The client takes the priming event (an id to resume from) and goes; the answer (400 KB)
              // comes after the connection is gone, so the stream is kept for resumption.
              const delayMs = PRIMING_DELAY_MS + 150;
              const body = JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'big_answer', arguments: { kb: 400, delayMs } } });
              const socket = await rawRequest(endpoint, 'POST', headers, body);
              await once(socket, 'data');
              socket.destroy();
            }
            peakResume = Math.max(peakResume, await gw.metric('portcullis_resume_bytes'));
          }
          // Every answer has come back (recorded, or forgotten to stay within budget) once the server is idle.
          const served = await legacySession(endpoint, flood);
          await callTool(endpoint, served, 'echo', { text: 'idle' });
          await waitFor(async () => ((await hits(gw, 'resume_log_bytes')) > 0 ? true : undefined), 20_000, 'streams forgotten');
          for (let i = 0; i < 10; i++) peakResume = Math.max(peakResume, await gw.metric('portcullis_resume_bytes'));
        },
        { headers: { authorization: `Bearer ${keys.worker}` } },
      );
      // 14 MB of answers passed through (their garbage shows in RSS); what stays is bounded.
      assertUnharmed(report, 'cut streams');
      assert.ok(peakResume <= 2 * MIB, `resume logs held ${(peakResume / MIB).toFixed(1)} MiB at most (budget 2 MiB; the flood cut 14 MB of answers)`);
      const retained = (await gw.heapAfterGcMb()) - heapBefore;
      assert.ok(retained < 32, `the heap kept ${retained.toFixed(1)} MiB after the flood`);
      assert.ok((await hits(gw, 'sessions_per_principal')) >= 8, 'the flooding principal\'s oldest sessions were ended');
      assert.ok((await gw.metric('portcullis_sessions_active')) <= 4 + 1, 'the flood holds at most its cap; the worker its own session');
    } finally {
      await gw.stop();
    }
  });
});

describe('slow requests', () => {
  it('answers 408 and closes connections that trickle headers or bodies, on MCP and OAuth routes, while long SSE responses stay open', async () => {
    let worker = '';
    const gw = await startGatewayProcess({
      listen: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, metrics: 'loopback' },
      identity: { embedded: {}, apiKeys: { allowNoExpiry: true } },
      servers: { good: stdioServer(EVERYTHING, ['stdio']), hostile: hostileStdio() },
    }, async (config) => {
      const created = await runCli(['key', 'create', '--agent', 'worker', '--json', '-c', config]);
      assert.equal(created.code, 0, created.stderr);
      worker = (JSON.parse(created.stdout) as { key: string }).key;
    });
    try {
      const auth = { authorization: `Bearer ${worker}` };
      const endpoint = `${gw.base}/mcp/hostile`;
      const report = await underAttack(
        gw,
        `${gw.base}/mcp/good`,
        async () => {
          // A GET stream opened before the slow clients, idle longer than requestTimeoutMs: it must survive.
          const headers = await legacySession(endpoint, auth);
          const stream = await request(endpoint, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
          const host = new URL(gw.base).host;
          const slowHeaders = `GET /mcp HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`;
          // Authenticated, acceptable in every header: only the body is slow.
          const slowBody = (path: string, type: string) =>
            `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${worker}\r\nAccept: application/json, text/event-stream\r\n` +
            `Content-Type: ${type}\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(1000)}`;
          // Headers a byte every 100 ms never finish within 1 s; bodies (sent whole up to the blank line,
          // then a byte every 100 ms) never within 2 s.
          const slow = await Promise.all([
            ...Array.from({ length: 40 }, () => trickle(gw.base, slowHeaders, 100)),
            ...Array.from({ length: 20 }, () => trickleBody(gw.base, slowBody('/mcp', 'application/json'))),
            ...Array.from({ length: 20 }, () => trickleBody(gw.base, slowBody('/oauth/token', 'application/x-www-form-urlencoded'))),
          ]);
          // The stream outlived every slow request, and still carries notifications.
          await callTool(endpoint, headers, 'list_changed_flood', { count: 1 }, 3);
          const reader = stream.body[Symbol.asyncIterator]();
          let seen = '';
          await waitFor(async () => {
            seen += String((await reader.next()).value ?? '');
            return seen.includes('notifications/tools/list_changed') || undefined;
          }, 10_000, 'the long stream to carry a notification');
          stream.body.destroy();
          return slow;
        },
        { headers: auth },
      );
      for (const { answer, closedAfterMs } of report.result) {
        assert.match(answer, /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout');
        assert.match(answer, /PC_HTTP_REQUEST_TIMEOUT/);
        assert.ok(closedAfterMs < 2000 + 2500, `closed after ${closedAfterMs.toFixed(0)} ms`);
      }
      assert.ok((await hits(gw, 'request_timeout')) >= 80);
      assertUnharmed(report, 'slow requests');
    } finally {
      await gw.stop();
    }
  });
});

/** Sends the head of a request at once, then its body a byte every 100 ms. */
function trickleBody(base: string, request: string): ReturnType<typeof trickle> {
  const split = request.indexOf('\r\n\r\n') + 4;
  return trickle(base, request, 100, split);
}
