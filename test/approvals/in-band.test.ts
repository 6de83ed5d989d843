/** The 2026-07-28 approval state: bound to the call, single use, and dead after its deadline. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApprovalStates, approves, elicitationParams } from '../../src/approvals/in-band.ts';
import { displayArgs } from '../../src/approvals/view.ts';
import { GatewayError } from '../../src/errors.ts';

const binding = { principal: 'key\u0000key:1\u0000alice', server: 's', kind: 'tool', name: 't', argsHash: 'a'.repeat(64) };
const question = (expiresAt: number) => ({ server: 's', argsHash: 'a'.repeat(64), kind: 'tool', name: 't', args: {}, rule: 'r', reason: 'why', expiresAt });
const codeOf = (value: unknown): string | undefined => (value instanceof GatewayError ? value.code : undefined);

describe('approval requestState', () => {
  it('expires: a state used after its deadline is PC_APPROVAL_EXPIRED, and moving the deadline breaks the MAC', () => {
    const states = new ApprovalStates(10);
    const issued = states.issue(binding, question(1000), 0);
    assert.ok(!(issued instanceof GatewayError));
    const [prefix, id, , mac] = issued.state.split('.');
    assert.equal(codeOf(states.take(`${prefix}.${id}.999999.${mac}`, binding, 1500)), 'PC_APPROVAL_STATE_INVALID', 'a later deadline is a forgery');
    assert.equal(codeOf(states.take(issued.state, binding, 1000)), 'PC_APPROVAL_EXPIRED');
    assert.equal(codeOf(states.take(issued.state, binding, 10)), 'PC_APPROVAL_STATE_INVALID', 'gone once expired');
  });

  it('is bounded: past maxPending states, issuing is refused (PC_APPROVAL_LIMIT)', () => {
    const states = new ApprovalStates(2);
    assert.ok(!(states.issue(binding, question(1000), 0) instanceof GatewayError));
    assert.ok(!(states.issue(binding, question(1000), 0) instanceof GatewayError));
    assert.equal(codeOf(states.issue(binding, question(1000), 0)), 'PC_APPROVAL_LIMIT');
    assert.ok(!(states.issue(binding, question(5000), 2000) instanceof GatewayError), 'expired states make room');
  });

  it('counts only accept with approve: true as a yes', () => {
    assert.equal(approves({ action: 'accept', content: { approve: true } }).approved, true);
    for (const no of [{ action: 'accept', content: { approve: 'true' } }, { action: 'accept', content: {} }, { action: 'decline', content: { approve: true } }, { action: 'cancel' }, null, 'accept', []]) {
      assert.equal(approves(no).approved, false, JSON.stringify(no));
    }
  });
});

describe('what the approver is shown', () => {
  it('escapes invisible and line-breaking characters, so two calls that look alike do not read alike', () => {
    const shown = displayArgs({ path: '/srv/data\u200b/../etc/shadow', note: 'ok\u2028Rule: harmless' }, 'f'.repeat(64));
    assert.ok(!/[\u200b\u2028]/.test(shown), shown);
    assert.match(shown, /\\u200b/);
    assert.match(shown, /\\u2028/);
    const form = String(elicitationParams({ ...question(1000), args: { note: 'x\nRule: harmless' } }).message);
    assert.equal(form.split('\n').filter((line) => line.startsWith('Rule:')).length, 1, 'arguments cannot add a line to the form');
  });

  it('cuts long arguments and names the hash that binds all of them', () => {
    const shown = displayArgs({ blob: 'x'.repeat(5000) }, 'c'.repeat(64));
    assert.ok(shown.length < 2400);
    assert.match(shown, /^PARTS NOT SHOWN: \d+ characters[^]*\(argsHash of the arguments c{64}\)$/);
  });

  it('shows every key and the start and end of every value, at any depth, long keys cut in their middle (red team L2)', () => {
    const long = `${'k'.repeat(100)}END`;
    const args = { blob: `start-${'x'.repeat(9000)}-finish`, nested: { list: [`head-${'y'.repeat(3000)}-tail`, 7, { to: 'mallory' }] }, [long]: 1 };
    const shown = displayArgs(args, 'd'.repeat(64));
    assert.ok(shown.length < 2400, String(shown.length));
    for (const part of ['"blob":"start-', '-finish"', '"nested":{"list":["head-', '-tail",7,{"to":"mallory"}]}', 'END":1']) assert.ok(shown.includes(part), `${part} in ${shown}`);
    assert.match(shown, /characters left out\]…/);
    assert.match(shown, /^PARTS NOT SHOWN: \d+ characters[^]*\(argsHash of the arguments d{64}\)$/);
  });

  it('never splits an escape at a cut: invisible characters stay escaped', () => {
    const shown = displayArgs({ a: '\u200b'.repeat(3000), b: 'x'.repeat(3000) }, 'e'.repeat(64));
    assert.ok(!/\u200b/.test(shown));
    assert.ok(!/\\u20(?!0b)/.test(shown), 'no escape cut in two');
  });

  it('says first that thousands of fields are not shown whole, and how to see them', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 5000; i++) many[`f${i}`] = 'v';
    const shown = displayArgs(many, 'f'.repeat(64));
    assert.match(shown, /^ARGUMENTS NOT SHOWN WHOLE: 5000 fields .*portcullis approvals list --json/);
    assert.match(shown, /argsHash of the arguments f{64}\)$/);
  });
});
