/**
 * Issue 11 item 1: anyone who reaches the port registers a client. Registration must buy nothing by
 * itself: no client credentials grant, no scope, no token without a user's sign-in and consent, and a
 * consented token carries only what the user's roles allow. Every attack ends with server-everything
 * (behind a recorder) having received no tools/call.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { isPublicCodeClient, redirectUriProblem } from '../../src/auth/registration.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { launchBrowser, signInWithBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authorizeUrl, authRefusals, callTool, pkcePair, recordedEverything, register, tokenRequest, ECHO_POLICY } from '../helpers/oauth.ts';

const PASSWORD = randomBytes(12).toString('base64url');

describe('security: dynamic registration buys nothing by itself', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let callback: Awaited<ReturnType<typeof startCallback>>;
  const upstream = recordedEverything();
  const clientRows = (): number => {
    const db = new DatabaseSync(join(gw.gateway.config.dataDir!, 'identity.db'), { readOnly: true });
    try {
      return Number((db.prepare("SELECT count(*) AS n FROM oauth WHERE model = 'Client'").get() as { n: number }).n);
    } finally {
      db.close();
    }
  };

  before(async () => {
    browser = await launchBrowser();
    callback = await startCallback();
    gw = await startSecureGateway(
      {
        servers: { everything: upstream.server },
        identity: {
          scopes: ['mcp'],
          embedded: { users: [{ username: 'alice', password: 'env:PC_TEST_ALICE', roles: ['reader'] }], roles: { reader: ['mcp'] } },
        },
        policy: { ...ECHO_POLICY, tools: [{ server: 'everything', tool: 'echo', scopes: ['admin:write'] }] },
      },
      processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORD }),
    );
  });
  after(async () => {
    await gw?.close();
    await browser?.close();
    await callback?.close();
  });

  it('refuses every grant type but authorization code and refresh, every response type but code, and stores nothing', async () => {
    const before = clientRows();
    const redirect_uris = [callback.url];
    const attempts: Array<Record<string, unknown>> = [
      { grant_types: ['client_credentials'] },
      { grant_types: ['authorization_code', 'client_credentials'] },
      { grant_types: ['implicit'] },
      { grant_types: ['password'] },
      { grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] },
      { grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'] },
      { grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'] },
      { grant_types: ['urn:openid:params:grant-type:ciba'] },
      { grant_types: ['refresh_token'] },
      { grant_types: 'client_credentials' },
      { grant_types: [] },
      { response_types: ['token'] },
      { response_types: ['code token'] },
      { response_types: ['id_token'] },
      { response_types: ['code', 'none'] },
    ];
    for (const extra of attempts) {
      const r = await register(gw.url, { client_name: 'attacker', redirect_uris, token_endpoint_auth_method: 'none', ...extra });
      assert.equal(r.status, 400, JSON.stringify(extra));
      assert.equal(r.body.error, 'invalid_client_metadata', JSON.stringify(extra));
    }
    assert.equal(clientRows(), before, 'no refused registration was stored');
  });

  it('refuses redirect URIs that are not https or loopback http, with fragments, userinfo, or custom schemes', async () => {
    const before = clientRows();
    const bad = [
      'http://evil.example/cb',
      'http://127.0.0.1.evil.example/cb',
      'http://localhost.evil.example/cb',
      'http://[::ffff:7f00:1].evil/cb',
      'myapp://callback',
      'com.example.app:/callback',
      'javascript:alert(1)',
      'data:text/html,hi',
      'file:///etc/passwd',
      'https://good.example/cb#frag',
      'https://user:pw@good.example/cb',
      'https://good.example@evil.example/cb',
      'https://good.example\\@evil.example/cb',
      'https://good.example/c b',
      'https://good.example/cb\r\nX: y',
      'https:///nohost',
      '/relative/cb',
      '',
    ];
    for (const uri of bad) {
      const r = await register(gw.url, { client_name: 'attacker', redirect_uris: [uri] });
      assert.equal(r.status, 400, uri);
      assert.match(r.body.error, /^invalid_(redirect_uri|client_metadata)$/, uri);
    }
    const mixed = await register(gw.url, { redirect_uris: [callback.url, 'http://evil.example/cb'] });
    assert.equal(mixed.status, 400, 'one bad URI spoils the registration');
    assert.equal((await register(gw.url, { redirect_uris: [] })).status, 400);
    assert.equal((await register(gw.url, { client_name: 'a'.repeat(101), redirect_uris: [callback.url] })).status, 400, 'an over-long name');
    assert.equal((await register(gw.url, { client_name: 'Claude\u202eedualC', redirect_uris: [callback.url] })).status, 400, 'bidirectional overrides in a name');
    assert.equal(clientRows(), before);
    for (const ok of ['http://127.0.0.1:33333/cb', 'http://[::1]:1/cb', 'http://localhost/cb', 'https://app.example/cb']) assert.equal(redirectUriProblem(ok), undefined, ok);
  });

  it('gives a registered client no token without a user: client credentials, forged codes, bare bearer — nothing reaches the server', async () => {
    const client = await register(gw.url, { client_name: 'attacker', redirect_uris: [callback.url], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic', scope: 'admin:write mcp', jwks_uri: 'http://169.254.169.254/latest' });
    assert.equal(client.status, 201, JSON.stringify(client.body));
    assert.equal(client.body.token_endpoint_auth_method, 'none', 'a registered client is public: no secret to store');
    assert.equal(client.body.client_secret, undefined);
    assert.equal(client.body.scope, undefined, 'a registered scope is dropped');
    assert.equal(client.body.jwks_uri, undefined, 'nothing the server would fetch is kept');
    const id = client.body.client_id as string;
    const resource = `${gw.url}/mcp`;
    const attempts: Array<Record<string, string>> = [
      { grant_type: 'client_credentials', client_id: id, resource, scope: 'admin:write' },
      { grant_type: 'client_credentials', client_id: id, client_secret: 'anything', resource },
      { grant_type: 'password', client_id: id, username: 'alice', password: PASSWORD, resource },
      { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', client_id: id, subject_token: 'x', subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource },
      { grant_type: 'authorization_code', client_id: id, code: 'forged-code', code_verifier: pkcePair().verifier, redirect_uri: callback.url, resource },
      { grant_type: 'refresh_token', client_id: id, refresh_token: 'forged', resource },
    ];
    for (const fields of attempts) {
      const r = await tokenRequest(gw.url, fields);
      assert.ok(r.status >= 400 && r.status < 500, `${fields.grant_type}: ${r.status}`);
      assert.equal(r.body.access_token, undefined, fields.grant_type);
    }
    const twoGrants = await tokenRequest(gw.url, {}, {});
    assert.equal(twoGrants.status, 400);
    // Without a user, the authorization endpoint only ever shows a sign-in page: no code.
    const { challenge } = pkcePair();
    const page = await fetch(authorizeUrl(gw.url, { client_id: id, redirect_uri: callback.url, code_challenge: challenge, code_challenge_method: 'S256', resource, scope: 'admin:write' }));
    assert.ok(!page.url.startsWith(callback.url), 'no redirect to the client without a sign-in');
    // A metadata-document client id on an address the server would have to fetch from inside the network.
    for (const cimd of ['https://127.0.0.1/client.json', 'https://169.254.169.254/latest/client.json', 'https://localhost/client.json', 'https://[::1]/c.json']) {
      const r = await fetch(authorizeUrl(gw.url, { client_id: cimd, redirect_uri: callback.url, code_challenge: challenge, code_challenge_method: 'S256', resource }), { redirect: 'manual' });
      assert.ok(r.status >= 400, `${cimd}: ${r.status}`);
      assert.match(await r.text(), /invalid_client/, cimd);
    }
    const refused = await callTool(`${gw.url}/mcp`, 'not-a-token', 'everything__echo', { message: 'pwned' });
    assert.equal(refused.status, 401);
    assert.deepEqual(upstream.calls(), [], 'server-everything received no tools/call');
    assert.ok(authRefusals(gw.gateway.config.dataDir!).some((r) => r.code === 'PC_AUTH_INVALID_TOKEN'), 'the refused token is in the audit trail');
  });

  it('refuses PKCE downgrades: plain, missing challenge, missing or wrong verifier', async () => {
    const client = await register(gw.url, { client_name: 'pkce', redirect_uris: [callback.url] });
    const id = client.body.client_id as string;
    const resource = `${gw.url}/mcp`;
    const downgrades: Array<Record<string, string>> = [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, { code_challenge: `${'a'.repeat(43)}=`, code_challenge_method: 'S256' }];
    for (const extra of downgrades) {
      const r = await fetch(authorizeUrl(gw.url, { client_id: id, redirect_uri: callback.url, resource, scope: 'mcp', ...extra }), { redirect: 'manual' });
      const where = r.headers.get('location') ?? (await r.text());
      assert.match(where, /invalid_request|code_challenge/, JSON.stringify(extra));
    }
    const context = await browser.context();
    const { verifier, challenge } = pkcePair();
    const url = authorizeUrl(gw.url, { client_id: id, redirect_uri: callback.url, resource, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' });
    const signed = await signInWithBrowser(context, url, { username: 'alice', password: PASSWORD, redirect: callback.url });
    await context.close();
    assert.equal(signed.kind, 'redirected');
    const code = signed.kind === 'redirected' ? signed.url.searchParams.get('code')! : '';
    const noVerifier = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: id, code, redirect_uri: callback.url, resource });
    assert.equal(noVerifier.body.access_token, undefined);
    const wrong = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: id, code, code_verifier: `${verifier.slice(0, -1)}${verifier.endsWith('A') ? 'B' : 'A'}`, redirect_uri: callback.url, resource });
    assert.equal(wrong.body.access_token, undefined);
    // The refusals were about the verifier: the code itself was good, and works once with the right one.
    const right = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: id, code, code_verifier: verifier, redirect_uri: callback.url, resource });
    assert.equal(right.status, 200, JSON.stringify(right.body));
  });

  it('caps a consented token at the user\'s roles; the consent page names the redirect host and calls the name unverified', async () => {
    const client = await register(gw.url, { client_name: 'Portcullis Admin <b>official</b>', redirect_uris: [callback.url] });
    const id = client.body.client_id as string;
    const resource = `${gw.url}/mcp`;
    const { verifier, challenge } = pkcePair();
    const url = authorizeUrl(gw.url, { client_id: id, redirect_uri: callback.url, resource, scope: 'mcp admin:write', code_challenge: challenge, code_challenge_method: 'S256' });
    const context = await browser.context();
    let seen = { name: '', host: '', refused: '', text: '' };
    const signed = await signInWithBrowser(context, url, {
      username: 'alice',
      password: PASSWORD,
      redirect: callback.url,
      inspect: async (page) => {
        seen = {
          name: await page.locator('#client-name').innerText(),
          host: await page.locator('#redirect-host').innerText(),
          refused: await page.locator('#refused-scopes').innerText(),
          text: await page.locator('body').innerText(),
        };
      },
    });
    await context.close();
    assert.equal(seen.name, 'Portcullis Admin <b>official</b>', 'the name is shown as text, not markup');
    assert.equal(seen.host, new URL(callback.url).host);
    assert.match(seen.text, /unverified/);
    assert.match(seen.refused, /admin:write/);
    assert.equal(signed.kind, 'redirected');
    const code = signed.kind === 'redirected' ? signed.url.searchParams.get('code')! : '';
    const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: id, code, code_verifier: verifier, redirect_uri: callback.url, resource, scope: 'mcp admin:write' });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.deepEqual(String(token.body.scope).split(' ').filter((s) => s !== 'offline_access' && s !== 'openid'), ['mcp'], 'admin:write is not the user\'s to give');
    const refresh = await tokenRequest(gw.url, { grant_type: 'refresh_token', client_id: id, refresh_token: token.body.refresh_token, resource, scope: 'mcp admin:write' });
    assert.ok(!String(refresh.body.scope ?? '').includes('admin:write'), 'nor can a refresh widen it');
    const call = await callTool(resource, token.body.access_token, 'everything__echo', { message: 'needs admin:write' });
    assert.equal(call.status, 403);
    assert.equal(call.json.error.data.code, 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.deepEqual(upstream.calls(), [], 'server-everything received no tools/call');
  });
});

describe('security: Client ID Metadata Documents get what an open registration gets', () => {
  it('refuses a metadata document client with another grant, response type, auth method or redirect URI', () => {
    const good = { grantTypes: ['authorization_code', 'refresh_token'], responseTypes: ['code'], redirectUris: ['https://app.example/cb'], clientAuthMethod: 'none' };
    assert.equal(isPublicCodeClient(good), true);
    for (const bad of [
      { ...good, grantTypes: ['client_credentials'] },
      { ...good, grantTypes: ['authorization_code', 'client_credentials'] },
      { ...good, responseTypes: ['code', 'id_token'] },
      { ...good, clientAuthMethod: 'private_key_jwt' },
      { ...good, redirectUris: ['http://evil.example/cb'] },
      { ...good, redirectUris: [] },
      { clientAuthMethod: 'none' },
    ]) {
      assert.equal(isPublicCodeClient(bad), false, JSON.stringify(bad));
    }
  });
});

describe('security: registration modes', () => {
  it('admin: dynamic registration is refused, an administrator\'s client (custom scheme allowed) is named as such; off: refused', async () => {
    const upstream = recordedEverything();
    const gw = await startSecureGateway(
      { servers: { everything: upstream.server }, policy: ECHO_POLICY, identity: { embedded: { registration: 'admin', users: [{ username: 'alice', password: 'env:PC_TEST_ALICE' }] } } },
      processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORD }),
    );
    const browser = await launchBrowser();
    try {
      const r = await register(gw.url, { client_name: 'x', redirect_uris: ['http://127.0.0.1:1/cb'] });
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'access_denied');
      const config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { embedded: { registration: admin } }\nservers: {}\n`);
      assert.equal((await runCli(['client', 'add', 'desk', '--redirect-uri', 'http://evil.example/cb', '-c', config])).code, 2, 'http off loopback is refused for admins too');
      const added = await runCli(['client', 'add', 'desk', '--redirect-uri', 'com.example.desk:/cb', '--json', '-c', config]);
      assert.equal(added.code, 0, added.stderr);
      const { client_id } = JSON.parse(added.stdout);
      const context = await browser.context();
      const { challenge } = pkcePair();
      let text = '';
      const result = await signInWithBrowser(context, authorizeUrl(gw.url, { client_id, redirect_uri: 'com.example.desk:/cb', resource: `${gw.url}/mcp`, code_challenge: challenge, code_challenge_method: 'S256' }), {
        username: 'alice',
        password: PASSWORD,
        redirect: 'com.example.desk:',
        consent: 'deny',
        inspect: async (page) => void (text = await page.locator('body').innerText()),
      });
      await context.close();
      assert.match(text, /registered by an administrator/);
      assert.ok(result.kind === 'page' || result.url.searchParams.get('error') === 'access_denied');
      assert.deepEqual(upstream.calls(), []);
    } finally {
      await browser.close();
      await gw.close();
    }
    const off = await startSecureGateway({ servers: {}, identity: { embedded: { registration: 'off' } } });
    try {
      assert.equal((await register(off.url, { redirect_uris: ['http://127.0.0.1:1/cb'] })).status, 403);
      const metadata = await (await fetch(`${off.url}/.well-known/oauth-authorization-server`)).json();
      assert.equal(metadata.registration_endpoint, undefined, 'no registration endpoint is advertised');
    } finally {
      await off.close();
    }
  });
});
