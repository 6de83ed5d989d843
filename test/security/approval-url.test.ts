/**
 * In band, URL mode (docs/approvals.md#url-mode): a real v1 SDK client (2025-11-25) declaring
 * `elicitation.url` is sent to the gateway's own approval page, which a real browser (Chromium) drives.
 * Approve runs the call once on the recorded server-everything; deny refuses it; and the page's
 * protections are attacked: missing and wrong link tokens, another approval's token, a POST without the
 * CSRF token, a replayed POST after the decision, a client that turns the page down. Nothing of those
 * reaches the server, and the refusals are in the audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ElicitationCompleteNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { DatabaseSync } from 'node:sqlite';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { auditTrail } from '../helpers/audit.ts';
import { authorizeWithBrowser, launchBrowser, startCallback, type TestBrowser } from '../helpers/browser.ts';
import { legacyClient, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { authorizeUrl, pkcePair, recordedEverything, register, tokenRequest } from '../helpers/oauth.ts';
import { APPROVAL_POLICY, approvalHarness, type ApprovalHarness } from '../approvals/harness.ts';

type Params = { mode?: string; url?: string; elicitationId?: string; message?: string };

/** A 2025-11-25 SDK client that supports URL-mode elicitation; `onElicit` answers each request. */
async function urlClient(base: string, onElicit: (params: Params) => Promise<unknown>): Promise<{ client: LegacyClient; completed: string[] }> {
  const client = new LegacyClient({ name: 'url-client', version: '1.0.0' }, { capabilities: { elicitation: { form: {}, url: {} } } });
  const completed: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (r) => (await onElicit(r.params as Params)) as never);
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
    completed.push(n.params.elicitationId);
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp/everything`)));
  return { client, completed };
}

/** The page's form fields, read the way a form post would send them. */
async function formOf(url: string): Promise<{ status: number; csrf?: string; t?: string; text: string }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, text, csrf: /name="csrf" value="([^"]+)"/.exec(text)?.[1], t: /name="t" value="([^"]+)"/.exec(text)?.[1] };
}

async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; code?: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text).error?.data?.code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code };
}

describe('in-band approval, URL mode: the gateway\'s own approval page', () => {
  let h: ApprovalHarness;
  let browser: TestBrowser;
  /** A webhook receiver: in-band approvals are the user's own, never announced to others. */
  const hooked: string[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      hooked.push(body);
      res.writeHead(200).end();
    });
  });
  before(async () => {
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    // No identity: the caller is the local user, and the page is on the gateway's loopback origin.
    h = await approvalHarness({ identity: undefined, approvals: { waitMs: 1500, pollMs: 25, webhook: { url, secret: 'env:PC_TEST_URL_HOOK', format: 'json' } } }, { PC_TEST_URL_HOOK: randomBytes(24).toString('hex') });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await new Promise<void>((resolve) => hook.close(() => resolve()));
  });

  const texts = (message: string) => h.received('echo').filter((a) => a.message === message);

  it('sends a URL-mode elicitation to its own page; Approve in a browser runs the call once', async () => {
    const asked: Params[] = [];
    const context = await browser.context();
    const { client, completed } = await urlClient(h.gw.url, async (params) => {
      asked.push(params);
      const page = await context.newPage();
      const response = await page.goto(params.url!);
      const headers = response!.headers();
      assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
      assert.match(headers['content-security-policy'] ?? '', /default-src 'none'/);
      assert.equal(headers['cache-control'], 'no-store');
      const body = await page.textContent('body');
      for (const part of ['everything', 'echo', 'url approve', 'echo-needs-approval', 'echo sends a message out']) assert.ok(body?.includes(part), `the page names ${part}`);
      assert.ok(!body?.includes('not-for-the-page'), 'a secret-named argument is redacted on the page');
      await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
      await page.waitForSelector('text=Approved');
      return { action: 'accept' };
    });
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'url approve', token: 'not-for-the-page' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: url approve' }]);
    } finally {
      await client.close();
      await context.close();
    }
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.mode, 'url');
    const url = new URL(asked[0]!.url!);
    assert.equal(url.origin, h.gw.url, 'the link is on the gateway\'s own origin');
    assert.equal(url.pathname, `/approvals/${asked[0]!.elicitationId}`);
    assert.ok((url.searchParams.get('t') ?? '').length >= 43, 'the link carries a 256-bit token');
    assert.deepEqual(completed, [asked[0]!.elicitationId], 'the client is told the elicitation is complete');
    assert.equal(texts('url approve').length, 1, 'the call ran once');
    const record = h.trail().find((r) => r.method === 'tools/call' && r.decision !== 'intent' && r.approval?.event === 'used' && r.approval.id === asked[0]!.elicitationId);
    assert.ok(record, 'the call\'s record names the approval');
    assert.equal(record.decision, 'allowed');
    assert.equal(h.gw.gateway.approvals.queue.store.get(asked[0]!.elicitationId!)?.status, 'used');
    await h.gw.gateway.approvals.idle();
    assert.deepEqual(hooked, [], 'the in-band approval was not announced on the webhook');
    // The approval is used: the page link is dead, and the same call made again is asked again.
    const again = await formOf(asked[0]!.url!);
    assert.notEqual(again.status, 200);
  });

  it('Deny on the page refuses the call (PC_APPROVAL_DECLINED) and runs nothing', async () => {
    const context = await browser.context();
    const { client } = await urlClient(h.gw.url, async (params) => {
      const page = await context.newPage();
      await page.goto(params.url!);
      await Promise.all([page.waitForNavigation(), page.click('button[value=deny]')]);
      await page.waitForSelector('text=Denied');
      return { action: 'accept' };
    });
    try {
      await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'url deny' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_DECLINED');
    } finally {
      await client.close();
      await context.close();
    }
    assert.deepEqual(texts('url deny'), []);
    assert.ok(h.trail().some((r) => r.code === 'PC_APPROVAL_DECLINED' && r.approval?.event === 'declined'));
    assert.ok(h.trail().some((r) => r.method === 'approvals/denied'), 'the decision is an audit record');
  });

  it('refuses missing and wrong tokens, another approval\'s token, a form without its CSRF token and a replayed POST', async () => {
    // First call: approved with the page's own form (a plain POST), so its link and CSRF token are known.
    let first: { url: string; id: string; csrf: string; t: string } | undefined;
    const one = await urlClient(h.gw.url, async (params) => {
      const form = await formOf(params.url!);
      assert.equal(form.status, 200);
      first = { url: params.url!, id: params.elicitationId!, csrf: form.csrf!, t: form.t! };
      const decided = await postForm(`${h.gw.url}/approvals/${first.id}`, { t: first.t, csrf: first.csrf, decision: 'approve' });
      assert.equal(decided.status, 200);
      return { action: 'accept' };
    });
    try {
      await one.client.callTool({ name: 'echo', arguments: { message: 'url first' } });
    } finally {
      await one.client.close();
    }
    assert.equal(texts('url first').length, 1);

    const outcomes: Record<string, { status: number; code?: string }> = {};
    const two = await urlClient(h.gw.url, async (params) => {
      const id = params.elicitationId!;
      const page = `${h.gw.url}/approvals/${id}`;
      const good = await formOf(params.url!);
      assert.equal(good.status, 200);
      outcomes['GET without token'] = await fetch(page).then((r) => ({ status: r.status }));
      outcomes['GET wrong token'] = await fetch(`${page}?t=${'A'.repeat(43)}`).then((r) => ({ status: r.status }));
      outcomes['POST missing token'] = await postForm(page, { csrf: good.csrf!, decision: 'approve' });
      outcomes['POST wrong token'] = await postForm(page, { t: `${good.t!.slice(0, -1)}${good.t!.endsWith('A') ? 'B' : 'A'}`, csrf: good.csrf!, decision: 'approve' });
      outcomes['POST the other approval\'s token'] = await postForm(page, { t: first!.t, csrf: first!.csrf, decision: 'approve' });
      outcomes['POST without CSRF token'] = await postForm(page, { t: good.t!, decision: 'approve' });
      outcomes['POST wrong CSRF token'] = await postForm(page, { t: good.t!, csrf: first!.csrf, decision: 'approve' });
      outcomes['POST as JSON'] = await fetch(page, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ t: good.t, csrf: good.csrf, decision: 'approve' }) }).then((r) => ({ status: r.status }));
      outcomes['POST from a foreign origin'] = await postForm(page, { t: good.t!, csrf: good.csrf!, decision: 'approve' }, { origin: 'https://evil.example' });
      outcomes['replayed POST of the first call'] = await postForm(`${h.gw.url}/approvals/${first!.id}`, { t: first!.t, csrf: first!.csrf, decision: 'approve' });
      assert.equal(h.gw.gateway.approvals.queue.store.get(id)?.status, 'pending', 'no attack decided the approval');
      // The user turns the page down in the client.
      return { action: 'decline' };
    });
    try {
      await assert.rejects(two.client.callTool({ name: 'echo', arguments: { message: 'url second' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_DECLINED');
    } finally {
      await two.client.close();
    }
    for (const [what, outcome] of Object.entries(outcomes)) assert.ok(outcome.status >= 400, `${what} is refused (got ${outcome.status})`);
    assert.equal(outcomes['POST without CSRF token']!.code, 'PC_APPROVAL_ADMIN_FORBIDDEN');
    assert.equal(outcomes['POST wrong token']!.code, 'PC_APPROVAL_UNKNOWN');
    assert.equal(outcomes['POST from a foreign origin']!.code, 'PC_HTTP_ORIGIN_FORBIDDEN');
    assert.deepEqual(texts('url second'), [], 'nothing reached the server');
    assert.equal(texts('url first').length, 1, 'the replayed POST ran nothing again');
    const pageRefusals = h.trail().filter((r) => r.method === 'approvals/page');
    assert.ok(pageRefusals.some((r) => r.code === 'PC_APPROVAL_ADMIN_FORBIDDEN'), 'the CSRF refusal is audited');
    assert.ok(pageRefusals.some((r) => r.code === 'PC_APPROVAL_UNKNOWN'), 'the token refusals are audited');
  });

  it('the webhook does announce out-of-band requests (the check above can fail)', async () => {
    const client = await legacyClient(`${h.gw.url}/mcp/everything`);
    try {
      await assert.rejects(client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }), (error: any) => error?.data?.code === 'PC_APPROVAL_EXPIRED'); // the rule's ttl (1s) is shorter than waitMs
    } finally {
      await client.close();
    }
    await h.gw.gateway.approvals.idle();
    assert.equal(hooked.length, 1);
    assert.match(hooked[0]!, /get-sum/);
    assert.deepEqual(h.received('get-sum'), []);
  });

  it('a client without elicitation.url is asked with the form, not sent to the page', async () => {
    const asked: any[] = [];
    const client = await legacyClient(`${h.gw.url}/mcp/everything`, { onElicit: (params) => (asked.push(params), { action: 'decline' }) });
    try {
      await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'url form only' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_DECLINED');
    } finally {
      await client.close();
    }
    assert.equal(asked.length, 1);
    assert.ok(asked[0].requestedSchema, 'form mode');
    assert.equal(asked[0].url, undefined);
    assert.deepEqual(texts('url form only'), []);
  });
});

describe('in-band approval, URL mode, with API keys', () => {
  let h: ApprovalHarness;
  before(async () => {
    h = await approvalHarness();
  });
  after(async () => h?.close());

  it('does not offer the page, nor the form (no person stands behind a key): the call is held out of band, /approvals/* answers nothing', async () => {
    const asked: Params[] = [];
    const { client } = await (async () => {
      const c = new LegacyClient({ name: 'url-client', version: '1.0.0' }, { capabilities: { elicitation: { form: {}, url: {} } } });
      c.setRequestHandler(ElicitRequestSchema, async (r) => (asked.push(r.params as Params), { action: 'decline' }) as never);
      await c.connect(new StreamableHTTPClientTransport(new URL(`${h.gw.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${h.keys.alice}` } } }));
      return { client: c };
    })();
    try {
      await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'url with identity' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_PENDING');
    } finally {
      await client.close();
    }
    assert.deepEqual(asked, [], 'the key\'s own client is asked nothing');
    const probe = await postForm(`${h.gw.url}/approvals/${'0'.repeat(32)}`, { t: 'x', csrf: 'y', decision: 'approve' });
    assert.equal(probe.code, 'PC_APPROVAL_UNKNOWN');
    assert.deepEqual(h.received('echo').filter((a) => a.message === 'url with identity'), []);
  });
});

describe('in-band approval, URL mode, with the embedded sign-in', () => {
  const PASSWORD = randomBytes(12).toString('base64url');
  let gw: TestGateway;
  let browser: TestBrowser;
  let callback: Awaited<ReturnType<typeof startCallback>>;
  const everything = recordedEverything();
  before(async () => {
    callback = await startCallback();
    gw = await startGateway(
      {
        servers: { everything: everything.server },
        policy: APPROVAL_POLICY,
        approvals: { waitMs: 1500, pollMs: 25 },
        identity: { scopes: ['mcp'], embedded: { users: [{ username: 'alice', password: 'env:PC_TEST_URL_PW', scopes: ['mcp'] }, { username: 'bob', password: 'env:PC_TEST_URL_PW', scopes: ['mcp'] }] } },
      },
      processSecretSource({ ...process.env, PC_TEST_URL_PW: PASSWORD }),
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await callback?.close();
  });

  /** Signs `username` in with the browser context (authorization code + PKCE) and returns an access token for /mcp/everything. */
  async function signIn(context: BrowserContext, username: string): Promise<string> {
    const client = (await register(gw.url, { redirect_uris: [callback.url] })).body.client_id as string;
    const { verifier, challenge } = pkcePair();
    const resource = `${gw.url}/mcp/everything`;
    const back = await authorizeWithBrowser(context, authorizeUrl(gw.url, { client_id: client, redirect_uri: callback.url, resource, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' }), { username, password: PASSWORD, redirect: callback.url });
    const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: callback.url, client_id: client, resource });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return token.body.access_token as string;
  }

  /** Calls echo with `message` as the holder of `token` from a URL-mode client; `decide` acts on the page the elicitation names, and the client accepts. */
  async function echoApproved(token: string, message: string, decide: (params: Params) => Promise<void>): Promise<void> {
    const client = new LegacyClient({ name: 'url-client', version: '1.0.0' }, { capabilities: { elicitation: { form: {}, url: {} } } });
    client.setRequestHandler(ElicitRequestSchema, async (r) => {
      const params = r.params as Params;
      assert.equal(params.mode, 'url');
      await decide(params);
      return { action: 'accept' } as never;
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      const result = await client.callTool({ name: 'echo', arguments: { message } });
      assert.deepEqual(result.content, [{ type: 'text', text: `Echo: ${message}` }]);
    } finally {
      await client.close();
    }
  }

  /** Opens the approval link in `context` and signs in as `username` for it (every approval asks for the password); the page reached. */
  async function signInForApproval(context: BrowserContext, url: string, username: string): Promise<import('playwright-core').Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(url);
    assert.match(page.url(), /\/interaction\//, 'the link asks for a sign-in, even in a browser signed in before');
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/approvals/') && u.pathname !== '/approvals/signed-in'), page.click('button[type="submit"]')]);
    return page;
  }

  it('needs the call\'s own user to sign in for the approval: a signed-in session is not enough, another user is refused, the user\'s own Approve runs the call once', async () => {
    const alice = await browser.context();
    const bob = await browser.context();
    try {
      const token = await signIn(alice, 'alice');
      await signIn(bob, 'bob');
      const outcomes: Record<string, number> = {};
      let id: string | undefined;
      await echoApproved(token, 'url signed in', async (params) => {
        id = params.elicitationId;
        const target = `${gw.url}/approvals/${id}`;
        // Without a session the link sends the browser to sign in (on this origin), not to the page.
        const signedOut = await fetch(params.url!, { redirect: 'manual' });
        assert.equal(signedOut.status, 303);
        assert.match(signedOut.headers.get('location') ?? '', /^\/oauth\/authorize\?/);
        assert.doesNotMatch(await signedOut.text(), /csrf/, 'no form (and no CSRF token) for a signed-out browser');
        const bobPage = await signInForApproval(bob, params.url!, 'bob');
        assert.match(await bobPage.content(), /PC_APPROVAL_NOT_APPROVER/);
        const page = await signInForApproval(alice, params.url!, 'alice');
        const csrf = await page.getAttribute('input[name=csrf]', 'value');
        const s = await page.getAttribute('input[name=s]', 'value');
        const t = new URL(params.url!).searchParams.get('t')!;
        outcomes['POST as bob with the link\'s token and the form\'s CSRF'] = (await bob.request.post(target, { form: { t, csrf: csrf!, decision: 'approve' }, headers: { origin: gw.url } })).status();
        outcomes['POST with the link\'s token, no sign-in proof'] = (await postForm(target, { t, csrf: csrf!, decision: 'approve' })).status;
        outcomes['POST with the proof, without the CSRF token'] = (await postForm(target, { s: s!, decision: 'approve' })).status;
        // The page's URL copied out of alice's browser (history, a shared screen): the proof and the form's
        // CSRF token without the binding cookie of the browser that signed in decide nothing.
        outcomes['POST with the proof and the CSRF token, from another client'] = (await postForm(target, { s: s!, csrf: csrf!, decision: 'approve' }, { origin: gw.url })).status;
        outcomes['POST with the proof and the CSRF token, from bob\'s browser'] = (await bob.request.post(target, { form: { s: s!, csrf: csrf!, decision: 'approve' }, headers: { origin: gw.url } })).status();
        const copied = await bob.newPage();
        const copiedPage = await copied.goto(page.url());
        outcomes['the page\'s URL opened in another browser'] = copiedPage?.status() ?? 0;
        assert.doesNotMatch(await copied.content(), /name="csrf"/, 'no form for a browser that did not sign in');
        const bound = (await alice.cookies(target)).find((c) => c.name === 'pc_approval_bind');
        assert.ok(bound?.httpOnly && bound.path === `/approvals/${id}`, 'the binding cookie is HttpOnly and scoped to this approval');
        assert.equal(gw.gateway.approvals.queue.store.get(id!)?.status, 'pending', 'nobody but alice decided');
        await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
        await page.waitForSelector('text=Approved');
      });
      for (const [what, status] of Object.entries(outcomes)) assert.ok(status >= 400, `${what} is refused (got ${status})`);
      const received = everything.received().filter((m) => m.method === 'tools/call' && (m.params?.arguments as any)?.message === 'url signed in');
      assert.equal(received.length, 1, 'the call ran once');
      const approval = gw.gateway.approvals.queue.store.get(id!);
      assert.equal(approval?.status, 'used');
      assert.equal(approval?.decidedBy, 'alice');
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('sends a signed-out browser to sign in and back to the page; the way back takes no return path from the request', async () => {
    const token = await signIn(await browser.context(), 'alice');
    const fresh = await browser.context(); // the approving browser: never signed in
    const outcomes: Record<string, { status: number; location: string | null }> = {};
    let id: string | undefined;
    try {
      await echoApproved(token, 'url back from sign-in', async (params) => {
        id = params.elicitationId;
        const back = `${gw.url}/approvals/signed-in`;
        const get = async (url: string, cookie?: string) => {
          const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
          await response.body?.cancel();
          return { status: response.status, location: response.headers.get('location') };
        };
        // The way back, attacked: no cookie, a state that is not the cookie's, a cookie of another making.
        const started = await fetch(params.url!, { redirect: 'manual' });
        const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0]!;
        assert.match(started.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Lax/);
        const state = new URL(started.headers.get('location')!, gw.url).searchParams.get('state')!;
        const t = new URL(params.url!).searchParams.get('t')!;
        outcomes['no cookie'] = await get(`${back}?state=${state}&code=x`);
        outcomes['another state'] = await get(`${back}?state=${'A'.repeat(43)}&code=x`, cookie);
        outcomes['a cookie naming another place'] = await get(`${back}?state=${state}&code=x`, `pc_approval_signin=${state}.%2F%2Fevil.example`);
        outcomes['a cookie with a path after the id'] = await get(`${back}?state=${state}&code=x`, `pc_approval_signin=${state}.${id}.x%2F..%2F..%2Foauth`);
        outcomes['the right cookie and state, a code of no sign-in'] = await get(`${back}?state=${state}&code=x`, cookie);
        assert.doesNotMatch(started.headers.get('set-cookie') ?? '', new RegExp(t), 'the link\'s token is not put in a cookie');
        outcomes['a POST'] = await fetch(`${back}?state=${state}`, { method: 'POST', headers: { cookie } }).then((r) => ({ status: r.status, location: r.headers.get('location') }));
        // The real thing: the browser follows the link, signs in, and is back on the page.
        const page = await fresh.newPage();
        page.setDefaultTimeout(60_000);
        await page.goto(params.url!);
        assert.match(page.url(), /\/interaction\//, 'the signed-out browser is on the sign-in page');
        await page.fill('input[name="username"]', 'alice');
        await page.fill('input[name="password"]', PASSWORD);
        await Promise.all([page.waitForURL((url) => url.pathname === `/approvals/${id}`), page.click('button[type="submit"]')]);
        assert.equal(new URL(page.url()).origin, gw.url, 'back on the gateway\'s own origin');
        assert.match(new URL(page.url()).searchParams.get('s') ?? '', /^[A-Za-z0-9_-]{43}$/, 'with a proof of this sign-in, not the link\'s token');
        assert.ok((await page.textContent('body'))?.includes('url back from sign-in'), 'the approval page, showing the call');
        await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
        await page.waitForSelector('text=Approved');
      });
    } finally {
      await fresh.close();
    }
    for (const [what, outcome] of Object.entries(outcomes)) {
      assert.ok(outcome.status >= 400, `${what} is refused (got ${outcome.status})`);
      assert.equal(outcome.location, null, `${what} is sent nowhere`);
    }
    assert.equal(gw.gateway.approvals.queue.store.get(id!)?.decidedBy, 'alice');
    assert.equal(everything.received().filter((m) => m.method === 'tools/call' && (m.params?.arguments as any)?.message === 'url back from sign-in').length, 1, 'the call ran once');
    // The page's own client is for signing in only: asked for a resource, it is refused.
    const { challenge } = pkcePair();
    const forMcp = await fetch(authorizeUrl(gw.url, { client_id: 'portcullis-approval-page', redirect_uri: `${gw.url}/approvals/signed-in`, resource: `${gw.url}/mcp/everything`, scope: 'mcp', code_challenge: challenge, code_challenge_method: 'S256' }), { redirect: 'manual' });
    await forMcp.body?.cancel();
    assert.match(forMcp.headers.get('location') ?? '', /error=invalid_target/, `a token for /mcp is never in reach of the approval page's client (got ${forMcp.status} ${forMcp.headers.get('location')})`);
    const refusals = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.method === 'approvals/page' && r.code === 'PC_APPROVAL_UNKNOWN');
    assert.ok(refusals.length >= 4, 'the forged ways back are audited');
  });
  it('leaves no grant or code of its own client behind after sign-ins through the page', async () => {
    const token = await signIn(await browser.context(), 'alice');
    const leftovers = () => {
      const db = new DatabaseSync(identityDbPath(gw.gateway.config.dataDir!), { readOnly: true });
      try {
        return db.prepare("SELECT model, count(*) AS n FROM oauth WHERE json_extract(payload, '$.clientId') = 'portcullis-approval-page' GROUP BY model").all() as Array<{ model: string; n: number }>;
      } finally {
        db.close();
      }
    };
    for (let k = 0; k < 2; k++) {
      const fresh = await browser.context(); // a browser never signed in: the page sends it to sign in
      try {
        await echoApproved(token, `url leftovers ${k}`, async (params) => {
          const page = await fresh.newPage();
          page.setDefaultTimeout(60_000);
          await page.goto(params.url!);
          await page.fill('input[name="username"]', 'alice');
          await page.fill('input[name="password"]', PASSWORD);
          await Promise.all([page.waitForURL((url) => url.pathname === `/approvals/${params.elicitationId}`), page.click('button[type="submit"]')]);
          await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
          await page.waitForSelector('text=Approved');
        });
      } finally {
        await fresh.close();
      }
      assert.deepEqual(leftovers(), [], `after sign-in ${k + 1}: no grant, code or token of the page's client is left`);
    }
    assert.equal(everything.received().filter((m) => m.method === 'tools/call' && String((m.params?.arguments as any)?.message).startsWith('url leftovers')).length, 2, 'both approved calls ran');
  });

  it('an identity store deletes expired sign-in rows (of a browser that never came back) on its next write', () => {
    const store = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!).replace(/\.db$/, '-purge.db'));
    try {
      store.oauthUpsert('Grant', 'expired-grant', { clientId: 'portcullis-approval-page', accountId: 'alice' }, Date.now() - 1000);
      store.oauthUpsert('Grant', 'live-grant', { clientId: 'portcullis-approval-page', accountId: 'alice' }, Date.now() + 600_000);
      const rows = store.db.prepare("SELECT id FROM oauth WHERE model = 'Grant' ORDER BY id").all() as Array<{ id: string }>;
      assert.deepEqual(rows.map((r) => r.id), ['live-grant']);
    } finally {
      store.close();
    }
  });
});
