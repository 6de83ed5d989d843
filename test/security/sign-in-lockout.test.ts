/**
 * Issue 12 "Sign-in lockout": the failure table is bounded without forgetting a lockout — a flood of
 * failures with junk user names (more than the table holds) does not unlock a locked user — and a user is
 * locked across addresses after enough failures from anywhere (addresses 127.0.0.2… on loopback), even
 * for the right password from a clean address.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { LoginFailures } from '../../src/auth/login-failures.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { authorizeWithBrowser, launchBrowser, signInWithBrowser, startCallback, startSourceProxy, type TestBrowser } from '../helpers/browser.ts';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authorizeUrl, pkcePair, register } from '../helpers/oauth.ts';

const PASSWORD = randomBytes(12).toString('base64url');

describe('security: sign-in lockout', () => {
  it('keeps a locked user locked through a flood of junk user names larger than the table', () => {
    let now = 0;
    const max = 1_000;
    const failures = new LoginFailures({ perSource: 5, perUser: 20, windowMs: 15 * 60_000, maxEntries: max }, () => now);
    for (let i = 0; i < 5; i++) failures.fail('203.0.113.7', 'alice');
    assert.ok(failures.lockedFor('203.0.113.7', 'alice') > 0);
    for (let i = 0; i < 20 * max; i++) {
      now += 1;
      failures.fail('203.0.113.7', `junk-${i}`);
    }
    assert.ok(failures.lockedFor('203.0.113.7', 'alice') > 0, 'still locked after the flood');
    assert.ok(failures.size <= 2 * max, `memory stays bounded (${failures.size})`);
    now += 15 * 60_000;
    assert.equal(failures.lockedFor('203.0.113.7', 'alice'), 0, 'the lockout ends with its window');
  });

  it('with the production table size, 100,000+ junk failures do not unlock a locked user', () => {
    const failures = new LoginFailures({ perSource: 5, perUser: 20, windowMs: 15 * 60_000 });
    for (let i = 0; i < 5; i++) failures.fail('198.51.100.1', 'alice');
    for (let i = 0; i < 120_000; i++) failures.fail(`198.51.100.${i % 250}`, `junk-${i}`);
    assert.ok(failures.lockedFor('198.51.100.1', 'alice') > 0);
  });

  it('locks a user across addresses: failures spread over loopback addresses lock the right password out too', async () => {
    let gw: TestGateway | undefined;
    let browser: TestBrowser | undefined;
    const callback = await startCallback();
    try {
      gw = await startSecureGateway(
        { servers: {}, identity: { scopes: ['mcp'], embedded: { users: [{ username: 'alice', password: 'env:PC_TEST_ALICE', scopes: ['mcp'] }, { username: 'bob', password: 'env:PC_TEST_ALICE', scopes: ['mcp'] }], loginAttempts: 5, userLoginAttempts: 3 } } },
        processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORD }),
      );
      const client = (await register(gw.url, { redirect_uris: [callback.url] })).body.client_id as string;
      const start = () => authorizeUrl(gw!.url, { client_id: client, redirect_uri: callback.url, resource: `${gw!.url}/mcp`, scope: 'mcp', ...(({ challenge }) => ({ code_challenge: challenge, code_challenge_method: 'S256' }))(pkcePair()) });
      browser = await launchBrowser();
      // One wrong password typed in a browser on each of three other loopback addresses (each under its
      // own limit of 5): the browser's connections leave from that address through a loopback proxy.
      for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
        const proxy = await startSourceProxy(address);
        const elsewhere = await browser.context({ proxy: { server: proxy.server } });
        try {
          const refused = await signInWithBrowser(elsewhere, start(), { username: 'alice', password: 'wrong', redirect: callback.url });
          assert.equal(refused.kind, 'page', address);
          assert.equal(refused.kind === 'page' ? refused.status : 0, 401, address);
          assert.ok(proxy.forwarded().includes('POST'), `the sign-in was posted from ${address}`);
        } finally {
          await elsewhere.close();
          await proxy.close();
        }
      }
      const context = await browser.context();
      const locked = await signInWithBrowser(context, start(), { username: 'alice', password: PASSWORD, redirect: callback.url });
      assert.equal(locked.kind, 'page');
      assert.equal(locked.kind === 'page' ? locked.status : 0, 429, 'locked out from 127.0.0.1 with the right password');
      const bob = await authorizeWithBrowser(context, start(), { username: 'bob', password: PASSWORD, redirect: callback.url });
      assert.ok(bob.searchParams.get('code'), 'another user is not locked: the lock is per user');
      await context.close();
    } finally {
      await browser?.close();
      await gw?.close();
      await callback.close();
    }
  });
});
