/**
 * In-band approval (docs/approvals.md): the caller's own user answers — by elicitation in the legacy
 * eras (real v1 SDK client), by `input_required` in 2026-07-28 (real v2 SDK client, and raw requests for
 * the attacks on `requestState`). Only an explicit yes runs the call, once, with the arguments shown;
 * everything is judged on the server's side and in the audit trail. The callers are users signed in at
 * the embedded server (a real browser): in band is only for callers a person stands behind. An API key
 * or an agent's client credentials is never asked in band — its own client would approve its call — so
 * its call is held out of band, or refused under a `mode: in-band` rule, and never reaches the server.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, modernClient, runCli, waitFor } from '../helpers/gateway.ts';
import { basic, tokenRequest } from '../helpers/oauth.ts';
import { APPROVAL_POLICY, approvalHarness, codeOf, type ApprovalHarness } from '../approvals/harness.ts';
import { policySchema } from '../../src/policy/schema.ts';

const ELICIT = { elicitation: { form: {} } };
const yes = { approval: { action: 'accept', content: { approve: true } } };

describe('in-band approval', () => {
  let h: ApprovalHarness;
  before(async () => {
    h = await approvalHarness({}, {}, { users: true });
    await h.signIn('alice');
    await h.signIn('bob');
  });
  after(async () => h.close());

  const auth = (who: string) => ({ authorization: `Bearer ${h.keys[who]}` });
  const texts = (message: string) => h.received('echo').filter((a) => a.message === message);

  describe('legacy era: elicitation/create on the call', () => {
    it('asks the user with the server, tool, redacted arguments and rule, and runs the call on an explicit yes', async () => {
      const asked: any[] = [];
      const client = await legacyClient(`${h.gw.url}/mcp/everything`, { headers: auth('alice'), onElicit: (params) => (asked.push(params), { action: 'accept', content: { approve: true } }) });
      try {
        const result = await client.callTool({ name: 'echo', arguments: { message: 'legacy yes', token: 'not-for-the-form' } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: legacy yes' }]);
      } finally {
        await client.close();
      }
      assert.equal(asked.length, 1);
      const message = String(asked[0].message);
      for (const part of ['everything', 'echo', 'legacy yes', 'echo-needs-approval', 'echo sends a message out']) assert.ok(message.includes(part), `the form names ${part}`);
      assert.ok(!message.includes('not-for-the-form'), 'a secret-named argument is redacted in the form');
      assert.deepEqual(asked[0].requestedSchema.required, ['approve']);
      assert.deepEqual(texts('legacy yes').length, 1);
      const record = h.trail().find((r) => r.method === 'tools/call' && r.decision !== 'intent' && r.approval?.event === 'used' && r.approval.channel === 'in-band');
      assert.ok(record, 'the call\'s record names the in-band approval');
      assert.equal(record.decision, 'allowed');
      assert.ok(h.trail().some((r) => r.method === 'approvals/requested' && r.approval?.channel === 'in-band'));
    });

    for (const [what, answer] of [
      ['decline', { action: 'decline' }],
      ['cancel', { action: 'cancel' }],
      ['accept without approve: true', { action: 'accept', content: { approve: false } }],
      ['accept with no content', { action: 'accept' }],
    ] as const) {
      it(`refuses the call on ${what} (PC_APPROVAL_DECLINED) and runs nothing`, async () => {
        const message = `legacy ${what}`;
        const client = await legacyClient(`${h.gw.url}/mcp/everything`, { headers: auth('alice'), onElicit: () => answer });
        try {
          await assert.rejects(client.callTool({ name: 'echo', arguments: { message } }), (error: any) => error?.data?.code === 'PC_APPROVAL_DECLINED');
        } finally {
          await client.close();
        }
        assert.deepEqual(texts(message), []);
        assert.ok(h.trail().some((r) => r.code === 'PC_APPROVAL_DECLINED' && r.approval?.event === 'declined'));
      });
    }

    it('refuses a mode: in-band rule\'s call from a client that cannot be asked (PC_APPROVAL_UNAVAILABLE), queuing nothing', async () => {
      const client = await legacyClient(`${h.gw.url}/mcp/everything`, { headers: auth('alice') });
      try {
        await assert.rejects(client.callTool({ name: 'get-env', arguments: {} }), (error: any) => error?.data?.code === 'PC_APPROVAL_UNAVAILABLE');
      } finally {
        await client.close();
      }
      assert.deepEqual(h.received('get-env'), []);
      assert.ok(!h.gw.gateway.approvals.queue.store.list().some((a) => a.name === 'get-env'), 'nothing filed out of band');
    });

    it('does not count a yes given while the rule was changed to need a second person', async () => {
      const stricter = policySchema.parse({ rules: APPROVAL_POLICY.rules.map((r) => (r.name === 'echo-needs-approval' ? { ...r, approval: { approvers: ['security'] } } : r)) });
      const client = await legacyClient(`${h.gw.url}/mcp/everything`, {
        headers: auth('alice'),
        onElicit: () => {
          assert.deepEqual(h.gw.gateway.reloadPolicy(stricter), []);
          return { action: 'accept', content: { approve: true } };
        },
      });
      try {
        await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'stricter meanwhile' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_CHANGED');
      } finally {
        await client.close();
        assert.deepEqual(h.gw.gateway.reloadPolicy(policySchema.parse(APPROVAL_POLICY)), []);
      }
      assert.deepEqual(texts('stricter meanwhile'), []);
    });

    it('serves a legacy client without elicitation out of band (PC_APPROVAL_PENDING), not in band', async () => {
      const client = await legacyClient(`${h.gw.url}/mcp/everything`, { headers: auth('alice') });
      try {
        await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'no elicitation' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_PENDING');
      } finally {
        await client.close();
      }
      assert.deepEqual(texts('no elicitation'), []);
    });
  });

  describe('2026-07-28: input_required and requestState', () => {
    it('a real modern client answers input_required and the call runs once', async () => {
      let asked = 0;
      const client = await modernClient(`${h.gw.url}/mcp/everything`, { headers: auth('alice'), onElicit: () => (asked++, { action: 'accept', content: { approve: true } }) });
      try {
        const result = await client.callTool({ name: 'echo', arguments: { message: 'modern yes' } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: modern yes' }]);
      } finally {
        await client.close();
      }
      assert.equal(asked, 1);
      assert.equal(texts('modern yes').length, 1);
      const sent = h.received('echo').find((a) => a.message === 'modern yes')!;
      assert.deepEqual(Object.keys(sent), ['message'], 'the server saw the arguments only');
    });

    it('an approved call whose server then asks its user mid-call is not asked for approval again', async () => {
      const asked: string[] = [];
      const client = await modernClient(`${h.gw.url}/mcp/everything`, {
        headers: auth('alice'),
        onElicit: (params: any) => {
          asked.push(String(params.message).split('\n')[0] ?? '');
          if (String(params.message).startsWith('Portcullis')) return { action: 'accept', content: { approve: true } };
          return { action: 'accept', content: { name: 'Ada', check: true, email: 'ada@example.com', integer: 3, number: 1.5, untitledSingleSelectEnum: 'option1', untitledMultipleSelectEnum: ['option1'], titledSingleSelectEnum: 'value1', titledMultipleSelectEnum: ['value1'], legacyTitledEnum: 'opt1' } };
        },
      });
      try {
        const result = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
        assert.match(JSON.stringify(result.content), /Ada/);
      } finally {
        await client.close();
      }
      assert.equal(asked.filter((m) => m.startsWith('Portcullis')).length, 1, `one approval question: ${JSON.stringify(asked)}`);
      assert.equal(asked.length, 2, 'then the server\'s own question');
      assert.equal(h.received('trigger-elicitation-request').length, 1);
    });

    it('a real modern client that declines gets PC_APPROVAL_DECLINED and nothing runs', async () => {
      const client = await modernClient(`${h.gw.url}/mcp/everything`, { headers: auth('alice'), onElicit: () => ({ action: 'decline' }) });
      try {
        await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'modern no' } }), (error: any) => JSON.stringify(error).includes('PC_APPROVAL_DECLINED') || String(error?.message).includes('declined'));
      } finally {
        await client.close();
      }
      assert.deepEqual(texts('modern no'), []);
    });

    async function state(who: string, message: string): Promise<string> {
      const first = await h.call(who, 'echo', { message }, { capabilities: ELICIT });
      assert.equal(first.body.result?.resultType, 'input_required', JSON.stringify(first.body));
      assert.deepEqual(Object.keys(first.body.result.inputRequests), ['approval']);
      return first.body.result.requestState as string;
    }

    it('refuses a requestState replayed with changed arguments, by another principal, forged, or a second time', async () => {
      const requestState = await state('alice', 'bound call');
      const retry = (who: string, message: string, s: string) => h.call(who, 'echo', { message }, { capabilities: ELICIT, extra: { requestState: s, inputResponses: yes } });
      assert.equal(codeOf(await retry('alice', 'bound call!', requestState)), 'PC_APPROVAL_STATE_INVALID', 'changed arguments');
      assert.equal(codeOf(await retry('bob', 'bound call', requestState)), 'PC_APPROVAL_STATE_INVALID', 'another principal');
      const [prefix, id, expiry, mac] = requestState.split('.');
      const forged = [
        `${prefix}.${id}.${Number(expiry) + 3_600_000}.${mac}`,
        `${prefix}.${id}.${expiry}.${mac!.slice(0, -2)}AA`,
        `${prefix}.${'A'.repeat(id!.length)}.${expiry}.${mac}`,
        `${prefix}.${id}.${expiry}`,
        'pca1.',
      ];
      for (const bad of forged) assert.equal(codeOf(await retry('alice', 'bound call', bad)), 'PC_APPROVAL_STATE_INVALID', bad);
      assert.deepEqual(texts('bound call'), [], 'nothing ran yet');
      assert.deepEqual(texts('bound call!'), []);
      const good = await retry('alice', 'bound call', requestState);
      assert.equal(good.body.result?.content?.[0]?.text, 'Echo: bound call', JSON.stringify(good.body));
      assert.equal(codeOf(await retry('alice', 'bound call', requestState)), 'PC_APPROVAL_STATE_INVALID', 'single use');
      assert.equal(texts('bound call').length, 1, 'ran exactly once');
    });

    it('refuses a retry whose answer is not an explicit yes', async () => {
      for (const answer of [{ approval: { action: 'decline' } }, { approval: { action: 'accept', content: { approve: 'true' } } }, {}, { other: yes.approval }]) {
        const requestState = await state('alice', 'maybe');
        const retry = await h.call('alice', 'echo', { message: 'maybe' }, { capabilities: ELICIT, extra: { requestState, inputResponses: answer } });
        assert.equal(codeOf(retry), 'PC_APPROVAL_DECLINED', JSON.stringify(answer));
      }
      assert.deepEqual(texts('maybe'), []);
    });

    it('does not count the user\'s yes when the rule now needs a second person: the answered retry is queued instead', async () => {
      const requestState = await state('alice', 'needs a second person now');
      const stricter = policySchema.parse({ rules: APPROVAL_POLICY.rules.map((r) => (r.name === 'echo-needs-approval' ? { ...r, approval: { approvers: ['security'] } } : r)) });
      assert.deepEqual(h.gw.gateway.reloadPolicy(stricter), []);
      try {
        const retry = await h.call('alice', 'echo', { message: 'needs a second person now' }, { capabilities: ELICIT, extra: { requestState, inputResponses: yes } });
        assert.equal(codeOf(retry), 'PC_APPROVAL_PENDING', JSON.stringify(retry.body));
      } finally {
        assert.deepEqual(h.gw.gateway.reloadPolicy(policySchema.parse(APPROVAL_POLICY)), []);
      }
      assert.deepEqual(texts('needs a second person now'), []);
    });

    it('judges the retry again: a kill switch pulled after the question stops the answered call', async () => {
      const requestState = await state('alice', 'killed after asking');
      h.gw.gateway.kill.add({ tool: 'echo' }, 'incident', 'test');
      try {
        const retry = await h.call('alice', 'echo', { message: 'killed after asking' }, { capabilities: ELICIT, extra: { requestState, inputResponses: yes } });
        assert.equal(codeOf(retry), 'PC_KILL_SWITCH');
      } finally {
        h.gw.gateway.kill.remove({ tool: 'echo' });
      }
      assert.deepEqual(texts('killed after asking'), []);
    });
  });

  describe('no person behind the caller: an API key or an agent\'s client credentials', () => {
    let agentToken: string;
    before(async () => {
      const config = join(h.dataDir, 'portcullis.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(h.dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
      const agent = JSON.parse((await runCli(['agent', 'add', 'nightly', '--json', '-c', config])).stdout) as { client_id: string; client_secret: string };
      const minted = await tokenRequest(h.gw.url, { grant_type: 'client_credentials', resource: `${h.gw.url}/mcp/everything` }, basic(agent.client_id, agent.client_secret));
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      agentToken = minted.body.access_token;
    });
    const credentials = () => ({ 'API key': { authorization: `Bearer ${h.keys.robot}` }, 'agent token': { authorization: `Bearer ${agentToken}` } });

    it('a legacy client that would approve by itself is never asked: the call is held out of band and does not run', async () => {
      for (const [label, headers] of Object.entries(credentials())) {
        let asked = 0;
        const message = `self-approval (${label})`;
        const client = await legacyClient(`${h.gw.url}/mcp/everything`, { headers, onElicit: () => (asked++, { action: 'accept', content: { approve: true } }) });
        try {
          await assert.rejects(client.callTool({ name: 'echo', arguments: { message } }), (error: any) => error?.data?.code === 'PC_APPROVAL_PENDING', label);
        } finally {
          await client.close();
        }
        assert.equal(asked, 0, `${label}: no approval question went to the caller's own client`);
        assert.deepEqual(texts(message), [], `${label}: nothing reached the server`);
        assert.ok(h.waiting().some((a) => a.name === 'echo' && a.argsHash), `${label}: the call waits for an approver`);
      }
    });

    it('a modern client is not given input_required, and cannot resume with an answer of its own', async () => {
      const first = await h.call('robot', 'echo', { message: 'modern self-approval' }, { capabilities: ELICIT });
      assert.notEqual(first.body.result?.resultType, 'input_required', JSON.stringify(first.body));
      assert.equal(codeOf(first), 'PC_APPROVAL_PENDING', JSON.stringify(first.body));
      const forged = await h.call('robot', 'echo', { message: 'modern self-approval' }, { capabilities: ELICIT, extra: { requestState: 'pca1.x.9999999999999.y', inputResponses: yes } });
      assert.equal(codeOf(forged), 'PC_APPROVAL_PENDING', JSON.stringify(forged.body));
      assert.deepEqual(texts('modern self-approval'), [], 'nothing reached the server');
    });

    it('a mode: in-band rule refuses it with PC_APPROVAL_UNAVAILABLE naming how to configure an approver', async () => {
      for (const [label, headers] of Object.entries(credentials())) {
        let asked = 0;
        const client = await legacyClient(`${h.gw.url}/mcp/everything`, { headers, onElicit: () => (asked++, { action: 'accept', content: { approve: true } }) });
        try {
          await assert.rejects(client.callTool({ name: 'get-env', arguments: {} }), (error: any) => error?.data?.code === 'PC_APPROVAL_UNAVAILABLE' && /no signed-in user/.test(error.message) && /out-of-band/.test(error.message), label);
        } finally {
          await client.close();
        }
        assert.equal(asked, 0, label);
      }
      assert.deepEqual(h.received('get-env'), [], 'get-env never ran');
    });
  });

  describe('a monitor hold on the caller (redteam-b B1): never in band, no remembered grant', () => {
    const agentOf = (subject: string) => h.trail().find((r) => r.principal?.subject === subject && r.method === 'tools/call')!.principal.agent as string;

    it('a signed-in user\'s agent under a hold is not asked in band for an approve-rule call, in either era', async () => {
      const agent = agentOf('alice');
      h.gw.gateway.kill.add({ agent, exact: true }, 'monitor alert (test)', 'portcullis-monitor', undefined, 'approve');
      try {
        let asked = 0;
        const client = await legacyClient(`${h.gw.url}/mcp/everything`, { headers: auth('alice'), onElicit: () => (asked++, { action: 'accept', content: { approve: true } }) });
        try {
          await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'held legacy' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_PENDING');
        } finally {
          await client.close();
        }
        assert.equal(asked, 0, 'the held agent\'s client was asked nothing');
        const modern = await h.call('alice', 'echo', { message: 'held modern' }, { capabilities: ELICIT });
        assert.notEqual(modern.body.result?.resultType, 'input_required', JSON.stringify(modern.body));
        assert.equal(codeOf(modern), 'PC_APPROVAL_PENDING');
        assert.deepEqual([...texts('held legacy'), ...texts('held modern')], [], 'nothing reached the server');
      } finally {
        h.gw.gateway.kill.remove({ agent, exact: true });
      }
    });

    it('a remember window granted before the hold does not carry the caller through it', async () => {
      const message = 'remembered before the hold';
      assert.equal(codeOf(await h.call('robot', 'echo', { message })), 'PC_APPROVAL_PENDING');
      const id = h.gw.gateway.approvals.queue.store.list('pending').find((a) => a.args.includes(message))!.id;
      assert.equal((await h.cli(['approvals', 'grant', id, '--by', 'security-officer'])).code, 0);
      await waitFor(async () => (await h.call('robot', 'echo', { message })).body.result || undefined, 5000, 'the granted call');
      assert.ok((await h.call('robot', 'echo', { message })).body.result, 'remembered while no hold');
      const ran = texts(message).length;
      h.gw.gateway.kill.add({ agent: 'robot', exact: true }, 'monitor alert (test)', 'portcullis-monitor', undefined, 'approve');
      try {
        assert.equal(codeOf(await h.call('robot', 'echo', { message })), 'PC_APPROVAL_PENDING');
        assert.equal(texts(message).length, ran, 'the held repeat never reached the server');
      } finally {
        h.gw.gateway.kill.remove({ agent: 'robot', exact: true });
      }
    });
  });
});
