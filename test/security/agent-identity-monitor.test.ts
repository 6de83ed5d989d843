/**
 * One agent, several credentials (redteam-g F2, F4): an agent holding two API keys (a rotation's
 * overlap) and the client credentials of `agent add` is one agent to the monitor as it is to policy and
 * `kill --agent`. The toxic-flow block follows it from one credential to the next, the step-up count
 * sums its probes over its keys, and the monitor's kill-agent stops every one of its credentials — on the
 * server's side nothing of the contained calls arrives. Another agent is not touched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail } from '../helpers/recorded.ts';
import { basic, callTool, recordedEverything, tokenRequest } from '../helpers/oauth.ts';

describe('security: the monitor knows an agent across its credentials', () => {
  let gw: TestGateway;
  const upstream = recordedEverything();
  const credentials: Record<string, { keys: string[]; token: string }> = {};
  const echoed = () => upstream.received().filter((m) => m.method === 'tools/call' && m.params?.name === 'echo').map((m) => String((m.params?.arguments as { message?: string }).message));

  before(async () => {
    gw = await startSecureGateway({
      servers: { everything: upstream.server },
      identity: { embedded: {}, apiKeys: {}, scopes: ['mcp'] },
      policy: {
        rules: [{ name: 'tools', effect: 'allow', servers: ['everything'], tools: ['echo', 'get-sum', 'get-env', 'get-structured-content'], principal: { scopes: ['mcp'] } }],
        tools: [
          { server: 'everything', tool: 'get-env', scopes: ['admin:env'] },
          { server: 'everything', tool: 'get-structured-content', annotations: { private: true, egress: false, untrusted: false } },
          { server: 'everything', tool: 'echo', annotations: { egress: true, private: false, untrusted: false } },
        ],
      },
      monitor: {
        learningPeriod: '0s',
        sinks: [],
        detectors: {
          stepUp: { count: 5, window: '5m', action: 'kill-agent', for: '15m' },
          toxicFlow: { enforce: 'block', window: '1h' },
          firstUse: { enabled: false },
          offHours: { enabled: false },
          scopeElevation: { enabled: false },
        },
      },
    });
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!));
    const expires = new Date(Date.now() + 86_400_000);
    for (const name of ['tf', 'sp', 'cc', 'bystander']) {
      const keys = [store.createKey(name, ['mcp'], expires).key, store.createKey(name, ['mcp'], expires).key];
      const agent = store.addAgent(name, ['mcp']);
      credentials[name] = { keys, token: '' };
      Object.assign(credentials[name], { clientId: agent.clientId, clientSecret: agent.clientSecret });
    }
    store.close();
    for (const name of Object.keys(credentials)) {
      const c = credentials[name] as { token: string; clientId?: string; clientSecret?: string };
      const minted = await tokenRequest(gw.url, { grant_type: 'client_credentials', resource: `${gw.url}/mcp`, scope: 'mcp' }, basic(c.clientId!, c.clientSecret!));
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      c.token = minted.body.access_token as string;
    }
  });
  after(async () => {
    await gw?.close();
  });

  const code = (r: { json: any }) => r.json.error?.data?.code as string | undefined;

  it('toxic flow: a private read with one key blocks the egress of the other key and of the client credentials', async () => {
    const { keys, token } = credentials.tf!;
    assert.equal(code(await callTool(`${gw.url}/mcp`, keys[0]!, 'everything__get-structured-content', { location: 'New York' })), undefined);
    assert.equal(code(await callTool(`${gw.url}/mcp`, keys[0]!, 'everything__echo', { message: 'tf-key1-exfil' })), 'PC_POLICY_TOXIC_FLOW');
    assert.equal(code(await callTool(`${gw.url}/mcp`, keys[1]!, 'everything__echo', { message: 'tf-key2-exfil' })), 'PC_POLICY_TOXIC_FLOW');
    assert.equal(code(await callTool(`${gw.url}/mcp`, token, 'everything__echo', { message: 'tf-cc-exfil' })), 'PC_POLICY_TOXIC_FLOW');
    // Another agent read nothing private: its egress runs.
    assert.equal(code(await callTool(`${gw.url}/mcp`, credentials.bystander!.keys[0]!, 'everything__echo', { message: 'bystander-echo' })), undefined);
    assert.deepEqual(echoed().filter((m) => m.startsWith('tf-')), [], 'no egress of agent tf reached the server');
    assert.ok(echoed().includes('bystander-echo'));
    const refused = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_POLICY_TOXIC_FLOW');
    assert.equal(refused.length, 3);
    assert.ok(refused.every((r) => r.principal.agent === 'tf'));
  });

  it('step-up: probes spread over two keys are counted for the agent, and its kill stops every credential of it', async () => {
    const { keys, token } = credentials.sp!;
    // 3 + 2 probes over two keys: 5, the configured count.
    for (const key of [keys[0], keys[0], keys[0], keys[1], keys[1]]) {
      const probe = await callTool(`${gw.url}/mcp`, key!, 'everything__get-env', {});
      assert.equal(code(probe), 'PC_AUTH_INSUFFICIENT_SCOPE', probe.text);
    }
    for (const [label, credential] of [['key1', keys[0]], ['key2', keys[1]], ['cc', token]] as const) {
      const after = await callTool(`${gw.url}/mcp`, credential!, 'everything__echo', { message: `sp-${label}-after` });
      assert.equal(code(after), 'PC_KILL_SWITCH', `${label}: ${after.text}`);
    }
    assert.deepEqual(echoed().filter((m) => m.startsWith('sp-')), [], 'no call of the contained agent reached the server');
    const alerts = gw.gateway.monitor!.alerts.list().map((l) => l.alert).filter((a) => a.kind === 'step-up');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.response?.target, 'agent "sp" of issuer "portcullis"');
    // Another agent is not stopped.
    assert.equal(code(await callTool(`${gw.url}/mcp`, credentials.bystander!.token, 'everything__echo', { message: 'bystander-after-sp' })), undefined);
  });

  it('kill-agent tripped by the client credentials stops the API keys too (the reverse direction)', async () => {
    const { keys, token } = credentials.cc!;
    for (let i = 0; i < 5; i++) assert.equal(code(await callTool(`${gw.url}/mcp`, token, 'everything__get-env', {})), 'PC_AUTH_INSUFFICIENT_SCOPE');
    for (const key of keys) assert.equal(code(await callTool(`${gw.url}/mcp`, key, 'everything__echo', { message: 'cc-key-after' })), 'PC_KILL_SWITCH');
    assert.deepEqual(echoed().filter((m) => m.startsWith('cc-')), []);
  });
});
