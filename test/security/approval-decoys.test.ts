/**
 * Red team L2: the approval views cut the arguments after 2,000 characters, so twelve short decoy fields
 * (195 characters each) sent before the decisive ones pushed the recipient out of the form; the person
 * approved what they could not see and the server ran it. Every field at any depth now appears in every
 * view — its key, and the start and end of its value (long strings are cut in their middle) — and when
 * even that cannot fit (thousands of fields) the view says first that the arguments are NOT shown whole.
 * The approver here behaves as a person reading the form: yes unless the form shows the recipient they
 * would refuse. Asserted on the server's side: nothing ran.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { legacyClient } from '../helpers/gateway.ts';
import { approvalHarness, codeOf, type ApprovalHarness } from '../approvals/harness.ts';

/** Twelve harmless-looking fields of 195 characters, sent first. */
function decoys(): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i < 12; i++) fields[`note${String(i).padStart(2, '0')}`] = `routine note ${i} `.padEnd(195, 'z');
  return fields;
}

describe('security: decoy fields cannot push the decisive arguments out of the approval view (red team L2)', () => {
  let h: ApprovalHarness;
  before(async () => {
    h = await approvalHarness({}, {}, { users: true });
    await h.signIn('alice');
  });
  after(async () => h?.close());

  const ran = (message: string) => h.received('echo').filter((a) => a.message === message);

  it('in band: the form shows the recipient after twelve decoys, so the person refuses and nothing runs', async () => {
    const asked: string[] = [];
    // A person who reads the form: approves unless it shows the recipient they would never pay.
    const client = await legacyClient(`${h.gw.url}/mcp/everything`, {
      headers: { authorization: `Bearer ${h.keys.alice}` },
      onElicit: (params) => {
        const message = String((params as { message?: unknown }).message);
        asked.push(message);
        return message.includes('mallory-L2') ? { action: 'decline' } : { action: 'accept', content: { approve: true } };
      },
    });
    try {
      await client.callTool({ name: 'echo', arguments: { ...decoys(), message: 'decoy-payout', to: 'mallory-L2' } }).catch(() => undefined);
    } finally {
      await client.close();
    }
    assert.equal(asked.length, 1, 'the person was asked');
    assert.match(asked[0]!, /"to":"mallory-L2"/, 'the form shows the recipient');
    assert.match(asked[0]!, /"note11":"routine note 11 z+…\[\d+ characters left out\]…z+"/, 'the decoys are cut in their middle, not dropped');
    assert.deepEqual(ran('decoy-payout'), [], 'nothing ran on the server');
  });

  it('out of band: `approvals list` shows every field, nested ones too', async () => {
    const args = { ...decoys(), message: 'decoy-queued', detail: { ...decoys(), to: 'mallory-nested' } };
    assert.equal(codeOf(await h.call('bob', 'echo', args)), 'PC_APPROVAL_PENDING');
    const listed = await h.cli(['approvals', 'list']);
    const line = listed.stdout.split('\n').find((l) => l.includes('decoy-queued'))!;
    assert.ok(line, listed.stdout);
    assert.match(line, /"to":"mallory-nested"/, 'the nested recipient is shown');
    for (let i = 0; i < 12; i++) assert.match(line, new RegExp(`"note${String(i).padStart(2, '0')}":`), `decoy ${i} is named`);
    assert.match(line, /PARTS NOT SHOWN: \d+ characters[^]*argsHash of the arguments [0-9a-f]{64}/);
    assert.deepEqual(ran('decoy-queued'), [], 'nothing ran');
  });

  it('thousands of fields: the view says first that the arguments are not shown whole', async () => {
    const many: Record<string, unknown> = { message: 'decoy-flood' };
    for (let i = 0; i < 3000; i++) many[`f${i}`] = 'v';
    assert.equal(codeOf(await h.call('bob', 'echo', many)), 'PC_APPROVAL_PENDING');
    const listed = await h.cli(['approvals', 'list']);
    const line = listed.stdout.split('\n').find((l) => l.includes('decoy-flood'))!;
    assert.ok(line, listed.stdout);
    assert.match(line, /arguments ARGUMENTS NOT SHOWN WHOLE: 3001 fields .*portcullis approvals list --json/);
    assert.deepEqual(ran('decoy-flood'), [], 'nothing ran');
  });
});
