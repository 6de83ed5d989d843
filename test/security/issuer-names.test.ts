/**
 * A name means a caller only together with who vouched for it. With an external issuer trusted beside
 * the gateway's own names (API keys here), a token of that issuer naming the agent `ci-bot` or the
 * subject an admin's rule was written for gets nothing from that rule; a token whose `sub` is not a
 * non-empty string, that names no agent, or that was issued in the future is refused outright. A
 * policy that would let names of several issuers meet in one allow rule does not load. Nothing of the
 * refused calls reaches server-everything.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { IdentityStore } from '../../src/auth/store.ts';
import { identityDbPath } from '../../src/auth/identity.ts';
import { validateConfig } from '../../src/config/load.ts';
import { notAnAccessToken } from '../../src/auth/resource-server.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { callTool, recordedEverything } from '../helpers/oauth.ts';

describe('security: subject and agent names are scoped to their issuer', () => {
  let idp: Server;
  let issuer: string;
  let key: CryptoKey;
  let gw: TestGateway;
  const upstream = recordedEverything();

  const policy = (principal: Record<string, unknown>) => ({
    rules: [{ name: 'ci-bot-echo', effect: 'allow', servers: ['everything'], tools: ['echo'], principal }],
  });

  let introspection: Record<string, unknown> = { active: false };
  const token = (claims: Record<string, unknown>, iat?: number, typ: string | null = 'at+jwt') => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'mcp', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', ...(typ ? { typ } : {}) })
      .setIssuer(issuer)
      .setAudience(`${gw.url}/mcp`)
      .setIssuedAt(iat ?? now)
      .setExpirationTime(now + 600)
      .sign(key);
  };
  const messages = () => upstream.received().filter((m) => m.method === 'tools/call').map((m) => (m.params?.arguments as { message?: string }).message);

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    idp = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.url === '/introspect' ? introspection : { keys: [jwk] }));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    gw = await startGateway({
      servers: { everything: upstream.server },
      identity: {
        issuers: [{ issuer, jwksUri: `${issuer}/jwks`, agentClaim: ['azp'], introspection: { url: `${issuer}/introspect`, clientId: 'gateway', clientSecret: 'env:PC_TEST_INTROSPECTION' } }],
        apiKeys: {},
      },
      policy: {
        rules: [
          ...policy({ agents: ['ci-bot'], issuers: ['portcullis'] }).rules,
          { name: 'idp-echo', effect: 'allow', servers: ['everything'], tools: ['echo'], principal: { subjects: ['carol'], issuers: [issuer] } },
        ],
      },
    }, processSecretSource({ ...process.env, PC_TEST_INTROSPECTION: 'introspection-test-credential' }));
  });
  after(async () => {
    await gw?.close();
    idp?.closeAllConnections();
    idp?.close();
  });

  it('an allow rule selecting by name without saying whose does not load while two issuers vouch for names', () => {
    const document = { servers: { everything: { url: 'http://127.0.0.1:1/mcp' } }, identity: { issuers: [{ issuer: 'https://idp.example' }], apiKeys: {} } };
    for (const principal of [{ agents: ['ci-bot'] }, { subjects: ['bob'] }]) {
      const loaded = validateConfig({ ...document, policy: policy(principal) });
      assert.equal(loaded.ok, false, JSON.stringify(principal));
      assert.ok(!loaded.ok && loaded.problems.some((p) => p.path === 'policy.rules[0].principal' && /principal\.issuers/.test(p.message)), JSON.stringify(loaded));
    }
    const unknown = validateConfig({ ...document, policy: policy({ agents: ['ci-bot'], issuers: ['https://other.example'] }) });
    assert.ok(!unknown.ok && unknown.problems.some((p) => /no source of names "https:\/\/other\.example"/.test(p.message)), JSON.stringify(unknown));
    assert.equal(validateConfig({ ...document, policy: policy({ agents: ['ci-bot'], issuers: ['https://idp.example'] }) }).ok, true);
    // One source of names: nothing to mix up.
    assert.equal(validateConfig({ ...document, identity: { issuers: [{ issuer: 'https://idp.example' }] }, policy: policy({ agents: ['ci-bot'] }) }).ok, true);
  });

  it('the external issuer\'s azp "ci-bot" gets nothing from the rule for the admin\'s API-key agent ci-bot', async () => {
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!));
    const apiKey = store.createKey('ci-bot', ['mcp'], new Date(Date.now() + 3_600_000)).key;
    store.close();
    const own = await callTool(`${gw.url}/mcp`, apiKey, 'everything__echo', { message: 'from the admin key' });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.json.error, undefined, own.text);
    const foreign = await callTool(`${gw.url}/mcp`, await token({ sub: 'mallory', azp: 'ci-bot' }), 'everything__echo', { message: 'from the external ci-bot' });
    assert.equal(foreign.json.error?.data?.code, 'PC_POLICY_DENIED', foreign.text);
    assert.deepEqual(messages(), ['from the admin key'], 'the external token\'s call never reached the server');
  });

  it('malformed identities are refused: sub not a non-empty string, no agent claim, issued in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['empty sub', token({ sub: '', azp: 'ci-bot' }), /sub claim must be a non-empty string/],
      ['numeric sub', token({ sub: 123, azp: 'ci-bot' }), /sub claim must be a non-empty string/],
      ['object sub', token({ sub: { a: 1 }, azp: 'ci-bot' }), /sub claim must be a non-empty string/],
      ['no agent claim', token({ sub: 'carol' }), /names no agent/],
      ['empty agent claim', token({ sub: 'carol', azp: '' }), /names no agent/],
      ['issued in an hour', token({ sub: 'carol', azp: 'ci-bot' }, now + 3600), /issued in the future/],
    ];
    for (const [label, minted, message] of cases) {
      const answer = await callTool(`${gw.url}/mcp`, await minted, 'everything__echo', { message: `malformed: ${label}` });
      assert.equal(answer.status, 401, `${label}: ${answer.text}`);
      assert.match(answer.json.error.message, message, label);
    }
    assert.ok(!messages().some((m) => m?.startsWith('malformed')), 'no malformed identity reached the server');
  });

  it('only access tokens are credentials: ID tokens, logout tokens and refresh tokens the issuer vouches for are refused', async () => {
    const good = await callTool(`${gw.url}/mcp`, await token({ sub: 'carol', azp: 'portal' }), 'everything__echo', { message: 'carol with an access token' });
    assert.equal(good.json.error, undefined, good.text);
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['an ID token (typ JWT)', token({ sub: 'carol', azp: 'portal', nonce: 'n-1', at_hash: 'x' }, undefined, 'JWT'), /typ is "JWT", not at\+jwt/],
      ['an untyped token', token({ sub: 'carol', azp: 'portal' }, undefined, null), /typ is missing/],
      ['an ID token typed at+jwt', token({ sub: 'carol', azp: 'portal', nonce: 'n-2' }), /carries "nonce"/],
      ['a logout token', token({ sub: 'carol', azp: 'portal', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } }, undefined, 'logout+jwt'), /not an access token/],
    ];
    for (const [label, minted, message] of cases) {
      const answer = await callTool(`${gw.url}/mcp`, await minted, 'everything__echo', { message: `confused: ${label}` });
      assert.equal(answer.status, 401, `${label}: ${answer.text}`);
      assert.match(answer.json.error.message, message, label);
    }
    // An opaque token the issuer introspects as a refresh token is not an access token either.
    introspection = { active: true, token_type: 'refresh_token', sub: 'carol', azp: 'portal', scope: 'mcp', aud: `${gw.url}/mcp`, exp: now + 600 };
    const refresh = await callTool(`${gw.url}/mcp`, 'opaque-refresh-token-value', 'everything__echo', { message: 'confused: refresh token' });
    assert.equal(refresh.status, 401, refresh.text);
    assert.match(refresh.json.error.message, /not an access token/);
    introspection = { ...introspection, token_type: 'Bearer' };
    const bearer = await callTool(`${gw.url}/mcp`, 'opaque-access-token-value', 'everything__echo', { message: 'carol with an opaque access token' });
    assert.equal(bearer.json.error, undefined, bearer.text);
    assert.deepEqual(messages().filter((m) => m?.startsWith('confused')), [], 'no confused token reached the server');
    assert.ok(messages().includes('carol with an opaque access token'));
  });
});

describe('security: whoever answers for an issuer\'s URLs mints identities, so they are https (http on loopback only)', () => {
  it('refuses plain-http issuer, key set and introspection URLs on other hosts', () => {
    const at = (issuer: Record<string, unknown>) => validateConfig({ servers: {}, identity: { issuers: [issuer] } });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ issuer: 'http://idp.example.com' }, 'identity.issuers[0].issuer'],
      [{ issuer: 'https://idp.example.com', jwksUri: 'http://idp.example.com/jwks' }, 'identity.issuers[0].jwksUri'],
      [{ issuer: 'https://idp.example.com', introspection: { url: 'http://idp.example.com/introspect', clientId: 'gw', clientSecret: 'env:X' } }, 'identity.issuers[0].introspection.url'],
    ];
    for (const [issuer, path] of cases) {
      const loaded = at(issuer);
      assert.ok(!loaded.ok && loaded.problems.some((p) => p.path === path && /must be an https URL/.test(p.message)), `${path}: ${JSON.stringify(loaded)}`);
    }
    assert.equal(at({ issuer: 'http://127.0.0.1:9000', jwksUri: 'http://[::1]:9000/jwks' }).ok, true, 'loopback stays allowed for local set-ups');
  });
});

describe('security: token types under accessTokenType', () => {
  it('at+jwt requires the RFC 9068 type; any accepts untyped tokens but never ID- or logout-token claims', () => {
    assert.equal(validateConfig({ servers: {}, identity: { issuers: [{ issuer: 'https://idp.example.com', accessTokenType: 'at+jwt' }] } }).ok, true);
    assert.equal(validateConfig({ servers: {}, identity: { issuers: [{ issuer: 'https://idp.example.com', accessTokenType: 'any' }] } }).ok, true);
    assert.equal(validateConfig({ servers: {}, identity: { issuers: [{ issuer: 'https://idp.example.com', accessTokenType: 'jwt' }] } }).ok, false);
    assert.equal(notAnAccessToken('at+jwt', { sub: 'a' }, 'at+jwt'), undefined);
    assert.equal(notAnAccessToken('application/at+jwt', { sub: 'a' }, 'at+jwt'), undefined);
    assert.match(notAnAccessToken('JWT', { sub: 'a' }, 'at+jwt') ?? '', /not at\+jwt/);
    assert.equal(notAnAccessToken('JWT', { sub: 'a' }, 'any'), undefined, 'an untyped issuer\'s access token');
    assert.equal(notAnAccessToken(undefined, { sub: 'a' }, 'any'), undefined);
    for (const claim of ['nonce', 'at_hash', 'c_hash', 's_hash', 'events']) assert.match(notAnAccessToken('JWT', { sub: 'a', [claim]: 'x' }, 'any') ?? '', new RegExp(claim), claim);
    assert.match(notAnAccessToken('logout+jwt', { sub: 'a' }, 'any') ?? '', /not an access token/);
  });
});
