/**
 * What an approval does not override (docs/approvals.md): a kill switch or a policy change that lands
 * while a call waits for its human stops it even once granted; another endpoint or era does not skip the
 * approval; the queue is bounded per principal; approvals survive a restart of the gateway. Judged on the
 * server's side (server-everything behind the recording wrapper) and in the audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { argsHashIn } from '../helpers/audit.ts';
import { policySchema } from '../../src/policy/schema.ts';
import { post, waitFor } from '../helpers/gateway.ts';
import { modernRequest } from '../helpers/sessions.ts';
import { APPROVAL_POLICY, approvalHarness, codeOf, type ApprovalHarness } from '../approvals/harness.ts';


describe('approval races and bounds', () => {
  let h: ApprovalHarness;
  /** The argsHash the gateway binds an approval by (keyed with its data dir's key). */
  const hashOf = (args: Record<string, unknown>): string => argsHashIn(h.dataDir, args);
  before(async () => {
    // The approval counters are read from /metrics, which needs a credential while identity is on: loopback here.
    h = await approvalHarness({ approvals: { waitMs: 3000, pollMs: 25, maxPendingPerPrincipal: 4 }, listen: { port: 0, metrics: 'loopback' } });
  });
  after(async () => h.close());

  async function waiting(who: string, args: Record<string, unknown>) {
    const answer = h.call(who, 'echo', args);
    const approval = await waitFor(() => h.waiting().find((a) => a.argsHash === hashOf(args)), 10_000, 'the call to wait');
    return { answer, id: approval.id };
  }

  it('a kill switch pulled while the call waits wins over the grant that follows: nothing runs, the grant stays unused', async () => {
    const args = { message: 'race the kill switch' };
    const { answer, id } = await waiting('alice', args);
    h.gw.gateway.kill.add({ tool: 'echo' }, 'incident 7', 'test');
    try {
      const granted = await h.admin('officer', 'POST', `/admin/approvals/${id}/grant`, {});
      assert.equal(granted.status, 200);
      assert.equal(codeOf(await answer), 'PC_KILL_SWITCH');
      // A retry while the switch is on is stopped before approval is even looked at.
      assert.equal(codeOf(await h.call('alice', 'echo', args)), 'PC_KILL_SWITCH');
    } finally {
      h.gw.gateway.kill.remove({ tool: 'echo' });
    }
    assert.deepEqual(h.received('echo').filter((a) => a.message === args.message), []);
    assert.equal(h.gw.gateway.approvals.queue.store.get(id)?.status, 'granted', 'the refused call did not use the grant');
    assert.ok(h.trail().some((r) => r.code === 'PC_KILL_SWITCH' && r.approval?.id === id));
  });

  it('a policy reloaded to deny while the call waits wins over the grant', async () => {
    const args = { message: 'race the policy' };
    const { answer, id } = await waiting('alice', args);
    const denyEcho = policySchema.parse({ rules: [{ name: 'no-echo', effect: 'deny', tools: ['echo'] }, ...APPROVAL_POLICY.rules] });
    assert.deepEqual(h.gw.gateway.reloadPolicy(denyEcho), []);
    try {
      assert.equal((await h.admin('officer', 'POST', `/admin/approvals/${id}/grant`, {})).status, 200);
      assert.equal(codeOf(await answer), 'PC_POLICY_DENIED');
    } finally {
      assert.deepEqual(h.gw.gateway.reloadPolicy(policySchema.parse(APPROVAL_POLICY)), []);
    }
    assert.deepEqual(h.received('echo').filter((a) => a.message === args.message), []);
  });

  it('a retry after the grant passes the rate limits again: over the limit it is refused and the grant stays unused', async () => {
    const limited = policySchema.parse({ ...APPROVAL_POLICY, limits: [{ name: 'echo-once', per: 'principal', tools: ['echo'], rate: '1/h', burst: 1 }] });
    assert.deepEqual(h.gw.gateway.reloadPolicy(limited), []);
    const args = { message: 'rate limited retry' };
    try {
      const { answer, id } = await waiting('bob', args);
      // The waiting call took bob's one token; nobody decides before waitMs.
      const first = await answer;
      assert.equal(codeOf(first), 'PC_APPROVAL_PENDING');
      assert.equal((await h.admin('officer', 'POST', `/admin/approvals/${id}/grant`, {})).status, 200);
      const retry = await h.call('bob', 'echo', args);
      assert.equal(codeOf(retry), 'PC_RATE_LIMITED');
      assert.equal(h.gw.gateway.approvals.queue.store.get(id)?.status, 'granted', 'the refused retry did not use the grant');
    } finally {
      assert.deepEqual(h.gw.gateway.reloadPolicy(policySchema.parse(APPROVAL_POLICY)), []);
    }
    assert.deepEqual(h.received('echo').filter((a) => a.message === args.message), []);
  });

  it('holds the call on the aggregate endpoint and in the legacy era too', async () => {
    // bob's queue is empty so far: the call waits out waitMs, then PC_APPROVAL_PENDING (asserted once the
    // legacy call below, which waits as long, is answered too).
    const aggregated = modernRequest(`${h.gw.url}/mcp`, 'tools/call', { name: 'everything__echo', arguments: { message: 'via /mcp' } }, { authorization: `Bearer ${h.keys.bob}` }, {});
    // 2025-03-26 has no elicitation: out of band, whatever capabilities the client declares.
    const url = `${h.gw.url}/mcp/everything`;
    const auth = { authorization: `Bearer ${h.keys.bob}` };
    const init = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: { elicitation: {} }, clientInfo: { name: 'old-client', version: '1' } } }), auth);
    const session = { ...auth, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-03-26' };
    await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), session);
    const old = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'via 2025-03-26' } } }), session);
    const answer = old.json ?? JSON.parse(old.text.split('\n').filter((l) => l.startsWith('data: ')).at(-1)!.slice(6));
    assert.equal(answer.error?.data?.code, 'PC_APPROVAL_PENDING', old.text);
    assert.equal(codeOf(await aggregated), 'PC_APPROVAL_PENDING');
    assert.ok(!old.text.includes('elicitation/create'), 'no elicitation was sent to a 2025-03-26 client');
    assert.deepEqual(h.received('echo').filter((a) => a.message === 'via 2025-03-26'), []);
    assert.deepEqual(h.received('echo').filter((a) => a.message === 'via /mcp'), []);
  });

  it('bounds the approvals one principal may have waiting (PC_APPROVAL_LIMIT), recorded', async () => {
    const store = h.gw.gateway.approvals.queue.store;
    const mine = () => store.list('pending').filter((a) => a.subject === store.list('pending').find((b) => b.agent === 'bob')?.subject && a.agent === 'bob').length;
    const flood: Array<Promise<unknown>> = [];
    for (let i = 0; mine() < 4 && i < 10; i++) {
      flood.push(h.call('bob', 'echo', { message: `flood ${i}` }));
      await waitFor(() => store.list('pending').some((a) => a.argsHash === hashOf({ message: `flood ${i}` })) || undefined, 10_000, `flood ${i} to wait`);
    }
    assert.equal(mine(), 4);
    const over = await h.call('bob', 'echo', { message: 'one too many' });
    assert.equal(codeOf(over), 'PC_APPROVAL_LIMIT');
    assert.ok(!store.list().some((a) => a.argsHash === hashOf({ message: 'one too many' })), 'not filed');
    const metrics = await (await fetch(`${h.gw.url}/metrics`)).text();
    assert.match(metrics, /^portcullis_approvals_refused_total [1-9]/m);
    assert.match(metrics, /^portcullis_approvals_pending ([4-9]|\d\d)/m);
    await Promise.all(flood);
    assert.ok(h.trail().some((r) => r.code === 'PC_APPROVAL_LIMIT'));
    assert.deepEqual(h.received('echo').filter((a) => String(a.message).startsWith('flood') || a.message === 'one too many'), []);
  });

  it('keeps approvals across a restart: a grant made while the gateway is down counts, and is recorded when it is back', async () => {
    const args = { message: 'survives a restart' };
    // The gateway stops under this call: its answer is lost, what matters is the approval it filed.
    const first = h.call('alice', 'echo', args).catch(() => undefined);
    const id = (await waitFor(() => h.waiting().find((a) => a.argsHash === hashOf(args)), 10_000, 'the call to wait')).id;
    await h.stop();
    await first;
    const grant = await h.cli(['approvals', 'grant', id, '--by', 'night-shift']);
    assert.equal(grant.code, 0, grant.stderr);
    await h.restart();
    const again = await h.call('alice', 'echo', args);
    assert.equal(again.body.result?.content?.[0]?.text, 'Echo: survives a restart', JSON.stringify(again.body));
    assert.equal(h.received('echo').filter((a) => a.message === args.message).length, 1);
    await waitFor(() => h.trail().some((r) => r.approval?.id === id && r.approval.event === 'granted' && r.approval.by === 'night-shift'), 5000, 'the grant recorded after the restart');
  });
});
