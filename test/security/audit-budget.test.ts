/**
 * One caller cannot fill the audit trail at every caller's cost (`audit.budget`). A caller flooding
 * large calls is refused with PC_AUDIT_BUDGET once its records reach its budget: from then on the
 * server receives none of its calls (so every forwarded call is still on record), and its refused
 * calls leave at most one small record a second (arguments as a hash), the rest counted. Another
 * caller's calls go through meanwhile. Asserted on the server's log and the audit store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordJson } from '../../src/audit/record.ts';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, forwarded, modernSession, recordedServer } from '../helpers/security.ts';
import { dataDirWithKeys } from '../helpers/sessions.ts';

const BUDGET = 40_000;
const BIG = 'x'.repeat(3000);

describe('per-caller audit byte budget', () => {
  let gw: TestGateway;
  let keys: Record<string, string>;
  let dataDir: string;
  let log: string;
  before(async () => {
    ({ dataDir, keys } = dataDirWithKeys(['flooder', 'bystander']));
    log = join(dataDir, 'gov.log');
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: { gov: recordedServer(log) },
      policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['gov'], tools: ['echo'] }] },
      audit: { budget: { bytesPerPrincipal: BUDGET, windowSeconds: 3600 } },
    });
  });
  after(async () => {
    await gw.close();
  });

  const call = (who: string, tool: string, text: string) =>
    modernSession(`${gw.url}/mcp/gov`).send({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name: tool, arguments: { text: `${who}:${text}` } } }, { authorization: `Bearer ${keys[who]}` });
  const sentBy = (who: string) => forwarded(log).filter((m) => String((m.params?.arguments as { text?: string } | undefined)?.text).startsWith(`${who}:`));
  const recordsOf = (who: string) => auditRecords(dataDir).filter((r) => r.principal.agent === who);

  it('refuses a flooding caller once its records reach the budget; the server receives none of its calls after', async () => {
    let answered = 0;
    let refusal: any;
    for (let k = 0; k < 100 && !refusal; k++) {
      const answer = await call('flooder', 'echo', `${k}:${BIG}`);
      if (codeOf(answer) === 'PC_AUDIT_BUDGET') refusal = answer.json;
      else {
        assert.equal(answer.json?.result?.content?.[0]?.text, `echo: flooder:${k}:${BIG}`);
        answered++;
      }
    }
    assert.ok(refusal, 'the flooder was refused');
    assert.ok(answered >= 3, `some calls went through first (${answered})`);
    assert.ok(refusal.error.data.retryAfterMs > 0);
    const received = sentBy('flooder').length;
    assert.equal(received, answered, 'the refused call never reached the server');

    // The flood goes on: allowed tools and refused ones alike, with large arguments.
    for (let k = 0; k < 60; k++) {
      const answer = await call('flooder', k % 2 === 0 ? 'echo' : 'delete_record', `more-${k}:${BIG}`);
      assert.equal(codeOf(answer), k % 2 === 0 ? 'PC_AUDIT_BUDGET' : 'PC_POLICY_DENIED');
    }
    assert.equal(sentBy('flooder').length, received, 'no call past the budget reached the server');

    const records = recordsOf('flooder');
    // Every call the server received has its intent and its outcome on record.
    for (let k = 0; k < received; k++) {
      const mine = records.filter((r) => (r.args as { text?: string } | undefined)?.text === `flooder:${k}:${BIG}`);
      assert.deepEqual(mine.map((r) => r.decision), ['intent', 'allowed'], `call ${k}`);
    }
    // Past the budget: a few small records (a hash of the arguments, no copy), the rest counted.
    const past = records.filter((r) => r.argsHash !== undefined && r.args === undefined);
    assert.ok(past.length >= 1 && past.length <= 10 + 5, `records of refused calls past the budget: ${past.length}`);
    assert.ok(past.every((r) => r.decision === 'denied' && !recordJson(r).includes(BIG)));
    assert.ok(gw.gateway.audit!.budgetDropped >= 60 + 1 - past.length, `dropped: ${gw.gateway.audit!.budgetDropped}`);
    const bytes = records.reduce((sum, r) => sum + recordJson(r).length, 0);
    assert.ok(bytes < BUDGET + 16_000, `the flooder's records hold ${bytes} bytes`);
  });

  it('lets another caller through while the flooder is refused', async () => {
    const answer = await call('bystander', 'echo', 'hello');
    assert.equal(answer.json?.result?.content?.[0]?.text, 'echo: bystander:hello');
    assert.equal(sentBy('bystander').length, 1);
    assert.equal(codeOf(await call('flooder', 'echo', 'again')), 'PC_AUDIT_BUDGET');
  });

  it('config check names a bad budget and what is accepted', async () => {
    const file = join(dataDir, 'bad.yaml');
    writeFileSync(file, 'audit:\n  budget:\n    bytesPerPrincipal: -1\n    windowSeconds: 0\nservers: {}\n');
    const result = await runCli(['config', 'check', '-c', file]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr + result.stdout, /audit\.budget\.bytesPerPrincipal/);
    assert.match(result.stderr + result.stdout, /audit\.budget\.windowSeconds/);
  });
});
