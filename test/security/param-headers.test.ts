/**
 * Issue 11 item 13 — `Mcp-Param-*` headers never carry a value the gateway did not judge. A modern
 * server (the conformance fixture, official v2 SDK) declares `region` with `x-mcp-header: Region`; a
 * recording proxy in front of it shows every header that reached it. A header for an absent argument
 * is refused (-32020) before any rule; headers no declared parameter backs are dropped; what reaches
 * the server is only what the gateway derived from the arguments it judged.
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer, type FixtureServer } from '../conformance/fixture-server.ts';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, modernSession } from '../helpers/security.ts';

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A pass-through HTTP proxy that records the headers and body of every request. */
async function recordingProxy(target: string): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const { hostname, port, pathname } = new URL(target);
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ headers: req.headers, body: body.toString('utf8') });
      const upstream = request({ host: hostname, port: Number(port), path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}${pathname}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const paramHeadersOf = (headers: IncomingHttpHeaders) => Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith('mcp-param-')));
const calls = (seen: Seen[]) => seen.filter((s) => s.body.includes('"tools/call"'));

describe('Mcp-Param headers carry only judged values', () => {
  let fixture: FixtureServer;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let gw: TestGateway;

  before(async () => {
    fixture = await startFixtureServer();
    proxy = await recordingProxy(fixture.url);
    gw = await startSecureGateway({
      servers: { conf: { url: proxy.url } },
      policy: {
        rules: [
          { name: 'region-west-only', effect: 'allow', servers: ['conf'], tools: ['test_region'], guards: { values: { region: { enum: ['us-west'] } } } },
          { name: 'simple', effect: 'allow', servers: ['conf'], tools: ['test_simple_text'] },
        ],
      },
    });
  });
  after(async () => {
    await gw?.close();
    await proxy?.close();
    await fixture?.close();
  });

  it('refuses a parameter header whose argument is absent (-32020), on both endpoints; nothing reaches the server', async () => {
    const before = calls(proxy.seen).length;
    const trail = auditRecords(gw).length;
    for (const [path, name] of [['/mcp/conf', 'test_region'], ['/mcp', 'conf__test_region']] as const) {
      const answer = await modernSession(`${gw.url}${path}`).send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }, { 'mcp-param-region': 'us-admin' });
      assert.equal(answer.status, 400, JSON.stringify(answer.json));
      assert.equal(answer.json.error.code, -32020);
      assert.equal(codeOf(answer), 'PC_PROTOCOL_HEADER_MISMATCH');
    }
    assert.equal(calls(proxy.seen).length, before, 'the server received no call');
    assert.equal(auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_PROTOCOL_HEADER_MISMATCH').length, 2, 'both refusals are recorded');
  });

  it('forwards only the headers derived from the judged arguments, dropping unknown ones', async () => {
    const before = calls(proxy.seen).length;
    const answer = await modernSession(`${gw.url}/mcp/conf`).send(
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'test_region', arguments: { region: 'us-west' } } },
      { 'mcp-param-region': 'us-west', 'mcp-param-evil': 'admin', 'mcp-param-route-to': 'internal' },
    );
    assert.equal(answer.json.error, undefined, JSON.stringify(answer.json));
    const arrived = calls(proxy.seen).slice(before);
    assert.equal(arrived.length, 1);
    assert.deepEqual(paramHeadersOf(arrived[0]!.headers), { 'mcp-param-region': 'us-west' });

    // A tool that declares no header parameter: whatever the client adds is not relayed.
    const plain = await modernSession(`${gw.url}/mcp/conf`).send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } }, { 'mcp-param-region': 'us-admin' });
    assert.equal(plain.json.error, undefined, JSON.stringify(plain.json));
    const second = calls(proxy.seen).slice(before + 1);
    assert.equal(second.length, 1);
    assert.deepEqual(paramHeadersOf(second[0]!.headers), {});
  });

  it('still refuses a header that disagrees with its argument, and the guard judges the argument', async () => {
    const before = calls(proxy.seen).length;
    const mismatch = await modernSession(`${gw.url}/mcp/conf`).send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'test_region', arguments: { region: 'us-west' } } }, { 'mcp-param-region': 'us-admin' });
    assert.equal(codeOf(mismatch), 'PC_PROTOCOL_HEADER_MISMATCH');
    const guarded = await modernSession(`${gw.url}/mcp/conf`).send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'test_region', arguments: { region: 'us-admin' } } }, { 'mcp-param-region': 'us-admin' });
    assert.equal(codeOf(guarded), 'PC_POLICY_GUARD');
    assert.equal(calls(proxy.seen).length, before);
  });
});
