/**
 * The embedded authorization server end to end, over HTTP, with a real browser (Chromium) on the
 * sign-in and consent pages: the official SDK's OAuth client (v2) discovers, registers, runs PKCE, gets a token, calls a tool and steps up after a 403; agents use
 * client credentials; refresh tokens rotate; replayed codes, reused or revoked refresh tokens, implicit
 * and plain-PKCE requests are refused.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/client';
import { processSecretSource } from '../../src/config/secrets.ts';
import { LoginFailures } from '../../src/auth/login-failures.ts';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser, signInWithBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';
import { post, runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';

/** The client's loopback redirect URI (a listener started before the tests). */
let REDIRECT = '';
const PASSWORD = randomBytes(12).toString('base64url');

let browser: TestBrowser;

/** Signs in as a user would, in Chromium; a refused sign-in or lockout throws. */
async function signIn(start: string, context: BrowserContext | undefined, username = 'alice', password = PASSWORD): Promise<URL> {
  const ctx = context ?? (await browser.context());
  try {
    const result = await signInWithBrowser(ctx, start, { username, password, redirect: REDIRECT });
    if (result.kind === 'redirected') return result.url;
    if (result.status === 429) throw new Error(`locked out (${result.status})`);
    if (/Unknown user or wrong password/.test(result.text)) throw new Error('login refused');
    throw new Error(`unexpected page (${result.status}): ${result.text.slice(0, 400)}`);
  } finally {
    if (!context) await ctx.close();
  }
}

class TestOAuthClient implements OAuthClientProvider {
  info: Awaited<ReturnType<NonNullable<OAuthClientProvider['clientInformation']>>>;
  saved: Awaited<ReturnType<OAuthClientProvider['tokens']>>;
  verifier = '';
  pending: URL | undefined;
  get redirectUrl(): string {
    return REDIRECT;
  }
  get clientMetadata() {
    return { client_name: 'sdk-oauth-test', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: typeof this.info) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: typeof this.saved) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.pending = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe('embedded authorization server', () => {
  let upstream: ModernServer;
  let gw: TestGateway;
  let token: string;
  let config: string;

  let callback: Awaited<ReturnType<typeof startCallback>>;

  before(async () => {
    browser = await launchBrowser();
    callback = await startCallback();
    REDIRECT = callback.url;
    upstream = await startModernServer();
    gw = await startGateway(
      {
        servers: { modern: { url: upstream.url } },
        identity: { scopes: ['mcp'], embedded: { users: [{ username: 'alice', password: 'env:PC_TEST_ALICE', roles: ['dev'] }], roles: { dev: ['mcp', 'ops'] } } },
        policy: { rules: [{ name: 'everyone', effect: 'allow' }], tools: [{ server: 'modern', tool: 'slow', scopes: ['ops'] }] },
      },
      processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORD }),
    );
    token = `${gw.url}/oauth/token`;
    config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    await browser?.close();
    await callback?.close();
  });

  it('lets the official SDK client discover, register, authorize with PKCE, call, and step up after a 403', async () => {
    const provider = new TestOAuthClient();
    const jar = await browser.context();
    const url = new URL(`${gw.url}/mcp`);
    const connect = async () => {
      const client = new ModernClient({ name: 'oauth-agent', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } } as never);
      const transport = new ModernHttpTransport(url, { authProvider: provider });
      return { client, transport, done: client.connect(transport) };
    };
    let attempt = await connect();
    await assert.rejects(attempt.done, UnauthorizedError);
    assert.ok(provider.info?.client_id, 'the client registered itself (RFC 7591)');
    assert.equal(provider.pending?.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(provider.pending?.searchParams.get('resource'), `${gw.url}/mcp`, 'RFC 8707 resource indicator');
    assert.deepEqual(provider.pending?.searchParams.get('scope')?.split(' ').filter((x) => x !== 'offline_access'), ['mcp'], 'the challenge asks only for the base scope');
    const callback = await signIn(provider.pending!.href, jar);
    await attempt.transport.finishAuth(callback.searchParams);
    const claims = JSON.parse(Buffer.from(String(provider.saved!.access_token).split('.')[1]!, 'base64url').toString());
    assert.equal(claims.aud, `${gw.url}/mcp`);
    assert.equal(claims.sub, 'alice');
    assert.deepEqual(claims.roles, ['dev']);
    assert.ok(claims.exp - claims.iat <= 900, 'access tokens live 15 minutes by default');

    attempt = await connect();
    await attempt.done;
    const echo = await attempt.client.callTool({ name: 'modern__echo', arguments: { text: 'through OAuth' } });
    assert.match(JSON.stringify(echo.content), /through OAuth/);

    // `slow` needs the ops scope the token lacks: 403 insufficient_scope, then a step-up authorization.
    provider.pending = undefined;
    await assert.rejects(attempt.client.callTool({ name: 'modern__slow', arguments: { ms: 2 } }), UnauthorizedError);
    assert.ok(!upstream.bodies().some((b) => b.includes('"ms":2')), 'the call without the scope never reached the server');
    assert.match(provider.pending!.searchParams.get('scope') ?? '', /\bops\b/);
    const stepUp = await signIn(provider.pending!.href, jar);
    await attempt.transport.finishAuth(stepUp.searchParams);
    attempt = await connect();
    await attempt.done;
    const slow = await attempt.client.callTool({ name: 'modern__slow', arguments: { ms: 1 } });
    assert.match(JSON.stringify(slow.content), /waited 1/);
    await attempt.client.close();
    await jar.close();
    assert.deepEqual(upstream.credentialHeaders(), [], 'the client token never reached the server');
  });

  it('answers a token without a needed scope with 403 and a challenge naming it', async () => {
    const created = JSON.parse((await runCli(['agent', 'add', 'reader', '--scopes', 'mcp', '--json', '-c', config])).stdout);
    const minted = await (await fetch(token, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${gw.url}/mcp/modern`, scope: 'mcp ops' }).toString(),
    })).json();
    assert.equal(minted.scope, 'mcp', 'an agent gets only the scopes it was created with');
    const call = await post(`${gw.url}/mcp/modern`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 3 }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }), {
      authorization: `Bearer ${minted.access_token}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'slow',
    });
    assert.equal(call.status, 403, call.text);
    assert.equal(call.json.error.data.code, 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.match(call.headers.get('www-authenticate')!, /^Bearer error="insufficient_scope", scope="ops", resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp\/modern"/);
    assert.ok(!upstream.bodies().some((b) => b.includes('"ms":3')), 'the refused call never reached the server');
  });

  it('issues client credentials per agent, refuses a wrong secret, another resource\'s token, and a revoked agent at once', async () => {
    const added = await runCli(['agent', 'add', 'ci-bot', '--scopes', 'mcp', '--json', '-c', config]);
    assert.equal(added.code, 0, added.stderr);
    const { client_id, client_secret, token_endpoint } = JSON.parse(added.stdout);
    assert.equal(client_id, 'agent-ci-bot');
    assert.match(token_endpoint, /\/oauth\/token$/);
    assert.doesNotMatch((await runCli(['agent', 'list', '--json', '-c', config])).stdout, new RegExp(client_secret), 'only the hash is kept');
    const grant = async (secret: string, resource: string) =>
      fetch(token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret: secret, resource }).toString(),
      });
    const wrong = await grant(`${client_secret.slice(0, -1)}x`, `${gw.url}/mcp`);
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error, 'invalid_client');
    const other = await (await grant(client_secret, `${gw.url}/mcp/modern`)).json();
    const refused = await post(`${gw.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ci', version: '1' } } }), { authorization: `Bearer ${other.access_token}` });
    assert.equal(refused.status, 401, 'a token for /mcp/modern is not a token for /mcp');
    const mine = await (await grant(client_secret, `${gw.url}/mcp`)).json();
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ci', version: '1' } } });
    assert.equal((await post(`${gw.url}/mcp`, init, { authorization: `Bearer ${mine.access_token}` })).status, 200);
    assert.equal((await runCli(['agent', 'revoke', 'ci-bot', '-c', config])).code, 0);
    const after = await post(`${gw.url}/mcp`, init, { authorization: `Bearer ${mine.access_token}` });
    assert.equal(after.status, 401);
    assert.match(after.json.error.message, /agent "agent-ci-bot" was revoked/);
    assert.equal((await grant(client_secret, `${gw.url}/mcp`)).status, 401, 'no new tokens either');
  });

  it('refuses a replayed code, a reused or revoked refresh token, implicit and plain PKCE', async () => {
    const registered = await (await fetch(`${gw.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'manual', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }),
    })).json();
    const authorize = (extra: Record<string, string>) => {
      const u = new URL(`${gw.url}/oauth/authorize`);
      for (const [k, v] of Object.entries({ client_id: registered.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: 'mcp', resource: `${gw.url}/mcp`, state: 's1', ...extra })) u.searchParams.set(k, v);
      return u.href;
    };
    const exchange = (fields: Record<string, string>) =>
      fetch(token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: registered.client_id, ...fields }).toString() }).then(async (r) => ({ status: r.status, body: await r.json() }));

    const implicit = await fetch(authorize({ response_type: 'token' }), { redirect: 'manual' });
    assert.match(implicit.headers.get('location') ?? (await implicit.text()), /unsupported_response_type|response_type/);
    const noPkce = await fetch(authorize({}), { redirect: 'manual' });
    assert.match(noPkce.headers.get('location') ?? (await noPkce.text()), /code_challenge|PKCE/i);
    const plain = await fetch(authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), { redirect: 'manual' });
    assert.match(plain.headers.get('location') ?? (await plain.text()), /code_challenge_method|invalid_request/);

    const { verifier, challenge } = pkce();
    const callback = await signIn(authorize({ code_challenge: challenge, code_challenge_method: 'S256' }), undefined);
    const code = callback.searchParams.get('code')!;
    const first = await exchange({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, resource: `${gw.url}/mcp` });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.ok(first.body.refresh_token);
    const replay = await exchange({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, resource: `${gw.url}/mcp` });
    assert.equal(replay.body.error, 'invalid_grant', 'a code works once');
    const afterReplay = await exchange({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token, resource: `${gw.url}/mcp` });
    assert.equal(afterReplay.body.error, 'invalid_grant', 'replaying a code revokes what the code had issued');

    const { verifier: v1, challenge: c1 } = pkce();
    const again = await signIn(authorize({ code_challenge: c1, code_challenge_method: 'S256' }), undefined);
    const issued = await exchange({ grant_type: 'authorization_code', code: again.searchParams.get('code')!, code_verifier: v1, redirect_uri: REDIRECT, resource: `${gw.url}/mcp` });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const rotated = await exchange({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, resource: `${gw.url}/mcp` });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.refresh_token, issued.body.refresh_token, 'refresh tokens rotate');
    const reused = await exchange({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, resource: `${gw.url}/mcp` });
    assert.equal(reused.body.error, 'invalid_grant', 'a rotated-out refresh token is dead');
    const wrongVerifier = await signIn(authorize({ code_challenge: c1, code_challenge_method: 'S256' }), undefined);
    const mismatch = await exchange({ grant_type: 'authorization_code', code: wrongVerifier.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT, resource: `${gw.url}/mcp` });
    assert.equal(mismatch.body.error, 'invalid_grant', 'the PKCE verifier must match');

    const { verifier: v2, challenge: c2 } = pkce();
    const second = await signIn(authorize({ code_challenge: c2, code_challenge_method: 'S256' }), undefined);
    const fresh = await exchange({ grant_type: 'authorization_code', code: second.searchParams.get('code')!, code_verifier: v2, redirect_uri: REDIRECT, resource: `${gw.url}/mcp` });
    const revoke = await fetch(`${gw.url}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: registered.client_id, token: fresh.body.refresh_token, token_type_hint: 'refresh_token' }).toString() });
    assert.equal(revoke.status, 200);
    const afterRevoke = await exchange({ grant_type: 'refresh_token', refresh_token: fresh.body.refresh_token, resource: `${gw.url}/mcp` });
    assert.equal(afterRevoke.body.error, 'invalid_grant', 'a revoked refresh token is dead');

    await assert.rejects(signIn(authorize({ code_challenge: c2, code_challenge_method: 'S256' }), undefined, 'alice', 'wrong'), /login refused/);
    await assert.rejects(signIn(authorize({ code_challenge: c2, code_challenge_method: 'S256' }), undefined, 'mallory', PASSWORD), /login refused/);

    // Guessing: five failures for one name from one address, then a lockout — even for the right password.
    for (let i = 0; i < 4; i++) await assert.rejects(signIn(authorize({ code_challenge: c2, code_challenge_method: 'S256' }), undefined, 'mallory', `guess-${i}`), /login refused/);
    await assert.rejects(signIn(authorize({ code_challenge: c2, code_challenge_method: 'S256' }), undefined, 'mallory', PASSWORD), /locked out \(429\)/);
    const alice = await signIn(authorize({ code_challenge: c2, code_challenge_method: 'S256' }), undefined);
    assert.ok(alice.searchParams.get('code'), 'another user is not locked out');
  });
});

describe('login failure limit', () => {
  it('locks a source out after the limit, for the window, and forgets it after a success', () => {
    let now = 0;
    const failures = new LoginFailures({ perSource: 3, perUser: 100, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(failures.lockedFor('ip', 'bob'), 0);
      failures.fail('ip', 'bob');
    }
    assert.equal(failures.lockedFor('ip', 'bob'), 60_000);
    assert.equal(failures.lockedFor('ip', 'alice'), 0);
    now = 59_999;
    assert.equal(failures.lockedFor('ip', 'bob'), 1);
    now = 60_000;
    assert.equal(failures.lockedFor('ip', 'bob'), 0, 'the window passed');
    failures.fail('ip', 'alice');
    failures.fail('ip', 'alice');
    failures.succeed('ip', 'alice');
    failures.fail('ip', 'alice');
    failures.fail('ip', 'alice');
    assert.equal(failures.lockedFor('ip', 'alice'), 0, 'a success resets the count');
  });
});
