/**
 * Red team E4 — one deeply nested body (600 KB, 100,000 levels) froze the gateway for 40 s, and 20,000
 * levels of arrays overflowed the stack of a recursive walk (an internal error). Nesting is now bounded
 * before anything is parsed (MAX_JSON_DEPTH): the body is refused at once with -32700 naming the limit,
 * other callers are served meanwhile, and nothing of it reaches the server (asserted on its recorder).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { codeOf, forwarded, legacySession, recordedServer, type RawSession } from '../helpers/security.ts';
import { MAX_JSON_DEPTH } from '../../src/protocol/jsonrpc.ts';

const objects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const arrays = (depth: number): string => '['.repeat(depth) + '1' + ']'.repeat(depth);
/** A tools/call of echo whose argument `x` is `nested` (the envelope adds three levels). */
const call = (id: number, marker: string, nested: string): string =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${marker}","x":${nested}}}}`;
const modernCall = (id: number, marker: string, nested: string): string =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${marker}","x":${nested}},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`;
const MODERN = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };

describe('deeply nested bodies', () => {
  let gw: TestGateway;
  let log: string;
  let session: RawSession;

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-deep-')), 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: { rules: [{ name: 'echo-ok', effect: 'allow', servers: ['gov'], tools: ['echo'] }] } });
    session = await legacySession(`${gw.url}/mcp/gov`);
  });
  after(async () => gw?.close());

  const echoed = (): string[] => forwarded(log).filter((m) => m.method === 'tools/call').map((m) => String((m.params?.arguments as { text?: unknown })?.text));

  it('refuses a deep body at once, naming the limit, while other callers are served', async () => {
    const other = await legacySession(`${gw.url}/mcp/gov`);
    for (const [shape, body] of [['objects', objects(100_000)], ['arrays', arrays(500_000)], ['objects', objects(20_000)]] as const) {
      const started = performance.now();
      const deep = session.send(call(7, 'DEEP', body));
      // Another caller is answered while (or right after) the deep body is read.
      const alive = await other.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'echo', arguments: { text: 'ALIVE' } } });
      assert.match(JSON.stringify(alive.json), /echo: ALIVE/);
      const answer = await deep;
      const elapsed = performance.now() - started;
      assert.equal(answer.status, 400, `${shape}: ${JSON.stringify(answer.json)}`);
      assert.equal(codeOf(answer), 'PC_PROTOCOL_PARSE_ERROR', shape);
      assert.match(answer.json.error.message, new RegExp(`more than ${MAX_JSON_DEPTH} levels`));
      assert.ok(elapsed < 5000, `${shape}: refused in ${Math.round(elapsed)} ms`);
    }
    const modern = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...MODERN, 'mcp-name': 'gov__echo' }, body: modernCall(9, 'DEEP', objects(100_000)).replace('"echo"', '"gov__echo"') });
    assert.equal(modern.status, 400);
    assert.match(await modern.text(), /PC_PROTOCOL_PARSE_ERROR/);
    assert.deepEqual(echoed().filter((t) => t === 'DEEP'), [], 'nothing deep reached the server');
  });

  it('accepts nesting up to the limit and refuses one level past it', async () => {
    const fits = await session.send(call(10, 'FITS', objects(MAX_JSON_DEPTH - 3)));
    assert.match(JSON.stringify(fits.json), /echo: FITS/, JSON.stringify(fits.json).slice(0, 300));
    const over = await session.send(call(11, 'OVER', objects(MAX_JSON_DEPTH - 2)));
    assert.equal(codeOf(over), 'PC_PROTOCOL_PARSE_ERROR');
    // Brackets inside strings are text, not nesting.
    const text = await session.send(call(12, 'TEXT', JSON.stringify('['.repeat(10_000))));
    assert.match(JSON.stringify(text.json), /echo: TEXT/);
    assert.deepEqual(echoed().filter((t) => ['FITS', 'OVER', 'TEXT'].includes(t)), ['FITS', 'TEXT']);
  });
});
