/**
 * The embedded OAuth 2.1 authorization server (oidc-provider), for zero-config and small teams. It is
 * the issuer at the gateway's public URL and serves:
 *   - authorization code + PKCE (S256, required for every client) with a minimal login and consent
 *     page for the users the config lists; no implicit flow;
 *   - client credentials for headless agents (`portcullis agent add`: one credential per agent, only
 *     its hash stored; the secret is checked here before oidc-provider sees the request);
 *   - refresh tokens, rotated on every use (reuse of a rotated token revokes the grant);
 *   - RFC 7591 dynamic registration and Client ID Metadata Documents;
 *   - RFC 8707 resource indicators: access tokens are JWTs whose audience is the exact endpoint
 *     resource (`<url>/mcp` or `<url>/mcp/<server>`), 15 minutes by default; revocation.
 * Its state (grants, codes, tokens, registered clients) is in identity.db; its signing key and cookie
 * secret in `<dataDir>/oauth-secrets.json` (0600).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecretSource } from '../config/secrets.ts';
import { resolveValue } from '../config/secrets.ts';
import type { TrustedIssuer } from './resource-server.ts';
import type { IdentityConfig } from './schema.ts';
import type { IdentityStore } from './store.ts';

type EmbeddedConfig = NonNullable<IdentityConfig['embedded']>;

/** The client secret an agent presented, checked against its hash, for the duration of one request. */
const presented = new AsyncLocalStorage<{ clientId: string; secret: string; method: string }>();

/** Failed sign-ins allowed per address and user name within the lockout window, then a lockout. */
const LOGIN_ATTEMPTS = 5;
const LOGIN_LOCKOUT_MS = 15 * 60_000;

/** Counts failed sign-ins per (address, user name); a source over the limit is locked out for a while. */
export class LoginFailures {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #sources = new Map<string, { count: number; since: number }>();

  constructor(limit: number, windowMs: number, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Milliseconds the source stays locked out (0: it may try). */
  lockedFor(source: string): number {
    const entry = this.#sources.get(source);
    if (!entry) return 0;
    const left = entry.since + this.#windowMs - this.#now();
    if (left <= 0) {
      this.#sources.delete(source);
      return 0;
    }
    return entry.count >= this.#limit ? left : 0;
  }

  fail(source: string): void {
    if (this.#sources.size >= 100_000) this.#sources.clear();
    const entry = this.#sources.get(source);
    if (entry && entry.since + this.#windowMs > this.#now()) entry.count += 1;
    else this.#sources.set(source, { count: 1, since: this.#now() });
  }

  succeed(source: string): void {
    this.#sources.delete(source);
  }
}

const OAUTH_PREFIXES = ['/oauth/', '/interaction/', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

export class EmbeddedAuthorizationServer {
  readonly issuer: string;
  readonly trusted: TrustedIssuer;
  readonly #provider: Provider;
  readonly #handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly #store: IdentityStore;
  readonly #users: EmbeddedConfig['users'];
  readonly #secrets: SecretSource;
  readonly #logger: Logger;
  readonly #failures = new LoginFailures(LOGIN_ATTEMPTS, LOGIN_LOCKOUT_MS);

  private constructor(issuer: string, provider: Provider, publicJwks: { keys: JWK[] }, store: IdentityStore, config: EmbeddedConfig, secrets: SecretSource, logger: Logger) {
    this.issuer = issuer;
    this.#provider = provider;
    this.#handler = provider.callback();
    this.#store = store;
    this.#users = config.users;
    this.#secrets = secrets;
    this.#logger = logger;
    this.trusted = {
      config: { issuer, algorithms: ['ES256'], clockSkewSeconds: 30, agentClaim: ['client_id', 'azp'], rolesClaim: 'roles' },
      keys: createLocalJWKSet(publicJwks),
    };
  }

  static async create(options: {
    issuer: string;
    config: EmbeddedConfig;
    store: IdentityStore;
    dataDir: string;
    /** Resource URIs tokens may be minted for, and the scopes of each. */
    resources: () => { uris: string[]; scopes: string[] };
    secrets: SecretSource;
    logger: Logger;
  }): Promise<EmbeddedAuthorizationServer> {
    const { issuer, config, store, logger } = options;
    const secrets = await loadSecrets(join(options.dataDir, 'oauth-secrets.json'));
    const publicJwk = { ...secrets.signingKey };
    delete publicJwk.d;
    const users = new Map(config.users.map((u) => [u.username, u]));
    // Loaded only when the embedded server is on: it is the heaviest dependency (~250 ms to import).
    const { default: ProviderClass, errors: oidcErrors } = await import('oidc-provider');

    const provider = new ProviderClass(issuer, {
      adapter: sqliteAdapter(store),
      jwks: { keys: [secrets.signingKey] },
      cookies: { keys: [secrets.cookieKey] },
      findAccount: async (_ctx: unknown, id: string) => (users.has(id) ? { accountId: id, claims: async () => ({ sub: id }) } : undefined),
      routes: {
        authorization: '/oauth/authorize',
        token: '/oauth/token',
        jwks: '/oauth/jwks',
        registration: '/oauth/register',
        revocation: '/oauth/revoke',
        userinfo: '/oauth/userinfo',
        end_session: '/oauth/logout',
        introspection: '/oauth/introspect',
        pushed_authorization_request: '/oauth/par',
        challenge: '/oauth/challenge',
        backchannel_authentication: '/oauth/backchannel',
        code_verification: '/oauth/device',
        device_authorization: '/oauth/device/auth',
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      responseTypes: ['code'],
      pkce: { required: () => true },
      // Resource scopes too: clients (the MCP SDK among them) register the scopes they will ask for.
      scopes: [...new Set(['openid', 'offline_access', ...options.resources().scopes])],
      clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', id_token_signed_response_alg: 'ES256' },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        registration: { enabled: config.registration },
        revocation: { enabled: true },
        introspection: { enabled: true },
        clientIdMetadataDocument: { enabled: config.cimd, ack: 'draft-02' },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf?.[0] ?? options.resources().uris[0],
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, resource: string, client: { clientId: string }) => {
            const { uris, scopes } = options.resources();
            if (!uris.includes(resource)) throw new oidcErrors.InvalidTarget(`this server issues tokens only for ${uris.join(', ')}`);
            // An agent's credential may ask only for the scopes it was created with.
            const agent = store.agentByClientId(client.clientId);
            const allowed = agent ? scopes.filter((s) => agent.scopes.includes(s)) : scopes;
            return { scope: allowed.join(' '), audience: resource, accessTokenTTL: config.accessTokenTtlSeconds, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
          },
        },
      },
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: true,
      ttl: {
        AccessToken: config.accessTokenTtlSeconds,
        ClientCredentials: config.accessTokenTtlSeconds,
        AuthorizationCode: 60,
        RefreshToken: config.refreshTokenTtlSeconds,
        Grant: config.refreshTokenTtlSeconds,
        Interaction: 600,
        Session: 3600,
      },
      extraTokenClaims: async (_ctx: unknown, token: { accountId?: string }) => {
        const roles = token.accountId ? users.get(token.accountId)?.roles : undefined;
        return roles && roles.length > 0 ? { roles } : undefined;
      },
      renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
        ctx.type = 'html';
        ctx.body = page('Sign-in failed', `<p>${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p>`);
      },
    });
    provider.on('server_error', (_ctx: unknown, error: unknown) => logger.error({ err: error }, 'authorization server error'));
    provider.on('grant.error', (_ctx: unknown, error: unknown) => logger.info({ err: (error as Error).message, detail: (error as { error_detail?: string }).error_detail }, 'authorization server refused a token request'));
    return new EmbeddedAuthorizationServer(issuer, provider, { keys: [publicJwk] }, store, config, options.secrets, logger);
  }

  /** Whether a request path belongs to the authorization server (or its login pages). */
  handles(path: string): boolean {
    return OAUTH_PREFIXES.some((p) => path === p || path.startsWith(p));
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path.startsWith('/interaction/')) return this.#interaction(req, res, path);
    // RFC 8414 clients look here first; the OpenID metadata is the same document.
    if (path === '/.well-known/oauth-authorization-server') req.url = '/.well-known/openid-configuration';
    if (req.method === 'POST' && path === '/oauth/register') {
      // A registered `scope` would cap later requests (the MCP SDK registers the challenge's scope, then
      // asks for more on step-up). What a client gets is decided by the user's consent and the
      // resource's scopes, so the registered list is dropped.
      const body = await readBody(req, 64 * 1024);
      if (body === undefined) return void res.writeHead(413).end();
      let metadata: unknown;
      try {
        metadata = JSON.parse(body);
      } catch {
        metadata = undefined;
      }
      if (metadata && typeof metadata === 'object' && !Array.isArray(metadata)) delete (metadata as Record<string, unknown>).scope;
      (req as IncomingMessage & { body?: string }).body = metadata === undefined ? body : JSON.stringify(metadata);
    }
    if (req.method === 'POST' && (path === '/oauth/token' || path === '/oauth/revoke' || path === '/oauth/introspect')) {
      const body = await readBody(req, 64 * 1024);
      if (body === undefined) return void res.writeHead(413).end();
      (req as IncomingMessage & { body?: string }).body = body;
      const agent = agentCredentials(req, body);
      if (agent && this.#store.checkAgentSecret(agent.clientId, agent.secret)) {
        return presented.run(agent, () => this.#handler(req, res));
      }
    }
    this.#handler(req, res);
  }

  async #interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const send = (status: number, html: string): void => {
      res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        'cache-control': 'no-store',
        'x-frame-options': 'DENY',
      });
      res.end(html);
    };
    let details;
    try {
      details = await this.#provider.interactionDetails(req, res);
    } catch {
      return send(400, page('Sign-in expired', '<p>This sign-in link is no longer valid. Start again from your client.</p>'));
    }
    const uid = escapeHtml(details.uid);
    const action = path.split('/')[3];
    if (req.method === 'GET') {
      if (details.prompt.name === 'login') return send(200, loginForm(uid));
      const client = await this.#provider.Client.find(String(details.params.client_id));
      return send(200, consentForm(uid, client?.clientName ?? String(details.params.client_id), details));
    }
    if (req.method !== 'POST') return send(405, page('Not allowed', ''));
    const form = new URLSearchParams((await readBody(req, 16 * 1024)) ?? '');
    if (action === 'login') {
      const username = form.get('username') ?? '';
      const source = `${req.socket.remoteAddress ?? '?'}\u0000${username.slice(0, 64)}`;
      const lockedFor = this.#failures.lockedFor(source);
      if (lockedFor > 0) {
        this.#logger.warn({ username: username.slice(0, 64), address: req.socket.remoteAddress }, 'embedded authorization server: login refused while locked out');
        return send(429, loginForm(uid, `Too many failed sign-ins. Try again in ${Math.ceil(lockedFor / 60_000)} minutes.`));
      }
      if (!this.#checkPassword(username, form.get('password') ?? '')) {
        this.#failures.fail(source);
        this.#logger.warn({ username: username.slice(0, 64), address: req.socket.remoteAddress }, 'embedded authorization server: failed login');
        return send(401, loginForm(uid, 'Unknown user or wrong password.'));
      }
      this.#failures.succeed(source);
      return this.#provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    }
    if (action === 'abort') {
      return this.#provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user refused' }, { mergeWithLastSubmission: false });
    }
    if (action === 'confirm' && details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      if (!accountId) return send(400, page('Sign-in expired', '<p>Start again from your client.</p>'));
      const grant = (details.grantId ? await this.#provider.Grant.find(details.grantId) : undefined) ?? new this.#provider.Grant({ accountId, clientId: String(details.params.client_id) });
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      for (const [resource, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
      const grantId = await grant.save();
      return this.#provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return send(400, page('Unexpected step', '<p>Start again from your client.</p>'));
  }

  #checkPassword(username: string, password: string): boolean {
    const user = this.#users.find((u) => u.username === username);
    const expected = user ? resolveValue(user.password, this.#secrets) : undefined;
    const wanted = createHash('sha256').update(expected && 'value' in expected ? expected.value : randomBytes(32).toString('hex')).digest();
    const given = createHash('sha256').update(password).digest();
    return timingSafeEqual(wanted, given) && user !== undefined && expected !== undefined && 'value' in expected;
  }
}

/** Client id and secret from HTTP Basic or the form body. */
function agentCredentials(req: IncomingMessage, body: string): { clientId: string; secret: string; method: string } | undefined {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)), method: 'client_secret_basic' };
  }
  const form = new URLSearchParams(body);
  const clientId = form.get('client_id');
  const secret = form.get('client_secret');
  return clientId && secret ? { clientId, secret, method: 'client_secret_post' } : undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function loadSecrets(path: string): Promise<{ signingKey: JWK; cookieKey: string }> {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as { signingKey: JWK; cookieKey: string };
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' };
  const secrets = { signingKey, cookieKey: randomBytes(32).toString('base64url') };
  writeFileSync(path, `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
  return secrets;
}

/** oidc-provider's storage in identity.db; agent clients come from the agents table. */
function sqliteAdapter(store: IdentityStore) {
  const db = store.db;
  return class SqliteAdapter {
    readonly model: string;
    constructor(model: string) {
      this.model = model;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      db.prepare('INSERT OR REPLACE INTO oauth (model, id, payload, expires_at, grant_id, uid, user_code) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        this.model,
        id,
        JSON.stringify(payload),
        expiresIn ? Date.now() + expiresIn * 1000 : null,
        (payload.grantId as string | undefined) ?? null,
        (payload.uid as string | undefined) ?? null,
        (payload.userCode as string | undefined) ?? null,
      );
    }
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (this.model === 'Client') {
        const agent = store.agentByClientId(id);
        if (agent) {
          if (agent.revokedAt) return undefined;
          const live = presented.getStore();
          return {
            client_id: agent.clientId,
            // Only a request whose secret matched the stored hash sees it; any other sees noise.
            client_secret: live?.clientId === id ? live.secret : randomBytes(32).toString('base64url'),
            token_endpoint_auth_method: live?.clientId === id ? live.method : 'client_secret_basic',
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            client_name: `agent ${agent.name}`,
            id_token_signed_response_alg: 'ES256',
          };
        }
      }
      return this.#row('SELECT payload, expires_at, consumed_at FROM oauth WHERE model = ? AND id = ?', id);
    }
    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return this.#row('SELECT payload, expires_at, consumed_at FROM oauth WHERE model = ? AND uid = ?', uid);
    }
    async findByUserCode(code: string): Promise<Record<string, unknown> | undefined> {
      return this.#row('SELECT payload, expires_at, consumed_at FROM oauth WHERE model = ? AND user_code = ?', code);
    }
    async consume(id: string): Promise<void> {
      db.prepare('UPDATE oauth SET consumed_at = ? WHERE model = ? AND id = ?').run(Math.floor(Date.now() / 1000), this.model, id);
    }
    async destroy(id: string): Promise<void> {
      db.prepare('DELETE FROM oauth WHERE model = ? AND id = ?').run(this.model, id);
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      db.prepare('DELETE FROM oauth WHERE grant_id = ?').run(grantId);
    }
    #row(sql: string, key: string): Record<string, unknown> | undefined {
      const row = db.prepare(sql).get(this.model, key) as { payload: string; expires_at: number | null; consumed_at: number | null } | undefined;
      if (!row) return undefined;
      if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
      const payload = JSON.parse(row.payload) as Record<string, unknown>;
      return row.consumed_at === null ? payload : { ...payload, consumed: row.consumed_at };
    }
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)} · Portcullis</title>
<style>body{font:16px system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0}input{width:100%;padding:.4rem;font:inherit}button{padding:.5rem 1rem;font:inherit;margin-right:.5rem}.err{color:#b00020}code{background:#eee;padding:0 .2rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function loginForm(uid: string, error?: string): string {
  return page(
    'Sign in to Portcullis',
    `${error ? `<p class="err">${escapeHtml(error)}</p>` : ''}<form method="post" action="/interaction/${uid}/login" autocomplete="off">
<label>User <input name="username" required autofocus></label><label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button></form>`,
  );
}

function consentForm(uid: string, client: string, details: { prompt: { details: Record<string, unknown> } }): string {
  const d = details.prompt.details as { missingResourceScopes?: Record<string, string[]> };
  const items = Object.entries(d.missingResourceScopes ?? {})
    .map(([resource, scopes]) => `<li><code>${escapeHtml(resource)}</code>${scopes.length ? `: ${scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}` : ''}</li>`)
    .join('');
  return page(
    'Allow access?',
    `<p><strong>${escapeHtml(client)}</strong> asks to call MCP tools through Portcullis on your behalf.</p>${items ? `<ul>${items}</ul>` : ''}
<form method="post" action="/interaction/${uid}/confirm" style="display:inline"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${uid}/abort" style="display:inline"><button type="submit">Deny</button></form>`,
  );
}
