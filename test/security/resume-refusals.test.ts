/**
 * Invariant 5 on the legacy GET stream: a resumption (`Last-Event-ID`) the gateway cannot serve is
 * answered 404 and recorded — an id of a stream this session never had, and one of a stream forgotten
 * before it was delivered (expired past listen.maxResumeBytesPerSession) — while coming back for a
 * stream already delivered in full (what the SDK client does after a call that ended in an error) is
 * only answered, so ordinary traffic does not spend the refusal budget. Nothing reaches the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SseParser } from '../../src/protocol/sse.ts';
import { auditTrail } from '../helpers/audit.ts';
import { EVERYTHING, post, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { startSecureGateway } from '../helpers/secure.ts';

describe('resumptions of streams the gateway does not keep', () => {
  let gw: TestGateway;
  let dataDir: string;
  let log: string;
  let endpoint: string;
  let headers: Record<string, string>;
  let sid: string;

  before(async () => {
    const everything = recordedServer(EVERYTHING, ['stdio']);
    log = everything.log;
    gw = await startSecureGateway({
      listen: { maxResumeBytesPerSession: 65_536 },
      servers: { everything: everything.server },
      policy: { rules: [{ name: 'long-ops', effect: 'allow', servers: ['everything'], tools: ['trigger-long-running-operation'] }] },
    });
    dataDir = gw.gateway.config.dataDir!;
    endpoint = `${gw.url}/mcp/everything`;
    const init = await post(endpoint, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'resumer', version: '1' } } }));
    sid = init.headers.get('mcp-session-id')!;
    assert.ok(sid, init.text);
    headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
  });
  after(async () => gw.close());

  /** Starts a long call with progress, reads its priming event, cuts the connection; the stream's id. */
  async function cutStream(id: number, steps: number): Promise<string> {
    const abort = new AbortController();
    const response = await fetch(endpoint, {
      method: 'POST',
      headers,
      signal: abort.signal,
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: steps / 1000, steps }, _meta: { progressToken: `p${id}` } } }),
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    const [priming] = new SseParser().push(value ?? '');
    assert.ok(priming?.id, 'the priming event carries an id');
    abort.abort();
    return priming.id;
  }
  const resume = async (lastEventId: string): Promise<Response> => fetch(endpoint, { headers: { ...headers, 'last-event-id': lastEventId } });
  const refusals = (): Array<{ code: string | undefined; method: string; reason: string | undefined }> =>
    auditTrail(dataDir).filter((r) => r.method === '(GET stream)').map((r) => ({ code: r.code, method: r.method, reason: r.reason }));
  const session = () => gw.front.sessions.get(sid)!;

  it('records an unknown stream and an expired one, not one delivered in full; nothing reaches the server', async () => {
    // Delivered in full: cut, then resumed once to the end; coming back for it again is routine.
    const delivered = await cutStream(1, 4);
    const replay = await resume(delivered);
    assert.equal(replay.status, 200);
    assert.ok(new SseParser().push(await replay.text()).some((e) => e.data.includes('"id":1')), 'the first resumption replays the answer');

    // Expired: its progress (about 100 KB) outgrows the session's 64 KiB resume budget while nobody
    // reads it, so it is forgotten before it could be delivered.
    const expired = await cutStream(2, 800);
    const stream = expired.split('.')[0]!;
    await waitFor(() => (!session().streams.has(stream) && gw.gateway.limits.entries().some((e) => e.limit === 'resume_log_bytes')) || undefined, 10_000, 'the stream forgotten past the budget');

    const before = refusals().length;
    const forwardedBefore = received(log).length;
    for (const [id, what] of [[delivered, 'delivered'], [expired, 'expired'], [`${stream}x.1`, 'never issued'], ['nope.3', 'never issued']] as const) {
      const answer = await resume(id);
      await answer.body?.cancel();
      assert.equal(answer.status, 404, what);
    }
    const recorded = refusals().slice(before);
    assert.deepEqual(recorded.map((r) => r.code), ['PC_HTTP_NOT_FOUND', 'PC_HTTP_NOT_FOUND', 'PC_HTTP_NOT_FOUND'], 'the expired and the two unknown ones, not the delivered one');
    assert.match(recorded[0]!.reason ?? '', new RegExp(`"${expired.replace('.', '\\.')}"`), 'the record names the stream asked for');
    assert.ok(recorded.every((r) => !r.reason?.includes(sid)), 'the session id (a bearer secret) is never in the record');
    assert.deepEqual(received(log).slice(forwardedBefore).filter((m) => m.method !== 'notifications/cancelled'), [], 'nothing reached the server');
  });
});
