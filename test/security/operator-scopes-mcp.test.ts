/**
 * Operator scopes are not MCP access (redteam-g F3): a key holding only `portcullis:metrics` (the
 * Prometheus scrape key docs/configuration.md recommends) or only `portcullis:approvals` (the approval
 * desk's) is refused at /mcp — 403 naming the base scope /mcp wants — and nothing of its calls reaches
 * the server; it still reads /metrics. A key that holds `mcp` next to an operator scope, and a key
 * holding no scope at all (docs/identity.md: it holds what rules that select by no scope give), still call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail } from '../helpers/recorded.ts';
import { callTool, recordedEverything } from '../helpers/oauth.ts';

describe('security: operator scopes do not reach /mcp', () => {
  let gw: TestGateway;
  const upstream = recordedEverything();
  const keys: Record<string, string> = {};
  const echoed = () => upstream.received().filter((m) => m.method === 'tools/call').map((m) => String((m.params?.arguments as { message?: string }).message));

  before(async () => {
    gw = await startSecureGateway({
      servers: { everything: upstream.server },
      identity: { apiKeys: {}, scopes: ['mcp'] },
      listen: { metrics: 'credential' },
      policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['everything'], tools: ['echo'] }] },
    });
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!));
    const expires = new Date(Date.now() + 86_400_000);
    keys.metrics = store.createKey('prometheus', ['portcullis:metrics'], expires).key;
    keys.desk = store.createKey('security-desk', ['portcullis:approvals'], expires).key;
    keys.both = store.createKey('desk-agent', ['mcp', 'portcullis:approvals'], expires).key;
    keys.none = store.createKey('plain', [], expires).key;
    store.close();
  });
  after(async () => {
    await gw?.close();
  });

  it('refuses a credential holding operator scopes only, naming the scope /mcp needs', async () => {
    for (const who of ['metrics', 'desk'] as const) {
      const refused = await callTool(`${gw.url}/mcp`, keys[who]!, 'everything__echo', { message: `operator-${who}` });
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.json.error?.data?.code, 'PC_AUTH_INSUFFICIENT_SCOPE', refused.text);
      assert.deepEqual(refused.json.error?.data?.scopes, ['mcp']);
      assert.match(refused.headers.get('www-authenticate') ?? '', /insufficient_scope.*scope="mcp"/);
    }
    assert.deepEqual(echoed().filter((m) => m.startsWith('operator-')), [], 'no call of an operator key reached the server');
    const records = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.deepEqual(records.map((r) => r.principal.agent).sort(), ['prometheus', 'security-desk']);
  });

  it('the scrape key still reads /metrics; mcp next to an operator scope, and no scope at all, still call', async () => {
    const metrics = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${keys.metrics}` } });
    assert.equal(metrics.status, 200);
    await metrics.arrayBuffer();
    for (const who of ['both', 'none'] as const) {
      const ran = await callTool(`${gw.url}/mcp`, keys[who]!, 'everything__echo', { message: `caller-${who}` });
      assert.equal(ran.json.error, undefined, `${who}: ${ran.text}`);
    }
    assert.deepEqual(echoed().filter((m) => m.startsWith('caller-')).sort(), ['caller-both', 'caller-none']);
  });
});
