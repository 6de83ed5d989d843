/**
 * A real browser for the sign-in and consent pages: Debian's Chromium (/usr/bin/chromium) driven by
 * playwright-core, headless, with a fresh profile per launch. A test opens an authorization URL, signs
 * in and answers the consent page the way a user would (typing, clicking), and the browser follows the
 * redirect to the client's redirect URI, where a loopback listener stands in for the client's callback
 * page (RFC 8252 §7.3, as MCP clients on a desktop do).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { processSecretSource } from '../../src/config/secrets.ts';
import { startGateway, type TestGateway } from './gateway.ts';

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  /** A fresh browser profile context (own cookies), for one user; `proxy` routes its requests (e.g. startSourceProxy). */
  context(options?: { proxy?: { server: string } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  // playwright-core refuses --user-data-dir in `args`: it starts Chromium with a fresh temporary profile
  // of its own (--user-data-dir=<new temp dir>, removed on close), and each context is a separate
  // cookie jar inside it.
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context: (options) => browser.newContext(options),
    close: () => browser.close(),
  };
}

/**
 * A plain HTTP proxy on loopback that opens its connections to the target from `localAddress` (e.g.
 * 127.0.0.2): a browser context using it reaches the gateway as a user on another address would.
 * Playwright routes loopback through a context's proxy (it adds `<-loopback>` to Chromium's bypass list).
 * `forwarded()` lists the methods of the requests it passed on from that address.
 */
export async function startSourceProxy(localAddress: string): Promise<{ server: string; forwarded(): string[]; close(): Promise<void> }> {
  const methods: string[] = [];
  const proxy: Server = createServer((req, res) => {
    const target = new URL(req.url ?? '/');
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers, localAddress }, (answer) => {
      methods.push(req.method ?? '');
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    server: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    forwarded: () => methods,
    close: () => new Promise<void>((resolve) => {
      proxy.closeAllConnections();
      proxy.close(() => resolve());
    }),
  };
}

/** A client's loopback redirect receiver: answers every request with a plain page. */
export async function startCallback(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface SignInOptions {
  username: string;
  password: string;
  /** The redirect URI prefix of the client: navigation there ends the flow. */
  redirect: string;
  /** Answer the consent page with Allow (default) or Deny; `inspect` sees the page before answering. */
  consent?: 'allow' | 'deny';
  inspect?: (page: Page) => Promise<void>;
}

export type SignInResult =
  | { kind: 'redirected'; url: URL }
  | { kind: 'page'; status: number | undefined; text: string };

/**
 * Opens `authorizeUrl` in `context`, signs in when asked, answers consent, and returns where the browser
 * was sent: the client's redirect URI (with code or error), or the page it stopped on (an error, a
 * refused sign-in, a lockout).
 */
export async function signInWithBrowser(context: BrowserContext, authorizeUrl: string, options: SignInOptions): Promise<SignInResult> {
  const page = await context.newPage();
  // Two shared cores under parallel test files: a page load can take a while; a stuck one still fails.
  page.setDefaultTimeout(60_000);
  // A private-use scheme (com.example.app:/cb) is no page the browser can load: the navigation fails,
  // but the request it tried is the redirect.
  let tried: string | undefined;
  page.on('request', (request) => {
    if (request.url().startsWith(options.redirect)) tried = request.url();
  });
  const redirectedTo = (): URL | undefined => (page.url().startsWith(options.redirect) ? new URL(page.url()) : tried ? new URL(tried) : undefined);
  const submit = async (selector: string) => {
    try {
      return (await Promise.all([page.waitForNavigation(), page.click(selector)]))[0];
    } catch (error) {
      if (tried) return null;
      throw error;
    }
  };
  try {
    let response = await page.goto(authorizeUrl);
    let triedLogin = false;
    for (let step = 0; step < 6 && !redirectedTo(); step++) {
      if (await page.locator('input[name="username"]').count()) {
        // The sign-in form again after a try: refused (wrong password, lockout). Stop there.
        if (triedLogin) break;
        triedLogin = true;
        await page.fill('input[name="username"]', options.username);
        await page.fill('input[name="password"]', options.password);
        response = await submit('button[type="submit"]');
        continue;
      }
      if (await page.locator('form[action$="/confirm"]').count()) {
        await options.inspect?.(page);
        const button = options.consent === 'deny' ? 'form[action$="/abort"] button' : 'form[action$="/confirm"] button';
        response = await submit(button);
        continue;
      }
      break;
    }
    const redirected = redirectedTo();
    if (redirected) return { kind: 'redirected', url: redirected };
    return { kind: 'page', status: response?.status(), text: await page.locator('body').innerText() };
  } finally {
    await page.close();
  }
}

/** Signs in and expects the redirect back to the client; fails with the page text otherwise. */
export async function authorizeWithBrowser(context: BrowserContext, authorizeUrl: string, options: SignInOptions): Promise<URL> {
  const result = await signInWithBrowser(context, authorizeUrl, options);
  if (result.kind !== 'redirected') throw new Error(`sign-in stopped on a page (${result.status}): ${result.text.slice(0, 300)}`);
  return result.url;
}

/** Signs out through the authorization server's logout page, clicking its button. */
export async function signOutWithBrowser(context: BrowserContext, logoutUrl: string, password: string): Promise<string> {
  const page = await context.newPage();
  try {
    await page.goto(logoutUrl);
    await page.fill('input[name="password"]', password);
    await Promise.all([page.waitForNavigation(), page.click('button[name="logout"]')]);
    return await page.locator('body').innerText();
  } finally {
    await page.close();
  }
}

/**
 * A gateway with the embedded sign-in, a browser and a client's loopback callback, for tests that sign
 * users in: `document(passwordRef)` is the gateway's configuration, with `passwordRef` (an env:
 * reference to a random password, `password`) for its users.
 */
export interface SignInRig {
  gw: TestGateway;
  browser: TestBrowser;
  callback: Awaited<ReturnType<typeof startCallback>>;
  password: string;
  close(): Promise<void>;
}

export async function startSignInRig(document: (passwordRef: string) => Record<string, unknown>): Promise<SignInRig> {
  const password = randomBytes(12).toString('base64url');
  const callback = await startCallback();
  const gw = await startGateway(document('env:PC_TEST_SIGN_IN_PW'), processSecretSource({ ...process.env, PC_TEST_SIGN_IN_PW: password }));
  const browser = await launchBrowser();
  return {
    gw,
    browser,
    callback,
    password,
    async close() {
      await browser.close();
      await gw.close();
      await callback.close();
    },
  };
}
