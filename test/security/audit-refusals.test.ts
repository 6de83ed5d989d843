/**
 * Issue 11 item 11 — refusals that leave no record. Each refusal decided outside the pipeline is
 * attacked for real and must be in the audit trail, with who asked (once known) and what, while the
 * recorded server received nothing: a token without the scope a tool needs (403 insufficient_scope),
 * a session id of another caller (POST, GET stream, DELETE), an unsupported or mismatched protocol
 * version, transport rules broken (content type, Accept, HTTP method, Host), and the GET stream's and
 * DELETE's own refusals (a 2026-07-28 client, a malformed Last-Event-ID, a second stream). And a tool's own failure
 * (`isError: true`) is recorded as an error, not as `allowed`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, post, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, modernSession, recordedServer } from '../helpers/security.ts';
import { dataDirWithKeys } from '../helpers/sessions.ts';

describe('refusals outside the pipeline are recorded', () => {
  let gw: TestGateway;
  let log: string;
  let keys: Record<string, string>;
  const bearer = (who: string) => ({ authorization: `Bearer ${keys[who]}` });

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-refusals-'));
    log = join(dir, 'gov.log');
    let dataDir: string;
    ({ dataDir, keys } = dataDirWithKeys(['alice', 'bob']));
    gw = await startGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: { gov: recordedServer(log) },
      policy: {
        tools: [{ server: 'gov', tool: 'delete_record', scopes: ['admin:write'] }],
        rules: [{ name: 'gov-for-all', effect: 'allow', servers: ['gov'] }],
      },
    });
  });
  after(async () => gw?.close());

  const since = (trail: number, code: string) => auditRecords(gw).slice(trail).filter((r) => r.code === code);

  it('403 insufficient_scope: recorded with the caller, the tool and the missing scope; nothing forwarded', async () => {
    const arrived = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'delete_record', arguments: { id: 'r-1' } } };
    const init = await post(`${gw.url}/mcp/gov`, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bob-client', version: '1' } } }), bearer('bob'));
    const sid = init.headers.get('mcp-session-id')!;
    assert.ok(sid, init.text);
    const viaLegacy = await post(`${gw.url}/mcp/gov`, JSON.stringify(call), { ...bearer('bob'), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(viaLegacy.status, 403, viaLegacy.text);
    const viaModern = await modernSession(`${gw.url}/mcp`).send({ ...call, params: { ...call.params, name: 'gov__delete_record' } }, bearer('bob'));
    assert.equal(viaModern.status, 403);
    assert.equal(codeOf(viaModern), 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.deepEqual(forwarded(log).slice(arrived), [], 'nothing reached the server');
    const recorded = since(trail, 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.equal(recorded.length, 2, JSON.stringify(recorded));
    for (const r of recorded) {
      assert.equal(r.decision, 'denied');
      assert.equal(r.principal.agent, 'bob');
      assert.equal(r.method, 'tools/call');
      assert.match(r.target ?? '', /delete_record$/);
      assert.match(r.reason ?? '', /admin:write/);
    }
  });

  it("another caller's session id (POST, GET stream, DELETE): refused, recorded under the caller who tried; nothing forwarded", async () => {
    const init = await post(`${gw.url}/mcp/gov`, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'alice-client', version: '1' } } }), bearer('alice'));
    const sid = init.headers.get('mcp-session-id')!;
    const arrived = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const headers = { ...bearer('bob'), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const stolen = await post(`${gw.url}/mcp/gov`, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'as alice' } } }), headers);
    assert.equal(stolen.status, 404);
    assert.equal(codeOf(stolen), 'PC_SESSION_UNKNOWN');
    const stream = await fetch(`${gw.url}/mcp/gov`, { headers: { ...headers, accept: 'text/event-stream' } });
    assert.equal(stream.status, 404);
    await stream.body?.cancel();
    const ended = await fetch(`${gw.url}/mcp/gov`, { method: 'DELETE', headers });
    assert.equal(ended.status, 404);
    assert.deepEqual(forwarded(log).slice(arrived), [], 'nothing reached the server');
    const recorded = since(trail, 'PC_SESSION_UNKNOWN');
    assert.deepEqual(recorded.map((r) => r.method), ['tools/call', '(GET stream)', '(DELETE session)']);
    assert.ok(recorded.every((r) => r.principal.agent === 'bob' && r.decision === 'denied'));
    assert.ok(!JSON.stringify(recorded).includes(sid), 'the session id itself is not recorded');
    // alice's session is still hers.
    const hers = await post(`${gw.url}/mcp/gov`, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }), { ...bearer('alice'), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(hers.status, 200, hers.text);
  });

  it('protocol and transport refusals: unsupported version, wrong media type, no Accept, bad HTTP method, forbidden Host', async () => {
    const arrived = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    const version = await post(`${gw.url}/mcp/gov`, body, { ...bearer('bob'), 'mcp-protocol-version': '1999-01-01' });
    assert.equal(codeOf(version), 'PC_PROTOCOL_UNSUPPORTED_VERSION');
    const media = await fetch(`${gw.url}/mcp/gov`, { method: 'POST', headers: { ...bearer('bob'), 'content-type': 'text/plain', accept: 'application/json, text/event-stream' }, body });
    assert.equal(media.status, 415);
    const accept = await fetch(`${gw.url}/mcp/gov`, { method: 'POST', headers: { ...bearer('bob'), 'content-type': 'application/json', accept: 'text/html' }, body });
    assert.equal(accept.status, 406);
    const method = await fetch(`${gw.url}/mcp/gov`, { method: 'PUT', headers: bearer('bob'), body });
    assert.equal(method.status, 405);
    const { request } = await import('node:http');
    const host = await new Promise<number>((resolve, reject) => {
      const req = request(`${gw.url}/mcp/gov`, { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(host, 403);
    assert.deepEqual(forwarded(log).slice(arrived), [], 'nothing reached the server');
    const codes = auditRecords(gw).slice(trail).map((r) => r.code);
    for (const code of ['PC_PROTOCOL_UNSUPPORTED_VERSION', 'PC_HTTP_UNSUPPORTED_MEDIA_TYPE', 'PC_HTTP_NOT_ACCEPTABLE', 'PC_HTTP_METHOD_NOT_ALLOWED', 'PC_HTTP_HOST_FORBIDDEN']) {
      assert.ok(codes.includes(code), `${code} is in the trail (got ${codes.join(', ')})`);
    }
    const refused = auditRecords(gw).slice(trail).find((r) => r.code === 'PC_PROTOCOL_UNSUPPORTED_VERSION')!;
    assert.equal(refused.principal.agent, 'bob', 'recorded under the authenticated caller');
    assert.equal(refused.method, 'tools/call');
  });

  it('GET and DELETE refusals: the methods a 2026-07-28 client may not use, GET without SSE, a Last-Event-ID never issued or of another stream, a second GET stream; recorded under the caller, nothing forwarded', async () => {
    const url = `${gw.url}/mcp/gov`;
    const init = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bob-client', version: '1' } } }), bearer('bob'));
    const sid = init.headers.get('mcp-session-id')!;
    assert.ok(sid, init.text);
    const session = { ...bearer('bob'), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), session);
    const arrived = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const status = async (init: RequestInit): Promise<number> => {
      const response = await fetch(url, init);
      await response.body?.cancel();
      return response.status;
    };
    const modern = { ...bearer('bob'), 'mcp-protocol-version': '2026-07-28' };
    assert.equal(await status({ headers: { ...modern, accept: 'text/event-stream' } }), 405, 'GET is not in 2026-07-28');
    assert.equal(await status({ method: 'DELETE', headers: modern }), 405, 'DELETE is not in 2026-07-28');
    assert.equal(await status({ headers: { ...session, accept: 'application/json' } }), 406, 'a GET stream needs Accept: text/event-stream');
    assert.equal(await status({ headers: { ...session, accept: 'text/event-stream', 'last-event-id': 'no-such-stream:7' } }), 404, 'a Last-Event-ID the gateway never issues');
    // An id of the issued form, of a stream this session never had, is recorded too (test/security/resume-refusals.test.ts:
    // a stream delivered in full is the one miss only answered).
    assert.equal(await status({ headers: { ...session, accept: 'text/event-stream', 'last-event-id': 'gone-stream.3' } }), 404, 'a stream this session never had');
    const first = await fetch(url, { headers: { ...session, accept: 'text/event-stream' } });
    assert.equal(first.status, 200);
    try {
      assert.equal(await status({ headers: { ...session, accept: 'text/event-stream' } }), 409, 'a second GET stream on one session');
    } finally {
      await first.body?.cancel();
    }
    assert.deepEqual(forwarded(log).slice(arrived), [], 'nothing reached the server');
    const recorded = auditRecords(gw).slice(trail).map((r) => ({ code: r.code, method: r.method, agent: r.principal.agent, decision: r.decision }));
    const expected = [
      { code: 'PC_HTTP_METHOD_NOT_ALLOWED', method: '(GET stream)' },
      { code: 'PC_HTTP_METHOD_NOT_ALLOWED', method: '(DELETE session)' },
      { code: 'PC_HTTP_NOT_ACCEPTABLE', method: '(GET stream)' },
      { code: 'PC_HTTP_NOT_FOUND', method: '(GET stream)' },
      { code: 'PC_HTTP_NOT_FOUND', method: '(GET stream)' },
      { code: 'PC_HTTP_STREAM_CONFLICT', method: '(GET stream)' },
    ].map((r) => ({ ...r, agent: 'bob', decision: 'denied' }));
    assert.deepEqual(recorded, expected);
  });

  it('a malformed escape in the server name answers 404, not an internal error', async () => {
    const answer = await post(`${gw.url}/mcp/%E0%A4%A`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), bearer('bob'));
    assert.equal(answer.status, 404);
    assert.equal(codeOf(answer), 'PC_ROUTE_UNKNOWN_SERVER');
  });
});

describe('a tool that reports an error is recorded as one', () => {
  it('isError: true is decision "error" (code isError), not "allowed"', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pc-iserror-'));
    mkdirSync(join(root, 'files'));
    const gw = await startGateway({ servers: { files: { command: process.execPath, args: [FILESYSTEM, join(root, 'files')] } } });
    try {
      const session = await legacySession(`${gw.url}/mcp/files`);
      const answer = await session.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'read_text_file', arguments: { path: join(root, 'files', 'missing.txt') } } });
      assert.equal(answer.json?.result?.isError, true, JSON.stringify(answer.json));
      const recorded = auditRecords(gw).filter((r) => r.target === 'read_text_file');
      assert.deepEqual(recorded.map((r) => r.decision), ['intent', 'error']);
      assert.equal(recorded[1]!.code, 'isError');
    } finally {
      await gw.close();
    }
  });
});
