/**
 * An opaque bearer token goes to one issuer's introspection endpoint at most, the one whose
 * `introspection.tokenPrefix` it begins with; never tried at each in turn (every issuer asked would
 * learn a live token of another, and could replay it here as that issuer's user). The gateway's own
 * opaque tokens (its embedded server's, live or revoked) and anything that matches no prefix are sent
 * nowhere. Asserted on the issuers' side (what each introspection endpoint was shown) and on the
 * server's side (nothing of a refused call reaches server-everything).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { validateConfig } from '../../src/config/load.ts';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { basic, callTool, recordedEverything, revokeRequest, tokenRequest } from '../helpers/oauth.ts';

interface RecordingIntrospector {
  url: string;
  issuer: string;
  /** Every token the endpoint was shown, in order. */
  seen: string[];
  /** While true the endpoint answers 503 (the issuer is down). */
  down: boolean;
  /** The resource its active answers name as audience. */
  audience: string;
  close(): void;
}

/** An RFC 7662 endpoint that records every token it is shown and answers `active` for those beginning with `prefix`. */
async function recordingIntrospector(prefix: string, subject: string): Promise<RecordingIntrospector> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? '';
      idp.seen.push(token);
      if (idp.down) return void res.writeHead(503).end();
      const now = Math.floor(Date.now() / 1000);
      const answer = token.startsWith(prefix) ? { active: true, iss: idp.issuer, sub: subject, client_id: `${subject}-app`, scope: 'mcp', aud: idp.audience, exp: now + 600 } : { active: false };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp: RecordingIntrospector = {
    url: `${issuer}/introspect`,
    issuer,
    seen: [],
    down: false,
    audience: '',
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
  return idp;
}

describe('security: an opaque token is shown to one issuer at most', () => {
  let a: RecordingIntrospector;
  let b: RecordingIntrospector;
  let gw: TestGateway;
  const upstream = recordedEverything();
  const messages = () => upstream.received().filter((m) => m.method === 'tools/call').map((m) => (m.params?.arguments as { message?: string }).message);

  before(async () => {
    a = await recordingIntrospector('idpa_', 'alice-at-a');
    b = await recordingIntrospector('idpb_', 'bob-at-b');
    const issuer = (idp: RecordingIntrospector, prefix: string) => ({ issuer: idp.issuer, agentClaim: ['client_id'], introspection: { url: idp.url, clientId: 'gw', clientSecret: 'env:PC_TEST_INTROSPECTION', tokenPrefix: prefix } });
    gw = await startSecureGateway(
      {
        servers: { everything: upstream.server },
        // B listed first: with tokens tried in turn, B would be asked about every token of A.
        identity: { issuers: [issuer(b, 'idpb_'), issuer(a, 'idpa_')], embedded: { accessTokenFormat: 'opaque' }, scopes: ['mcp'] },
        policy: { rules: [{ name: 'echo-for-mcp', effect: 'allow', servers: ['everything'], tools: ['echo'], principal: { scopes: ['mcp'] } }] },
      },
      processSecretSource({ ...process.env, PC_TEST_INTROSPECTION: 'introspection-test-credential' }),
    );
    a.audience = `${gw.url}/mcp`;
    b.audience = `${gw.url}/mcp`;
  });
  after(async () => {
    await gw?.close();
    a?.close();
    b?.close();
  });

  it('A\'s token goes to A alone; B is never shown it, even while A is down', async () => {
    const token = 'idpa_live-access-token-of-alice';
    const ok = await callTool(`${gw.url}/mcp`, token, 'everything__echo', { message: 'alice via A' });
    assert.equal(ok.json.error, undefined, ok.text);
    a.down = true;
    const other = 'idpa_second-token-of-alice';
    const refused = await callTool(`${gw.url}/mcp`, other, 'everything__echo', { message: 'alice while A is down' });
    assert.equal(refused.status, 401, refused.text);
    a.down = false;
    assert.deepEqual(a.seen, [token, other]);
    assert.deepEqual(b.seen, [], 'issuer B received none of A\'s tokens');
    assert.deepEqual(messages(), ['alice via A']);
  });

  it('a token that begins with no configured prefix (a mistyped key, a stray string) is sent nowhere', async () => {
    for (const stray of ['xpcl_mistyped-api-key-value', 'some-random-opaque-string', 'idpc_unknown-issuer']) {
      const r = await callTool(`${gw.url}/mcp`, stray, 'everything__echo', { message: `stray ${stray}` });
      assert.equal(r.status, 401, r.text);
    }
    assert.ok(!a.seen.some((t) => !t.startsWith('idpa_')), JSON.stringify(a.seen));
    assert.ok(!b.seen.some((t) => !t.startsWith('idpb_')), JSON.stringify(b.seen));
    assert.ok(!messages().some((m) => m?.startsWith('stray')));
  });

  it('the gateway\'s own opaque tokens, live and revoked, are never sent to an issuer', async () => {
    const config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
    const bot = JSON.parse((await runCli(['agent', 'add', 'bot', '--scopes', 'mcp', '--json', '-c', config])).stdout) as { client_id: string; client_secret: string };
    const minted = await tokenRequest(gw.url, { grant_type: 'client_credentials', resource: `${gw.url}/mcp`, scope: 'mcp' }, basic(bot.client_id, bot.client_secret));
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    const own = minted.body.access_token as string;
    assert.match(own, /^pco_/);
    const live = await callTool(`${gw.url}/mcp`, own, 'everything__echo', { message: 'own token live' });
    assert.equal(live.json.error, undefined, live.text);
    assert.equal(await revokeRequest(gw.url, { token: own }, basic(bot.client_id, bot.client_secret)), 200);
    const revoked = await callTool(`${gw.url}/mcp`, own, 'everything__echo', { message: 'own token revoked' });
    assert.equal(revoked.status, 401, revoked.text);
    // The client secret sent as a bearer token by mistake: the gateway's own credential, too.
    const secret = await callTool(`${gw.url}/mcp`, bot.client_secret, 'everything__echo', { message: 'client secret as bearer' });
    assert.equal(secret.status, 401, secret.text);
    assert.ok(![...a.seen, ...b.seen].some((t) => t === own || t === bot.client_secret || t.startsWith('pc')), 'no issuer was shown a credential of the gateway');
    assert.deepEqual(messages().filter((m) => m?.startsWith('own') || m?.startsWith('client')), ['own token live']);
  });

  it('a config that would leave the choice open does not load: two introspecting issuers without prefixes, overlapping prefixes', () => {
    const issuer = (n: number, tokenPrefix?: string) => ({ issuer: `https://idp${n}.example`, introspection: { url: `https://idp${n}.example/introspect`, clientId: 'gw', clientSecret: 'env:X', ...(tokenPrefix ? { tokenPrefix } : {}) } });
    const load = (issuers: unknown[], embedded = false) => validateConfig({ servers: {}, identity: { issuers, ...(embedded ? { embedded: {} } : {}) } });
    const refused = (loaded: ReturnType<typeof load>, path: string, message: RegExp) => assert.ok(!loaded.ok && loaded.problems.some((p) => p.path === path && message.test(p.message)), JSON.stringify(loaded));
    refused(load([issuer(1), issuer(2, 'two_')]), 'identity.issuers[0].introspection.tokenPrefix', /required when more than one issuer introspects/);
    refused(load([issuer(1, 'ab'), issuer(2, 'abc')]), 'identity.issuers[0].introspection.tokenPrefix', /also begins the prefix "abc"/);
    refused(load([issuer(1, 'same_'), issuer(2, 'same_')]), 'identity.issuers[0].introspection.tokenPrefix', /also begins/);
    refused(load([issuer(1, 'pc')], true), 'identity.issuers[0].introspection.tokenPrefix', /gateway's own credentials/);
    refused(load([issuer(1, 'has space')]), 'identity.issuers[0].introspection.tokenPrefix', /bearer token can hold/);
    assert.equal(load([issuer(1)]).ok, true, 'one introspecting issuer needs no prefix');
    assert.equal(load([issuer(1, 'one_'), issuer(2, 'two_')], true).ok, true);
  });
});
