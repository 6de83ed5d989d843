/**
 * The resource server against hand-built tokens from a test issuer (its own keys, its JWKS served
 * over HTTP on loopback): each malicious token is refused with 401 and a WWW-Authenticate challenge,
 * the valid one reaches the server, and the client's credential never does.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createHmac } from 'node:crypto';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';
import { post, runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { callTool } from '../helpers/oauth.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { GatewayError } from '../../src/errors.ts';
import { identityDbPath } from '../../src/auth/identity.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('resource server: bearer tokens and API keys', () => {
  let upstream: ModernServer;
  let gw: TestGateway;
  let jwks: Server;
  let issuer: string;
  let jwksFetches = 0;
  let key: CryptoKey;
  let publicPem: string;
  let other: CryptoKey;
  const published: JWK[] = [];

  const token = (claims: Record<string, unknown> = {}, options: { kid?: string; key?: CryptoKey; alg?: string } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'alice', client_id: 'claude-code', scope: 'mcp', groups: ['dev'], jti: 'tok-1', ...claims })
      .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? 'k1', typ: 'at+jwt' })
      .setIssuer((claims.iss as string) ?? issuer)
      .setAudience((claims.aud as string) ?? `${gw.url}/mcp`)
      .setIssuedAt(now)
      .setExpirationTime((claims.exp as number) ?? now + 600)
      .sign(options.key ?? key);
  };
  const call = (bearer: string | undefined, path = '/mcp') => post(`${gw.url}${path}`, initialize, bearer === undefined ? {} : { authorization: bearer.startsWith('Basic') ? bearer : `Bearer ${bearer}` });
  /** A tools/call carrying `marker` (a method the gateway always forwards, never answers itself). */
  const attack = (bearer: string | undefined, marker: string) =>
    bearer === undefined ? post(`${gw.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'modern__echo', arguments: { text: marker } } })) : callTool(`${gw.url}/mcp`, bearer, 'modern__echo', { text: marker });
  const basicAttack = (marker: string) => post(`${gw.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'modern__echo', arguments: { text: marker } } }), { authorization: 'Basic dXNlcjpwYXNz' });
  /** The tools/call bodies the server received that carry one of the refused requests' markers. */
  const leaked = () => upstream.bodies().filter((body) => body.includes('refused-marker-'));

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    other = (await generateKeyPair('ES256')).privateKey;
    published.push({ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' });
    jwks = createServer((req, res) => {
      jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    upstream = await startModernServer();
    gw = await startGateway({
      servers: { modern: { url: upstream.url } },
      identity: { issuers: [{ issuer, jwksUri: `${issuer}/jwks`, rolesClaim: 'groups', clockSkewSeconds: 5 }], apiKeys: {} },
      // Counters read without a credential below: an operator's choice (docs/identity.md, /metrics).
      listen: { port: 0, metrics: 'loopback' },
    });
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    jwks?.closeAllConnections();
    jwks?.close();
  });

  it('serves Protected Resource Metadata per endpoint with its exact resource', async () => {
    for (const [path, resource] of [
      ['/.well-known/oauth-protected-resource/mcp', `${gw.url}/mcp`],
      ['/.well-known/oauth-protected-resource/mcp/modern', `${gw.url}/mcp/modern`],
      ['/.well-known/oauth-protected-resource', `${gw.url}/mcp`],
    ]) {
      const metadata = await (await fetch(`${gw.url}${path}`)).json();
      assert.equal(metadata.resource, resource, path);
      assert.deepEqual(metadata.authorization_servers, [issuer]);
    }
    assert.equal((await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp/nope`)).status, 404);
  });

  it('accepts a valid token and records who asked, and never forwards the token', async () => {
    const ok = await call(await token());
    assert.equal(ok.status, 200, ok.text);
    const sessionId = ok.headers.get('mcp-session-id')!;
    const headers = { authorization: `Bearer ${await token()}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    await post(`${gw.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    const echo = await post(`${gw.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'modern__echo', arguments: { text: 'hi' } } }), headers);
    assert.match(echo.text, /"text":"hi"/);
    assert.deepEqual(upstream.credentialHeaders(), [], 'no Authorization or Cookie reached the server');
    const db = new DatabaseSync(join(gw.gateway.config.dataDir!, 'audit.db'), { readOnly: true });
    const rows = db.prepare('SELECT record FROM audit_records ORDER BY seq').all() as Array<{ record: string }>;
    db.close();
    const record = rows.map((r) => JSON.parse(r.record)).find((r) => r.target === 'echo');
    assert.deepEqual(record.principal, { subject: 'alice', agent: 'claude-code', issuer, tokenId: 'tok-1' });
    assert.deepEqual(record.scopes, ['mcp']);
  });

  it('refuses expired, not-yet-valid, wrong-audience, wrong-issuer, alg none, HS256-with-public-key, unknown-kid and tampered tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await token();
    const [h, p] = valid.split('.');
    const tampered = `${h}.${b64({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'mallory' })}.${valid.split('.')[2]}`;
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`;
    const hsHeader = b64({ alg: 'HS256', kid: 'k1', typ: 'JWT' });
    const hs256 = `${hsHeader}.${p}.${createHmac('sha256', publicPem).update(`${hsHeader}.${p}`).digest('base64url')}`;
    const cases: [string, string, RegExp][] = [
      ['expired', await token({ exp: now - 600 }), /expired/],
      ['not yet valid', await new SignJWT({ sub: 'alice', client_id: 'c' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setAudience(`${gw.url}/mcp`).setNotBefore(now + 600).setExpirationTime(now + 1200).sign(key), /not valid yet/],
      ['another resource', await token({ aud: 'https://other.example/mcp' }), /another resource/],
      ['another endpoint of this gateway', await token({ aud: `${gw.url}/mcp/modern` }), /another resource/],
      ['untrusted issuer', await token({ iss: 'https://evil.example' }), /not accepted/],
      ['alg none', none, /algorithm|malformed/],
      ['HS256 signed with the public key', hs256, /algorithm/],
      ['unknown kid', await token({}, { kid: 'k9', key: other }), /no signing key/],
      ['known kid, other key', await token({}, { key: other }), /signature/],
      ['tampered payload', tampered, /signature/],
      ['not a JWT', 'opaque-token-value', /not a JWT/],
    ];
    // Each refused request is a tools/call with a marker: the gateway forwards it whenever it lets it
    // through, so the server's log is the proof that nothing passed.
    let marker = 0;
    for (const [what, bad, description] of cases) {
      const r = await attack(bad, `refused-marker-${marker++}`);
      assert.equal(r.status, 401, what);
      assert.equal(r.json.error.data.code, 'PC_AUTH_INVALID_TOKEN', what);
      const challenge = r.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/, what);
      assert.match(challenge, /error="invalid_token"/, what);
      assert.match(r.json.error.message, description, what);
    }
    const fetchesBefore = jwksFetches;
    for (let i = 0; i < 5; i++) assert.equal((await attack(await token({}, { kid: `unknown-${i}`, key: other }), `refused-marker-${marker++}`)).status, 401);
    assert.ok(jwksFetches - fetchesBefore <= 1, `unknown kids refetch the key set at most once per cooldown (${jwksFetches - fetchesBefore})`);
    const missing = await attack(undefined, `refused-marker-${marker++}`);
    assert.equal(missing.status, 401);
    assert.equal(missing.json.error.data.code, 'PC_AUTH_REQUIRED');
    assert.doesNotMatch(missing.headers.get('www-authenticate')!, /error=/);
    const basic = await basicAttack(`refused-marker-${marker++}`);
    assert.equal(basic.status, 401);
    assert.match(basic.headers.get('www-authenticate')!, /error="invalid_request"/);
    assert.deepEqual(leaked(), [], 'none of the refused requests reached the server');
    // The control: the same call with a valid token does reach it, so the check above can fail.
    const through = await attack(valid, 'refused-marker-control');
    assert.equal(through.status, 200, through.text);
    assert.equal(leaked().length, 1, 'the valid call reached the server');
    // Refused credentials are audited (a request with none at all, how OAuth starts, only counts).
    const db = new DatabaseSync(join(gw.gateway.config.dataDir!, 'audit.db'), { readOnly: true });
    const refused = (db.prepare('SELECT record FROM audit_records').all() as Array<{ record: string }>).map((r) => JSON.parse(r.record)).filter((r) => r.method === '(authentication)');
    db.close();
    assert.equal(refused.length, cases.length + 5 + 1, 'every refused token is in the trail');
    assert.ok(refused.every((r) => r.decision === 'denied' && r.code === 'PC_AUTH_INVALID_TOKEN' && r.principal.subject === 'anonymous'));
    assert.ok(refused.some((r) => /expired/.test(r.reason)));
    assert.ok(!JSON.stringify(refused).includes(valid.split('.')[2]!), 'no token in the trail');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`portcullis_auth_refused_total ${cases.length + 5 + 2}\n`));
  });

  it('bounds how many refusals reach the audit trail, so a flood of bad tokens cannot flood it', async () => {
    const error = new GatewayError('PC_AUTH_INVALID_TOKEN', 'flood');
    const results = await Promise.all(Array.from({ length: 300 }, () => gw.gateway.recordRefusal({ kind: 'aggregate' }, error)));
    const recorded = results.filter(Boolean).length;
    assert.ok(recorded >= 60 && recorded <= 110, `a burst of at most 100 is recorded (${recorded})`);
  });

  it('binds a session to the principal that opened it', async () => {
    const opened = await call(await token());
    const sessionId = opened.headers.get('mcp-session-id')!;
    const owner = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    await post(`${gw.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), { ...owner, authorization: `Bearer ${await token()}` });
    const hijack = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'modern__echo', arguments: { text: 'refused-marker-hijack' } } });
    const before = leaked().length;
    const stolen = await post(`${gw.url}/mcp`, hijack(2), { ...owner, authorization: `Bearer ${await token({ sub: 'mallory' })}` });
    assert.equal(stolen.status, 404);
    assert.equal(stolen.json.error.data.code, 'PC_SESSION_UNKNOWN');
    assert.equal(leaked().length, before, 'the hijacked session forwarded nothing');
    // The owner's own call on that session does reach the server.
    const own = await post(`${gw.url}/mcp`, hijack(3), { ...owner, authorization: `Bearer ${await token()}` });
    assert.match(own.text, /refused-marker-hijack/);
    assert.equal(leaked().length, before + 1, 'the owner\'s call reached the server');
  });

  it('accepts API keys until they expire or are revoked; a key without expiry needs the config to allow it', async () => {
    const config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { apiKeys: {} }\nservers: {}\n`);
    const created = await runCli(['key', 'create', '--agent', 'ci', '--scopes', 'mcp', '--expires', '1d', '--json', '-c', config]);
    assert.equal(created.code, 0, created.stderr);
    const { id, key: apiKey } = JSON.parse(created.stdout);
    assert.match(apiKey, /^pcl_[0-9a-f]{12}_/);
    assert.equal((await call(apiKey)).status, 200);
    const status = JSON.parse((await runCli(['status', '--json', '-c', config])).stdout);
    assert.deepEqual({ enabled: status.identity.enabled, apiKeys: status.identity.apiKeys, activeKeys: status.identity.activeKeys }, { enabled: true, apiKeys: true, activeKeys: 1 });
    const listed = await runCli(['key', 'list', '--json', '-c', config]);
    assert.doesNotMatch(listed.stdout, new RegExp(apiKey), 'key list never shows the key');
    const forever = await runCli(['key', 'create', '--agent', 'ci', '-c', config]);
    assert.equal(forever.code, 2);
    assert.match(forever.stderr, /allowNoExpiry/);
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!));
    const expired = store.createKey('ci', [], new Date(Date.now() - 1000));
    store.close();
    assert.match((await call(expired.key)).json.error.message, /expired/);
    assert.match((await call(`${apiKey.slice(0, -2)}xx`)).json.error.message, /unknown API key/);
    const lenient = join(gw.gateway.config.dataDir!, 'lenient.yaml');
    writeFileSync(lenient, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { apiKeys: { allowNoExpiry: true } }\nservers: {}\n`);
    const eternal = await runCli(['key', 'create', '--agent', 'legacy-ci', '--json', '-c', lenient]);
    assert.equal(eternal.code, 0, eternal.stderr);
    const checked = await runCli(['config', 'check', '-c', lenient]);
    assert.match(checked.stderr, /identity\.apiKeys\.allowNoExpiry: API keys without expiry are accepted/);
    assert.match(checked.stderr, /agent "legacy-ci" holds a key that never expires/);
    const noExpiry = await call(JSON.parse(eternal.stdout).key);
    assert.equal(noExpiry.status, 401, 'the running gateway does not allow keys without expiry');
    assert.match(noExpiry.json.error.message, /without expiry/);
    assert.equal((await runCli(['key', 'revoke', id, '-c', config])).code, 0);
    const revoked = await call(apiKey);
    assert.equal(revoked.status, 401);
    assert.match(revoked.json.error.message, /revoked/);
  });
});

describe('resource server: opaque tokens through RFC 7662 introspection', () => {
  it('accepts active tokens for this resource from the embedded server\'s own introspection (oidc-provider), refuses the rest, and caches answers', async () => {
    // The issuer: a gateway whose embedded authorization server issues opaque tokens. The resource server
    // under test: a second gateway that trusts it and introspects at its RFC 7662 endpoint, authenticated
    // as an agent of the issuer. Both answer for the same public URL, so the issuer's resource URIs are
    // the second gateway's.
    // `scopes: [mcp]`: the issuer mints only scopes it knows, and a token without any grants nothing at the other gateway.
    const issuerGw = await startGateway({ servers: { modern: { url: 'http://127.0.0.1:1/mcp' } }, identity: { scopes: ['mcp'], embedded: { accessTokenFormat: 'opaque' } }, listen: { port: 0, metrics: 'loopback' } });
    const issuer = issuerGw.url;
    const issuerConfig = join(issuerGw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(issuerConfig, `dataDir: ${JSON.stringify(issuerGw.gateway.config.dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
    const agent = async (name: string, scopes: string) => JSON.parse((await runCli(['agent', 'add', name, '--scopes', scopes, '--json', '-c', issuerConfig])).stdout) as { client_id: string; client_secret: string };
    const introspector = await agent('introspector', '');
    const bot = await agent('bot', 'mcp');
    const upstream = await startModernServer();
    const gw = await startGateway(
      {
        servers: { modern: { url: upstream.url } },
        identity: { publicUrl: issuer, issuers: [{ issuer, introspection: { url: `${issuer}/oauth/introspect`, clientId: introspector.client_id, clientSecret: 'env:PC_TEST_INTROSPECTION' } }] },
      },
      processSecretSource({ ...process.env, PC_TEST_INTROSPECTION: introspector.client_secret }),
    );
    const mint = async (resource: string) => {
      const r = await fetch(`${issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${bot.client_id}:${bot.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'mcp' }).toString(),
      });
      const body = await r.json();
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.equal(body.access_token.split('.').length, 1, 'an opaque token');
      return body.access_token as string;
    };
    const introspections = async () => {
      const count = Number(/^portcullis_http_requests_total (\d+)$/m.exec(await (await fetch(`${issuer}/metrics`)).text())?.[1]);
      assert.ok(Number.isInteger(count), 'the issuer counts its requests');
      return count;
    };
    try {
      const good = await mint(`${issuer}/mcp`);
      const call = (token: string, path = '/mcp') => post(`${gw.url}${path}`, initialize, { authorization: `Bearer ${token}` });
      assert.equal((await call(good)).status, 200);
      const before = await introspections();
      assert.equal((await call(good)).status, 200);
      assert.equal(await introspections(), before + 1, 'the second use was answered from the cache (only the metrics read itself counted)');
      const elsewhere = await mint(`${issuer}/mcp/modern`);
      for (const [token, why] of [[elsewhere, /another resource/], ['opaque-unknown', /not active/]] as const) {
        const r = await call(token);
        assert.equal(r.status, 401, token);
        assert.match(r.json.error.message, why, token);
      }
      // The issuer revokes: the resource server's cache keeps the answer for at most five minutes (and
      // never past the token's expiry); a fresh token is asked about, and refused once revoked.
      const revoked = await mint(`${issuer}/mcp`);
      const revoke = await fetch(`${issuer}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${bot.client_id}:${bot.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ token: revoked }).toString(),
      });
      assert.equal(revoke.status, 200);
      assert.match((await call(revoked)).json.error.message, /not active/);
    } finally {
      await gw.close();
      await upstream.close();
      await issuerGw.close();
    }
  });
});
