/**
 * In band, URL mode (spec 2025-11-25 client/elicitation, URL mode): instead of a form the client shows,
 * the gateway sends `elicitation/create` with `mode: "url"` pointing at its own approval page
 * `/approvals/<id>?t=<token>` on the gateway's origin; the user decides there, and the call waiting in
 * the queue (queue.ts) goes on. The page:
 *
 *   GET  /approvals/<id>?t=<token>   the server, the target, the arguments as the audit records them
 *                                    (redacted), the rule and its reason, with Approve / Deny buttons
 *   POST /approvals/<id>             form: t, csrf, decision=approve|deny — decides, once
 *
 * Protection: the link carries a 256-bit capability token made for this one approval (only its SHA-256
 * is kept, compared in constant time); the form carries a second token (CSRF), also per approval, that
 * only a GET with the link reveals; POST bodies must be `application/x-www-form-urlencoded` and bounded;
 * every page is `no-store`, under a CSP of `default-src 'none'; form-action 'self'; frame-ancestors
 * 'none'`. Tokens are dropped on the first decision and at expiry, so a replayed POST finds nothing.
 * Refusals are audited like any refused request; decisions are the queue's approval events.
 *
 * Who decides: without identity (a loopback front) the caller is the local user and the link is the
 * proof. With the embedded sign-in, the page also needs the call's own user (in band = the user approves
 * their own agent's call) to sign in for this approval, typing the password: a browser session is no
 * proof, since its cookie is sent to every port of the host and any local listener the browser visits
 * can replay it (redteam-b B12). Only calls with that issuer's tokens are sent to the page. Other
 * identity setups (API keys, external issuers) cannot tie a browser to the caller here: their clients
 * are asked with the form (in-band.ts).
 *
 *   GET /approvals/<id>?t=…        303 → /oauth/authorize?…&state=<nonce> (the gateway's own client,
 *                                  auth/embedded.ts APPROVAL_PAGE_CLIENT_ID, which always asks for the
 *                                  password), with a cookie `<nonce>.<id>` (HttpOnly, SameSite=Lax,
 *                                  Path=/approvals/, 10 min); the link keeps the nonce's hash
 *   GET /approvals/signed-in?state=<nonce>&code=…   when the state is the cookie's nonce and one the
 *                                  link handed out (a sign-in this browser started from this link), the
 *                                  code names who signed in (it answers once); 303 → /approvals/<id>?s=<proof>,
 *                                  a one-time 256-bit proof of that sign-in for this approval (10 min)
 *                                  and a binding cookie `pc_approval_bind` (HttpOnly, Path=/approvals/<id>)
 *   GET /approvals/<id>?s=…        the page, for the proven user in the browser that signed in only (the
 *                                  proof and its binding cookie together); the form carries s and csrf
 *
 * The proof travels only in this origin's URLs and forms (never a cookie, `Referrer-Policy: same-origin`),
 * so another port cannot obtain it; the binding travels only in a cookie, so a copied URL alone decides nothing. The way back is never read from the request: it is rebuilt from an
 * approval id and a proof of their own strict forms, as a relative path on this origin, so no parameter
 * can send the browser elsewhere.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, page, pageHeaders } from '../auth/pages.ts';
import { displayText } from '../audit/display.ts';
import type { Principal } from '../auth/principal.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { header, readBody, reject } from '../downstream/http-io.ts';
import { APPROVAL_SIGNED_IN_PATH } from '../auth/embedded.ts';
import { isApprovalId, type Approval } from './store.ts';
import { displayArgs } from './view.ts';

export const APPROVAL_PAGE_PATH = '/approvals/';
export const isApprovalPagePath = (pathname: string): boolean => pathname.startsWith(APPROVAL_PAGE_PATH);

const MAX_FORM_BYTES = 4096;
/** The most links outstanding at once (each is one waiting call; the queue bounds those too). */
const MAX_LINKS = 10_000;

export interface SignIn {
  /** The embedded sign-in's issuer: only its users' calls are sent to the page. */
  issuer: string;
  /** Where a signed-out browser signs in, to come back to APPROVAL_SIGNED_IN_PATH with `state` (a path on this origin). */
  signInPath(state: string): string;
  /**
   * A sign-in started here came back with its code: the user who signed in (once per code; undefined
   * for a code not of this page's sign-in), and what the sign-in left in the authorization server goes.
   */
  signedIn(code: string): string | undefined;
}

const SIGN_IN_COOKIE = 'pc_approval_signin';
const BIND_COOKIE = 'pc_approval_bind';
const SIGN_IN_SECONDS = 600;
const TOKEN_FORM = /^[A-Za-z0-9_-]{1,200}$/;

interface Link {
  tokenHash: Buffer;
  csrfHash: Buffer;
  csrf: string;
  expiresAt: number;
  /** Hashes of the sign-in nonces this link handed out (the newest few). */
  nonces: Buffer[];
  /**
   * Proofs of a finished sign-in for this approval: hash → who signed in, until when, and the hash of the
   * binding cookie the browser that signed in was given (the proof works only with it).
   */
  proofs: Array<{ hash: Buffer; bindHash: Buffer; user: string; expiresAt: number }>;
}

/** Sign-ins one link may have under way at once (several tabs); the oldest is forgotten first. */
const MAX_SIGN_INS_PER_LINK = 4;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time comparison of a presented secret with the hash kept. */
function matches(given: unknown, kept: Buffer): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 200) return false;
  return timingSafeEqual(digest(given), kept);
}

/** The links handed out for waiting in-band approvals, per process (the waiting call is in this process). */
export class ApprovalPages {
  readonly #links = new Map<string, Link>();
  #origin: string | undefined;
  #signIn: SignIn | undefined;

  /**
   * Set by the HTTP front once it listens: without identity (loopback), or with the embedded sign-in
   * (`signIn`: the page then needs the call's own user signed in). The page is then offered.
   */
  serveAt(origin: string, signIn?: SignIn): void {
    this.#origin = origin;
    this.#signIn = signIn;
  }

  get signIn(): SignIn | undefined {
    return this.#signIn;
  }

  /** Whether the page can prove who decides for this caller: the local user, or a user of the embedded sign-in. */
  offeredTo(principal: Principal): boolean {
    if (!this.#origin) return false;
    if (!this.#signIn) return principal.kind === 'local';
    return principal.kind === 'token' && principal.issuer === this.#signIn.issuer;
  }

  get origin(): string | undefined {
    return this.#origin;
  }

  /** A fresh link for approval `id`; undefined when the page is not offered or too many are out. */
  issue(id: string, expiresAt: number, now: number): string | undefined {
    if (!this.#origin) return undefined;
    for (const [key, link] of this.#links) if (link.expiresAt <= now) this.#links.delete(key);
    if (this.#links.size >= MAX_LINKS) return undefined;
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.#links.set(id, { tokenHash: digest(token), csrfHash: digest(csrf), csrf, expiresAt, nonces: [], proofs: [] });
    return `${this.#origin}${APPROVAL_PAGE_PATH}${id}?t=${token}`;
  }

  /** The link's CSRF token, when `token` is the link's capability token and it is still valid. */
  check(id: string, token: unknown, now: number): Link | undefined {
    const link = this.#links.get(id);
    if (!link || link.expiresAt <= now || !matches(token, link.tokenHash)) return undefined;
    return link;
  }

  /** A sign-in nonce for link `id` (whose token was checked), kept by hash for the way back. */
  startSignIn(link: Link): string {
    const nonce = randomBytes(32).toString('base64url');
    link.nonces = [...link.nonces, digest(nonce)].slice(-MAX_SIGN_INS_PER_LINK);
    return nonce;
  }

  /** Whether `nonce` is one link `id` handed out; it is spent either way it matches. */
  takeSignIn(id: string, nonce: string, now: number): Link | undefined {
    const link = this.#links.get(id);
    if (!link || link.expiresAt <= now) return undefined;
    const at = link.nonces.findIndex((kept) => matches(nonce, kept));
    if (at < 0) return undefined;
    link.nonces.splice(at, 1);
    return link;
  }

  /**
   * A one-time proof that `user` signed in for this approval (the URL and the form carry it to the
   * decision), and the binding the browser that signed in keeps in a cookie: the two work only together.
   */
  prove(link: Link, user: string, now: number): { proof: string; bind: string } {
    const proof = randomBytes(32).toString('base64url');
    const bind = randomBytes(32).toString('base64url');
    const entry = { hash: digest(proof), bindHash: digest(bind), user, expiresAt: Math.min(link.expiresAt, now + SIGN_IN_SECONDS * 1000) };
    link.proofs = [...link.proofs.filter((p) => p.expiresAt > now), entry].slice(-MAX_SIGN_INS_PER_LINK);
    return { proof, bind };
  }

  /** The link and the user `proof` proves signed in for approval `id`, presented with its browser's `bind`, while both are valid. */
  proven(id: string, proof: unknown, bind: unknown, now: number): { link: Link; user: string } | undefined {
    const link = this.#links.get(id);
    if (!link || link.expiresAt <= now) return undefined;
    // Both compared, whichever fails: the time taken says nothing about which one was wrong.
    const found = link.proofs.find((p) => p.expiresAt > now && matches(proof, p.hash) && matches(bind, p.bindHash));
    return found ? { link, user: found.user } : undefined;
  }

  drop(id: string): void {
    this.#links.delete(id);
  }
}

function describe(a: Approval): string {
  // Every value escaped for display first (newlines, bidi, invisible characters: the caller and the
  // server choose names), then for HTML.
  const row = (k: string, v: string): string => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(displayText(v))}</td></tr>`;
  let args: unknown;
  try {
    args = JSON.parse(a.args);
  } catch {
    args = a.args;
  }
  return `<table>${[
    row('Server', a.server),
    row(a.kind === 'tool' ? 'Tool' : a.kind, a.name),
    `<tr><th>Arguments</th><td>${escapeHtml(displayArgs(args, a.argsHash))}</td></tr>`,
    row('Arguments hash (audit argsHash)', a.argsHash),
    row('Rule', `${a.rule} — ${a.reason}`),
    row('Asked by', `${a.subject} (agent ${a.agent})`),
    row('Expires', new Date(a.expiresAt).toISOString()),
  ].join('')}</table>`;
}

function html(res: ServerResponse, status: number, title: string, body: string): void {
  const text = page(title, body);
  res.writeHead(status, { ...pageHeaders(), 'referrer-policy': 'same-origin', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The sign-in cookie's attributes; `maxAge` 0 clears it. */
function signInCookie(value: string, maxAge: number, origin: string): string {
  return `${SIGN_IN_COOKIE}=${value}; Path=${APPROVAL_PAGE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${origin.startsWith('https:') ? '; Secure' : ''}`;
}

/**
 * The binding cookie of a sign-in for approval `id`: only the browser that signed in has it, and the
 * proof in the page's URL works only with it — a copied URL (history, a shared screen) decides nothing
 * from another browser. Its own path per approval, so several approvals open in tabs keep theirs.
 */
function bindCookie(id: string, value: string, origin: string): string {
  return `${BIND_COOKIE}=${value}; Path=${APPROVAL_PAGE_PATH}${id}; Max-Age=${SIGN_IN_SECONDS}; HttpOnly; SameSite=Lax${origin.startsWith('https:') ? '; Secure' : ''}`;
}

/** Sends the browser to sign in for this approval, remembering (in its own cookie) which approval; the link keeps the nonce. */
function redirectToSignIn(res: ServerResponse, signIn: SignIn, origin: string, id: string, nonce: string): void {
  res.writeHead(303, { location: signIn.signInPath(nonce), 'set-cookie': signInCookie(`${nonce}.${id}`, SIGN_IN_SECONDS, origin), 'cache-control': 'no-store', 'referrer-policy': 'same-origin' });
  res.end();
}

/** The value of cookie `name` in the request, if sent once. */
function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const found = (header(req, 'cookie') ?? '').split(';').map((c) => c.trim()).filter((c) => c.startsWith(`${name}=`));
  return found.length === 1 ? found[0]!.slice(name.length + 1) : undefined;
}

/**
 * The end of the sign-in started by redirectToSignIn: back to the approval page with a proof of who
 * signed in, when the state is the nonce of this browser's cookie and one the approval's link handed
 * out; the refusal otherwise (a sign-in not started here, cancelled, or a cookie not of the page's own
 * making).
 */
function returnFromSignIn(req: IncomingMessage, res: ServerResponse, rawUrl: string, pages: ApprovalPages, origin: string, signIn: SignIn, now: number): GatewayError | undefined {
  if (req.method !== 'GET') return new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `${APPROVAL_SIGNED_IN_PATH} takes GET (the sign-in's redirect)`);
  const query = new URL(rawUrl, 'http://x').searchParams;
  const [nonce, id, ...rest] = (cookieValue(req, SIGN_IN_COOKIE) ?? '').split('.');
  const state = query.get('state');
  const fromHere = nonce !== undefined && rest.length === 0 && TOKEN_FORM.test(nonce) && matches(state, digest(nonce));
  const link = fromHere && id !== undefined && isApprovalId(id) ? pages.takeSignIn(id, nonce, now) : undefined;
  if (!link || id === undefined) return new GatewayError('PC_APPROVAL_UNKNOWN', 'this sign-in was not started from this approval\'s page in this browser (or took longer than 10 minutes); open the approval link again');
  const clear = signInCookie('', 0, origin);
  res.setHeader('set-cookie', clear);
  const code = query.get('code');
  const user = code !== null && TOKEN_FORM.test(code) ? signIn.signedIn(code) : undefined;
  if (query.has('error') || !user) return new GatewayError('PC_AUTH_REQUIRED', 'the sign-in did not complete; open the approval link again to sign in');
  const { proof, bind } = pages.prove(link, user, now);
  // Rebuilt from parts of strict form, relative: the way back cannot lead off this origin.
  res.writeHead(303, { location: `${APPROVAL_PAGE_PATH}${id}?s=${proof}`, 'set-cookie': [clear, bindCookie(id, bind, origin)], 'cache-control': 'no-store', 'referrer-policy': 'same-origin' });
  res.end();
  return undefined;
}

export async function serveApprovalPage(req: IncomingMessage, res: ServerResponse, pathname: string, rawUrl: string, gateway: Gateway): Promise<void> {
  const { queue, pages } = gateway.approvals;
  const refuse = async (error: GatewayError): Promise<void> => {
    await gateway.recordRefusal({ kind: 'aggregate' }, error, 'approvals/page', { address: req.socket.remoteAddress }).catch(() => false);
    reject(res, error);
  };
  const now = queue.now();
  if (pathname === APPROVAL_SIGNED_IN_PATH && pages.signIn && pages.origin) {
    const refused = returnFromSignIn(req, res, rawUrl, pages, pages.origin, pages.signIn, now);
    return refused ? refuse(refused) : undefined;
  }
  const id = pathname.slice(APPROVAL_PAGE_PATH.length);
  if (!isApprovalId(id) || !pages.origin) return refuse(new GatewayError('PC_APPROVAL_UNKNOWN', `no approval page at ${pathname}`));
  /**
   * With the embedded sign-in: who decides is the user proven by `proof` (a sign-in for this very
   * approval), and must be the caller's own; the link's token alone proves nothing about the person.
   */
  const person = (approval: Approval, proof: unknown): GatewayError | { link: Link; user: string } => {
    const proven = pages.proven(id, proof, cookieValue(req, BIND_COOKIE), now);
    if (!proven) return new GatewayError('PC_AUTH_REQUIRED', 'sign in for this approval (the same user the agent acts for), in this browser: open the approval link again');
    if (proven.user !== approval.subject) return new GatewayError('PC_APPROVAL_NOT_APPROVER', `approval ${approval.id} is for ${approval.subject}'s own call; the signed-in user ${proven.user} cannot decide it`);
    return proven;
  };

  if (req.method === 'GET') {
    const query = new URL(rawUrl, 'http://x').searchParams;
    const approval = queue.store.get(id);
    const hidden = (name: string, value: string): string => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
    const form = (proofField: string, csrf: string): void => html(res, 200, 'Approve this call?', `${describe(approval!)}
<form method="post" action="${APPROVAL_PAGE_PATH}${id}">${proofField}${hidden('csrf', csrf)}
<button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></form>`);
    if (pages.signIn && query.has('s')) {
      if (!approval || approval.status !== 'pending') return refuse(new GatewayError('PC_APPROVAL_UNKNOWN', `approval ${id} is not waiting`));
      const who = person(approval, query.get('s'));
      if (who instanceof GatewayError) return refuse(who);
      return form(hidden('s', query.get('s')!), who.link.csrf);
    }
    const token = query.get('t');
    const link = pages.check(id, token, now);
    if (!link || !approval || approval.status !== 'pending') return refuse(new GatewayError('PC_APPROVAL_UNKNOWN', `approval ${id} is not waiting, or the link is not valid for it`));
    // With the embedded sign-in, the link's holder is sent to sign in for this approval, then back here.
    if (pages.signIn) return redirectToSignIn(res, pages.signIn, pages.origin, id, pages.startSignIn(link));
    return form(hidden('t', token!), link.csrf);
  }
  if (req.method !== 'POST') return refuse(new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `${pathname} takes GET or POST`));
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(header(req, 'content-type') ?? '')) {
    return refuse(new GatewayError('PC_HTTP_UNSUPPORTED_MEDIA_TYPE', 'the approval page takes its own form (application/x-www-form-urlencoded)'));
  }
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(await readBody(req, MAX_FORM_BYTES));
  } catch (error) {
    return refuse(error instanceof GatewayError ? error : new GatewayError('PC_PROTOCOL_PARSE_ERROR', 'the form could not be read'));
  }
  const approval = queue.store.get(id);
  const signedIn = pages.signIn && approval ? person(approval, form.get('s')) : undefined;
  if (signedIn instanceof GatewayError && signedIn.code === 'PC_APPROVAL_NOT_APPROVER') return refuse(signedIn);
  const link = pages.signIn ? (signedIn instanceof GatewayError ? undefined : signedIn?.link) : pages.check(id, form.get('t'), now);
  if (!link) return refuse(new GatewayError('PC_APPROVAL_UNKNOWN', `approval ${id} is not waiting, or the form does not come from a valid link${pages.signIn ? ' and a sign-in for it' : ''}`));
  if (!matches(form.get('csrf'), link.csrfHash)) return refuse(new GatewayError('PC_APPROVAL_ADMIN_FORBIDDEN', 'the form is not the approval page\'s own (its CSRF token is missing or wrong)'));
  const choice = form.get('decision');
  if (choice !== 'approve' && choice !== 'deny') return refuse(new GatewayError('PC_PROTOCOL_INVALID_REQUEST', 'decision must be "approve" or "deny"'));
  if (!approval || approval.channel !== 'in-band') return refuse(new GatewayError('PC_APPROVAL_UNKNOWN', `approval ${id} is not waiting`));
  const who = signedIn && !(signedIn instanceof GatewayError) ? signedIn.user : undefined;
  // Single use: the link goes before the decision is made, so a second POST finds nothing.
  pages.drop(id);
  const decided = await queue.decide(id, choice === 'approve' ? 'granted' : 'denied', { name: who ?? approval.subject, ownUser: true }, 'on the approval page');
  if (decided instanceof GatewayError) return refuse(decided);
  return html(res, 200, choice === 'approve' ? 'Approved' : 'Denied', `<p>${choice === 'approve' ? 'The call runs once, with exactly these arguments.' : 'The call is refused.'} You can close this page.</p>`);
}
