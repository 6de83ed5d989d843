/**
 * The book of modern servers' requestStates (routing/request-states.ts): a handle is good once, for
 * its owner and its request, until it expires; the bounds refuse a new state, never forget another's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/errors.ts';
import { MAX_STATE_BYTES, RequestStateBook, stateBinding } from '../../src/routing/request-states.ts';

const call = (principal: string, action = 'deploy') => stateBinding(principal, 'srv', 'tools/call', { name: 'sign_off', arguments: { action } });
const code = (value: unknown): string | undefined => (value instanceof GatewayError ? value.code : undefined);

describe('RequestStateBook', () => {
  it('binds a handle to its principal and request, once; _meta, inputResponses and requestState may differ', () => {
    const book = new RequestStateBook({ ttlMs: 1000, maxPerPrincipal: 4, maxTotal: 8 });
    const handle = book.issue(call('alice'), 'server-state') as string;
    assert.equal(code(book.redeem(handle, call('bob'))), 'PC_INPUT_STATE_INVALID');
    assert.equal(code(book.redeem(handle, call('alice', 'other'))), 'PC_INPUT_STATE_INVALID');
    const retry = stateBinding('alice', 'srv', 'tools/call', { arguments: { action: 'deploy' }, name: 'sign_off', _meta: { x: 1 }, inputResponses: {}, requestState: handle });
    assert.deepEqual(book.redeem(handle, retry), { state: 'server-state' });
    assert.equal(code(book.redeem(handle, retry)), 'PC_INPUT_STATE_INVALID', 'replayed');
    assert.equal(book.size, 0);
  });

  it('forgets a handle when it expires', () => {
    let now = 0;
    const book = new RequestStateBook({ ttlMs: 1000, maxPerPrincipal: 4, maxTotal: 8 }, () => now);
    const handle = book.issue(call('alice'), 's') as string;
    now = 1000;
    assert.equal(code(book.redeem(handle, call('alice'))), 'PC_INPUT_STATE_INVALID');
    assert.equal(book.size, 0);
  });

  it('refuses past its bounds (per principal, in all, per state) and keeps what it holds', () => {
    let now = 0;
    const book = new RequestStateBook({ ttlMs: 1000, maxPerPrincipal: 2, maxTotal: 3 }, () => now);
    const a1 = book.issue(call('alice', '1'), 's') as string;
    book.issue(call('alice', '2'), 's');
    assert.equal(code(book.issue(call('alice', '3'), 's')), 'PC_INPUT_PARKED_LIMIT');
    book.issue(call('bob', '1'), 's');
    assert.equal(code(book.issue(call('carol', '1'), 's')), 'PC_INPUT_PARKED_LIMIT', 'full');
    assert.deepEqual(book.redeem(a1, call('alice', '1')), { state: 's' }, 'nothing was forgotten to make room');
    assert.equal(code(book.issue(call('carol', '1'), 'x'.repeat(MAX_STATE_BYTES))), 'PC_UPSTREAM_PROTOCOL');
    now = 1000;
    assert.equal(typeof book.issue(call('carol', '1'), 's'), 'string', 'expired entries made room');
    assert.equal(book.size, 1);
  });
});
