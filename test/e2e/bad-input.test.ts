/**
 * Bad input at the HTTP front gets the specified status and error, and nothing reaches the server
 * (the fixture counts every request it receives). Each refused message is one the gateway would
 * forward if it let it through (tools/call, logging/setLevel): lists are served from the gateway's
 * catalog and ping is answered locally, so refusing those would prove nothing on the server's side.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { post, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';

const MODERN = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const modernCall = (name = 'echo') => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'x' }, _meta: meta } });
const modernHeaders = (method = 'tools/call', name: string | null = 'echo'): Record<string, string> => ({
  'mcp-protocol-version': MODERN,
  'mcp-method': method,
  ...(name ? { 'mcp-name': name } : {}),
});
const legacyCall = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
const initialize = (version: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 't', version: '1' } } });

describe('bad input at the HTTP front', () => {
  let upstream: ModernServer;
  let gw: TestGateway;
  let endpoint: string;
  let before_: number;

  before(async () => {
    upstream = await startModernServer();
    gw = await startGateway({ listen: { maxBodyBytes: 2048 }, servers: { modern: { url: upstream.url } } });
    endpoint = `${gw.url}/mcp/modern`;
    // A good call first, so the catalog and connections are warm and later counts are exact.
    const ok = await post(endpoint, modernCall(), modernHeaders());
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.result.content[0].text, 'x');
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });
  beforeEach(() => {
    before_ = upstream.requests();
  });
  const nothingForwarded = () => assert.equal(upstream.requests(), before_, 'the upstream received nothing');

  it('answers malformed JSON with 400 and -32700', async () => {
    const r = await post(endpoint, '{"jsonrpc":"2.0",', modernHeaders());
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32700);
    assert.equal(r.json.error.data.code, 'PC_PROTOCOL_PARSE_ERROR');
    nothingForwarded();
  });

  it('answers a message that is not JSON-RPC with 400 and names the field', async () => {
    const r = await post(endpoint, modernCall().replace('"jsonrpc":"2.0"', '"jsonrpc":"1.0"'), modernHeaders());
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32600);
    assert.match(r.json.error.message, /jsonrpc/);
    nothingForwarded();
  });

  it('rejects a batch in the modern era', async () => {
    const r = await post(endpoint, `[${modernCall()}]`, modernHeaders());
    assert.equal(r.status, 400);
    assert.equal(r.json.error.data.code, 'PC_PROTOCOL_BATCH_NOT_ALLOWED');
    nothingForwarded();
  });

  it('rejects a batch in a 2025-11-25 session but accepts one in a 2025-03-26 session', async () => {
    const strict = await post(endpoint, initialize('2025-11-25'));
    const sid = strict.headers.get('mcp-session-id')!;
    await post(endpoint, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    before_ = upstream.requests();
    const refused = await post(endpoint, `[${legacyCall}]`, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.data.code, 'PC_PROTOCOL_BATCH_NOT_ALLOWED');
    nothingForwarded();
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });

    const old = await post(endpoint, initialize('2025-03-26'));
    assert.equal(old.json.result.protocolVersion, '2025-03-26');
    const oldSid = old.headers.get('mcp-session-id')!;
    const batch = await post(endpoint, `[${list},${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' })}]`, { 'mcp-session-id': oldSid });
    assert.equal(batch.status, 200);
    assert.ok(Array.isArray(batch.json));
    assert.deepEqual(batch.json.map((m: { id: number }) => m.id), [2, 3]);
  });

  it('answers a header/body mismatch with 400 and -32020', async () => {
    for (const headers of [modernHeaders('tools/list'), modernHeaders('tools/call', 'other_tool'), modernHeaders('tools/call', null)]) {
      const r = await post(endpoint, modernCall(), headers);
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, -32020);
      assert.equal(r.json.error.data.code, 'PC_PROTOCOL_HEADER_MISMATCH');
    }
    const otherVersion = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } } });
    const r = await post(endpoint, otherVersion, modernHeaders());
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32020);
    assert.equal(r.json.id, 1, 'the error carries the request id');
    nothingForwarded();
  });

  it('answers a modern request without its _meta envelope with 400 and -32602', async () => {
    const { 'io.modelcontextprotocol/clientCapabilities': _caps, ...noCaps } = meta;
    for (const params of [{ name: 'echo', arguments: { text: 'x' } }, { name: 'echo', arguments: { text: 'x' }, _meta: noCaps }]) {
      const r = await post(endpoint, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params }), modernHeaders());
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, -32602);
      assert.equal(r.json.error.data.code, 'PC_PROTOCOL_INVALID_META');
      assert.equal(r.json.id, 7);
    }
    nothingForwarded();
  });

  it('decodes a base64 Mcp-Name before comparing it', async () => {
    const r = await post(endpoint, modernCall(), { ...modernHeaders(), 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` });
    assert.equal(r.status, 200, r.text);
  });

  it('answers an unsupported protocol version with 400, -32022 and the supported list', async () => {
    const r = await post(endpoint, modernCall(), { ...modernHeaders(), 'mcp-protocol-version': '2099-01-01' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32022);
    assert.ok(r.json.error.data.supported.includes(MODERN));
    assert.ok(r.json.error.data.supported.includes('2025-11-25'));
    assert.equal(r.json.error.data.requested, '2099-01-01');
    nothingForwarded();
  });

  it('answers a method the modern era removed with 404 and -32601', async () => {
    // ping is answered by the gateway in the legacy era; logging/setLevel is forwarded there.
    for (const [method, params] of [['ping', {}], ['logging/setLevel', { level: 'debug' }]] as const) {
      const r = await post(endpoint, JSON.stringify({ jsonrpc: '2.0', id: 9, method, params: { ...params, _meta: meta } }), modernHeaders(method, null));
      assert.equal(r.status, 404, method);
      assert.equal(r.json.error.code, -32601, method);
    }
    nothingForwarded();
  });

  it('needs a session id in the legacy era (400) and rejects an unknown one (404)', async () => {
    const list = legacyCall;
    const missing = await post(endpoint, list, { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.data.code, 'PC_SESSION_MISSING');
    const unknown = await post(endpoint, list, { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': 'no-such-session' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.data.code, 'PC_SESSION_UNKNOWN');
    nothingForwarded();
  });

  it('ends a session on DELETE, after which its id is unknown', async () => {
    const init = await post(endpoint, initialize('2025-11-25'));
    const sid = init.headers.get('mcp-session-id')!;
    await post(endpoint, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    const live = await post(endpoint, legacyCall, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.match(live.text, /"text":"x"/, 'the session works before DELETE');
    const del = await fetch(endpoint, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    assert.equal(del.status, 200);
    before_ = upstream.requests();
    const after = await post(endpoint, legacyCall, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(after.status, 404);
    assert.equal(after.json.error.data.code, 'PC_SESSION_UNKNOWN');
    nothingForwarded();
  });

  it('does not let a session opened on one endpoint be used on another', async () => {
    const init = await post(endpoint, initialize('2025-11-25'));
    const sid = init.headers.get('mcp-session-id')!;
    before_ = upstream.requests();
    const r = await post(`${gw.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'modern__echo', arguments: { text: 'x' } } }), { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.data.code, 'PC_SESSION_UNKNOWN');
    nothingForwarded();
  });

  it('answers an oversized body with 413', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(5000) }, _meta: meta } });
    const r = await post(endpoint, big, modernHeaders());
    assert.equal(r.status, 413);
    assert.equal(r.json.error.data.code, 'PC_HTTP_BODY_TOO_LARGE');
    nothingForwarded();
  });

  it('answers a foreign Origin with 403 (DNS rebinding) and accepts a localhost one', async () => {
    const r = await post(endpoint, modernCall(), { ...modernHeaders(), origin: 'https://evil.example' });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.data.code, 'PC_HTTP_ORIGIN_FORBIDDEN');
    nothingForwarded();
    const local = await post(endpoint, modernCall(), { ...modernHeaders(), origin: 'http://localhost:3000' });
    assert.equal(local.status, 200);
  });

  it('answers a foreign Host header with 403', async () => {
    const { request } = await import('node:http');
    const url = new URL(endpoint);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json', ...modernHeaders() } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(modernCall());
    });
    assert.equal(status, 403);
    nothingForwarded();
  });

  it('answers a wrong media type with 415, an unknown server with 404 and an unknown path with 404', async () => {
    const wrongType = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/plain', ...modernHeaders() }, body: modernCall() });
    assert.equal(wrongType.status, 415);
    const unknownServer = await post(`${gw.url}/mcp/nope`, modernCall(), modernHeaders());
    assert.equal(unknownServer.status, 404);
    assert.equal(unknownServer.json.error.data.code, 'PC_ROUTE_UNKNOWN_SERVER');
    const unknownPath = await post(`${gw.url}/elsewhere`, modernCall(), modernHeaders());
    assert.equal(unknownPath.status, 404);
    nothingForwarded();
  });

  it('answers GET and DELETE in the modern era with 405', async () => {
    // The property is the 405 itself: the gateway never relays a GET or DELETE as HTTP, so there is
    // nothing on the server's side to check.
    const get = await fetch(endpoint, { headers: { accept: 'text/event-stream', 'mcp-protocol-version': MODERN } });
    assert.equal(get.status, 405);
    const del = await fetch(endpoint, { method: 'DELETE', headers: { 'mcp-protocol-version': MODERN } });
    assert.equal(del.status, 405);
  });
});
