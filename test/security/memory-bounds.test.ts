/**
 * Memory keyed by caller input stays bounded: a caller that invents a new subject on every call (a
 * local client may declare any agent name) cannot grow the rate limiter's table without end, and the
 * flood does not free it from a limit it is under while it keeps calling.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localPrincipal } from '../../src/auth/principal.ts';
import { policySchema } from '../../src/policy/schema.ts';
import { MAX_BUCKETS, RateLimiter } from '../../src/ratelimit/limiter.ts';

const limits = (list: unknown[]) => policySchema.parse({ rules: [{ name: 'x', effect: 'allow' }], limits: list }).limits;

describe('memory under a flood of distinct keys', () => {
  it('keeps the rate limiter within MAX_BUCKETS and keeps limiting the subject that floods', () => {
    let now = 0;
    const limiter = new RateLimiter(limits([{ name: 'per-agent', per: 'agent', rate: '1/h', burst: 1 }]), () => now);
    const attacker = localPrincipal('u', 'attacker');
    assert.equal(limiter.take(attacker, 'fs', 'read'), undefined, 'the first call fits the burst');
    assert.equal(limiter.take(attacker, 'fs', 'read')?.limit, 'per-agent', 'the second is refused');
    let peak = 0;
    for (let i = 0; i < 2 * MAX_BUCKETS; i++) {
      now += 1;
      // Every name new, each one's bucket drained by its call: nothing refills within the hour.
      assert.equal(limiter.take(localPrincipal('u', `flood-${i}`), 'fs', 'read'), undefined);
      peak = Math.max(peak, limiter.buckets);
      if (i % 1000 === 0) assert.equal(limiter.take(attacker, 'fs', 'read')?.limit, 'per-agent', `the attacker is still limited after ${i} names`);
    }
    assert.ok(peak <= MAX_BUCKETS, `at most ${MAX_BUCKETS} buckets at any time (peak ${peak})`);
    assert.ok(limiter.buckets >= MAX_BUCKETS * 0.9 - 1, 'recently used buckets are kept');
    assert.equal(limiter.take(attacker, 'fs', 'read')?.limit, 'per-agent', 'the flood did not reset the attacker\'s bucket');
  });
});
