/**
 * A rule naming `approvers` needs a second person holding one of those roles, verified: a token from
 * the configured issuer whose roles claim carries the role, holding the admin scope. Others are refused
 * and nothing runs; the right one lets exactly that call run, recorded with who granted it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { waitFor } from '../helpers/gateway.ts';
import { APPROVER_SCOPE, approvalHarness, type ApprovalHarness } from '../approvals/harness.ts';

describe('approver roles', () => {
  let jwks: Server;
  let issuer: string;
  let key: CryptoKey;
  let h: ApprovalHarness;

  const token = (sub: string, groups: string[], scope = APPROVER_SCOPE) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub, client_id: 'security-desk', scope, groups, jti: `${sub}-${groups.join('+')}-${scope}` })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(`${h.gw.url}/mcp`)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(key);
  };

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    const published = [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }];
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    h = await approvalHarness({ identity: { issuers: [{ issuer, jwksUri: `${issuer}/jwks`, rolesClaim: 'groups', clockSkewSeconds: 5 }], apiKeys: {} }, approvals: { waitMs: 8000, pollMs: 25 } });
  });
  after(async () => {
    await h?.close();
    jwks?.closeAllConnections();
    jwks?.close();
  });

  const grantAs = async (bearer: string, id: string) => {
    const response = await fetch(`${h.gw.url}/admin/approvals/${id}/grant`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: '{}' });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('refuses approvers without the role or the scope, then runs the call once a security-role holder grants it', async () => {
    const args = { messageType: 'success', includeImage: false };
    const answer = h.call('alice', 'get-annotated-message', args);
    const { id } = await waitFor(() => h.waiting().find((a) => a.name === 'get-annotated-message'), 10_000, 'the second-person approval');
    const dev = await grantAs(await token('dave', ['dev']), id);
    assert.equal(dev.status, 403);
    assert.equal(dev.body.error?.data?.code, 'PC_APPROVAL_NOT_APPROVER');
    const noScope = await grantAs(await token('erin', ['security'], 'mcp'), id);
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body.error?.data?.code, 'PC_APPROVAL_ADMIN_FORBIDDEN');
    assert.deepEqual(h.received('get-annotated-message'), [], 'nothing ran on refused grants');
    const carol = await grantAs(await token('carol', ['security']), id);
    assert.equal(carol.status, 200, JSON.stringify(carol.body));
    assert.equal(carol.body.decidedBy, 'carol');
    const result = await answer;
    assert.ok(result.body.result, JSON.stringify(result.body));
    assert.deepEqual(h.received('get-annotated-message'), [args]);
    const used = h.trail().find((r) => r.approval?.id === id && r.approval.event === 'used');
    assert.equal(used?.approval?.by, 'carol');
  });
});
