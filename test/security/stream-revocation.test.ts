/**
 * Streams opened before a kill switch or a revocation: a legacy GET stream and a modern
 * `subscriptions/listen` stream were authorised once, when they opened, and went on delivering
 * server→client messages afterwards. Now the kill switch and the credential they were opened with are
 * judged again before each message and every second: the stream is closed, the message never goes out,
 * the closing is recorded, and a new stream (or a resumed one) is refused. Messages come from the
 * leaky fixture: each `leak` call ends with `notifications/tools/list_changed`, which the gateway passes
 * to every open stream — a marker that, once the caller's own copy arrived, the others' would have too.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import { auditTrail } from '../helpers/audit.ts';
import { runCli, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { basic, revokeRequest, tokenRequest } from '../helpers/oauth.ts';
import { recordedServer } from '../helpers/recorder.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { dataDirWithKeys, modernRequest, openLegacySession, type LegacySession } from '../helpers/sessions.ts';

const LEAKY = new URL('../fixtures/leaky-server.ts', import.meta.url).pathname;
const isMarker = (m: Record<string, any>) => m.method === 'notifications/tools/list_changed';

describe('security: kill switch and revocation close open notification streams', () => {
  let gw: TestGateway;
  let dataDir: string;
  let keys: Record<string, string>;
  const sessions: LegacySession[] = [];

  before(async () => {
    ({ dataDir, keys } = dataDirWithKeys(['alice', 'bob', 'carol', 'dave']));
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: { leaky: recordedServer(LEAKY).server },
      policy: { rules: [{ name: 'leaky-tools', effect: 'allow', servers: ['leaky'], tools: ['echo', 'leak'] }] },
    });
  });
  after(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await gw?.close();
  });

  const open = async (who: string) => {
    const session = await openLegacySession(`${gw.url}/mcp/leaky`, { headers: { authorization: `Bearer ${keys[who]}` }, name: who });
    sessions.push(session);
    return session;
  };
  const markers = (s: LegacySession) => s.received.filter(isMarker).length;
  /** carol leaks; resolves once her own stream has the marker (the others' would have arrived by then). */
  const leak = async (carol: LegacySession) => {
    const before = markers(carol);
    await carol.request('tools/call', { name: 'echo', arguments: { text: 'x' } });
    await carol.request('tools/call', { name: 'leak', arguments: { secret: `s${before}` } });
    await waitFor(() => markers(carol) > before || undefined, 10_000, `carol's marker (${JSON.stringify(carol.received.map((m) => m.method ?? m.id))})`);
  };
  const closedRecords = (code: string) => auditTrail(dataDir).filter((r) => r.method === '(GET stream)' && r.code === code);

  it('a kill switch on the agent closes its open GET stream: nothing more is delivered, a new one is refused', async () => {
    const alice = await open('alice');
    const carol = await open('carol');
    await leak(carol);
    const seen = markers(alice);
    assert.ok(seen >= 1, 'the stream delivers before the switch');
    gw.gateway.kill.add({ agent: 'alice', exact: true }, 'incident', 'test');
    try {
      await alice.streamEnded;
      await leak(carol);
      assert.equal(markers(alice), seen, 'alice\'s stream delivered nothing after the switch');
      await waitFor(() => closedRecords('PC_KILL_SWITCH').length > 0 || undefined, 5000, 'the closing in the trail');
      const again = await fetch(`${gw.url}/mcp/leaky`, { headers: { authorization: `Bearer ${keys.alice}`, accept: 'text/event-stream', 'mcp-session-id': alice.id, 'mcp-protocol-version': '2025-11-25' } });
      assert.equal((await again.json()).error?.data?.code, 'PC_KILL_SWITCH', 'a new GET stream is refused');
      const resumed = await fetch(`${gw.url}/mcp/leaky`, { headers: { authorization: `Bearer ${keys.alice}`, accept: 'text/event-stream', 'mcp-session-id': alice.id, 'mcp-protocol-version': '2025-11-25', 'last-event-id': 'x' } });
      assert.equal((await resumed.json()).error?.data?.code, 'PC_KILL_SWITCH', 'resuming is refused before the stream is looked up');
    } finally {
      gw.gateway.kill.remove({ agent: 'alice', exact: true });
    }
  });

  it('revoking the API key (another process) closes the stream it opened, before the next message', async () => {
    const bob = await open('bob');
    const carol = await open('carol');
    await leak(carol);
    const seen = markers(bob);
    assert.ok(seen >= 1);
    const store = new IdentityStore(identityDbPath(dataDir));
    const id = keys.bob!.split('_')[1]!;
    assert.ok(store.revokeKey(id), 'the key was revoked');
    store.close();
    await bob.streamEnded;
    await leak(carol);
    assert.equal(markers(bob), seen, 'bob\'s stream delivered nothing after the revocation');
    await waitFor(() => closedRecords('PC_AUTH_INVALID_TOKEN').length > 0 || undefined, 5000, 'the closing in the trail');
  });

  it('a subscriptions/listen stream is closed by the kill switch, and refused while it holds', async () => {
    const carol = await open('carol');
    const listen = await fetch(`${gw.url}/mcp/leaky`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.dave}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'dave', version: '1' } } } }),
    });
    assert.equal(listen.status, 200);
    let text = '';
    const reading = (async () => {
      for await (const chunk of listen.body!) text += Buffer.from(chunk).toString('utf8');
    })();
    await leak(carol);
    await waitFor(() => text.includes('list_changed') || undefined, 5000, 'dave\'s stream to deliver');
    const seen = text.split('list_changed').length;
    gw.gateway.kill.add({ agent: 'dave', exact: true }, 'incident', 'test');
    try {
      await reading;
      await leak(carol);
      assert.equal(text.split('list_changed').length, seen, 'nothing delivered after the switch');
      const again = await modernRequest(`${gw.url}/mcp/leaky`, 'subscriptions/listen', { notifications: { toolsListChanged: true } }, { authorization: `Bearer ${keys.dave}` });
      assert.equal(again.body.error?.data?.code, 'PC_KILL_SWITCH', JSON.stringify(again.body));
    } finally {
      gw.gateway.kill.remove({ agent: 'dave', exact: true });
    }
  });

  it('an opaque token of the embedded server: its revocation closes the stream it opened too', async () => {
    const opaque = await startSecureGateway({
      identity: { scopes: ['mcp'], embedded: { accessTokenFormat: 'opaque' } },
      servers: { leaky: recordedServer(LEAKY).server },
      policy: { rules: [{ name: 'leaky-tools', effect: 'allow', servers: ['leaky'], tools: ['echo', 'leak'] }] },
    });
    try {
      const dir = opaque.gateway.config.dataDir!;
      const config = join(dir, 'portcullis.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(dir)}\nidentity: { embedded: {} }\nservers: {}\n`);
      const agent = JSON.parse((await runCli(['agent', 'add', 'watcher', '--scopes', 'mcp', '--json', '-c', config])).stdout) as { client_id: string; client_secret: string };
      const minted = await tokenRequest(opaque.url, { grant_type: 'client_credentials', resource: `${opaque.url}/mcp/leaky`, scope: 'mcp' }, basic(agent.client_id, agent.client_secret));
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      const token = minted.body.access_token as string;
      assert.equal(token.split('.').length, 1, 'an opaque token');
      const session = await openLegacySession(`${opaque.url}/mcp/leaky`, { headers: { authorization: `Bearer ${token}` }, name: 'watcher' });
      try {
        assert.equal(await revokeRequest(opaque.url, { token }, basic(agent.client_id, agent.client_secret)), 200);
        await session.streamEnded;
        await waitFor(() => auditTrail(dir).some((r) => r.method === '(GET stream)' && r.code === 'PC_AUTH_INVALID_TOKEN') || undefined, 5000, 'the closing in the trail');
      } finally {
        await session.close();
      }
    } finally {
      await opaque.close();
    }
  });
});
