/**
 * `per: principal` limits count against the user, not the OAuth client (red team F4). Under open
 * registration a signed-in user registers as many clients as they like; a bucket keyed by subject and
 * client handed each new client a fresh allowance. Alice signs in (real browser, embedded authorization
 * server) through three clients she registered and calls from each with the official SDK client: the
 * server receives her burst and not one call more; Bob, another user, keeps his own allowance.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { authorizeWithBrowser, launchBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import { legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authorizeUrl, pkcePair, recordedEverything, register, tokenRequest } from '../helpers/oauth.ts';
import { auditTrail } from '../helpers/recorded.ts';

const PASSWORDS = { alice: randomBytes(12).toString('base64url'), bob: randomBytes(12).toString('base64url') };
const BURST = 3;

describe('per: principal limits are per user, whatever client acts for them', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let callback: Awaited<ReturnType<typeof startCallback>>;
  const upstream = recordedEverything();

  /** A new client registered by `user`, and a token for it from a browser sign-in. */
  const newClientToken = async (user: 'alice' | 'bob', n: number): Promise<string> => {
    const clientId = (await register(gw.url, { client_name: `${user}-agent-${n}`, redirect_uris: [callback.url] })).body.client_id as string;
    const resource = `${gw.url}/mcp`;
    const { verifier, challenge } = pkcePair();
    const context = await browser.context();
    try {
      const url = await authorizeWithBrowser(context, authorizeUrl(gw.url, { client_id: clientId, redirect_uri: callback.url, resource, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' }), { username: user, password: PASSWORDS[user], redirect: callback.url });
      const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: clientId, code: url.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, resource });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return token.body.access_token as string;
    } finally {
      await context.close();
    }
  };

  /** Calls echo `count` times through the SDK client; the error codes of the refusals. */
  const echoes = async (token: string, era: 'legacy' | 'modern', tag: string, count: number): Promise<(string | undefined)[]> => {
    const headers = { authorization: `Bearer ${token}` };
    const client = era === 'legacy' ? await legacyClient(`${gw.url}/mcp`, { headers }) : await modernClient(`${gw.url}/mcp`, { headers });
    const codes: (string | undefined)[] = [];
    try {
      for (let i = 0; i < count; i++) {
        codes.push(await client.callTool({ name: 'everything__echo', arguments: { message: `${tag}-${i}` } }).then(() => undefined, (error: { data?: { code?: string } }) => error.data?.code ?? 'no code'));
      }
    } finally {
      await client.close();
    }
    return codes;
  };

  before(async () => {
    browser = await launchBrowser();
    callback = await startCallback();
    gw = await startSecureGateway(
      {
        servers: { everything: upstream.server },
        policy: {
          rules: [{ name: 'everything-echo', effect: 'allow', servers: ['everything'], tools: ['echo'] }],
          limits: [{ name: 'per-user', per: 'principal', servers: ['everything'], tools: ['echo'], rate: '1/h', burst: BURST }],
        },
        identity: {
          scopes: ['mcp'],
          embedded: {
            registration: 'open',
            users: [
              { username: 'alice', password: 'env:PC_TEST_ALICE', roles: ['dev'] },
              { username: 'bob', password: 'env:PC_TEST_BOB', roles: ['dev'] },
            ],
            roles: { dev: ['mcp'] },
          },
        },
      },
      processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORDS.alice, PC_TEST_BOB: PASSWORDS.bob }),
    );
  });
  after(async () => {
    await gw?.close();
    await browser?.close();
    await callback?.close();
  });

  it("three clients of one user share the user's bucket; another user has their own", async () => {
    const alice = [await newClientToken('alice', 1), await newClientToken('alice', 2), await newClientToken('alice', 3)];
    const codes = [
      ...(await echoes(alice[0]!, 'legacy', 'alice-1', 2)),
      ...(await echoes(alice[1]!, 'modern', 'alice-2', 2)),
      ...(await echoes(alice[2]!, 'legacy', 'alice-3', 2)),
    ];
    assert.deepEqual(codes.filter((c) => c !== undefined), Array(6 - BURST).fill('PC_RATE_LIMITED'), JSON.stringify(codes));
    const bob = await echoes(await newClientToken('bob', 1), 'modern', 'bob-1', BURST + 1);
    assert.deepEqual(bob, [...Array(BURST).fill(undefined), 'PC_RATE_LIMITED'], 'bob has a bucket of his own');

    const reached = upstream.received().filter((m) => m.method === 'tools/call').map((m) => String((m.params?.arguments as { message?: string }).message));
    assert.equal(reached.filter((m) => m.startsWith('alice-')).length, BURST, `alice's calls that reached the server: ${JSON.stringify(reached)}`);
    assert.equal(reached.filter((m) => m.startsWith('bob-')).length, BURST);
    const limited = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_RATE_LIMITED');
    assert.equal(limited.length, 6 - BURST + 1, 'every refusal is in the audit trail');
    assert.ok(limited.every((r) => r.rule === 'per-user' || r.reason?.includes('per-user')), JSON.stringify(limited[0]));
  });
});
