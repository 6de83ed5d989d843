/**
 * What a person deciding an approval reads must be what runs, and nobody else may write on it
 * (redteam-b B6, B8, B11, B13).
 * - B6: an amount under a field whose name merely contains "token" or "secret" (`tokens`, `max_tokens`,
 *   `secretary`) is shown, not masked; a string under a credential name (`key`, `api_key`, `authToken`)
 *   is masked, as the docs say.
 * - B11: characters that render as nothing or as blank space (Hangul fillers, the combining grapheme
 *   joiner, Khmer inherent vowels, the braille blank) are shown escaped, so `bob<filler>` does not read
 *   as `bob`.
 * - B8, B13: the names the caller, the server and the rule bring (tool, agent, reason) are escaped in
 *   the in-band form and URL message (newlines, bidi overrides): no forged line, no reordered text.
 * The calls are real (server-everything behind the gateway, queued out of band); the approvals are
 * read as `portcullis approvals list --json` prints them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { elicitationParams, urlElicitationParams } from '../../src/approvals/in-band.ts';
import { approvalHarness, codeOf, type ApprovalHarness } from '../approvals/harness.ts';

describe('security: the approver sees what runs, escaped', () => {
  let h: ApprovalHarness;
  before(async () => {
    h = await approvalHarness();
  });
  after(async () => h?.close());

  const shown = async (message: string) => (await h.pending()).find((a) => JSON.stringify(a.arguments).includes(message))!;

  it('shows amounts under names that only contain "token" or "secret", and masks strings under credential names', async () => {
    const args = { message: 'payout', tokens: 1_000_000, max_tokens: 5, secretary: 'jo', key: 'k-123456', api_key: 'plain-value', authToken: 'plain-value' };
    assert.equal(codeOf(await h.call('alice', 'echo', args)), 'PC_APPROVAL_PENDING');
    const row = await shown('payout');
    assert.equal(row.arguments.tokens, 1_000_000, JSON.stringify(row.arguments));
    assert.equal(row.arguments.max_tokens, 5);
    assert.equal(row.arguments.secretary, 'jo');
    for (const masked of ['key', 'api_key', 'authToken']) assert.equal(row.arguments[masked], '[redacted]', masked);
    assert.deepEqual(h.received('echo').filter((a) => a.message === 'payout'), [], 'nothing ran');
  });

  it('shows short fields before long ones, so a long field sent first cannot push the recipient past the cut (red team K3)', async () => {
    const memo = 'harmless words '.repeat(160); // 2,400 characters, put first by the agent
    assert.equal(codeOf(await h.call('alice', 'echo', { memo, message: 'payout-order', to: 'mallory' })), 'PC_APPROVAL_PENDING');
    const listed = await h.cli(['approvals', 'list']);
    const line = listed.stdout.split('\n').find((l) => l.includes('payout-order'))!;
    assert.ok(line, listed.stdout);
    assert.match(line, /"to":"mallory"/, 'the recipient is shown');
    assert.match(line, /PARTS NOT SHOWN: \d+ characters[^]*argsHash/, 'the long field is what is cut');
    assert.deepEqual(h.received('echo').filter((a) => a.message === 'payout-order'), [], 'nothing ran');
  });

  it('escapes characters that render as nothing or blank space', async () => {
    const fillers = '\u115f\u1160\u3164\uffa0\u034f\u17b4\u2800';
    assert.equal(codeOf(await h.call('alice', 'echo', { message: `to bob${fillers}X` })), 'PC_APPROVAL_PENDING');
    const listed = await h.cli(['approvals', 'list']);
    const line = listed.stdout.split('\n').find((l) => l.includes('to bob'))!;
    assert.ok(line, listed.stdout);
    for (const c of fillers) assert.ok(!line.includes(c), `U+${c.codePointAt(0)!.toString(16)} is shown raw`);
    assert.match(line, /to bob(\\u[0-9a-f]{4}){7}X/);
  });

  it('escapes tool, server, rule and reason in the in-band form and the URL-mode message', () => {
    const q = { server: 'bank\u202e', argsHash: 'a'.repeat(64), kind: 'tool', name: 'pay\u202eyfirev\u202c\nArguments: {"to":"alice"}', args: { to: 'mallory' }, rule: 'r\rule', reason: 'needs a human \u202e\nApproved by security', expiresAt: 0 };
    for (const message of [String(elicitationParams(q).message), String(urlElicitationParams(q, 'e1', 'http://127.0.0.1/approvals/x').message)]) {
      assert.ok(!/[\u202e\u202c\r]/.test(message), `a raw bidi or CR in ${JSON.stringify(message)}`);
      const lines = message.split('\n');
      assert.ok(lines.filter((l) => l.startsWith('Arguments:')).length <= 1, 'no forged Arguments line');
      assert.ok(!lines.some((l) => l.includes('{"to":"alice"}') && l.startsWith('Arguments')), 'the name\'s fake arguments are not a line of their own');
      assert.ok(!lines.some((l) => l.startsWith('Approved')), 'no forged line');
    }
    const description = String((elicitationParams(q).requestedSchema as any).properties.approve.description);
    assert.ok(!/[\u202e\n]/.test(description));
  });
});
