/**
 * A token that says nothing about what it may do grants nothing. An external issuer's access token with
 * no `scope` (or `scp`) claim, or an empty one — as a JWT or as an introspection answer — was taken as a
 * token limited by nothing: every allow rule that does not select by scope let it through. It is
 * refused now (401 invalid_token) unless the issuer's configuration grants a default explicitly
 * (`identity.issuers[].defaultScopes`), and then it holds exactly those. Asserted on the server's side:
 * none of the refused calls reached server-everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { authRefusals, callTool, recordedEverything } from '../helpers/oauth.ts';

describe('security: a token without scopes grants nothing unless the issuer is given a default', () => {
  let idp: TestIssuer;
  let strict: string;
  let lenient: string;
  let gw: TestGateway;
  const upstream = recordedEverything();

  const token = (iss: string, claims: Record<string, unknown>) => idp.sign(iss, `${gw.url}/mcp`, { sub: 'carol', azp: 'script', ...claims });
  const reached = (message: string) =>
    upstream.received().some((m) => m.method === 'tools/call' && JSON.stringify(m.params?.arguments ?? {}).includes(message));

  before(async () => {
    idp = await startTestIssuer();
    const origin = idp.origin;
    strict = `${origin}/strict`;
    lenient = `${origin}/lenient`;
    gw = await startGateway({
      servers: { everything: upstream.server },
      identity: {
        issuers: [
          { issuer: strict, jwksUri: `${origin}/jwks`, agentClaim: ['azp'], introspection: { url: `${strict}/introspect`, clientId: 'gateway', clientSecret: 'env:PC_TEST_INTROSPECTION' } },
          { issuer: lenient, jwksUri: `${origin}/jwks`, agentClaim: ['azp'], defaultScopes: ['mcp'] },
        ],
      },
      policy: {
        rules: [{ name: 'everyone-echoes', effect: 'allow', servers: ['everything'], tools: ['echo', 'get-sum'] }],
        tools: [{ server: 'everything', tool: 'get-sum', scopes: ['mcp'] }],
      },
    }, processSecretSource({ ...process.env, PC_TEST_INTROSPECTION: 'introspection-test-credential' }));
  });
  after(async () => {
    await gw?.close();
    idp?.close();
  });

  it('refuses a JWT with no scope claim, an empty scope or an empty scp list: nothing reaches the server', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [['no scope claim', {}], ['empty scope', { scope: '' }], ['blank scope', { scope: '   ' }], ['empty scp', { scp: [] }], ['scope not a string', { scope: 7 }]];
    const before = authRefusals(gw.gateway.config.dataDir!).length;
    for (const [label, claims] of cases) {
      const answer = await callTool(`${gw.url}/mcp`, await token(strict, claims), 'everything__echo', { message: `unscoped: ${label}` });
      assert.equal(answer.status, 401, `${label}: ${answer.text}`);
      assert.equal(answer.json.error.data.code, 'PC_AUTH_INVALID_TOKEN', label);
      assert.match(answer.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      assert.match(answer.json.error.message, /carries no scope.*defaultScopes/, label);
      assert.equal(reached(`unscoped: ${label}`), false, `${label}: the call never reached the server`);
    }
    assert.equal(authRefusals(gw.gateway.config.dataDir!).length, before + cases.length, 'each refusal is in the audit trail');
  });

  it('refuses an introspection answer without scope the same way', async () => {
    idp.introspection = { active: true, iss: strict, sub: 'carol', azp: 'script', aud: `${gw.url}/mcp`, exp: Math.floor(Date.now() / 1000) + 600 };
    const answer = await callTool(`${gw.url}/mcp`, 'opaque-token-without-scope', 'everything__echo', { message: 'unscoped opaque' });
    assert.equal(answer.status, 401, answer.text);
    assert.equal(reached('unscoped opaque'), false);
  });

  it('a token that carries a scope is judged as before', async () => {
    const answer = await callTool(`${gw.url}/mcp`, await token(strict, { scope: 'mcp' }), 'everything__echo', { message: 'scoped echo' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.error, undefined, answer.text);
    assert.equal(reached('scoped echo'), true);
  });

  it('an issuer configured with defaultScopes gives its unscoped tokens exactly those', async () => {
    const unscoped = await token(lenient, {});
    const echo = await callTool(`${gw.url}/mcp`, unscoped, 'everything__echo', { message: 'default-scoped echo' });
    assert.equal(echo.status, 200, echo.text);
    assert.equal(reached('default-scoped echo'), true);
    const sum = await callTool(`${gw.url}/mcp`, unscoped, 'everything__get-sum', { a: 40, b: 2 });
    assert.equal(sum.json.error, undefined, sum.text);
    // A token of that issuer that names its scopes holds those, not the default.
    const other = await callTool(`${gw.url}/mcp`, await token(lenient, { scope: 'other' }), 'everything__get-sum', { a: 1, b: 1 });
    assert.equal(other.status, 403, other.text);
    assert.match(other.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    assert.equal(upstream.received().filter((m) => m.method === 'tools/call' && m.params?.name === 'get-sum').length, 1, 'only the default-scoped get-sum ran');
  });
});
