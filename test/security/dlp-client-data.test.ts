/**
 * Red-team finding F4 — argument inspection covered tools/call, prompts/get and completion/complete;
 * the same secret in `_meta`, a list cursor or a resource URI of every other method reached the server
 * (a blocked agent could still exfiltrate with `tools/list {"_meta":{"x":"<secret>"}}`). What a client
 * puts in any request bound for a server is inspected like a tool's arguments; asserted on the
 * server's side (the recorder): nothing of it arrives, and the refusal is recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { recording, TOOLS_SERVER } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, legacySession, modernSession, received, recordedServer, type RawSession } from '../helpers/security.ts';

const secrets = fakeSecrets();
const meta = { _meta: { note: `deploy key ${secrets.github}` } };

/** Every method a client can send to one server, with the secret where that method carries client data. */
const ATTACKS: Array<{ method: string; params: Record<string, unknown>; legacyOnly?: boolean; code?: string }> = [
  { method: 'resources/read', params: { uri: 'mem://public/readme', ...meta } },
  { method: 'resources/read', params: { uri: `mem://public/notes/${secrets.github}` } },
  { method: 'resources/subscribe', params: { uri: 'mem://public/readme', ...meta }, legacyOnly: true },
  { method: 'resources/subscribe', params: { uri: `mem://public/notes/${secrets.aws}` }, legacyOnly: true },
  { method: 'resources/unsubscribe', params: { uri: 'mem://public/readme', ...meta }, legacyOnly: true },
  { method: 'tools/list', params: meta },
  { method: 'prompts/list', params: meta },
  { method: 'resources/list', params: meta },
  { method: 'resources/templates/list', params: meta },
  // A cursor the server never gave is refused before inspection (see the last test).
  { method: 'tools/list', params: { cursor: secrets.github }, code: 'PC_PROTOCOL_INVALID_PARAMS' },
  { method: 'resources/list', params: { cursor: Buffer.from(`token=${secrets.github}`).toString('base64') }, code: 'PC_PROTOCOL_INVALID_PARAMS' },
  { method: 'logging/setLevel', params: { level: 'info', ...meta }, legacyOnly: true },
  { method: 'vendor/sync', params: { payload: { key: secrets.pem } } },
];

describe('client data in every method bound for a server is inspected like arguments', () => {
  let gw: TestGateway;
  let log: string;
  const sessions: Record<string, RawSession> = {};
  const tools = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, inputSchema: { type: 'object' } }));
  const paged = recording(TOOLS_SERVER, [JSON.stringify(tools), '2']);

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-dlp-client-')), 'gov.log');
    gw = await startSecureGateway({
      servers: { gov: recordedServer(log), paged: paged.server },
      policy: {
        rules: [
          { name: 'whole-server', effect: 'allow', servers: ['gov'] },
          { name: 'paged-tools', effect: 'allow', servers: ['paged'], tools: ['*'] },
          { name: 'vendor', effect: 'allow', servers: ['gov'], methods: ['vendor/*'] },
        ],
      },
    });
    sessions.legacy = await legacySession(`${gw.url}/mcp/gov`);
    sessions.modern = modernSession(`${gw.url}/mcp/gov`);
  });
  after(async () => gw?.close());

  it('refuses a secret in _meta, a cursor, a resource URI or a custom method\'s params; nothing reaches the server', async () => {
    for (const [era, session] of Object.entries(sessions)) {
      for (const { method, params, legacyOnly, code = 'PC_DLP_EXFILTRATION' } of ATTACKS) {
        if (legacyOnly && era === 'modern') continue;
        const seen = received(log).length;
        const trail = auditRecords(gw).length;
        const answer = await session.send({ jsonrpc: '2.0', id: 1, method, params });
        const what = `${era} ${method} ${JSON.stringify(params).slice(0, 60)}`;
        assert.equal(codeOf(answer), code, `${what}: ${JSON.stringify(answer.json)}`);
        // Lists the gateway makes on its own account (its catalog) may arrive meanwhile; nothing else may.
        const arrived = received(log).slice(seen);
        assert.deepEqual(arrived.filter((m) => m.method === method && (m.params?._meta !== undefined || m.params?.cursor !== undefined || !method.endsWith('/list'))), [], `${what} reached the server`);
        assert.equal(arrived.some((m) => [secrets.github, secrets.aws, 'PRIVATE KEY', 'dG9rZW4'].some((v) => JSON.stringify(m).includes(v))), false, `${what}: the secret reached the server`);
        const record = auditRecords(gw).slice(trail).find((r) => r.method === method);
        assert.equal(record?.code, code, what);
        if (code === 'PC_DLP_EXFILTRATION') assert.ok(record?.dlp?.some((f) => f.path.startsWith('params.') || f.path.startsWith('arguments')), `${what}: ${JSON.stringify(record?.dlp)}`);
        assert.equal(JSON.stringify(record).includes(secrets.github), false, `${what}: the record holds no secret`);
      }
    }
  });

  it('forwards the same methods when they carry nothing secret', async () => {
    const session = sessions.legacy!;
    for (const { method, params } of [
      { method: 'resources/read', params: { uri: 'mem://public/readme', _meta: { note: 'hello' } } },
      { method: 'tools/list', params: { _meta: { note: 'hello' } } },
      { method: 'vendor/sync', params: { payload: { key: 'nothing secret' } } },
    ]) {
      const seen = received(log).length;
      const answer = await session.send({ jsonrpc: '2.0', id: 2, method, params });
      assert.equal(answer.json.error, undefined, `${method}: ${JSON.stringify(answer.json)}`);
      assert.deepEqual(received(log).slice(seen).filter((m) => m.method === method).map((m) => m.params), [params], method);
    }
  });

  it('lets a list carry only a cursor the gateway gave this caller for the server\'s, and hands the server back its own', async () => {
    const alice = await legacySession(`${gw.url}/mcp/paged`, '2025-11-25', 'alice');
    const bob = await legacySession(`${gw.url}/mcp/paged`, '2025-11-25', 'bob');
    const lists = () => paged.received().filter((m) => m.method === 'tools/list' && m.params?.cursor !== undefined);
    const first = await alice.send({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} });
    assert.deepEqual(first.json.result.tools.map((t: { name: string }) => t.name), ['a', 'b']);
    const cursor = first.json.result.nextCursor as string;
    assert.match(cursor, /^pc-[A-Za-z0-9_-]{24}$/, 'the client holds the gateway\'s cursor, not the server\'s');
    let seen = lists().length;
    const second = await alice.send({ jsonrpc: '2.0', id: 4, method: 'tools/list', params: { cursor } });
    assert.deepEqual(second.json.result.tools.map((t: { name: string }) => t.name), ['c', 'd']);
    assert.deepEqual(lists().slice(seen).map((m) => m.params?.cursor), ['2'], 'the server gets back the cursor it issued');
    seen = lists().length;
    for (const [who, session, made] of [['bob', bob, cursor], ['alice', alice, '2'], ['alice', alice, 'anything-i-like']] as const) {
      const trail = auditRecords(gw).length;
      const answer = await session.send({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { cursor: made } });
      assert.equal(codeOf(answer), 'PC_PROTOCOL_INVALID_PARAMS', `${who} with ${made}`);
      assert.ok(auditRecords(gw).slice(trail).some((r) => r.method === 'tools/list' && r.decision === 'denied'), `${who} with ${made}: recorded`);
    }
    assert.deepEqual(lists().slice(seen), [], 'no cursor the server did not give that caller reached it');
  });
});
