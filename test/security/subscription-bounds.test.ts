/**
 * Per-client state is bounded: a session may hold `routing.subscriptions.maxPerSession` resource
 * subscriptions. A real SDK client subscribing to ever more URIs of server-everything is refused past
 * the cap with PC_SUBSCRIPTION_LIMIT (naming the cap), nothing past the cap reaches the server, each
 * refusal is in the audit trail, and a session that ends gives its subscriptions back (unsubscribed
 * upstream, the slots free again).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { auditTrail } from '../helpers/audit.ts';
import { EVERYTHING, legacyClient, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { startSecureGateway } from '../helpers/secure.ts';

const CAP = 3;
type LegacyClient = Awaited<ReturnType<typeof legacyClient>>;

const uri = (n: number): string => `demo://resource/dynamic/text/${n}`;

describe('resource subscriptions are capped per session', () => {
  let gw: TestGateway;
  let dataDir: string;
  let log: string;
  const clients: LegacyClient[] = [];

  before(async () => {
    const everything = recordedServer(EVERYTHING, ['stdio']);
    log = everything.log;
    gw = await startSecureGateway({
      routing: { subscriptions: { maxPerSession: CAP } },
      servers: { everything: everything.server },
      policy: { rules: [{ name: 'dynamic-text', effect: 'allow', servers: ['everything'], resources: ['demo://resource/dynamic/text/*'] }] },
    });
    dataDir = gw.gateway.config.dataDir!;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gw.close();
  });

  const open = async (): Promise<LegacyClient> => {
    const client = await legacyClient(`${gw.url}/mcp/everything`);
    clients.push(client);
    return client;
  };
  const urisReceived = (method: string): string[] => received(log).filter((m) => m.method === method).map((m) => String(m.params?.uri));
  const subscribedUpstream = (): string[] => urisReceived('resources/subscribe');
  const unsubscribedUpstream = (): string[] => urisReceived('resources/unsubscribe');

  it('refuses every subscribe past the cap before it reaches the server, and records each refusal', async () => {
    const attacker = await open();
    for (let n = 1; n <= CAP; n++) await attacker.subscribeResource({ uri: uri(n) });
    const refusals: McpError[] = [];
    for (let n = CAP + 1; n <= CAP + 20; n++) {
      await attacker.subscribeResource({ uri: uri(n) }).then(
        () => assert.fail(`the subscribe to ${uri(n)} past the cap was accepted`),
        (error: unknown) => void refusals.push(error as McpError),
      );
    }
    assert.equal(refusals.length, 20);
    for (const error of refusals) {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, -31046);
      assert.equal((error.data as { code?: string }).code, 'PC_SUBSCRIPTION_LIMIT');
      assert.equal((error.data as { limit?: number }).limit, CAP);
      assert.match(error.message, new RegExp(`\\b${CAP}\\b`), 'the message says what the cap is');
    }
    // Subscribing again to a URI already held costs nothing and is not refused.
    await attacker.subscribeResource({ uri: uri(1) });

    assert.deepEqual(subscribedUpstream(), [uri(1), uri(2), uri(3)], 'only the subscribes within the cap reached the server');
    const denied = auditTrail(dataDir).filter((r) => r.method === 'resources/subscribe' && r.decision === 'denied');
    assert.equal(denied.length, 20);
    assert.ok(denied.every((r) => r.code === 'PC_SUBSCRIPTION_LIMIT' && r.server === 'everything'));
  });

  it('counts the cap per session: another session subscribes on its own', async () => {
    const other = await open();
    await other.subscribeResource({ uri: uri(50) });
    await waitFor(() => subscribedUpstream().includes(uri(50)) || undefined, 5000, 'the second session\'s subscribe upstream');
  });

  it('gives a session\'s subscriptions back when it ends: unsubscribed upstream, and a new session starts from none', async () => {
    const attacker = clients[0]!;
    const before = subscribedUpstream().length;
    // The SDK ends its session with DELETE (Streamable HTTP §Session Management).
    await (attacker.transport as StreamableHTTPClientTransport).terminateSession();
    await waitFor(() => [uri(1), uri(2), uri(3)].every((u) => unsubscribedUpstream().includes(u)) || undefined, 5000, 'the ended session\'s unsubscribes upstream');
    assert.ok(!unsubscribedUpstream().includes(uri(50)), 'the other session\'s subscription is kept');

    const next = await open();
    for (let n = 1; n <= CAP; n++) await next.subscribeResource({ uri: uri(100 + n) });
    await assert.rejects(next.subscribeResource({ uri: uri(200) }), (error: McpError) => (error.data as { code?: string }).code === 'PC_SUBSCRIPTION_LIMIT');
    assert.deepEqual(subscribedUpstream().slice(before), [uri(101), uri(102), uri(103)]);
  });

  it('holds nothing for a subscribe that arrives after its session ended (it cannot keep the server subscribed)', async () => {
    const live = await open();
    await live.subscribeResource({ uri: uri(300) });
    // A request of a session that was ended while it waited (DELETE during an await) reaches the gateway
    // with its signal aborted (DownstreamSession.track): the race, made deterministic.
    const ended = new AbortController();
    ended.abort();
    const late = await gw.gateway.handle({
      endpoint: { kind: 'server', server: 'everything' },
      request: { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: uri(300) } },
      client: { key: 'a-session-that-ended', era: 'legacy', protocolVersion: '2025-11-25', capabilities: {}, info: undefined, notify: () => undefined, request: undefined },
      signal: ended.signal,
    });
    assert.ok('error' in late && late.error.code === 'PC_REQUEST_CANCELLED', JSON.stringify(late));
    // Had the ended session been recorded as a subscriber, the live one's unsubscribe would not be the
    // last, and the server would stay subscribed for nobody.
    await live.unsubscribeResource({ uri: uri(300) });
    await waitFor(() => unsubscribedUpstream().includes(uri(300)) || undefined, 5000, 'the unsubscribe upstream');
  });
});

describe('resource subscriptions are capped in all', () => {
  it('refuses a subscribe past routing.subscriptions.maxTotal, across sessions, before it reaches the server', async () => {
    const everything = recordedServer(EVERYTHING, ['stdio']);
    const gw = await startSecureGateway({
      routing: { subscriptions: { maxPerSession: 10, maxTotal: 2 } },
      servers: { everything: everything.server },
      policy: { rules: [{ name: 'dynamic-text', effect: 'allow', servers: ['everything'], resources: ['demo://resource/dynamic/text/*'] }] },
    });
    const clients: LegacyClient[] = [];
    try {
      for (let i = 0; i < 3; i++) clients.push(await legacyClient(`${gw.url}/mcp/everything`));
      await clients[0]!.subscribeResource({ uri: uri(1) });
      await clients[1]!.subscribeResource({ uri: uri(2) });
      await assert.rejects(clients[2]!.subscribeResource({ uri: uri(3) }), (error: McpError) => (error.data as { code?: string; limit?: number }).code === 'PC_SUBSCRIPTION_LIMIT' && (error.data as { limit?: number }).limit === 2);
      const subscribed = received(everything.log).filter((m) => m.method === 'resources/subscribe').map((m) => String(m.params?.uri));
      assert.deepEqual(subscribed, [uri(1), uri(2)], 'the third never reached the server');
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await gw.close();
    }
  });
});
