/**
 * An approve rule is a gate: a condition that cannot be judged must not let the call fall through to an
 * allow rule without the human's yes. Red team E1: `when: 'args.amount > 1000'` with the amount sent as
 * the string "5000" (a server with a lax or Decimal-typed schema pays it), and a missing optional argument
 * (`args.tail > 100` with no `tail`: server-filesystem then reads the whole file). Both are held for
 * approval; nothing reaches the server until a human decides, and a refusal keeps it that way.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { TOOLS_SERVER } from '../helpers/recorded.ts';
import { modernRequest } from '../helpers/sessions.ts';

const PAY = [{ name: 'pay', inputSchema: { type: 'object', properties: { to: { type: 'string' }, amount: { anyOf: [{ type: 'number' }, { type: 'string', pattern: '^[0-9]+$' }] } }, required: ['to', 'amount'] } }];

describe('approve rules whose condition cannot be judged', () => {
  let gw: TestGateway;
  let sandbox: string;
  let payLog: string;
  let filesLog: string;
  before(async () => {
    sandbox = realpathSync(mkdtempSync(join(tmpdir(), 'pc-approve-unjudged-')));
    writeFileSync(join(sandbox, 'ledger.txt'), 'line\n'.repeat(500));
    const pay = recordedServer(TOOLS_SERVER, [JSON.stringify(PAY)]);
    const files = recordedServer(FILESYSTEM, [sandbox]);
    payLog = pay.log;
    filesLog = files.log;
    gw = await startGateway({
      servers: { bank: pay.server, files: files.server },
      approvals: { waitMs: 10_000, pollMs: 25 },
      policy: {
        rules: [
          { name: 'pay', effect: 'allow', servers: ['bank'], tools: ['pay'] },
          { name: 'big-pay', effect: 'approve', servers: ['bank'], tools: ['pay'], when: 'args.amount > 1000', approval: { mode: 'out-of-band' } },
          { name: 'reads', effect: 'allow', servers: ['files'], tools: ['read_text_file'] },
          { name: 'long-reads', effect: 'approve', servers: ['files'], tools: ['read_text_file'], when: 'args.tail > 100', approval: { mode: 'out-of-band' } },
        ],
      },
    });
  });
  after(async () => {
    await gw?.close();
    rmSync(sandbox, { recursive: true, force: true });
  });

  const calls = (log: string, tool: string) => received(log).filter((m) => m.method === 'tools/call' && m.params?.name === tool);

  it('a judged condition that is false still passes without a human (no regression)', async () => {
    const answer = await modernRequest(`${gw.url}/mcp/bank`, 'tools/call', { name: 'pay', arguments: { to: 'bob', amount: 20 } });
    assert.equal(answer.body.result?.content?.[0]?.text, 'pay ran', JSON.stringify(answer.body));
    assert.equal(calls(payLog, 'pay').length, 1);
  });

  it('holds an amount sent as a string for a human, and a refusal keeps it from the server', async () => {
    const before = calls(payLog, 'pay').length;
    const answer = modernRequest(`${gw.url}/mcp/bank`, 'tools/call', { name: 'pay', arguments: { to: 'mallory', amount: '5000' } });
    const store = gw.gateway.approvals.queue.store;
    const pending = await waitFor(() => store.list('pending').find((a) => a.name === 'pay'), 15_000, 'the payment to wait for a human');
    assert.match(pending.reason ?? '', /condition is not false/, 'the approver is told the condition could not be judged');
    assert.equal(calls(payLog, 'pay').length, before, 'nothing reached the bank while the human decides');
    const denied = await gw.gateway.approvals.queue.decide(pending.id, 'denied', { name: 'officer' }, 'no');
    assert.ok(!(denied instanceof Error));
    const result = await answer;
    assert.ok(result.body.error, JSON.stringify(result.body));
    assert.equal(calls(payLog, 'pay').length, before, 'the refused payment never reached the bank');
  });

  it('holds a read whose optional argument is missing (the server would read every line)', async () => {
    const answer = modernRequest(`${gw.url}/mcp/files`, 'tools/call', { name: 'read_text_file', arguments: { path: join(sandbox, 'ledger.txt') } });
    const store = gw.gateway.approvals.queue.store;
    const pending = await waitFor(() => store.list('pending').find((a) => a.name === 'read_text_file'), 15_000, 'the read to wait for a human');
    assert.equal(calls(filesLog, 'read_text_file').length, 0, 'server-filesystem read nothing before the decision');
    await gw.gateway.approvals.queue.decide(pending.id, 'denied', { name: 'officer' }, 'no');
    const result = await answer;
    assert.ok(result.body.error, JSON.stringify(result.body));
    assert.equal(calls(filesLog, 'read_text_file').length, 0, 'server-filesystem read nothing');
  });
});

describe('an approve rule whose guard fails (red team F2)', () => {
  let gw: TestGateway;
  let payLog: string;
  before(async () => {
    const pay = recordedServer(TOOLS_SERVER, [JSON.stringify(PAY)]);
    payLog = pay.log;
    gw = await startGateway({
      servers: { bank: pay.server },
      approvals: { waitMs: 10_000, pollMs: 25 },
      policy: {
        rules: [
          { name: 'pay', effect: 'allow', servers: ['bank'], tools: ['pay'] },
          { name: 'big-pay-typed', effect: 'approve', servers: ['bank'], tools: ['pay'], guards: { values: { amount: { type: 'number' } } }, when: 'args.amount > 1000', approval: { mode: 'out-of-band' } },
        ],
      },
    });
  });
  after(async () => gw?.close());

  it('refuses the call instead of letting the allow rule pass it unasked', async () => {
    for (const amount of ['5000', [5000]]) {
      const answer = await modernRequest(`${gw.url}/mcp/bank`, 'tools/call', { name: 'pay', arguments: { to: 'mallory', amount } });
      assert.equal(answer.body.error?.data?.code, 'PC_POLICY_GUARD', JSON.stringify(answer.body));
      assert.match(answer.body.error?.data?.reason ?? '', /approve rule "big-pay-typed"/);
    }
    assert.deepEqual(received(payLog).filter((m) => m.method === 'tools/call'), [], 'nothing reached the bank');
    const small = await modernRequest(`${gw.url}/mcp/bank`, 'tools/call', { name: 'pay', arguments: { to: 'bob', amount: 20 } });
    assert.equal(small.body.result?.content?.[0]?.text, 'pay ran', 'a small typed payment still passes');
  });
});
