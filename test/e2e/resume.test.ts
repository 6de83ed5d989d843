/**
 * Legacy-era SSE resumption: a client whose POST stream is cut comes back with GET + Last-Event-ID and
 * receives what it missed, the call having run on meanwhile (a disconnect is not a cancellation).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SseParser } from '../../src/protocol/sse.ts';
import { EVERYTHING, post, startGateway, stdioServer, type TestGateway } from '../helpers/gateway.ts';

describe('resumable legacy streams', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ servers: { everything: stdioServer(EVERYTHING, ['stdio']) } });
  });
  after(async () => gw.close());

  it('replays the missed answer on GET with Last-Event-ID after the POST stream was cut', async () => {
    const endpoint = `${gw.url}/mcp/everything`;
    const init = await post(endpoint, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
    const sid = init.headers.get('mcp-session-id')!;
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const abort = new AbortController();
    const response = await fetch(endpoint, {
      method: 'POST',
      headers,
      signal: abort.signal,
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 0.4, steps: 2 }, _meta: { progressToken: 'p' } } }),
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    const { value } = await reader.read();
    const [priming] = parser.push(value ?? '');
    assert.ok(priming?.id, 'priming event carries an id');
    assert.equal(priming.data, '');
    abort.abort();

    const resumed = await fetch(endpoint, { headers: { ...headers, 'last-event-id': priming.id } });
    assert.equal(resumed.status, 200);
    const events = new SseParser().push(await resumed.text());
    const messages = events.map((e) => JSON.parse(e.data));
    assert.ok(messages.some((m) => m.method === 'notifications/progress'), 'progress sent while disconnected is replayed');
    const answer = messages.find((m) => m.id === 5);
    assert.match(JSON.stringify(answer?.result), /completed/i);

    const unknown = await fetch(endpoint, { headers: { ...headers, 'last-event-id': 'nope.3' } });
    assert.equal(unknown.status, 404);
  });
});
