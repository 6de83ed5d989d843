/**
 * Memory keyed by caller input stays bounded: a caller that invents a new subject on every call (a
 * local client may declare any agent name) cannot grow the rate limiter's table without end, and the
 * flood does not free it from a limit it is under while it keeps calling. Nor can anyone who reaches
 * the embedded sign-in grow the identity store's lookup tables by naming a new client_id each time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { MEMORY_ENTRIES_MAX } from '../../src/auth/store.ts';
import { localPrincipal } from '../../src/auth/principal.ts';
import { policySchema } from '../../src/policy/schema.ts';
import { MAX_BUCKETS, RateLimiter } from '../../src/ratelimit/limiter.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

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

describe('the identity store under a flood of invented client ids', () => {
  let gw: TestGateway;
  before(async () => {
    const password = randomBytes(12).toString('base64url');
    gw = await startGateway(
      { servers: {}, identity: { scopes: ['mcp'], embedded: { users: [{ username: 'alice', password: 'env:PC_TEST_MEM_PW', scopes: ['mcp'] }] } } },
      processSecretSource({ ...process.env, PC_TEST_MEM_PW: password }),
    );
  });
  after(async () => gw?.close());

  it('remembers at most MEMORY_ENTRIES_MAX client ids, however many are asked for', async () => {
    const store = gw.front.identity!.store;
    const before = store.memoryEntries;
    // Unauthenticated requests name client ids of the caller's choosing; each is looked up (and, unknown, remembered).
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${gw.url}/oauth/authorize?client_id=flood-${i}-${randomBytes(8).toString('hex')}&response_type=code&scope=openid`, { redirect: 'manual' });
      await response.body?.cancel();
      assert.ok(response.status >= 300, `an unknown client is not served (got ${response.status})`);
    }
    assert.ok(store.memoryEntries >= before + 20, 'the ids the requests named reached the lookup table');
    // The flood, at the scale that matters, on the same store the gateway serves from.
    let peak = 0;
    for (let i = 0; i < MEMORY_ENTRIES_MAX * 1.5; i++) {
      assert.equal(store.agentByClientId(`flood-${i}`), undefined);
      if (i % 997 === 0) peak = Math.max(peak, store.memoryEntries);
    }
    peak = Math.max(peak, store.memoryEntries);
    assert.ok(peak <= MEMORY_ENTRIES_MAX, `at most ${MEMORY_ENTRIES_MAX} remembered (peak ${peak})`);
  });
});
