/**
 * Evidence of identified callers cannot be starved (redteam-g F1). The refusals decided at the front
 * are recorded under budgets per class: a flood of made-up API keys (unidentified, one address) empties
 * its own budget, not an authenticated agent's — the agent's insufficient-scope probes after the flood
 * are in the trail and the step-up detector contains it. And an agent that empties its own budget with
 * other refusals (unknown session ids) is still contained: what is not written still reaches the
 * monitor. What was not recorded is summed up in the trail and counted in /metrics. On the server's
 * side, nothing of the contained calls arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail } from '../helpers/recorded.ts';
import { callTool, recordedEverything } from '../helpers/oauth.ts';
import { ANON_ADDRESS_BURST, IDENTIFIED_BURST } from '../../src/audit/refusals.ts';

/** The refusal budgets' clock, held still: no budget refills while the test runs, however slow the machine. */
const still = { clock: () => 1_000 };
const DETECTORS = { firstUse: { enabled: false }, offHours: { enabled: false }, scopeElevation: { enabled: false } };

describe('security: a flood cannot silence the evidence of an identified caller', () => {
  let gw: TestGateway;
  let gw2: TestGateway | undefined;
  const upstream = recordedEverything();
  const keys: Record<string, string> = {};
  const echoed = () => upstream.received().filter((m) => m.method === 'tools/call' && m.params?.name === 'echo').map((m) => String((m.params?.arguments as { message?: string }).message));
  const code = (r: { json: any }) => r.json.error?.data?.code as string | undefined;

  before(async () => {
    gw = await startSecureGateway({
      servers: { everything: upstream.server },
      identity: { apiKeys: {}, scopes: ['mcp'] },
      policy: {
        rules: [{ name: 'tools', effect: 'allow', servers: ['everything'], tools: ['echo', 'get-env'] }],
        tools: [{ server: 'everything', tool: 'get-env', scopes: ['admin:env'] }],
      },
      monitor: { learningPeriod: '0s', sinks: [], detectors: { stepUp: { count: 5, window: '5m', action: 'kill-agent', for: '15m' }, ...DETECTORS } },
    }, undefined, still);
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!));
    const expires = new Date(Date.now() + 86_400_000);
    for (const name of ['prober', 'bystander']) keys[name] = store.createKey(name, ['mcp'], expires).key;
    keys.metrics = store.createKey('prometheus', ['portcullis:metrics'], expires).key;
    store.close();
  });
  after(async () => {
    await gw?.close();
    await gw2?.close();
  });

  it('a made-up-key flood empties the unidentified budget only: the agent\'s probes are recorded and it is contained', async () => {
    const flood = 4 * ANON_ADDRESS_BURST + 150;
    for (let i = 0; i < flood; i++) {
      const bad = await callTool(`${gw.url}/mcp`, `pcl_deadbeef0000_${'A'.repeat(43)}`, 'everything__echo', { message: 'flood' });
      assert.equal(bad.status, 401);
    }
    assert.ok(gw.gateway.recordRefusal.unrecorded.anonymous > 0, 'the flood went past its budget');
    for (let i = 0; i < 5; i++) assert.equal(code(await callTool(`${gw.url}/mcp`, keys.prober!, 'everything__get-env', {})), 'PC_AUTH_INSUFFICIENT_SCOPE');
    const after = await callTool(`${gw.url}/mcp`, keys.prober!, 'everything__echo', { message: 'prober-after' });
    assert.equal(code(after), 'PC_KILL_SWITCH', after.text);
    assert.equal(code(await callTool(`${gw.url}/mcp`, keys.bystander!, 'everything__echo', { message: 'bystander' })), undefined);
    assert.deepEqual(echoed().filter((m) => m.startsWith('prober')), [], 'the contained agent reached nothing');
    const probes = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_AUTH_INSUFFICIENT_SCOPE' && r.principal.agent === 'prober');
    assert.equal(probes.length, 5, 'every probe is in the trail');
    // What was not written is summed up in the trail and counted.
    await gw.gateway.recordRefusal.summarize();
    const summary = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.method === '(refusals not recorded)' && r.principal.agent === 'unknown');
    const summed = summary.reduce((n, r) => n + Number(/^(\d+) refusals? of unidentified callers not recorded/.exec(r.reason ?? '')?.[1]), 0);
    assert.equal(summed, gw.gateway.recordRefusal.unrecorded.anonymous, JSON.stringify(summary));
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${keys.metrics}` } })).text();
    assert.match(metrics, /portcullis_audit_refusals_unrecorded_total\{class="anonymous"\} [1-9]/);
  });

  it('an agent past its own budget is still counted: its unwritten refusals reach the monitor', async () => {
    // A step-up count above the budget's burst: the detector can only trip on refusals that were not written.
    const upstream2 = recordedEverything();
    gw2 = await startSecureGateway({
      servers: { everything: upstream2.server },
      identity: { apiKeys: {}, scopes: ['mcp'] },
      policy: { rules: [{ name: 'tools', effect: 'allow', servers: ['everything'], tools: ['echo', 'get-env'] }], tools: [{ server: 'everything', tool: 'get-env', scopes: ['admin:env'] }] },
      monitor: { learningPeriod: '0s', sinks: [], detectors: { stepUp: { count: IDENTIFIED_BURST + 10, window: '1h', action: 'kill-agent', for: '15m' }, ...DETECTORS } },
    }, undefined, still);
    const store = new IdentityStore(identityDbPath(gw2.gateway.config.dataDir!));
    const key = store.createKey('self-flooder', ['mcp'], new Date(Date.now() + 86_400_000)).key;
    store.close();
    for (let i = 0; i < IDENTIFIED_BURST + 10; i++) assert.equal(code(await callTool(`${gw2.url}/mcp`, key, 'everything__get-env', {})), 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.equal(gw2.gateway.recordRefusal.unrecorded.identified, 10, 'the last ten were not written');
    const written = auditTrail(gw2.gateway.config.dataDir!).filter((r) => r.code === 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.equal(written.length, IDENTIFIED_BURST);
    const after = await callTool(`${gw2.url}/mcp`, key, 'everything__echo', { message: 'self-flooder-after' });
    assert.equal(code(after), 'PC_KILL_SWITCH', after.text);
    assert.deepEqual(upstream2.received().filter((m) => m.method === 'tools/call'), [], 'nothing of the agent reached the server');
    await gw2.gateway.recordRefusal.summarize();
    const summary = auditTrail(gw2.gateway.config.dataDir!).filter((r) => r.method === '(refusals not recorded)');
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!.principal.agent, 'self-flooder');
    assert.match(summary[0]!.reason ?? '', /^10 refusals of agent "self-flooder" not recorded .*codes: PC_AUTH_INSUFFICIENT_SCOPE/);
  });
});
