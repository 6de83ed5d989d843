/**
 * `listen.maxSessionsPerPrincipal` counts a user's sessions whatever OAuth client opened them (issuer
 * and subject), and a user at a cap ends its own sessions, never another user's. Alice, through two
 * client ids of an external issuer, opens sessions past both caps; Bob's session, opened first, still
 * gets his call through to server-everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { legacyClient, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { recordedEverything } from '../helpers/oauth.ts';

describe('security: session caps are per user; a flood never ends another user\'s session', () => {
  let idp: TestIssuer;
  let gw: TestGateway;
  const upstream = recordedEverything();
  const clients: LegacyClient[] = [];
  const aborts: AbortController[] = [];
  const reached = (message: string) => upstream.received().some((m) => m.method === 'tools/call' && (m.params?.arguments as { message?: string }).message === message);

  before(async () => {
    idp = await startTestIssuer();
    gw = await startSecureGateway({
      listen: { port: 0, maxSessions: 4, maxSessionsPerPrincipal: 2, maxListenStreams: 4, maxListenStreamsPerPrincipal: 2 },
      servers: { everything: upstream.server },
      identity: { issuers: [{ issuer: idp.origin, jwksUri: `${idp.origin}/jwks`, agentClaim: ['client_id'] }] },
      policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['everything'], tools: ['echo'], principal: { scopes: ['mcp'] } }] },
    });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const a of aborts) a.abort();
    await gw?.close();
    idp?.close();
  });

  const open = async (sub: string, clientId: string): Promise<LegacyClient> => {
    const token = await idp.sign(idp.origin, `${gw.url}/mcp`, { sub, client_id: clientId, scope: 'mcp' });
    const client = await legacyClient(`${gw.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    return client;
  };

  it('alice with two clients holds two sessions at most, and bob\'s stays open', async () => {
    const bob = await open('bob', 'bob-app');
    const alice: LegacyClient[] = [];
    for (const clientId of ['alice-c1', 'alice-c1', 'alice-c2', 'alice-c2', 'alice-c3']) alice.push(await open('alice', clientId));
    await bob.callTool({ name: 'everything__echo', arguments: { message: 'bob still here' } });
    assert.ok(reached('bob still here'), 'bob\'s call reached the server through his first session');
    // Alice's oldest sessions were ended by her own newer ones: the first is gone, the last works.
    await assert.rejects(alice[0]!.callTool({ name: 'everything__echo', arguments: { message: 'alice oldest' } }));
    await alice[4]!.callTool({ name: 'everything__echo', arguments: { message: 'alice newest' } });
    assert.ok(!reached('alice oldest') && reached('alice newest'));
  });

  /** An open subscriptions/listen stream of `sub` through `clientId`: whether the gateway has ended it. */
  const listen = async (sub: string, clientId: string, id: number): Promise<{ ended: boolean }> => {
    const token = await idp.sign(idp.origin, `${gw.url}/mcp`, { sub, client_id: clientId, scope: 'mcp' });
    const abort = new AbortController();
    aborts.push(abort);
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const response = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      signal: abort.signal,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: meta } }),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await reader.read()).value ?? '', /notifications\/subscriptions\/acknowledged/);
    const stream = { ended: false };
    void (async () => {
      try {
        while (!(await reader.read()).done);
        stream.ended = true;
      } catch {
        // aborted by the test
      }
    })();
    return stream;
  };

  it('alice\'s listen streams through several clients end her own oldest, never bob\'s', async () => {
    const bob = await listen('bob', 'bob-app', 1);
    const alice: Array<{ ended: boolean }> = [];
    for (const [i, clientId] of ['alice-c1', 'alice-c1', 'alice-c2', 'alice-c2', 'alice-c3'].entries()) alice.push(await listen('alice', clientId, 10 + i));
    await waitFor(() => (alice[0]!.ended && alice[1]!.ended && alice[2]!.ended) || undefined, 5000, 'alice\'s oldest streams ended');
    assert.deepEqual(alice.map((s) => s.ended), [true, true, true, false, false]);
    assert.equal(bob.ended, false, 'bob\'s stream is not alice\'s to end');
  });
});
