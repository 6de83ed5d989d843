import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SubscriptionRegistry } from '../../src/routing/subscriptions.ts';

describe('shared resource subscriptions', () => {
  it('forwards only the first subscribe and the last unsubscribe per server and URI', () => {
    const registry = new SubscriptionRegistry();
    assert.equal(registry.add('s', 'file:///a', 'alice'), true);
    assert.equal(registry.add('s', 'file:///a', 'bob'), false);
    assert.equal(registry.add('t', 'file:///a', 'bob'), true, 'another server is another subscription');
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
    assert.equal(registry.add('s', 'u', 'session-a', alice), true);
    assert.equal(registry.add('s', 'u', 'session-b', 'bob'), true, 'bob\'s own session subscribes too');
    assert.equal(registry.add('s', 'u', 'session-c', alice), false);
    assert.deepEqual(registry.removeClient('session-b'), [{ server: 's', uri: 'u', scope: 'bob' }]);
    assert.equal(registry.remove('s', 'u', 'session-a', alice), false);
    assert.deepEqual(registry.removeClient('session-c'), [{ server: 's', uri: 'u', scope: alice }]);
  });
});
