/**
 * `per: agent` limits count against the agent as vouched for by its issuer: an external issuer's client
 * named like the administrator's API-key agent `bob` (any tenant there can pick its client id) gets its
 * own bucket, and draining it leaves the local `bob` its full allowance. The server receives each
 * agent's burst and not one call more.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IdentityStore } from '../../src/auth/store.ts';
import { identityDbPath } from '../../src/auth/identity.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { callTool, recordedEverything } from '../helpers/oauth.ts';

const BURST = 2;

describe('security: per-agent rate buckets belong to the issuer that named the agent', () => {
  let idp: TestIssuer;
  let gw: TestGateway;
  const upstream = recordedEverything();
  const reached = (tag: string) => upstream.received().filter((m) => m.method === 'tools/call' && String((m.params?.arguments as { message?: string }).message).startsWith(tag)).length;

  before(async () => {
    idp = await startTestIssuer();
    gw = await startSecureGateway({
      servers: { everything: upstream.server },
      identity: { issuers: [{ issuer: idp.origin, jwksUri: `${idp.origin}/jwks`, agentClaim: ['client_id'] }], apiKeys: {} },
      policy: {
        rules: [
          { name: 'local-bob', effect: 'allow', servers: ['everything'], tools: ['echo'], principal: { agents: ['bob'], issuers: ['portcullis'] } },
          { name: 'external-echo', effect: 'allow', servers: ['everything'], tools: ['echo'], principal: { scopes: ['mcp'], issuers: [idp.origin] } },
        ],
        limits: [{ name: 'per-agent', per: 'agent', servers: ['everything'], rate: '1/h', burst: BURST }],
      },
    });
  });
  after(async () => {
    await gw?.close();
    idp?.close();
  });

  it('an external client named bob drains only its own bucket; the API-key agent bob keeps its allowance', async () => {
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!));
    const key = store.createKey('bob', ['mcp'], new Date(Date.now() + 3_600_000)).key;
    store.close();
    const foreign = await idp.sign(idp.origin, `${gw.url}/mcp`, { sub: 'mallory', client_id: 'bob', scope: 'mcp' });
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < BURST + 2; i++) codes.push((await callTool(`${gw.url}/mcp`, foreign, 'everything__echo', { message: `external-${i}` })).json.error?.data?.code);
    assert.deepEqual(codes, [undefined, undefined, 'PC_RATE_LIMITED', 'PC_RATE_LIMITED']);
    for (let i = 0; i < BURST; i++) {
      const own = await callTool(`${gw.url}/mcp`, key, 'everything__echo', { message: `local-${i}` });
      assert.equal(own.json.error, undefined, own.text);
    }
    const over = await callTool(`${gw.url}/mcp`, key, 'everything__echo', { message: 'local-over' });
    assert.equal(over.json.error?.data?.code, 'PC_RATE_LIMITED', 'the local agent has its own limit too');
    assert.equal(reached('external-'), BURST, 'the server received the external client\'s burst and no more');
    assert.equal(reached('local-'), BURST, 'and the local agent\'s');
  });
});
