/**
 * Issue 11 item 15 — ambiguous requests are refused before anything reads them: a repeated Host,
 * session, version, method, name, content-type or parameter header; a body that is not valid UTF-8
 * (never decoded with replacement characters); duplicate JSON keys; a message that is both a request
 * and a response; members JSON-RPC does not define. Each is a 400 with -32700 or -32600, nothing
 * reaches the server, and the refusal is in the audit trail. The stdio front refuses the same bodies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, forwarded, legacySession, recordedServer, startStdioFront } from '../helpers/security.ts';

const POLICY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };

/** One HTTP/1.1 exchange written byte for byte (repeated headers, raw bodies), on a fresh connection. */
async function rawExchange(url: string, path: string, headers: Array<[string, string]>, body: Buffer): Promise<{ status: number; json: any }> {
  const { hostname, port } = new URL(url);
  const head = [`POST ${path} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${body.length}`, 'Connection: close', '', ''].join('\r\n');
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      // No half-close: the server answers, then closes (Connection: close).
      socket.write(Buffer.concat([Buffer.from(head), body]));
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const payload = text.slice(text.indexOf('\r\n\r\n') + 4);
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    json = undefined;
  }
  return { status, json };
}

const CALL = (name = 'echo') => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'hi' } } }));

describe('ambiguous requests are refused before anything reads them', () => {
  let gw: TestGateway;
  let log: string;
  let dir: string;
  let base: Array<[string, string]>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-ambiguous-'));
    log = join(dir, 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: POLICY });
    // A legacy session to send follow-up requests in (its id goes into the raw headers below).
    const init = await fetch(`${gw.url}/mcp/gov`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    await init.text();
    const sid = init.headers.get('mcp-session-id')!;
    const host = new URL(gw.url).host;
    base = [
      ['Host', host],
      ['Content-Type', 'application/json'],
      ['Accept', 'application/json'],
      ['Mcp-Session-Id', sid],
      ['MCP-Protocol-Version', '2025-11-25'],
    ];
  });
  after(async () => gw?.close());

  it('a well-formed raw request goes through (the harness itself is sound)', async () => {
    const before = forwarded(log).length;
    const answer = await rawExchange(gw.url, '/mcp/gov', base, CALL());
    assert.equal(answer.status, 200);
    assert.match(JSON.stringify(answer.json.result), /echo: hi/);
    assert.equal(forwarded(log).length, before + 1);
  });

  it('refuses every repeated header a reader could pick differently (400, -32600)', async () => {
    const before = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const host = new URL(gw.url).host;
    const repeats: Array<Array<[string, string]>> = [
      [['Host', host], ['Host', 'evil.example']],
      [['Host', host], ['host', host]],
      [['Mcp-Session-Id', 'other-session']],
      [['MCP-Protocol-Version', '2025-03-26']],
      [['Mcp-Method', 'tools/call'], ['Mcp-Method', 'tools/list']],
      [['Mcp-Name', 'echo'], ['Mcp-Name', 'delete_record']],
      [['Content-Type', 'text/plain']],
      [['Mcp-Param-Region', 'us'], ['Mcp-Param-Region', 'admin']],
      [['Portcullis-Task', 'a'], ['Portcullis-Task', 'b']],
    ];
    for (const extra of repeats) {
      const names = new Set(extra.map(([k]) => k.toLowerCase()));
      // Keep the base headers (one copy each) and add the repeats: every case has one name twice.
      const headers = [...base.filter(([k]) => !names.has(k.toLowerCase()) || extra.length === 1), ...extra];
      const answer = await rawExchange(gw.url, '/mcp/gov', headers, CALL());
      assert.equal(answer.status, 400, JSON.stringify(extra));
      assert.equal(answer.json?.error?.code, -32600, JSON.stringify(extra));
      assert.equal(answer.json?.error?.data?.code, 'PC_PROTOCOL_AMBIGUOUS', JSON.stringify(extra));
    }
    assert.deepEqual(forwarded(log).slice(before), [], 'nothing reached the server');
    const recorded = auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_PROTOCOL_AMBIGUOUS');
    assert.equal(recorded.length, repeats.length, 'each refusal is in the audit trail');
  });

  it('refuses a body that is not valid UTF-8 instead of decoding it with replacement characters (400, -32700)', async () => {
    const before = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const bodies = [
      Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ec'), Buffer.from([0xff]), Buffer.from('ho","arguments":{}}}')]),
      Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}}')]),
      // An overlong encoding of "/" (0xc0 0xaf): a classic way to smuggle a separator past a filter.
      Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools'), Buffer.from([0xc0, 0xaf]), Buffer.from('call","params":{"name":"echo"}}')]),
      // A lone surrogate encoded as UTF-8 (CESU-style), and a byte-order mark.
      Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}')]),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), CALL()]),
    ];
    for (const body of bodies) {
      const answer = await rawExchange(gw.url, '/mcp/gov', base, body);
      assert.equal(answer.status, 400, body.toString('hex'));
      assert.equal(answer.json?.error?.code, -32700);
      assert.equal(answer.json?.error?.data?.code, 'PC_PROTOCOL_PARSE_ERROR');
    }
    assert.deepEqual(forwarded(log).slice(before), []);
    assert.equal(auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_PROTOCOL_PARSE_ERROR').length, bodies.length);
  });

  it('refuses duplicate JSON keys, request-and-response messages and members JSON-RPC does not define (400, -32600)', async () => {
    const before = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const bodies = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"delete_record","arguments":{}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","\\u006eame":"delete_record"}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"echo"}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a","text":"b"}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"result":{}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"error":{"code":1,"message":"x"}}',
      '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"name":"delete_record"}',
    ];
    for (const body of bodies) {
      const answer = await rawExchange(gw.url, '/mcp/gov', base, Buffer.from(body));
      assert.equal(answer.status, 400, body);
      assert.equal(answer.json?.error?.code, -32600, body);
      assert.ok(['PC_PROTOCOL_AMBIGUOUS', 'PC_PROTOCOL_INVALID_REQUEST'].includes(answer.json?.error?.data?.code), body);
    }
    // The same key in two objects is no duplicate. (Keys equal but for case, `name` and `Name`, are one
    // key to servers that bind keys loosely: refused, see folded-keys.test.ts.)
    const fine = await rawExchange(gw.url, '/mcp/gov', base, Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"name":"x","inner":{"name":"y"}}}}'));
    assert.equal(fine.status, 200);
    assert.equal(forwarded(log).length, before + 1);
    const recorded = auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_PROTOCOL_AMBIGUOUS' || r.code === 'PC_PROTOCOL_INVALID_REQUEST');
    assert.equal(recorded.length, bodies.length);
  });

  it('the same holds in a legacy batch and on the modern era', async () => {
    const before = forwarded(log).length;
    const batchSession = await legacySession(`${gw.url}/mcp/gov`, '2025-03-26');
    const batch = await batchSession.send(`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","name":"delete_record"}}]`);
    assert.equal(batch.status, 400);
    assert.equal(batch.json.error.data.code, 'PC_PROTOCOL_AMBIGUOUS');
    const modern = await rawExchange(
      gw.url,
      '/mcp/gov',
      [['Host', new URL(gw.url).host], ['Content-Type', 'application/json'], ['Accept', 'application/json'], ['MCP-Protocol-Version', '2026-07-28'], ['Mcp-Method', 'tools/call'], ['Mcp-Name', 'echo']],
      Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}},"_meta":{}}}'),
    );
    assert.equal(modern.status, 400);
    assert.equal(modern.json.error.data.code, 'PC_PROTOCOL_AMBIGUOUS');
    assert.deepEqual(forwarded(log).slice(before), [], 'the valid half of the batch did not run either');
  });

  it('the stdio front refuses invalid UTF-8, duplicate keys and request-and-response lines, and forwards nothing', async () => {
    const stdioLog = join(dir, 'stdio-gov.log');
    const front = startStdioFront(dir, stdioLog, join(dir, 'stdio-data'));
    const { answers, lines, send } = front;
    try {
      send(JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'stdio-raw', version: '1' } } }));
      await waitFor(() => answers.get('init'), 30_000, 'initialize');
      send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      // A multi-byte character split across two writes must still decode (byte-level line splitting).
      const split = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'ok', method: 'tools/call', params: { name: 'echo', arguments: { text: 'grüße' } } }));
      const cut = split.indexOf(Buffer.from('ü')) + 1;
      front.write(split.subarray(0, cut));
      await new Promise((resolve) => setImmediate(resolve));
      send(split.subarray(cut));
      const ok = await waitFor(() => answers.get('ok'), 30_000, 'the valid call');
      assert.match(JSON.stringify(ok.result), /grüße/);
      const before = forwarded(stdioLog).length;
      send(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":"bad-utf8","method":"tools/call","params":{"name":"ec'), Buffer.from([0xff]), Buffer.from('ho"}}')]));
      send('{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"echo","name":"delete_record"}}');
      send('{"jsonrpc":"2.0","id":"both","method":"tools/call","params":{"name":"echo"},"result":{}}');
      send('{"jsonrpc":"2.0","id":"case","method":"TOOLS/CALL","params":{"name":"echo"}}');
      send('{"jsonrpc":"2.0","id":"array","method":"tools/call","params":{"name":["delete_record"]}}');
      send(JSON.stringify({ jsonrpc: '2.0', id: 'last', method: 'tools/call', params: { name: 'echo', arguments: { text: 'after' } } }));
      await waitFor(() => answers.get('last'), 30_000, 'the last call');
      const parseErrors = lines.filter((m) => m.error?.code === -32700);
      assert.equal(parseErrors.length, 1, 'the invalid UTF-8 line (its id cannot be read)');
      assert.equal(answers.get('dup')?.error?.data?.code, 'PC_PROTOCOL_AMBIGUOUS');
      assert.equal(answers.get('both')?.error?.data?.code, 'PC_PROTOCOL_INVALID_REQUEST');
      assert.equal(answers.get('case')?.error?.data?.code, 'PC_ROUTE_UNKNOWN_METHOD');
      assert.equal(answers.get('array')?.error?.data?.code, 'PC_PROTOCOL_INVALID_PARAMS');
      assert.deepEqual(
        forwarded(stdioLog).slice(before).map((m) => m.params),
        [{ name: 'echo', arguments: { text: 'after' } }],
        'only the well-formed call reached the server',
      );
    } finally {
      await front.close();
    }
    const codes = auditRecords(join(dir, 'stdio-data')).map((r) => r.code);
    for (const code of ['PC_PROTOCOL_PARSE_ERROR', 'PC_PROTOCOL_AMBIGUOUS', 'PC_PROTOCOL_INVALID_REQUEST', 'PC_ROUTE_UNKNOWN_METHOD', 'PC_PROTOCOL_INVALID_PARAMS']) {
      assert.ok(codes.includes(code), `the stdio front recorded ${code}: ${JSON.stringify(codes)}`);
    }
  });
});
