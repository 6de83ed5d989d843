/**
 * Redteam-b B9: a user of the embedded sign-in whose roles allow the approvals scope gets it in the
 * token when the client asks (it used to be dropped silently), and so can decide `approvers:` approvals
 * on /admin/approvals as a verified approver; a user whose roles do not allow it is told so on the
 * consent page and gets a token without it (403 on /admin/approvals). A real browser signs each in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizeWithBrowser, startSignInRig, type SignInRig } from '../helpers/browser.ts';
import { authorizeUrl, ECHO_POLICY, pkcePair, recordedEverything, register, tokenRequest } from '../helpers/oauth.ts';

describe('embedded sign-in users and the approvals scope (redteam-b B9)', () => {
  let rig: SignInRig;
  before(async () => {
    rig = await startSignInRig((password) => ({
      servers: { everything: recordedEverything().server },
      policy: ECHO_POLICY,
      identity: {
        scopes: ['mcp'],
        embedded: {
          users: [{ username: 'alice', password, roles: ['dev'] }, { username: 'bob', password, roles: ['approver'] }],
          roles: { dev: ['mcp'], approver: ['mcp', 'portcullis:approvals'] },
        },
      },
    }));
  });
  after(async () => {
    await rig?.close();
  });

  async function tokenFor(username: string, seen: { refused?: string }): Promise<{ scope: string; token: string }> {
    const { gw, browser, callback, password } = rig;
    const context = await browser.context();
    try {
      const client = (await register(gw.url, { redirect_uris: [callback.url] })).body.client_id as string;
      const { verifier, challenge } = pkcePair();
      const resource = `${gw.url}/mcp`;
      const back = await authorizeWithBrowser(context, authorizeUrl(gw.url, { client_id: client, redirect_uri: callback.url, resource, scope: 'mcp portcullis:approvals', code_challenge: challenge, code_challenge_method: 'S256' }), {
        username,
        password,
        redirect: callback.url,
        inspect: async (page) => {
          seen.refused = (await page.locator('#refused-scopes').count()) ? await page.locator('#refused-scopes').innerText() : undefined;
        },
      });
      const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, client_id: client, resource });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return { scope: token.body.scope as string, token: token.body.access_token as string };
    } finally {
      await context.close();
    }
  }
  const adminList = (token: string) => fetch(`${rig.gw.url}/admin/approvals`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('bob (role approver) gets portcullis:approvals and lists approvals; alice (role dev) is told it is not granted and is refused', async () => {
    const bobSeen: { refused?: string } = {};
    const bob = await tokenFor('bob', bobSeen);
    assert.deepEqual(bob.scope.split(' ').sort(), ['mcp', 'portcullis:approvals']);
    assert.equal(bobSeen.refused, undefined);
    const listed = await adminList(bob.token);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(listed.body.approvals, []);
    const aliceSeen: { refused?: string } = {};
    const alice = await tokenFor('alice', aliceSeen);
    assert.equal(alice.scope, 'mcp');
    assert.match(aliceSeen.refused ?? '', /portcullis:approvals/, 'the consent page names the scope not granted');
    const refused = await adminList(alice.token);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.data?.code, 'PC_APPROVAL_ADMIN_FORBIDDEN');
  });
});
