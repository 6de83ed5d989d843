/**
 * Parked calls (a legacy server asks mid-call, a modern client answers with a retry carrying
 * `requestState`): only the principal that started the call, retrying the same call with the same
 * arguments, can resume it; the retry is judged again (kill switch, policy, rate limit, audit gate) and a
 * refusal cancels the call upstream; a parked call keeps its concurrency slot; parked calls are bounded
 * per principal and expire — and the audit trail shows what actually ran.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { policySchema } from '../../src/policy/schema.ts';
import { argsHashIn, auditTrail } from '../helpers/audit.ts';
import { runCli, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { dataDirWithKeys, modernRequest } from '../helpers/sessions.ts';

const LEAKY = new URL('../fixtures/leaky-server.ts', import.meta.url).pathname;

const POLICY = {
  rules: [
    { name: 'alice-all', effect: 'allow', principal: { agents: ['alice'] } },
    // bob may call `ask` himself: what stops him below is the binding of the state, not his rights.
    { name: 'bob-some', effect: 'allow', principal: { agents: ['bob'] }, tools: ['echo', 'ask'] },
  ],
};

interface Harness {
  gw: TestGateway;
  dataDir: string;
  /** What the shared `leaky` server received (a second, per-principal `leaky-pp` runs the same fixture). */
  log: string;
  call(who: string, name: string, args: Record<string, unknown>, extra?: Record<string, unknown>, server?: string): Promise<{ status: number; body: Record<string, any> }>;
  /** Puts a policy in force as a hot reload would (POLICY plus `extra`); asserts it has no problem. */
  reload(extra?: Record<string, unknown>): void;
  /** The upstream JSON-RPC id of the tools/call the server received with these arguments. */
  upstreamId(args: Record<string, unknown>): number;
  cancelledUpstream(id: number): boolean;
}

async function harness(extra: Record<string, unknown> = {}): Promise<Harness> {
  const { dataDir, keys } = dataDirWithKeys(['alice', 'bob']);
  const leaky = recordedServer(LEAKY);
  const servers = { leaky: leaky.server, 'leaky-pp': { ...recordedServer(LEAKY).server, upstreamSession: 'per-principal' } };
  const gw = await startSecureGateway({ dataDir, identity: { apiKeys: {} }, listen: { port: 0, metrics: 'loopback' }, servers, policy: POLICY, ...extra });
  return {
    gw,
    dataDir,
    log: leaky.log,
    reload(extra = {}) {
      assert.deepEqual(gw.gateway.reloadPolicy(policySchema.parse({ ...POLICY, ...extra })), []);
    },
    call: (who, name, args, more = {}, server = 'leaky') =>
      modernRequest(`${gw.url}/mcp/${server}`, 'tools/call', { name, arguments: args, ...more }, { authorization: `Bearer ${keys[who]}` }),
    upstreamId(args) {
      const found = received(leaky.log).find((m) => m.method === 'tools/call' && JSON.stringify(m.params.arguments) === JSON.stringify(args));
      assert.ok(found, `the server received tools/call ${JSON.stringify(args)}`);
      return found.id as number;
    },
    cancelledUpstream: (id) => received(leaky.log).some((m) => m.method === 'notifications/cancelled' && m.params?.requestId === id),
  };
}

const answer = (text: string) => ({ 'input-1': { action: 'accept', content: { answer: text } } });

describe('parked calls: who may resume them, and what is judged again', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.gw.close());

  async function park(who: string, args: Record<string, unknown>, name = 'ask'): Promise<string> {
    const first = await h.call(who, name, args);
    assert.equal(first.body.result?.resultType, 'input_required', JSON.stringify(first.body));
    return first.body.result.requestState as string;
  }

  it('refuses bob\'s retry with alice\'s requestState, leaves her call parked, and records who resumed what', async () => {
    const args = { question: 'alice-q' };
    const state = await park('alice', args);
    for (const attempt of [args, { question: 'bob-q' }]) {
      const stolen = await h.call('bob', 'ask', attempt, { inputResponses: answer('bob-answer'), requestState: state });
      assert.equal(stolen.body.error?.data?.code, 'PC_INPUT_STATE_INVALID', JSON.stringify(stolen.body));
      assert.doesNotMatch(JSON.stringify(stolen.body), /alice/);
    }
    const resumed = await h.call('alice', 'ask', args, { inputResponses: answer('alice-answer'), requestState: state });
    assert.deepEqual(resumed.body.result.content, [{ type: 'text', text: 'asked alice-q; accept {"answer":"alice-answer"}' }]);
    assert.doesNotMatch(JSON.stringify(received(h.log)), /bob-answer|bob-q/, 'nothing of bob\'s reached the server');

    const trail = auditTrail(h.dataDir).filter((r) => r.method === 'tools/call' && r.target === 'ask');
    const bobs = trail.filter((r) => r.principal.agent === 'bob');
    assert.deepEqual(bobs.map((r) => [r.decision, r.code]), [['denied', 'PC_INPUT_STATE_INVALID'], ['denied', 'PC_INPUT_STATE_INVALID']]);
    const resumeRecord = trail.filter((r) => r.principal.agent === 'alice').at(-1)!;
    assert.equal(resumeRecord.decision, 'allowed');
    assert.equal(resumeRecord.argsHash, argsHashIn(h.dataDir, args), 'the record holds the arguments that ran');
  });

  it('binds the state to the arguments: a retry with other arguments cannot resume, the original one still can', async () => {
    const args = { question: 'original' };
    const state = await park('alice', args);
    const swapped = await h.call('alice', 'ask', { question: 'swapped' }, { inputResponses: answer('x'), requestState: state });
    assert.equal(swapped.body.error?.data?.code, 'PC_INPUT_STATE_INVALID');
    const elsewhere = await h.call('alice', 'echo', args, { inputResponses: answer('x'), requestState: state });
    assert.equal(elsewhere.body.error?.data?.code, 'PC_INPUT_STATE_INVALID', 'another tool cannot take it either');
    const resumed = await h.call('alice', 'ask', args, { inputResponses: answer('fine'), requestState: state });
    assert.match(JSON.stringify(resumed.body.result.content), /asked original; accept/);
    const again = await h.call('alice', 'ask', args, { inputResponses: answer('twice'), requestState: state });
    assert.equal(again.body.error?.data?.code, 'PC_INPUT_STATE_INVALID', 'one use only');
  });

  it('stops a resume after kill --all and cancels the parked call upstream', async () => {
    const args = { question: 'before the incident' };
    const state = await park('alice', args);
    const id = h.upstreamId(args);
    assert.equal((await runCli(['kill', '--all', '--reason', 'incident', '--data-dir', h.dataDir])).code, 0);
    try {
      const refused = await h.call('alice', 'ask', args, { inputResponses: answer('too late'), requestState: state });
      assert.equal(refused.body.error?.data?.code, 'PC_KILL_SWITCH');
      await waitFor(() => h.cancelledUpstream(id) || undefined, 5000, 'the parked call cancelled upstream');
      assert.doesNotMatch(JSON.stringify(received(h.log)), /too late/, 'the answer never reached the server');
      const record = auditTrail(h.dataDir).at(-1)!;
      assert.deepEqual([record.principal.agent, record.target, record.decision, record.code], ['alice', 'ask', 'denied', 'PC_KILL_SWITCH']);
    } finally {
      assert.equal((await runCli(['unkill', '--everything', '--data-dir', h.dataDir])).code, 0);
    }
    const after = await h.call('alice', 'ask', args, { inputResponses: answer('after'), requestState: state });
    assert.equal(after.body.error?.data?.code, 'PC_INPUT_STATE_INVALID', 'a cancelled call stays cancelled');
  });

  it('judges the retry under the policy in force: a rule removed meanwhile refuses it and cancels the call', async () => {
    const args = { question: 'policy' };
    const state = await park('alice', args);
    const id = h.upstreamId(args);
    h.reload({ rules: [{ name: 'alice-echo', effect: 'allow', principal: { agents: ['alice'] }, tools: ['echo'] }] });
    try {
      const refused = await h.call('alice', 'ask', args, { inputResponses: answer('x'), requestState: state });
      assert.equal(refused.body.error?.data?.code, 'PC_POLICY_DENIED');
      await waitFor(() => h.cancelledUpstream(id) || undefined, 5000, 'the parked call cancelled upstream');
    } finally {
      h.reload();
    }
  });

  it('counts the retry against the rate limit: over the limit, the call is cancelled', async () => {
    h.reload({ limits: [{ name: 'ask-once', per: 'principal', tools: ['ask'], rate: '1/m', burst: 1 }] });
    try {
      const args = { question: 'rate' };
      const state = await park('alice', args);
      const refused = await h.call('alice', 'ask', args, { inputResponses: answer('x'), requestState: state });
      assert.equal(refused.body.error?.data?.code, 'PC_RATE_LIMITED');
      await waitFor(() => h.cancelledUpstream(h.upstreamId(args)) || undefined, 5000, 'the parked call cancelled upstream');
    } finally {
      h.reload();
    }
  });

  it('keeps the concurrency slot while the call is parked, until it ends upstream', async () => {
    h.reload({ concurrency: { leaky: 1 } });
    try {
      const args = { question: 'slot' };
      const state = await park('alice', args);
      const blocked = await h.call('bob', 'echo', { text: 'meanwhile' });
      assert.equal(blocked.body.error?.data?.code, 'PC_CONCURRENCY_LIMITED', 'the parked call still holds the only slot');
      const resumed = await h.call('alice', 'ask', args, { inputResponses: answer('done'), requestState: state });
      assert.match(JSON.stringify(resumed.body.result.content), /asked slot/);
      const free = await h.call('bob', 'echo', { text: 'now' });
      assert.deepEqual(free.body.result.content, [{ type: 'text', text: 'now' }]);
    } finally {
      h.reload();
    }
  });

  it('cancels a resume the audit gate refuses instead of leaving it parked', async () => {
    const args = { question: 'audit' };
    const state = await park('alice', args);
    const id = h.upstreamId(args);
    const locker = new DatabaseSync(join(h.dataDir, 'audit.db'));
    locker.exec('BEGIN EXCLUSIVE');
    try {
      // The store fails on this record; until the next probe the gate refuses everything.
      assert.equal((await h.call('alice', 'echo', { text: 'unrecorded' })).body.error?.data?.code, 'PC_AUDIT_UNAVAILABLE');
      const refused = await h.call('alice', 'ask', args, { inputResponses: answer('unrecorded answer'), requestState: state });
      assert.equal(refused.body.error?.data?.code, 'PC_AUDIT_UNAVAILABLE');
      await waitFor(() => h.cancelledUpstream(id) || undefined, 5000, 'the parked call cancelled upstream');
      assert.doesNotMatch(JSON.stringify(received(h.log)), /unrecorded answer/);
    } finally {
      locker.exec('COMMIT');
      locker.close();
    }
  });
});

describe('parked calls are bounded and expire', () => {
  let h: Harness;
  before(async () => {
    // Long enough for the steps before expiry on a loaded machine; expiry itself is awaited.
    h = await harness({ routing: { inputRequired: { ttlMs: 8000, maxPerPrincipal: 2 } } });
  });
  after(async () => h.gw.close());

  it('refuses a third parked call of one principal, not another\'s, and cancels every abandoned one when it expires', async () => {
    const first = await h.call('alice', 'ask', { question: 'abandoned-1' });
    assert.equal(first.body.result?.resultType, 'input_required');
    // An abandoned parked call does not make the same client's next server request "ambiguous".
    const sampled = await h.call('alice', 'sample', { prompt: 'still mine' });
    assert.equal(sampled.body.result?.resultType, 'input_required', JSON.stringify(sampled.body));
    assert.equal(Object.values(sampled.body.result.inputRequests as Record<string, { method: string }>)[0]!.method, 'sampling/createMessage');

    const third = await h.call('alice', 'ask', { question: 'one too many' });
    assert.equal(third.body.error?.data?.code, 'PC_INPUT_PARKED_LIMIT');
    await waitFor(() => h.cancelledUpstream(h.upstreamId({ question: 'one too many' })) || undefined, 5000, 'the refused call cancelled upstream');
    // On the shared session alice's parked calls are calls in flight: whose a question is cannot be told
    // while two principals have some, so bob's is refused; on his own (per-principal) session it is his.
    const shared = await h.call('bob', 'ask', { question: 'bob on the shared session' });
    assert.match(JSON.stringify(shared.body), /cannot be attributed to one caller/);
    const bobs = await h.call('bob', 'ask', { question: 'bob parks too' }, {}, 'leaky-pp');
    assert.equal(bobs.body.result?.resultType, 'input_required', 'alice\'s bound is not bob\'s');
    assert.equal(h.gw.gateway.isolation().parkedCalls, 3);

    await waitFor(() => (h.gw.gateway.isolation().parkedCalls === 0 ? true : undefined), 30_000, 'parked calls expired');
    const again = await h.call('bob', 'ask', { question: 'bob after they expired' });
    assert.equal(again.body.result?.resultType, 'input_required', 'expired parked calls no longer hold the shared session\'s attribution');
    const done = await h.call('bob', 'ask', { question: 'bob after they expired' }, { inputResponses: answer('ok'), requestState: again.body.result.requestState });
    assert.match(JSON.stringify(done.body.result.content), /asked bob after they expired; accept/);
    for (const args of [{ question: 'abandoned-1' }, { prompt: 'still mine' }]) {
      const id = h.upstreamId(args);
      await waitFor(() => h.cancelledUpstream(id) || undefined, 5000, `${JSON.stringify(args)} cancelled upstream`);
    }
    const metrics = await (await fetch(`${h.gw.url}/metrics`)).text();
    assert.match(metrics, /^portcullis_parked_expired_total 3$/m);
    assert.match(metrics, /^portcullis_unattributed_total\{server="leaky",kind="request"\} 1$/m);
    assert.match(metrics, /^portcullis_parked_refused_total 1$/m);
    const refusal = auditTrail(h.dataDir).find((r) => r.code === 'PC_INPUT_PARKED_LIMIT');
    assert.deepEqual([refusal?.principal.agent, refusal?.decision], ['alice', 'denied']);
  });
});
