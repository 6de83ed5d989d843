/**
 * Issue 11 item 2: revocation takes effect on the next request, for JWT access tokens of the embedded
 * authorization server too — RFC 7009 revocation of the access token, of the refresh token (its grant),
 * reuse of a rotated refresh token, the user's sign-out (browser) and `portcullis user signout` (another
 * process: the cross-process invalidation through PRAGMA data_version). Each refused call is in the audit
 * trail and reached nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { authorizeWithBrowser, launchBrowser, signOutWithBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authorizeUrl, authRefusals, basic, callTool, pkcePair, recordedEverything, register, revokeRequest, tokenRequest, ECHO_POLICY } from '../helpers/oauth.ts';
import type { BrowserContext } from 'playwright-core';

const PASSWORD = randomBytes(12).toString('base64url');

describe('security: revoked tokens are refused on the next request', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let callback: Awaited<ReturnType<typeof startCallback>>;
  let clientId: string;
  let config: string;
  const upstream = recordedEverything();
  let resource: string;

  /** A fresh sign-in (own browser profile unless one is given): access and refresh token for /mcp. */
  const signIn = async (context?: BrowserContext): Promise<{ access: string; refresh: string }> => {
    const ctx = context ?? (await browser.context());
    const { verifier, challenge } = pkcePair();
    const url = await authorizeWithBrowser(ctx, authorizeUrl(gw.url, { client_id: clientId, redirect_uri: callback.url, resource, scope: 'mcp offline_access', prompt: 'consent', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'alice', password: PASSWORD, redirect: callback.url });
    if (!context) await ctx.close();
    const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: clientId, code: url.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, resource });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return { access: token.body.access_token, refresh: token.body.refresh_token };
  };
  const echo = (token: string, message: string) => callTool(`${gw.url}/mcp`, token, 'everything__echo', { message });
  const refusedAsRevoked = async (token: string, message: string): Promise<void> => {
    const before = authRefusals(gw.gateway.config.dataDir!).length;
    const r = await echo(token, message);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.data.code, 'PC_AUTH_INVALID_TOKEN');
    assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.ok(!upstream.received().some((m) => m.method === 'tools/call' && (m.params?.arguments as { message?: string } | undefined)?.message === message), `"${message}" never reached the server`);
    const after = authRefusals(gw.gateway.config.dataDir!);
    assert.equal(after.length, before + 1, 'the refusal is in the audit trail');
    assert.match(after.at(-1)!.reason, /revoked|grant/);
    assert.ok(!JSON.stringify(after.at(-1)).includes(token.split('.')[2]!), 'no token in the trail');
  };

  before(async () => {
    browser = await launchBrowser();
    callback = await startCallback();
    gw = await startSecureGateway(
      {
        servers: { everything: upstream.server }, policy: ECHO_POLICY,
        identity: { scopes: ['mcp'], embedded: { users: [{ username: 'alice', password: 'env:PC_TEST_ALICE', roles: ['dev'] }], roles: { dev: ['mcp'] } } },
      },
      processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORD }),
    );
    resource = `${gw.url}/mcp`;
    clientId = (await register(gw.url, { client_name: 'revocation-test', redirect_uris: [callback.url], grant_types: ['authorization_code', 'refresh_token'] })).body.client_id;
    config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
  });
  after(async () => {
    await gw?.close();
    await browser?.close();
    await callback?.close();
  });

  it('RFC 7009 revocation of a JWT access token: refused from the next call; another client cannot revoke it', async () => {
    const { access } = await signIn();
    assert.equal((await echo(access, 'before revoke')).status, 200);
    assert.deepEqual(upstream.calls(), ['echo']);
    const other = (await register(gw.url, { redirect_uris: [callback.url] })).body.client_id as string;
    assert.equal(await revokeRequest(gw.url, { token: access, token_type_hint: 'access_token', client_id: other }), 400, 'only the client it was issued to');
    assert.equal((await echo(access, 'still mine')).status, 200);
    assert.equal(await revokeRequest(gw.url, { token: access, token_type_hint: 'access_token', client_id: clientId }), 200);
    await refusedAsRevoked(access, 'after revoke');
    assert.deepEqual(upstream.calls(), ['echo', 'echo']);
  });

  it('revoking the refresh token revokes its grant: the access token minted with it is refused, the refresh token is dead', async () => {
    const { access, refresh } = await signIn();
    assert.equal((await echo(access, 'grant alive')).status, 200);
    assert.equal(await revokeRequest(gw.url, { token: refresh, token_type_hint: 'refresh_token', client_id: clientId }), 200);
    await refusedAsRevoked(access, 'grant revoked');
    const rotated = await tokenRequest(gw.url, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refresh, resource });
    assert.equal(rotated.body.error, 'invalid_grant');
  });

  it('reusing a rotated refresh token kills the grant and every access token it minted', async () => {
    const first = await signIn();
    const second = await tokenRequest(gw.url, { grant_type: 'refresh_token', client_id: clientId, refresh_token: first.refresh, resource });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal((await echo(second.body.access_token, 'rotated')).status, 200);
    const replay = await tokenRequest(gw.url, { grant_type: 'refresh_token', client_id: clientId, refresh_token: first.refresh, resource });
    assert.equal(replay.body.error, 'invalid_grant', 'a rotated-out refresh token is dead');
    await refusedAsRevoked(second.body.access_token, 'after replay');
    await refusedAsRevoked(first.access, 'first after replay');
    const third = await tokenRequest(gw.url, { grant_type: 'refresh_token', client_id: clientId, refresh_token: second.body.refresh_token, resource });
    assert.equal(third.body.error, 'invalid_grant', 'the current refresh token died with the grant');
  });

  it('signing out in the browser revokes every token of the user, on every client', async () => {
    const context = await browser.context();
    const here = await signIn(context);
    const elsewhere = await signIn();
    assert.equal((await echo(here.access, 'signed in')).status, 200);
    const page = await signOutWithBrowser(context, `${gw.url}/oauth/logout`, PASSWORD);
    await context.close();
    assert.match(page, /signed out/i);
    await refusedAsRevoked(here.access, 'after sign-out');
    await refusedAsRevoked(elsewhere.access, 'other device after sign-out');
    const refreshed = await tokenRequest(gw.url, { grant_type: 'refresh_token', client_id: clientId, refresh_token: here.refresh, resource });
    assert.equal(refreshed.body.error, 'invalid_grant');
  });

  it('`portcullis user signout` in another process is seen on the next call (PRAGMA data_version)', async () => {
    const { access, refresh } = await signIn();
    assert.equal((await echo(access, 'before cli')).status, 200);
    const out = await runCli(['user', 'signout', 'alice', '-c', config]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /grants? revoked/);
    await refusedAsRevoked(access, 'after cli signout');
    assert.equal((await tokenRequest(gw.url, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refresh, resource })).body.error, 'invalid_grant');
  });

  it('an agent\'s client-credentials token: revoked by the agent with its secret, not by anyone else', async () => {
    const created = JSON.parse((await runCli(['agent', 'add', 'ci', '--scopes', 'mcp', '--json', '-c', config])).stdout);
    const minted = await tokenRequest(gw.url, { grant_type: 'client_credentials', resource, scope: 'mcp' }, basic(created.client_id, created.client_secret));
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    const token = minted.body.access_token as string;
    assert.equal((await echo(token, 'agent')).status, 200);
    assert.equal(await revokeRequest(gw.url, { token, client_id: created.client_id }), 401, 'an agent\'s token needs the agent\'s secret to revoke');
    assert.equal(await revokeRequest(gw.url, { token }, basic(created.client_id, 'wrong')), 401);
    assert.equal((await echo(token, 'agent still')).status, 200);
    assert.equal(await revokeRequest(gw.url, { token }, basic(created.client_id, created.client_secret)), 200);
    await refusedAsRevoked(token, 'agent after revoke');
  });

  it('re-adding a revoked agent under the same name does not revive the tokens minted under its old credential', async () => {
    const first = JSON.parse((await runCli(['agent', 'add', 'rotated', '--scopes', 'mcp', '--json', '-c', config])).stdout);
    const minted = await tokenRequest(gw.url, { grant_type: 'client_credentials', resource, scope: 'mcp' }, basic(first.client_id, first.client_secret));
    const stolen = minted.body.access_token as string;
    assert.equal((await echo(stolen, 'old credential')).status, 200);
    assert.equal((await runCli(['agent', 'revoke', 'rotated', '-c', config])).code, 0);
    await refusedAsRevoked(stolen, 'old token after revoke');
    // Tokens carry their issue time in whole seconds: the new credential is made in a later second than the stolen token.
    const iat = JSON.parse(Buffer.from(stolen.split('.')[1]!, 'base64url').toString()).iat as number;
    while (Date.now() < (iat + 1) * 1000) await new Promise((resolve) => setTimeout(resolve, 50));
    const again = JSON.parse((await runCli(['agent', 'add', 'rotated', '--scopes', 'mcp', '--json', '-c', config])).stdout);
    assert.equal(again.client_id, first.client_id, 'same name, same client id');
    const before = authRefusals(gw.gateway.config.dataDir!).length;
    const revived = await echo(stolen, 'old token after re-add');
    assert.equal(revived.status, 401, revived.text);
    assert.match(revived.json.error.message, /predates/);
    assert.equal(authRefusals(gw.gateway.config.dataDir!).length, before + 1);
    const fresh = await tokenRequest(gw.url, { grant_type: 'client_credentials', resource, scope: 'mcp' }, basic(again.client_id, again.client_secret));
    assert.equal((await echo(fresh.body.access_token, 'new credential')).status, 200, 'the new credential works');
    assert.ok(!upstream.received().some((m) => (m.params?.arguments as { message?: string } | undefined)?.message === 'old token after re-add'), 'the revived token reached nothing');
  });
});
