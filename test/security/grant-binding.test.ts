/**
 * Red-team F16 (b): the embedded authorization server's access tokens name their grant (`gid`); a live
 * grant id is no capability on its own. A token signed with the server's key (as one stolen from
 * oauth-secrets.json would sign it) that carries alice's live grant id but another user's `sub`, another
 * client's `client_id`, or no owner at all is refused (401 invalid_token), audited, and reaches nothing;
 * the same minting with alice's own claims is accepted, so the refusal is the binding, not the signature.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes, randomUUID, sign, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { authorizeWithBrowser, launchBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authorizeUrl, authRefusals, callTool, pkcePair, recordedEverything, register, tokenRequest, ECHO_POLICY } from '../helpers/oauth.ts';

const PASSWORD = randomBytes(12).toString('base64url');
const BOB_PASSWORD = randomBytes(12).toString('base64url');
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('security: a grant id is bound to its user and client', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let callback: Awaited<ReturnType<typeof startCallback>>;
  const upstream = recordedEverything();
  let claims: Record<string, any>;
  let mint: (extra: Record<string, unknown>) => string;

  before(async () => {
    browser = await launchBrowser();
    callback = await startCallback();
    gw = await startSecureGateway(
      {
        servers: { everything: upstream.server },
        policy: { rules: [...ECHO_POLICY.rules, { name: 'admins-sum', effect: 'allow', servers: ['everything'], tools: ['get-sum'], principal: { roles: ['admin'] } }] },
        identity: {
          scopes: ['mcp'],
          embedded: {
            users: [{ username: 'alice', password: 'env:PC_TEST_ALICE', roles: ['dev'] }, { username: 'bob', password: 'env:PC_TEST_BOB', roles: ['admin'] }],
            roles: { dev: ['mcp'], admin: ['*'] },
          },
        },
      },
      processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORD, PC_TEST_BOB: BOB_PASSWORD }),
    );
    const resource = `${gw.url}/mcp`;
    const clientId = (await register(gw.url, { client_name: 'alices-agent', redirect_uris: [callback.url], grant_types: ['authorization_code'] })).body.client_id as string;
    const { verifier, challenge } = pkcePair();
    const ctx = await browser.context();
    const url = await authorizeWithBrowser(ctx, authorizeUrl(gw.url, { client_id: clientId, redirect_uri: callback.url, resource, scope: 'mcp', prompt: 'consent', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'alice', password: PASSWORD, redirect: callback.url });
    await ctx.close();
    const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: clientId, code: url.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, resource });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    claims = JSON.parse(Buffer.from(token.body.access_token.split('.')[1], 'base64url').toString());
    assert.equal(typeof claims.gid, 'string');
    // What a thief of the data dir holds: the private signing key.
    const jwk = (JSON.parse(readFileSync(join(gw.gateway.config.dataDir!, 'oauth-secrets.json'), 'utf8')) as { signingKey: JsonWebKey & { kid: string } }).signingKey;
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    mint = (extra) => {
      const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })}.${b64({ ...claims, jti: randomUUID(), ...extra })}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    };
  });
  after(async () => {
    await gw?.close();
    await browser?.close();
    await callback?.close();
  });

  it('the same minting with alice\'s own claims is accepted (control)', async () => {
    const r = await callTool(`${gw.url}/mcp`, mint({}), 'everything__echo', { message: 'control' });
    assert.equal(r.status, 200, r.text);
    assert.ok(upstream.received().some((m) => (m.params?.arguments as { message?: string } | undefined)?.message === 'control'));
  });

  for (const [name, extra] of [
    ['another user (bob, admin) with alice\'s grant', { sub: 'bob', roles: ['admin'] }],
    ['alice\'s grant for another client', { client_id: 'bobs-console' }],
    ['bob\'s name on another client with alice\'s grant', { sub: 'bob', client_id: 'bobs-console', roles: ['admin'] }],
    ['no client', { client_id: undefined }],
  ] as const) {
    it(`refused: ${name}`, async () => {
      const message = `forged ${name}`;
      const before = authRefusals(gw.gateway.config.dataDir!).length;
      const r = await callTool(`${gw.url}/mcp`, mint(extra), 'everything__get-sum', { a: 1, b: 2 });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.error.data.code, 'PC_AUTH_INVALID_TOKEN');
      const echoed = await callTool(`${gw.url}/mcp`, mint(extra), 'everything__echo', { message });
      assert.equal(echoed.status, 401, echoed.text);
      assert.ok(!upstream.received().some((m) => m.method === 'tools/call' && (JSON.stringify(m.params).includes(message) || (m.params as { name?: string }).name === 'get-sum')), 'nothing reached the server');
      const after = authRefusals(gw.gateway.config.dataDir!);
      assert.equal(after.length, before + 2, 'both refusals are in the audit trail');
      // A token naming no client is refused before its grant is looked at (it names no agent).
      assert.match(after.at(-1)!.reason, /not this user's grant to this client|names no agent/);
    });
  }
});
