/**
 * Issue 11 item 6 and RFC 8707 audience confusion: a token for /mcp/<server> is not a token for /mcp (nor
 * the other way round) — not for JWTs, not for opaque tokens introspected at an issuer, and not when the
 * answer comes from the introspection cache. Nor is a refresh token an access token. Nothing reaches the
 * server; each refusal is audited.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authRefusals, basic, callTool, recordedEverything, tokenRequest, ECHO_POLICY } from '../helpers/oauth.ts';

describe('security: a token is good only for the endpoint it names', () => {
  let issuerGw: TestGateway;
  let gw: TestGateway;
  const upstream = recordedEverything();
  let bot: { client_id: string; client_secret: string };
  let issuer: string;

  before(async () => {
    // The issuer issues opaque tokens; the gateway under test introspects them (RFC 7662) and answers
    // for the same public URL, so the issuer's resource URIs are its endpoints.
    // `scopes: [mcp]`: the issuer mints only scopes it knows, and a token without any is refused here.
    issuerGw = await startSecureGateway({ servers: { everything: { url: 'http://127.0.0.1:1/mcp' } }, identity: { scopes: ['mcp'], embedded: { accessTokenFormat: 'opaque' } } });
    issuer = issuerGw.url;
    const config = join(issuerGw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(issuerGw.gateway.config.dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
    const introspector = JSON.parse((await runCli(['agent', 'add', 'introspector', '--json', '-c', config])).stdout);
    bot = JSON.parse((await runCli(['agent', 'add', 'bot', '--scopes', 'mcp', '--json', '-c', config])).stdout);
    gw = await startSecureGateway(
      {
        servers: { everything: upstream.server }, policy: ECHO_POLICY,
        identity: { publicUrl: issuer, issuers: [{ issuer, introspection: { url: `${issuer}/oauth/introspect`, clientId: introspector.client_id, clientSecret: 'env:PC_TEST_INTROSPECTION' } }] },
      },
      processSecretSource({ ...process.env, PC_TEST_INTROSPECTION: introspector.client_secret }),
    );
  });
  after(async () => {
    await gw?.close();
    await issuerGw?.close();
  });

  const mint = async (resource: string) => {
    const r = await tokenRequest(issuer, { grant_type: 'client_credentials', resource, scope: 'mcp' }, basic(bot.client_id, bot.client_secret));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.access_token as string;
  };

  it('an introspected token for /mcp/everything, cached, is still refused at /mcp', async () => {
    const token = await mint(`${issuer}/mcp/everything`);
    const ok = await callTool(`${gw.url}/mcp/everything`, token, 'echo', { message: 'at its endpoint' });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(upstream.calls(), ['echo']);
    const before = authRefusals(gw.gateway.config.dataDir!).length;
    for (let i = 0; i < 2; i++) {
      const wrong = await callTool(`${gw.url}/mcp`, token, 'everything__echo', { message: `aggregate ${i}` });
      assert.equal(wrong.status, 401, wrong.text);
      assert.equal(wrong.json.error.data.code, 'PC_AUTH_INVALID_TOKEN');
      assert.match(wrong.json.error.message, /another resource/);
    }
    assert.equal(authRefusals(gw.gateway.config.dataDir!).length, before + 2, 'both refusals are audited');
    const again = await callTool(`${gw.url}/mcp/everything`, token, 'echo', { message: 'back at its endpoint' });
    assert.equal(again.status, 200, 'the refusal elsewhere did not spoil the token where it belongs');
    assert.deepEqual(upstream.calls(), ['echo', 'echo'], 'nothing sent to /mcp reached the server');
  });

  it('and the other way round: a token for /mcp is refused at /mcp/everything', async () => {
    const token = await mint(`${issuer}/mcp`);
    assert.equal((await callTool(`${gw.url}/mcp`, token, 'everything__echo', { message: 'aggregate ok' })).status, 200);
    const wrong = await callTool(`${gw.url}/mcp/everything`, token, 'echo', { message: 'per-server with an aggregate token' });
    assert.equal(wrong.status, 401);
    assert.ok(!upstream.received().some((m) => (m.params?.arguments as { message?: string } | undefined)?.message === 'per-server with an aggregate token'));
  });

  it('the embedded server\'s own tokens, opaque and JWT, are held to the same audience', async () => {
    const own = await tokenRequest(issuer, { grant_type: 'client_credentials', resource: `${issuer}/mcp/everything`, scope: 'mcp' }, basic(bot.client_id, bot.client_secret));
    const refused = await callTool(`${issuer}/mcp`, own.body.access_token, 'everything__echo', { message: 'x' });
    assert.equal(refused.status, 401, 'the issuer itself refuses its opaque token at another endpoint');
    assert.match(refused.json.error.message, /another resource/);
    const forServer = await callTool(`${issuer}/mcp/everything`, own.body.access_token, 'echo', { message: 'x' });
    assert.notEqual(forServer.status, 401, 'and accepts it where it belongs');
    // A JWT-issuing gateway: a token for /mcp/everything at /mcp.
    const jwtGw = await startSecureGateway({ servers: { everything: upstream.server }, policy: ECHO_POLICY, identity: { embedded: {} } });
    try {
      const config = join(jwtGw.gateway.config.dataDir!, 'portcullis.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(jwtGw.gateway.config.dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
      const agent = JSON.parse((await runCli(['agent', 'add', 'jwt-bot', '--json', '-c', config])).stdout);
      const jwt = await tokenRequest(jwtGw.url, { grant_type: 'client_credentials', resource: `${jwtGw.url}/mcp/everything` }, basic(agent.client_id, agent.client_secret));
      assert.equal(jwt.body.access_token.split('.').length, 3);
      const r = await callTool(`${jwtGw.url}/mcp`, jwt.body.access_token, 'everything__echo', { message: 'jwt at aggregate' });
      assert.equal(r.status, 401);
      assert.ok(!upstream.received().some((m) => (m.params?.arguments as { message?: string } | undefined)?.message === 'jwt at aggregate'));
    } finally {
      await jwtGw.close();
    }
  });
});
