/**
 * The HTTP front's own refusals and `listen.*` options, end to end: each refused request carries a
 * `tools/call` the gateway would otherwise forward, and the recorded server behind it shows that none
 * arrived. Covers allowedOrigins, allowedHosts, sessionIdleMs, maxSessions, header/request timeouts and
 * the transport codes (415, 406, 405, 404, 409, 408, unsupported version).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { forwarded, legacySession, recordedServer } from '../helpers/security.ts';
import { openLegacySession } from '../helpers/sessions.ts';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

/** One request through node:http, which (unlike fetch) sends the Host header it is given. */
function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          const data = text.split('\n').filter((l) => l.startsWith('data:')).pop();
          json = data ? JSON.parse(data.slice(5)) : undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
/** A modern-era (stateless) tools/call of `echo` carrying `marker`: forwarded at once when let through. */
const echoCall = (marker: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: marker }, _meta: MODERN_META } });
const MODERN_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };

describe('HTTP front options and refusals', () => {
  let gw: TestGateway;
  let log: string;
  let endpoint: string;
  let host: string;
  const reached = (marker: string): boolean => forwarded(log).some((m) => JSON.stringify(m.params ?? {}).includes(marker));

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-cov-front-')), 'gov.log');
    gw = await startGateway({
      listen: {
        port: 0,
        allowedOrigins: ['https://app.example.com'],
        allowedHosts: ['mcp.example.com'],
        maxSessions: 2,
        maxSessionsPerPrincipal: 2,
        headersTimeoutMs: 1000,
        requestTimeoutMs: 1000,
      },
      servers: { gov: recordedServer(log) },
    });
    endpoint = `${gw.url}/mcp/gov`;
    host = new URL(gw.url).host;
  });
  after(async () => gw.close());

  it('lets an Origin of listen.allowedOrigins through, exactly, and refuses look-alikes', async () => {
    const ok = await raw(endpoint, 'POST', { ...MODERN_HEADERS, origin: 'https://app.example.com' }, echoCall('origin-allowed'));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
    await waitFor(() => reached('origin-allowed') || undefined, 5000, 'the allowed call to reach the server');
    const lookalikes = ['https://app.example.com.evil.test', 'https://app.example.com:8443', 'http://app.example.com', 'https://evil.test', 'null'];
    for (const [i, origin] of lookalikes.entries()) {
      const refused = await raw(endpoint, 'POST', { ...MODERN_HEADERS, origin }, echoCall(`origin-refused-${i}`));
      assert.equal(refused.status, 403, origin);
      assert.equal(refused.json?.error?.data?.code, 'PC_HTTP_ORIGIN_FORBIDDEN', origin);
    }
    assert.equal(lookalikes.some((_, i) => reached(`origin-refused-${i}`)), false, 'no refused call reached the server');
  });

  it('lets a Host of listen.allowedHosts through and refuses any other name (DNS rebinding)', async () => {
    const ok = await raw(endpoint, 'POST', { ...MODERN_HEADERS, host: 'mcp.example.com:8080' }, echoCall('host-allowed'));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    await waitFor(() => reached('host-allowed') || undefined, 5000, 'the allowed call to reach the server');
    const others = ['evil.test', 'mcp.example.com.evil.test', 'example.com', 'mcp.example.co'];
    for (const [i, name] of others.entries()) {
      const refused = await raw(endpoint, 'POST', { ...MODERN_HEADERS, host: name }, echoCall(`host-refused-${i}`));
      assert.equal(refused.status, 403, name);
      assert.equal(refused.json?.error?.data?.code, 'PC_HTTP_HOST_FORBIDDEN', name);
    }
    assert.equal(others.some((_, i) => reached(`host-refused-${i}`)), false, 'no refused call reached the server');
  });

  it('refuses wrong media types, Accept, methods, paths and versions with their codes, forwarding nothing', async () => {
    const cases: Array<[string, string, string, Record<string, string>, number, string]> = [
      ['media', 'POST', endpoint, { 'content-type': 'text/plain' }, 415, 'PC_HTTP_UNSUPPORTED_MEDIA_TYPE'],
      ['accept', 'POST', endpoint, { accept: 'text/html' }, 406, 'PC_HTTP_NOT_ACCEPTABLE'],
      ['method', 'PUT', endpoint, {}, 405, 'PC_HTTP_METHOD_NOT_ALLOWED'],
      ['path', 'POST', `${gw.url}/not-mcp`, {}, 404, 'PC_HTTP_NOT_FOUND'],
      ['version', 'POST', endpoint, { 'mcp-protocol-version': '1999-01-01' }, 400, 'PC_PROTOCOL_UNSUPPORTED_VERSION'],
    ];
    for (const [marker, method, url, headers, status, code] of cases) {
      const refused = await raw(url, method, { ...MODERN_HEADERS, ...headers }, echoCall(`refused-${marker}`));
      assert.equal(refused.status, status, marker);
      assert.equal(refused.json?.error?.data?.code, code, marker);
    }
    assert.equal(cases.some(([marker]) => reached(`refused-${marker}`)), false, 'no refused call reached the server');
    const again = await raw(endpoint, 'POST', MODERN_HEADERS, echoCall('after-refusals'));
    assert.equal(again.status, 200, 'the front still serves a good request');
    await waitFor(() => reached('after-refusals') || undefined, 5000, 'the good call to reach the server');
  });

  it('refuses a second GET stream on one legacy session (409)', async () => {
    const session = await openLegacySession(endpoint);
    try {
      const second = await raw(endpoint, 'GET', { accept: 'text/event-stream', 'mcp-session-id': session.id, 'mcp-protocol-version': '2025-11-25' });
      assert.equal(second.status, 409);
      assert.equal(second.json?.error?.data?.code, 'PC_HTTP_STREAM_CONFLICT');
    } finally {
      await session.close();
    }
  });

  it('answers 408 to a body that stops arriving (listen.requestTimeoutMs) and forwards none of it', async () => {
    const body = echoCall('slow-body');
    const port = Number(new URL(gw.url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const head = Object.entries({ ...MODERN_HEADERS, host, 'content-length': String(body.length) }).map(([k, v]) => `${k}: ${v}`);
        socket.write(`POST /mcp/gov HTTP/1.1\r\n${head.join('\r\n')}\r\n\r\n${body.slice(0, body.length - 5)}`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"PC_HTTP_REQUEST_TIMEOUT"/);
    assert.equal(reached('slow-body'), false);
  });

  const legacyEcho = (marker: string) => ({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: marker } } });

  it('ends the least recently used session past listen.maxSessions', async () => {
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await legacySession(endpoint));
    const [oldest, ...kept] = sessions;
    const refused = await oldest!.send(legacyEcho('evicted-session'));
    assert.equal(refused.json?.error?.data?.code, 'PC_SESSION_UNKNOWN');
    for (const [i, session] of kept.entries()) {
      const ok = await session.send(legacyEcho(`kept-session-${i}`));
      assert.ok(ok.json?.result, JSON.stringify(ok.json));
    }
    assert.equal(reached('evicted-session'), false);
    assert.equal(reached('kept-session-0') && reached('kept-session-1'), true);
  });
});

// A gateway of its own: with a one-second idle limit, sessions of the other tests could be reaped mid-test.
describe('listen.sessionIdleMs', () => {
  let idleGw: TestGateway;
  let idleLog: string;
  let idleEndpoint: string;
  const reachedIdle = (marker: string): boolean => forwarded(idleLog).some((m) => JSON.stringify(m.params ?? {}).includes(marker));
  const legacyEcho = (marker: string) => ({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: marker } } });

  before(async () => {
    idleLog = join(mkdtempSync(join(tmpdir(), 'pc-cov-idle-')), 'gov.log');
    idleGw = await startGateway({ listen: { port: 0, sessionIdleMs: 1000 }, servers: { gov: recordedServer(idleLog) } });
    idleEndpoint = `${idleGw.url}/mcp/gov`;
  });
  after(async () => idleGw.close());

  it('ends a legacy session idle for listen.sessionIdleMs, and its id then reaches nothing', async () => {
    const session = await legacySession(idleEndpoint);
    const before = await session.send(legacyEcho('idle-before'));
    assert.ok(before.json?.result, JSON.stringify(before.json));
    // The only session of this gateway.
    await waitFor(() => (idleGw.front.sessions.size === 0 ? true : undefined), 5000, 'the idle session to be ended');
    const late = await session.send(legacyEcho('idle-after'));
    assert.equal(late.status, 404);
    assert.equal(late.json?.error?.data?.code, 'PC_SESSION_UNKNOWN');
    assert.equal(reachedIdle('idle-after'), false);
    assert.equal(reachedIdle('idle-before'), true);
  });
});
