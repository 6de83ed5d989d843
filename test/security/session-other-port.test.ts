/**
 * Redteam-b B12: browsers do not keep cookies apart by port, so the embedded authorization server's
 * session cookie reaches every other listener on 127.0.0.1 the user's browser visits. A real browser
 * (Chromium) signs alice in the ordinary way, then opens a page of a local listener on another port,
 * which records the cookies it was sent and replays them from a plain HTTP client with the gateway's
 * own Host and Origin (a stolen cookie comes with whatever headers the thief likes):
 *   - to consent its own registered client as alice (no token, no grant for that client may result);
 *   - to decide alice's waiting URL-mode approval, whose link it holds as the agent (it stays pending
 *     and the call never reaches the server).
 * Asserted on the gateway's side: the identity store, the approval queue, what the server received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import type { BrowserContext } from 'playwright-core';
import { identityDbPath } from '../../src/auth/identity.ts';
import { authorizeWithBrowser, startSignInRig, type SignInRig, type TestBrowser } from '../helpers/browser.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { authorizeUrl, callTool, pkcePair, recordedEverything, register, tokenRequest } from '../helpers/oauth.ts';
import { APPROVAL_POLICY } from '../approvals/harness.ts';

/** A listener on another loopback port: records the Cookie header of every request, and any code sent to /cb. */
async function startThief(): Promise<{ origin: string; cookies: () => string; codes: string[]; close(): Promise<void> }> {
  let cookies = '';
  const codes: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.headers.cookie) cookies = req.headers.cookie;
    const code = new URL(req.url ?? '/', 'http://x').searchParams.get('code');
    if (code) codes.push(code);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p>your report</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cookies: () => cookies,
    codes,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * A plain HTTP client with a cookie jar started from the stolen cookies, sending the gateway's own
 * Origin on every request: it follows redirects, posts every consent or approval form it is shown
 * (Allow / Approve), and stops at a sign-in form (it has no password).
 */
async function replay(gateway: string, start: string, stolen: string, stopAt: (url: URL) => boolean): Promise<{ pages: string[] }> {
  const jar = new Map(stolen.split(';').map((c) => c.trim()).filter(Boolean).map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)] as [string, string]));
  const pages: string[] = [];
  let url = new URL(start);
  let init: RequestInit = {};
  for (let step = 0; step < 12; step++) {
    if (stopAt(url)) break;
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), origin: gateway } });
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const name = pair!.slice(0, pair!.indexOf('='));
      jar.set(name, pair!.slice(name.length + 1));
    }
    const text = await response.text();
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url);
      init = {};
      continue;
    }
    pages.push(text);
    const consent = /<form method="post" action="([^"]*\/confirm)"/.exec(text);
    const approval = /<form method="post" action="(\/approvals\/[^"]+)">(.*?)<button/s.exec(text);
    if (consent) {
      url = new URL(consent[1]!, gateway);
      init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' };
    } else if (approval) {
      const fields = new URLSearchParams([...approval[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')] as [string, string]));
      fields.set('decision', 'approve');
      url = new URL(approval[1]!, gateway);
      init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() };
    } else break;
  }
  return { pages };
}

describe('the embedded sign-in\'s browser session, replayed from another port on the same host (redteam-b B12)', () => {
  let rig: SignInRig;
  let gw: TestGateway;
  let browser: TestBrowser;
  let callback: SignInRig['callback'];
  let PASSWORD: string;
  let thief: Awaited<ReturnType<typeof startThief>>;
  const everything = recordedEverything();
  before(async () => {
    thief = await startThief();
    rig = await startSignInRig((password) => ({
      servers: { everything: everything.server },
      policy: APPROVAL_POLICY,
      approvals: { waitMs: 1500, pollMs: 25 },
      identity: { scopes: ['mcp'], embedded: { registration: 'open', users: [{ username: 'alice', password, scopes: ['mcp'] }] } },
    }));
    ({ gw, browser, callback, password: PASSWORD } = rig);
  });
  after(async () => {
    await rig?.close();
    await thief?.close();
  });

  /** alice signs in with her browser for her own client; returns her access token for /mcp/everything. */
  async function aliceSignsIn(context: BrowserContext): Promise<string> {
    const client = (await register(gw.url, { redirect_uris: [callback.url], client_name: 'alice\'s editor' })).body.client_id as string;
    const { verifier, challenge } = pkcePair();
    const resource = `${gw.url}/mcp/everything`;
    const back = await authorizeWithBrowser(context, authorizeUrl(gw.url, { client_id: client, redirect_uri: callback.url, resource, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'alice', password: PASSWORD, redirect: callback.url });
    const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, client_id: client, resource });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return token.body.access_token as string;
  }

  /** alice's browser opens the thief's page; what it was sent (the browser's cookies for 127.0.0.1). */
  async function visitThief(context: BrowserContext): Promise<string> {
    const page = await context.newPage();
    try {
      await page.goto(`${thief.origin}/report`);
    } finally {
      await page.close();
    }
    return thief.cookies();
  }

  function grantsOf(clientId: string): number {
    const db = new DatabaseSync(identityDbPath(gw.gateway.config.dataDir!), { readOnly: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM oauth WHERE json_extract(payload, '$.clientId') = ? AND model IN ('Grant', 'AuthorizationCode', 'AccessToken', 'RefreshToken')").get(clientId) as { n: number }).n;
    } finally {
      db.close();
    }
  }

  it('a stolen session cannot consent another client: the thief\'s client gets no code, no grant, no token', async () => {
    const alice = await browser.context();
    try {
      await aliceSignsIn(alice);
      const stolen = await visitThief(alice);
      assert.match(stolen, /_session=/, 'the browser did send the gateway\'s session cookie to the other port (the threat is real)');
      const thiefCb = `${thief.origin}/cb`;
      const client = (await register(gw.url, { redirect_uris: [thiefCb], client_name: 'report-viewer' })).body.client_id as string;
      const { verifier, challenge } = pkcePair();
      const resource = `${gw.url}/mcp/everything`;
      const { pages } = await replay(gw.url, authorizeUrl(gw.url, { client_id: client, redirect_uri: thiefCb, resource, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' }), stolen, (url) => url.origin === thief.origin);
      assert.ok(pages.some((p) => /name="password"/.test(p)), 'the thief is asked for alice\'s password');
      const code = thief.codes.at(-1);
      if (code) {
        const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: thiefCb, client_id: client, resource });
        assert.notEqual(token.status, 200, 'no token for the thief');
      }
      assert.equal(thief.codes.length, 0, 'no authorization code was sent to the thief\'s redirect URI');
      assert.equal(grantsOf(client), 0, 'no grant, code or token of the thief\'s client is in the identity store');
    } finally {
      await alice.close();
    }
  });

  it('a stolen session cannot decide alice\'s URL-mode approval: it stays pending and the call never runs', async () => {
    const alice = await browser.context();
    try {
      const token = await aliceSignsIn(alice);
      const stolen = await visitThief(alice);
      assert.match(stolen, /_session=/);
      let id: string | undefined;
      let pending: string | undefined;
      const client = new LegacyClient({ name: 'url-client', version: '1.0.0' }, { capabilities: { elicitation: { form: {}, url: {} } } });
      client.setRequestHandler(ElicitRequestSchema, async (r) => {
        const params = r.params as { mode?: string; url?: string; elicitationId?: string };
        assert.equal(params.mode, 'url');
        id = params.elicitationId;
        // The agent holds the link; with alice's stolen cookies it tries to approve its own call.
        await replay(gw.url, params.url!, stolen, () => false);
        pending = gw.gateway.approvals.queue.store.get(id!)?.status;
        return { action: 'decline' } as never;
      });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      try {
        const result = await client.callTool({ name: 'echo', arguments: { message: 'approved by a thief' } }).catch((error: unknown) => ({ isError: true, error }));
        assert.equal((result as { isError?: boolean }).isError, true, 'the call is refused');
      } finally {
        await client.close();
      }
      assert.ok(id, 'a URL-mode elicitation was sent');
      assert.equal(pending, 'pending', 'the replayed session decided nothing');
      assert.equal(gw.gateway.approvals.queue.store.get(id!)?.status, 'denied', 'refused by the client\'s own decline, never granted');
      assert.equal(everything.received().filter((m) => m.method === 'tools/call' && (m.params?.arguments as { message?: string })?.message === 'approved by a thief').length, 0, 'the call never reached the server');
    } finally {
      await alice.close();
    }
  });

  it('a sign-in, consent, sign-out or approval form posted from another port\'s page is refused by its Origin; the gateway\'s own origin is not', async () => {
    const post = (path: string, origin: string) =>
      fetch(`${gw.url}${path}`, { method: 'POST', redirect: 'manual', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=approve' }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const paths = ['/interaction/abc/confirm', '/interaction/abc/login', '/oauth/authorize', '/oauth/logout/confirm', '/approvals/0123456789abcdef0123456789abcdef'];
    for (const path of paths) {
      const foreign = await post(path, thief.origin);
      assert.equal(foreign.status, 403, `${path} from ${thief.origin}`);
      assert.match(foreign.text, /PC_HTTP_ORIGIN_FORBIDDEN/, path);
      const own = await post(path, gw.url);
      assert.doesNotMatch(own.text, /PC_HTTP_ORIGIN_FORBIDDEN/, `${path} from the gateway's own origin passes the Origin check`);
    }
    // Token, registration and revocation requests come from clients' own origins (browser-based MCP clients): not this check's.
    const token = await post('/oauth/token', thief.origin);
    assert.doesNotMatch(token.text, /PC_HTTP_ORIGIN_FORBIDDEN/);
  });

  it('a stolen session cannot sign alice out (which would revoke every grant of hers): the sign-out asks for her password', async () => {
    const alice = await browser.context();
    try {
      const token = await aliceSignsIn(alice);
      const stolen = await visitThief(alice);
      // The thief GETs the sign-out page with the cookies (reading its form's xsrf token) and posts it.
      const jar = stolen;
      const page = await fetch(`${gw.url}/oauth/logout`, { headers: { cookie: jar } });
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())?.[1];
      assert.ok(xsrf, 'the sign-out page was served to the stolen session');
      const posted = await fetch(`${gw.url}/oauth/logout/confirm`, { method: 'POST', redirect: 'manual', headers: { cookie: jar, origin: gw.url, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }).toString() });
      await posted.body?.cancel();
      assert.ok(posted.status >= 400, `the sign-out without the password is refused (got ${posted.status})`);
      const call = await callTool(`${gw.url}/mcp/everything`, token, 'get-tiny-image', {});
      assert.equal(call.status, 200, `alice's grant stands (${call.text.slice(0, 200)})`);
      assert.equal(call.json?.error, undefined);
    } finally {
      await alice.close();
    }
  });
});
