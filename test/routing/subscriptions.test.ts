import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/errors.ts';
import { SubscriptionRegistry } from '../../src/routing/subscriptions.ts';

describe('shared resource subscriptions', () => {
  it('forwards only the first subscribe and the last unsubscribe per server and URI', () => {
    const registry = new SubscriptionRegistry();
    assert.equal(registry.add('s', 'file:///a', 'alice'), 'first');
    assert.equal(registry.add('s', 'file:///a', 'bob'), 'held');
    assert.equal(registry.add('t', 'file:///a', 'bob'), 'first', 'another server is another subscription');
    assert.equal(registry.remove('s', 'file:///a', 'alice'), false, 'bob still listens');
    assert.equal(registry.remove('s', 'file:///a', 'bob'), true);
  });

  it('releases what a departed client held, reporting what nobody else needs', () => {
    const registry = new SubscriptionRegistry();
    registry.add('s', 'u1', 'alice');
    registry.add('s', 'u2', 'alice');
    registry.add('s', 'u2', 'bob');
    assert.deepEqual(registry.removeClient('alice'), [{ server: 's', uri: 'u1', scope: '' }]);
    assert.deepEqual(registry.removeClient('bob'), [{ server: 's', uri: 'u2', scope: '' }]);
  });

  it('keeps per-principal sessions apart: each scope subscribes upstream on its own', () => {
    const registry = new SubscriptionRegistry();
    const alice = 'key\u0000alice\u0000agent';
    assert.equal(registry.add('s', 'u', 'session-a', alice), 'first');
    assert.equal(registry.add('s', 'u', 'session-b', 'bob'), 'first', 'bob\'s own session subscribes too');
    assert.equal(registry.add('s', 'u', 'session-c', alice), 'held');
    assert.deepEqual(registry.removeClient('session-b'), [{ server: 's', uri: 'u', scope: 'bob' }]);
    assert.equal(registry.remove('s', 'u', 'session-a', alice), false);
    assert.deepEqual(registry.removeClient('session-c'), [{ server: 's', uri: 'u', scope: alice }]);
  });

  it('refuses a subscribe past the per-session cap, and frees a slot on unsubscribe and on the session\'s end', () => {
    const registry = new SubscriptionRegistry({ maxPerSession: 2, maxTotal: 100 });
    assert.equal(registry.add('s', 'u1', 'alice'), 'first');
    assert.equal(registry.add('s', 'u2', 'alice'), 'first');
    assert.equal(registry.add('s', 'u1', 'alice'), 'held', 'subscribing again to a URI held costs nothing');
    const refused = registry.add('s', 'u3', 'alice');
    assert.ok(refused instanceof GatewayError);
    assert.equal(refused.code, 'PC_SUBSCRIPTION_LIMIT');
    assert.equal(refused.data?.limit, 2);
    assert.equal(registry.subscribers('s', 'u3').length, 0, 'the refused subscribe is not recorded');
    assert.equal(registry.add('s', 'u3', 'bob'), 'first', 'the cap is per session');
    assert.equal(registry.remove('s', 'u1', 'alice'), true);
    assert.equal(registry.add('s', 'u3', 'alice'), 'held', 'an unsubscribe frees a slot');
    registry.removeClient('alice');
    assert.equal(registry.size, 1, 'only bob\'s subscription is left');
    assert.equal(registry.add('s', 'u4', 'alice'), 'first', 'a new session with that key starts from nothing');
  });

  it('refuses a subscribe past the gateway-wide total', () => {
    const registry = new SubscriptionRegistry({ maxPerSession: 10, maxTotal: 3 });
    registry.add('s', 'u1', 'a');
    registry.add('s', 'u1', 'b');
    registry.add('s', 'u2', 'c');
    const refused = registry.add('s', 'u3', 'd');
    assert.ok(refused instanceof GatewayError);
    assert.equal(refused.data?.limit, 3);
  });
});
