/**
 * Options of a trusted issuer (`identity.issuers[]`), attacked with hand-signed tokens against a real
 * gateway and a recorded server: `rolesClaim` (a dotted path; roles anywhere else grant nothing),
 * `agentClaim` (first present wins), `audience`, `algorithms`, `clockSkewSeconds`, and JWKS rotation (a
 * new key is fetched when it first signs; a retired key stops working once the key set is refreshed).
 * Each refusal is checked on the server's side: the call never arrived.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { codeOf, forwarded, modernSession, recordedServer } from '../helpers/security.ts';

const AUDIENCE = 'https://mcp.example.test/api';

describe('trusted issuer options', () => {
  let gw: TestGateway;
  let jwks: Server;
  let issuer: string;
  let log: string;
  let fetches = 0;
  const keys: Record<string, CryptoKey> = {};
  let published: JWK[] = [];

  const sign = (claims: Record<string, unknown>, kid = 'k1', alg = 'ES256'): Promise<string> => {
    const nowS = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'alice', client_id: 'plain-agent', exp: nowS + 600, iat: nowS, ...claims })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience((claims.aud as string | undefined) ?? AUDIENCE)
      .sign(keys[kid]!);
  };
  let n = 0;
  /** A tools/call of `tool` with a unique marker; the answer and whether the server received it. */
  async function call(token: string, tool = 'echo'): Promise<{ status: number; code: string | undefined; reached: boolean }> {
    const marker = `m-${++n}`;
    const args = tool === 'echo' ? { text: marker } : { id: marker };
    const answer = await modernSession(`${gw.url}/mcp/gov`).send({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: tool, arguments: args } }, { authorization: `Bearer ${token}` });
    return { status: answer.status, code: codeOf(answer), reached: forwarded(log).some((m) => JSON.stringify(m.params ?? {}).includes(`"${marker}"`)) };
  }

  before(async () => {
    for (const [kid, alg] of [['k1', 'ES256'], ['k2', 'ES256'], ['k384', 'ES384']] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      keys[kid] = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
      if (kid !== 'k2') published.push(jwk);
      else keys.k2Public = pair.publicKey;
    }
    jwks = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    log = join(mkdtempSync(join(tmpdir(), 'pc-cov-issuer-')), 'gov.log');
    gw = await startGateway(
      {
        servers: { gov: recordedServer(log) },
        identity: {
          issuers: [
            {
              issuer,
              jwksUri: `${issuer}/jwks`,
              audience: [AUDIENCE],
              algorithms: ['ES256'],
              clockSkewSeconds: 30,
              agentClaim: ['agent_name', 'client_id'],
              rolesClaim: 'realm_access.roles',
              // The tokens here carry no scope: without a default they would be refused (test/security/token-no-scope).
              defaultScopes: ['mcp'],
            },
          ],
        },
        policy: {
          rules: [
            { name: 'ops-echo', effect: 'allow', tools: ['echo'], principal: { roles: ['ops'] } },
            { name: 'deployer-deletes', effect: 'allow', tools: ['delete_record'], principal: { agents: ['deployer'] } },
          ],
        },
      },
    );
  });
  after(async () => {
    mock.timers.reset();
    await gw?.close();
    jwks?.closeAllConnections();
    jwks?.close();
  });

  it('takes roles from the rolesClaim path only', async () => {
    const ok = await call(await sign({ realm_access: { roles: ['ops'] } }));
    assert.deepEqual([ok.status, ok.code, ok.reached], [200, undefined, true]);
    const single = await call(await sign({ realm_access: { roles: 'ops' } }));
    assert.equal(single.reached, true, 'a single role given as a string counts');
    for (const claims of [{ roles: ['ops'] }, { groups: ['ops'] }, { realm_access: { roles: ['dev'] } }, { realm_access: 'ops' }, { 'realm_access.roles': ['ops'] }, { realm_access: { roles: [{ name: 'ops' }] } }]) {
      const refused = await call(await sign(claims));
      assert.deepEqual([refused.code, refused.reached], ['PC_POLICY_DENIED', false], JSON.stringify(claims));
    }
  });

  it('names the agent by the first agentClaim present', async () => {
    const byFirst = await call(await sign({ agent_name: 'deployer', client_id: 'someone-else' }), 'delete_record');
    assert.equal(byFirst.reached, true);
    const bySecond = await call(await sign({ client_id: 'deployer' }), 'delete_record');
    assert.equal(bySecond.reached, true);
    const shadowed = await call(await sign({ agent_name: 'someone-else', client_id: 'deployer' }), 'delete_record');
    assert.deepEqual([shadowed.code, shadowed.reached], ['PC_POLICY_DENIED', false], 'a later claim cannot override the first present');
    const notString = await call(await sign({ agent_name: ['deployer'], azp: 'deployer' }), 'delete_record');
    assert.deepEqual([notString.code, notString.reached], ['PC_POLICY_DENIED', false], 'a non-string claim is skipped, and azp is not configured');
  });

  it('accepts only the configured audience and algorithms', async () => {
    const roles = { realm_access: { roles: ['ops'] } };
    for (const aud of [`${gw.url}/mcp/gov`, `${gw.url}/mcp`, `${AUDIENCE}/`, 'https://mcp.example.test']) {
      const refused = await call(await sign({ ...roles, aud }));
      assert.deepEqual([refused.status, refused.code, refused.reached], [401, 'PC_AUTH_INVALID_TOKEN', false], aud);
    }
    const es384 = await call(await sign(roles, 'k384', 'ES384'));
    assert.deepEqual([es384.status, es384.code, es384.reached], [401, 'PC_AUTH_INVALID_TOKEN', false], 'a published ES384 key is not accepted when algorithms lists ES256 only');
  });

  it('allows clockSkewSeconds of drift on exp and nbf, and no more', async () => {
    const roles = { realm_access: { roles: ['ops'] } };
    const nowS = Math.floor(Date.now() / 1000);
    const late = await call(await sign({ ...roles, exp: nowS - 20 }));
    assert.equal(late.reached, true, `expired 20 s ago, within 30 s of skew: ${JSON.stringify(late)}`);
    assert.equal((await call(await sign({ ...roles, nbf: nowS + 20 }))).reached, true, 'valid in 20 s, within 30 s of skew');
    for (const claims of [{ exp: nowS - 40 }, { nbf: nowS + 40 }]) {
      const refused = await call(await sign({ ...roles, ...claims }));
      assert.deepEqual([refused.status, refused.code, refused.reached], [401, 'PC_AUTH_INVALID_TOKEN', false], JSON.stringify(claims));
    }
  });

  it('follows a JWKS rotation: a newly published key works once it signs, a retired key stops at the next refresh', async () => {
    const roles = { realm_access: { roles: ['ops'] } };
    // Only Date is faked: the key set's cooldown (30 s) and cache age (10 min) pass without waiting.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const early = await call(await sign(roles, 'k2'));
    assert.deepEqual([early.status, early.code, early.reached], [401, 'PC_AUTH_INVALID_TOKEN', false], 'an unpublished key is refused');
    published.push({ ...(await exportJWK(keys.k2Public!)), kid: 'k2', alg: 'ES256', use: 'sig' });
    mock.timers.tick(31_000);
    const before = fetches;
    const rotated = await call(await sign(roles, 'k2'));
    assert.deepEqual([rotated.code, rotated.reached], [undefined, true], 'the new key is fetched when it first signs');
    assert.equal(fetches, before + 1);
    assert.equal((await call(await sign(roles, 'k1'))).reached, true, 'the old key still works while published');
    published = published.filter((k) => k.kid !== 'k1');
    mock.timers.tick(10 * 60_000 + 1000);
    const retired = await call(await sign(roles, 'k1'));
    assert.deepEqual([retired.status, retired.code, retired.reached], [401, 'PC_AUTH_INVALID_TOKEN', false], 'a retired key is refused after the refresh');
    assert.equal((await call(await sign(roles, 'k2'))).reached, true);
  });
});
