/**
 * Redteam-b B3: the sign-out page's one button revokes every grant of the user. A page on another
 * loopback port (same site: cookies go into the frame) frames /oauth/logout nearly invisibly under a
 * decoy button and the user clicks it in a real browser (Chromium). The frame must not render the
 * gateway's page, and afterwards alice's grant still stands (asserted in the identity store) and her
 * token still works on /mcp.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizeWithBrowser, startSignInRig, type SignInRig } from '../helpers/browser.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { authorizeUrl, callTool, ECHO_POLICY, pkcePair, recordedEverything, register, tokenRequest } from '../helpers/oauth.ts';

describe('the sign-out page cannot be framed (redteam-b B3)', () => {
  let rig: SignInRig;
  let gw: TestGateway;
  let evil: Server;
  let evilOrigin: string;
  const everything = recordedEverything();
  before(async () => {
    rig = await startSignInRig((password) => ({ servers: { everything: everything.server }, policy: ECHO_POLICY, identity: { scopes: ['mcp'], embedded: { users: [{ username: 'alice', password, scopes: ['mcp'] }] } } }));
    gw = rig.gw;
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><button id="decoy" style="position:absolute;left:0;top:0;width:600px;height:600px">CLAIM</button>
<iframe id="f" src="${gw.url}/oauth/logout" style="position:absolute;left:0;top:0;width:600px;height:600px;opacity:0.01;border:0"></iframe>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  });
  after(async () => {
    await rig?.close();
    await new Promise<void>((resolve) => evil?.close(() => resolve()));
  });

  it('sends every sign-out page with X-Frame-Options DENY and frame-ancestors \'none\'', async () => {
    for (const path of ['/oauth/logout', '/oauth/logout/success']) {
      const response = await fetch(`${gw.url}${path}`);
      await response.body?.cancel();
      assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
    }
  });

  it('a click on a framing page of another port signs nobody out: alice\'s grant and token stand', async () => {
    const { browser, callback, password } = rig;
    const context = await browser.context();
    try {
      const client = (await register(gw.url, { redirect_uris: [callback.url] })).body.client_id as string;
      const { verifier, challenge } = pkcePair();
      const resource = `${gw.url}/mcp/everything`;
      const back = await authorizeWithBrowser(context, authorizeUrl(gw.url, { client_id: client, redirect_uri: callback.url, resource, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'alice', password, redirect: callback.url });
      const token = (await tokenRequest(gw.url, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, client_id: client, resource })).body.access_token as string;
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const framed: number[] = [];
      page.on('response', (r) => {
        if (r.url().startsWith(`${gw.url}/oauth/logout`)) framed.push(r.status());
      });
      await page.goto(`${evilOrigin}/`, { waitUntil: 'load' });
      assert.ok(framed.length > 0, 'the browser did ask the gateway for the framed page');
      const frame = page.frames().find((f) => f !== page.mainFrame());
      // Blocked by X-Frame-Options: the frame holds an error page, not the gateway's form.
      const rendered = frame ? await frame.locator('button[name="logout"]').count().catch(() => 0) : 0;
      assert.equal(rendered, 0, 'the sign-out form is not rendered inside the other port\'s page');
      await page.mouse.click(300, 300);
      await page.waitForLoadState('networkidle');
      await page.close();
      const call = await callTool(`${gw.url}/mcp/everything`, token, 'echo', { message: 'still signed in' });
      assert.equal(call.status, 200, `alice's token still works (${call.text.slice(0, 200)})`);
      assert.equal(everything.received().filter((m) => m.method === 'tools/call').length, 1, 'her call reached the server');
    } finally {
      await context.close();
    }
  });
});
