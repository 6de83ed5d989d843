/**
 * Options of the embedded authorization server, end to end (a real gateway, Chromium on the sign-in
 * page, a recorded server behind): `accessTokenFormat: jwt` with `accessTokenTtlSeconds` (the token says
 * its life and is refused after it, nothing reaching the server), `registration: open`, `cimd: false`
 * (a URL client id is not accepted), `loginAttempts` with `lockoutMinutes` (locked out for that long, the
 * right password too, another user not) and `refreshTokenTtlSeconds` (a refresh after it fails). Only `Date`
 * is faked to move time forward.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { launchBrowser, signInWithBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import { runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { authorizeUrl, pkcePair, register, tokenRequest } from '../helpers/oauth.ts';
import { codeOf, forwarded, modernSession, recordedServer } from '../helpers/security.ts';

const PASSWORD = randomBytes(12).toString('base64url');

describe('embedded authorization server options', () => {
  let gw: TestGateway;
  let dir: string;
  let config: string;
  let log: string;
  let n = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-cov-embedded-'));
    log = join(dir, 'gov.log');
    const identity = {
      scopes: ['mcp'],
      embedded: {
        enabled: true,
        accessTokenFormat: 'jwt',
        accessTokenTtlSeconds: 120,
        refreshTokenTtlSeconds: 300,
        registration: 'open',
        cimd: false,
        loginAttempts: 2,
        lockoutMinutes: 1,
        users: [
          { username: 'alice', password: 'env:PC_COV_ALICE', scopes: ['mcp'] },
          { username: 'bob', password: 'env:PC_COV_ALICE', scopes: ['mcp'] },
        ],
      },
    };
    gw = await startGateway({ dataDir: join(dir, 'data'), identity, servers: { gov: recordedServer(log) } }, processSecretSource({ ...process.env, PC_COV_ALICE: PASSWORD }));
    config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(join(dir, 'data'))}\nidentity: ${JSON.stringify(identity)}\nservers: {}\n`);
  });
  afterEach(() => mock.timers.reset());
  after(async () => gw.close());

  /** A tools/call with `token`; its status and code, and whether the server received it. */
  async function call(token: string): Promise<{ status: number; code: string | undefined; reached: boolean }> {
    const marker = `embedded-${++n}`;
    const answer = await modernSession(`${gw.url}/mcp/gov`).send({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: 'echo', arguments: { text: marker } } }, { authorization: `Bearer ${token}` });
    return { status: answer.status, code: codeOf(answer), reached: forwarded(log).some((m) => JSON.stringify(m.params ?? {}).includes(marker)) };
  }

  it('issues JWT access tokens that live accessTokenTtlSeconds and are refused after', async () => {
    const added = await runCli(['agent', 'add', 'cov-bot', '--scopes', 'mcp', '--json', '-c', config], { PC_COV_ALICE: PASSWORD });
    assert.equal(added.code, 0, added.stderr);
    const { client_id, client_secret } = JSON.parse(added.stdout) as { client_id: string; client_secret: string };
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const minted = await tokenRequest(gw.url, { grant_type: 'client_credentials', client_id, client_secret, resource: `${gw.url}/mcp/gov`, scope: 'mcp' });
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    assert.equal(minted.body.expires_in, 120);
    const parts = String(minted.body.access_token).split('.');
    assert.equal(parts.length, 3, 'accessTokenFormat: jwt gives a JWS');
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as { exp: number; iat: number };
    assert.equal(claims.exp - claims.iat, 120);
    assert.deepEqual(await call(minted.body.access_token), { status: 200, code: undefined, reached: true });
    // Past its life plus the 60 s of clock skew every issuer is allowed (far short of the default 900 s).
    mock.timers.tick(185_000);
    assert.deepEqual(await call(minted.body.access_token), { status: 401, code: 'PC_AUTH_INVALID_TOKEN', reached: false }, 'expired');
  });

  it('registers public clients (registration: open) but takes no URL client id (cimd: false)', async () => {
    const callback = await startCallback();
    try {
      const registered = await register(gw.url, { redirect_uris: [callback.url] });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const { challenge } = pkcePair();
      const byUrl = await fetch(authorizeUrl(gw.url, { client_id: 'https://client.example/oauth/metadata.json', redirect_uri: 'https://client.example/cb', resource: `${gw.url}/mcp`, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' }), { redirect: 'manual' });
      assert.equal(byUrl.status, 400, 'a URL client id is an unknown client');
      assert.match(await byUrl.text(), /invalid_client/);
      // And the server says so to clients that look (draft-ietf-oauth-client-id-metadata-document §4).
      const metadata = (await (await fetch(`${gw.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      assert.equal(typeof metadata.registration_endpoint, 'string', 'registration: open advertises the endpoint');
      assert.notEqual(metadata.client_id_metadata_document_supported, true);
    } finally {
      await callback.close();
    }
  });

  it('locks a user out after loginAttempts for lockoutMinutes; a refresh token stops after refreshTokenTtlSeconds', async () => {
    let browser: TestBrowser | undefined;
    const callback = await startCallback();
    try {
      const client = (await register(gw.url, { redirect_uris: [callback.url], grant_types: ['authorization_code', 'refresh_token'] })).body.client_id as string;
      const pkce = pkcePair();
      const start = () => authorizeUrl(gw.url, { client_id: client, redirect_uri: callback.url, resource: `${gw.url}/mcp`, scope: 'mcp', code_challenge: pkce.challenge, code_challenge_method: 'S256' });
      browser = await launchBrowser();
      const context = await browser.context();
      for (let i = 0; i < 2; i++) {
        const wrong = await signInWithBrowser(context, start(), { username: 'alice', password: 'wrong', redirect: callback.url });
        assert.equal(wrong.kind, 'page');
      }
      const locked = await signInWithBrowser(context, start(), { username: 'alice', password: PASSWORD, redirect: callback.url });
      assert.equal(locked.kind === 'page' ? locked.status : 'redirected', 429, 'locked out, even with the right password');
      // The lockout lasts lockoutMinutes (1 here, 15 by default), and the page says how long is left.
      assert.match(locked.kind === 'page' ? locked.text : '', /Try again in 1 minutes/);
      // The lock is per user: bob signs in, and his grant is what the refresh tokens below belong to.
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      const allowed = await signInWithBrowser(context, start(), { username: 'bob', password: PASSWORD, redirect: callback.url });
      assert.equal(allowed.kind, 'redirected', allowed.kind === 'page' ? `${allowed.status} ${allowed.text.slice(0, 200)}` : '');
      const code = allowed.kind === 'redirected' ? allowed.url.searchParams.get('code') : null;
      assert.ok(code);
      await context.close();
      const tokens = await tokenRequest(gw.url, { grant_type: 'authorization_code', code, redirect_uri: callback.url, client_id: client, code_verifier: pkce.verifier, resource: `${gw.url}/mcp` });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.ok(tokens.body.refresh_token, 'a refresh token was issued');
      mock.timers.tick(200_000);
      const early = await tokenRequest(gw.url, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: client, resource: `${gw.url}/mcp` });
      assert.equal(early.status, 200, `within refreshTokenTtlSeconds: ${JSON.stringify(early.body)}`);
      mock.timers.tick(101_000);
      const late = await tokenRequest(gw.url, { grant_type: 'refresh_token', refresh_token: early.body.refresh_token ?? tokens.body.refresh_token, client_id: client, resource: `${gw.url}/mcp` });
      assert.equal(late.status, 400, `past refreshTokenTtlSeconds: ${JSON.stringify(late.body)}`);
      assert.equal(late.body.error, 'invalid_grant');
    } finally {
      mock.timers.reset();
      await browser?.close();
      await callback.close();
    }
  });
});
