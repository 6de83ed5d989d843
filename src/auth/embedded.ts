/**
 * The embedded OAuth 2.1 authorization server (oidc-provider), for zero-config and small teams. It is
 * the issuer at the gateway's public URL and serves:
 *   - authorization code + PKCE (S256, required for every client) with a minimal sign-in and consent
 *     page for the users the config lists; no implicit flow;
 *   - client credentials only for the agents an administrator created (`portcullis agent add`: one
 *     credential per agent, only its hash stored; the secret is checked here before oidc-provider sees
 *     the request) — never for a client that registered itself;
 *   - refresh tokens, rotated on every use (reuse of a rotated token revokes the grant);
 *   - RFC 7591 dynamic registration by mode (open | admin | off; see registration.ts) and Client ID
 *     Metadata Documents (open mode only);
 *   - RFC 8707 resource indicators: access tokens whose audience is the exact endpoint resource
 *     (`<url>/mcp` or `<url>/mcp/<server>`), 15 minutes by default, with scopes capped by what the user's
 *     roles (or the agent) allow;
 *   - RFC 7009 revocation that takes effect on the next request, also for JWT access tokens (by `jti`),
 *     and sign-out (which revokes every grant of the user): the resource server asks `check` on every
 *     request whether the token's jti and grant still stand.
 * Its state (grants, codes, tokens, registered clients) is in identity.db, secret ids by hash; its signing
 * key and cookie secret in `<dataDir>/oauth-secrets.json` (0600).
 */
import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { JWK, JWTVerifyGetKey } from 'jose';
import { jose } from './jose.ts';
import type { TokenIdSource } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SecretSource } from '../config/secrets.ts';
import { resolveValue } from '../config/secrets.ts';
import { ensurePrivateFile, writePrivateFile } from '../util/private-files.ts';
import { LoginFailures } from './login-failures.ts';
import { createOAuthAdapter, presentedAgent } from './oauth-adapter.ts';
import { consentForm, escapeHtml, loginForm, logoutPage, page, pageHeaders } from './pages.ts';
import { isPublicCodeClient, publicClientMetadata, redirectUriProblem } from './registration.ts';
import type { AuthFailure, TrustedIssuer } from './resource-server.ts';
import type { EmbeddedConfig } from './schema.ts';
import { OWN_OPAQUE_PREFIX } from './token-prefixes.ts';
import { createScopeCaps, type ScopeCaps } from './scope-caps.ts';
import type { IdentityStore } from './store.ts';

const OAUTH_PREFIXES = ['/oauth/', '/interaction/', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];
/** The claim naming the grant an access token was minted under (checked on every request). */
export const GRANT_CLAIM = 'gid';
/** Grant types the token endpoint serves; anything else is refused before oidc-provider sees it. */
const TOKEN_GRANTS = new Set(['authorization_code', 'refresh_token', 'client_credentials']);
const OIDC_SCOPES = new Set(['openid', 'offline_access']);
/**
 * The gateway's own client for signing a browser in to the URL-mode approval page (approvals/url-page.ts):
 * it asks for `openid` alone, is granted that without a consent page, and its code is never exchanged
 * (the PKCE verifier is not kept), so it yields a signed-in browser session and no token.
 */
export const APPROVAL_PAGE_CLIENT_ID = 'portcullis-approval-page';
/** Where the approval page's sign-in comes back to (under the issuer). */
export const APPROVAL_SIGNED_IN_PATH = '/approvals/signed-in';
/**
 * How long the approval page's grant lives: the length of one sign-in (its code lives 60 s). It is
 * deleted as soon as the sign-in comes back (`forgetApprovalSignIn`); one whose browser never came
 * back expires and is purged with the store's other expired rows.
 */
const APPROVAL_GRANT_SECONDS = 600;
/** Client addresses whose registrations are counted at once (a flood of addresses cannot grow memory). */
const MAX_REGISTRATION_ADDRESSES = 10_000;

export class EmbeddedAuthorizationServer {
  readonly issuer: string;
  readonly trusted: TrustedIssuer;
  /**
   * oidc-provider is the heaviest dependency (tens of MB resident, ~250 ms to import): it is loaded and
   * the provider built on the first request that needs it (a sign-in, a token request, the metadata,
   * an opaque token's introspection), not at start. Tokens it issued are checked without it.
   */
  readonly #build: () => Promise<Provider>;
  #provider: Provider | undefined;
  #building: Promise<Provider> | undefined;
  #handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  readonly #store: IdentityStore;
  readonly #config: EmbeddedConfig;
  readonly #caps: ScopeCaps;
  readonly #keys: JWTVerifyGetKey;
  readonly #secrets: SecretSource;
  readonly #logger: Logger;
  readonly #failures: LoginFailures;
  /** Open registrations per client address in the current minute (see #registrationRefused). */
  readonly #registrations = new Map<string, { startMs: number; count: number }>();
  /** Open registrations refused (per address rate, store full) and registered clients deleted to make room (/metrics). */
  readonly registrationCounters = { refusedRate: 0, refusedFull: 0, evicted: 0 };

  private constructor(issuer: string, build: () => Promise<Provider>, publicJwks: { keys: JWK[] }, store: IdentityStore, config: EmbeddedConfig, baseScopes: readonly string[], secrets: SecretSource, logger: Logger) {
    this.issuer = issuer;
    this.#build = build;
    this.#store = store;
    this.#config = config;
    this.#caps = createScopeCaps(config, baseScopes);
    this.#secrets = secrets;
    this.#logger = logger;
    // The key set is made when the first token is checked (jose loads then; see ./jose.ts).
    let local: JWTVerifyGetKey | undefined;
    this.#keys = async (header, token) => (local ??= (await jose()).createLocalJWKSet(publicJwks))(header, token);
    this.#failures = new LoginFailures({ perSource: config.loginAttempts, perUser: config.userLoginAttempts, windowMs: config.lockoutMinutes * 60_000 });
    this.trusted = {
      config: { issuer, algorithms: ['ES256'], clockSkewSeconds: 30, agentClaim: ['client_id', 'azp'], rolesClaim: 'roles', accessTokenType: 'at+jwt' },
      keys: this.#keys,
      check: (claims) => this.#check(claims),
      introspect: config.accessTokenFormat === 'opaque' ? (token) => this.#introspect(token) : undefined,
    };
  }

  static async create(options: {
    issuer: string;
    config: EmbeddedConfig;
    store: IdentityStore;
    dataDir: string;
    /** Resource URIs tokens may be minted for, and the scopes of each. */
    resources: () => { uris: string[]; scopes: string[] };
    /** identity.scopes: every listed user may hold them. */
    baseScopes: readonly string[];
    secrets: SecretSource;
    logger: Logger;
  }): Promise<EmbeddedAuthorizationServer> {
    const { issuer, config, store, logger } = options;
    const secrets = await loadSecrets(join(options.dataDir, 'oauth-secrets.json'));
    const publicJwk = { ...secrets.signingKey };
    delete publicJwk.d;
    const users = new Map(config.users.map((u) => [u.username, u]));
    const caps = createScopeCaps(config, options.baseScopes);
    const open = config.registration === 'open';
    const build = async (): Promise<Provider> => {
      // Loaded only when first needed (see #build): it is the heaviest dependency (~250 ms to import).
      const { default: ProviderClass, errors: oidcErrors, interactionPolicy } = await import('oidc-provider');
      // No silent sign-in: every authorization (consent of a client, the approval page's sign-in) asks
      // for the password within that very interaction. The session cookie is a host cookie, and
      // browsers send it to every port of the host (RFC 6265 §8.5): another local listener the browser
      // visits gets it, so it must never be enough to act as the user.
      const policy = interactionPolicy.base();
      policy.get('login')!.checks.add(new interactionPolicy.Check('fresh_sign_in', 'sign in for this authorization', (ctx: { oidc: { result?: { login?: unknown } } }) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT)), 0);

      const provider = new ProviderClass(issuer, {
        adapter: createOAuthAdapter(store),
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
        interactions: { policy, url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
        clients: [
          {
            client_id: APPROVAL_PAGE_CLIENT_ID,
            client_name: 'Portcullis approval page',
            redirect_uris: [`${issuer.replace(/\/$/, '')}${APPROVAL_SIGNED_IN_PATH}`],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
            id_token_signed_response_alg: 'ES256',
          },
        ],
        // The approval page's own client needs no consent: it is granted `openid` alone (see
        // APPROVAL_PAGE_CLIENT_ID). Every other client gets oidc-provider's default: the grant the
        // user consented to in this session, if any.
        loadExistingGrant: async (ctx: GrantContext) => {
          const clientId = ctx.oidc.client?.clientId;
          const grantId = ctx.oidc.result?.consent?.grantId ?? (clientId ? ctx.oidc.session?.grantIdFor(clientId) : undefined);
          const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
          // The page's own grant is deleted once its sign-in is over: a session naming it gets a new one.
          if (existing || (grantId && clientId !== APPROVAL_PAGE_CLIENT_ID)) return existing;
          const accountId = ctx.oidc.session?.accountId;
          if (clientId !== APPROVAL_PAGE_CLIENT_ID || !accountId) return undefined;
          const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
          grant.addOIDCScope('openid');
          await grant.save();
          return grant;
        },
        responseTypes: ['code'],
        pkce: { required: () => true },
        // Only the OpenID scopes at this level: resource scopes come from getResourceServerInfo, capped per
        // user, so a scope the user may not hold is dropped from the request instead of asked for.
        scopes: ['openid', 'offline_access'],
        clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', id_token_signed_response_alg: 'ES256' },
        features: {
          devInteractions: { enabled: false },
          clientCredentials: { enabled: true },
          registration: { enabled: open },
          // A client revokes only its own tokens; introspection of another client's token only by an
          // agent (an administrator's credential, e.g. a resource server), never by a public client.
          revocation: { enabled: true, allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId },
          introspection: {
            enabled: true,
            allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId || store.agentByClientId(client.clientId) !== undefined,
          },
          rpInitiatedLogout: {
            enabled: true,
            logoutSource: async (ctx: { type: string; body: string }, form: string) => {
              ctx.type = 'html';
              ctx.body = logoutPage(form);
            },
            postLogoutSuccessSource: async (ctx: { type: string; body: string }) => {
              ctx.type = 'html';
              ctx.body = page('Signed out', '<p>You are signed out; the tokens issued for your account are revoked.</p>');
            },
          },
          clientIdMetadataDocument: {
            enabled: open && config.cimd,
            ack: 'draft-02',
            allowFetch: async (_ctx: unknown, clientId: string) => metadataUrlAllowed(clientId),
            // A metadata document is a registration by URL: it gets what an open registration gets.
            allowClient: async (_ctx: unknown, client: Parameters<typeof isPublicCodeClient>[0]) => isPublicCodeClient(client),
          },
          resourceIndicators: {
            enabled: true,
            // The approval page's client asks for no resource: its sign-in mints nothing for /mcp.
            defaultResource: async (_ctx: unknown, client: { clientId: string }, oneOf?: string[]) =>
              client.clientId === APPROVAL_PAGE_CLIENT_ID ? undefined : (oneOf?.[0] ?? options.resources().uris[0]),
            useGrantedResource: async () => true,
            getResourceServerInfo: async (ctx: OidcContext, resource: string, client: { clientId: string }) => {
              const { uris, scopes } = options.resources();
              if (client.clientId === APPROVAL_PAGE_CLIENT_ID) throw new oidcErrors.InvalidTarget('the approval page\'s sign-in is for no resource');
              if (!uris.includes(resource)) throw new oidcErrors.InvalidTarget(`this server issues tokens only for ${uris.join(', ')}`);
              return {
                scope: allowedScopes(ctx, client.clientId, scopes, store, caps).join(' '),
                audience: resource,
                accessTokenTTL: config.accessTokenTtlSeconds,
                accessTokenFormat: config.accessTokenFormat,
                ...(config.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'ES256' } } } : {}),
              };
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
          Grant: (_ctx: unknown, grant: { clientId?: string }) => (grant.clientId === APPROVAL_PAGE_CLIENT_ID ? APPROVAL_GRANT_SECONDS : config.refreshTokenTtlSeconds),
          Interaction: 600,
          Session: 3600,
        },
        extraTokenClaims: async (_ctx: unknown, token: { accountId?: string; grantId?: string }) => {
          const roles = token.accountId ? users.get(token.accountId)?.roles : undefined;
          return {
            ...(roles && roles.length > 0 ? { roles } : {}),
            // The resource server refuses a token whose grant was revoked (revocation, sign-out, refresh reuse).
            ...(token.grantId ? { [GRANT_CLAIM]: token.grantId } : {}),
          };
        },
        renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
          ctx.type = 'html';
          ctx.body = page('Sign-in failed', `<p>${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p>`);
        },
      });
      // Opaque tokens of this server begin with OWN_OPAQUE_PREFIX (the value of an opaque token is its
      // id), so the resource server knows them for its own even once revoked or expired and never
      // sends one to another issuer's introspection endpoint.
      for (const model of [provider.AccessToken, provider.ClientCredentials, provider.RefreshToken]) {
        const generate = model.prototype.generateTokenId;
        model.prototype.generateTokenId = function prefixedTokenId(this: TokenIdSource): string {
          return `${OWN_OPAQUE_PREFIX}${generate.call(this)}`;
        };
      }
      provider.on('server_error', (_ctx: unknown, error: unknown) => logger.error({ err: error }, 'authorization server error'));
      provider.on('grant.error', (_ctx: unknown, error: unknown) => logger.info({ err: (error as Error).message, detail: (error as { error_detail?: string }).error_detail }, 'authorization server refused a token request'));
      provider.on('end_session.success', (ctx: unknown) => {
        // Sign-out ends more than the browser session: every grant of the user goes, so every access and
        // refresh token issued for them is refused from the next request (oidc-provider alone keeps
        // offline_access grants and JWTs until they expire).
        const accountId = (ctx as OidcContext).oidc?.session?.accountId;
        if (!accountId) return;
        const revoked = store.revokeAccount(accountId);
        logger.info({ account: accountId, grants: revoked }, 'user signed out: every grant revoked');
      });
      return provider;
    };
    return new EmbeddedAuthorizationServer(issuer, build, { keys: [publicJwk] }, store, config, options.baseScopes, options.secrets, logger);
  }

  /** The provider, built on first use; a failed build is retried by the next request. */
  #ready(): Promise<Provider> {
    if (this.#provider) return Promise.resolve(this.#provider);
    this.#building ??= this.#build().then(
      (provider) => {
        this.#provider = provider;
        this.#handler = provider.callback();
        return provider;
      },
      (error: unknown) => {
        this.#building = undefined;
        this.#logger.error({ err: error }, 'the embedded authorization server could not be started');
        throw error;
      },
    );
    return this.#building;
  }

  /**
   * The approval page's sign-in came back with `code`: the user who signed in for it (typing the
   * password in that very sign-in: no silent sign-in, see `fresh_sign_in`), when the code is a live code
   * of the approval page's own client; undefined otherwise. The grant it was issued under (and the code,
   * which is never exchanged) are deleted, so a code answers once and sign-ins leave no grant behind.
   * Codes of other clients are left alone.
   */
  forgetApprovalSignIn(code: string): string | undefined {
    const found = this.#store.oauthFind('AuthorizationCode', code);
    if (found?.clientId !== APPROVAL_PAGE_CLIENT_ID || typeof found.grantId !== 'string') return undefined;
    this.#store.oauthRevokeGrant(found.grantId);
    return typeof found.accountId === 'string' && found.consumed === undefined ? found.accountId : undefined;
  }

  /**
   * Where to send a signed-out browser so that it signs in and comes back to APPROVAL_SIGNED_IN_PATH
   * with `state`: an authorization request of the approval page's own client (see APPROVAL_PAGE_CLIENT_ID).
   * Relative to the issuer's origin.
   */
  approvalSignInPath(state: string): string {
    const query = new URLSearchParams({
      client_id: APPROVAL_PAGE_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${this.issuer.replace(/\/$/, '')}${APPROVAL_SIGNED_IN_PATH}`,
      state,
      // PKCE is required of every client; the verifier is dropped, so this code can never be exchanged.
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
    });
    return `/oauth/authorize?${query}`;
  }

  /** Whether a request path belongs to the authorization server (or its login pages). */
  handles(path: string): boolean {
    return OAUTH_PREFIXES.some((p) => path === p || path.startsWith(p));
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    await this.#ready();
    // No page of the authorization server may be framed (clickjacking, redteam-b B3): the sign-in,
    // consent and sign-out pages each have one button that acts as the user. Set before oidc-provider
    // answers, so the pages it renders itself (sign-out, its success and error pages) carry them too.
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('content-security-policy', "frame-ancestors 'none'");
    if (path.startsWith('/interaction/')) return this.#interaction(req, res, path);
    // RFC 8414 clients look here first; the OpenID metadata is the same document.
    if (path === '/.well-known/oauth-authorization-server') req.url = '/.well-known/openid-configuration';
    if (req.method === 'POST' && path === '/oauth/register') return this.#register(req, res);
    if (req.method === 'POST' && path === '/oauth/logout/confirm') return this.#confirmSignOut(req, res);
    if (req.method === 'POST' && (path === '/oauth/token' || path === '/oauth/revoke' || path === '/oauth/introspect')) {
      const body = await readBody(req, 64 * 1024);
      if (body === undefined) return void res.writeHead(413).end();
      (req as IncomingMessage & { body?: string }).body = body;
      const claimed = agentCredentials(req, body);
      const agent = claimed && this.#store.checkAgentSecret(claimed.clientId, claimed.secret) ? claimed : undefined;
      if (path === '/oauth/token') {
        const refused = this.#tokenRequestProblem(body, agent !== undefined);
        if (refused) return oauthError(res, refused.status, refused.error, refused.description);
      }
      if (path === '/oauth/revoke' && (await isJwt(new URLSearchParams(body).get('token')))) return this.#revokeJwt(res, body, claimed, agent !== undefined);
      if (agent) return presentedAgent.run(agent, () => this.#handler!(req, res));
    }
    this.#handler!(req, res);
  }

  /**
   * Sign-out revokes every grant of the user, so it needs the user's password, not only the session
   * cookie (which any other port of the host may have been sent: redteam-b B12). Failures count toward
   * the sign-in lockout. "Stay signed in" (no `logout` field) and a browser with no session go on.
   */
  async #confirmSignOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 16 * 1024);
    if (body === undefined) return void res.writeHead(413).end();
    const form = new URLSearchParams(body);
    const provider = await this.#ready();
    const session = await (provider as unknown as { Session: { get(ctx: unknown): Promise<{ accountId?: unknown }> } }).Session.get({ req, res });
    const account = typeof session.accountId === 'string' ? session.accountId : undefined;
    if (form.get('logout') && account) {
      const address = req.socket.remoteAddress ?? '?';
      const refuse = (status: number, message: string): void => {
        res.writeHead(status, pageHeaders());
        res.end(page('Not signed out', `<p class="err" role="alert">${escapeHtml(message)}</p><p><a href="/oauth/logout">Try again</a></p>`));
      };
      const lockedFor = this.#failures.lockedFor(address, account);
      if (lockedFor > 0) return refuse(429, `Too many failed sign-ins. Try again in ${Math.ceil(lockedFor / 60_000)} minutes.`);
      if (!this.#checkPassword(account, form.get('password') ?? '')) {
        this.#failures.fail(address, account);
        this.#logger.warn({ username: account, address }, 'embedded authorization server: sign-out refused, wrong password');
        return refuse(401, 'Wrong password: you are still signed in.');
      }
      this.#failures.succeed(address, account);
    }
    form.delete('password');
    (req as IncomingMessage & { body?: string }).body = form.toString();
    this.#handler!(req, res);
  }

  /**
   * Open registration's bounds (redteam-b B4): valid registrations per client address per minute (fixed window,
   * at most MAX_REGISTRATION_ADDRESSES addresses remembered, the oldest forgotten first), and the number
   * of self-registered clients stored. Whether the request was refused (and answered).
   */
  #registrationRefused(req: IncomingMessage, res: ServerResponse): boolean {
    const address = req.socket.remoteAddress ?? '?';
    const now = Date.now();
    let window = this.#registrations.get(address);
    if (!window || now - window.startMs >= 60_000) {
      this.#registrations.delete(address);
      if (this.#registrations.size >= MAX_REGISTRATION_ADDRESSES) this.#registrations.delete(this.#registrations.keys().next().value as string);
      window = { startMs: now, count: 0 };
      this.#registrations.set(address, window);
    }
    window.count += 1;
    if (window.count > this.#config.registrationsPerMinute) {
      this.registrationCounters.refusedRate += 1;
      if (window.count === this.#config.registrationsPerMinute + 1) this.#logger.warn({ address, perMinute: this.#config.registrationsPerMinute }, 'dynamic client registration: rate limit reached for this address');
      res.setHeader('retry-after', String(Math.max(1, Math.ceil((window.startMs + 60_000 - now) / 1000))));
      oauthError(res, 429, 'temporarily_unavailable', `too many registrations from this address (identity.embedded.registrationsPerMinute: ${this.#config.registrationsPerMinute}); retry later`);
      return true;
    }
    const room = this.#store.registeredClientCount() - this.#config.maxRegisteredClients + 1;
    if (room > 0) {
      const evicted = this.#store.evictUnusedClients(room);
      this.registrationCounters.evicted += evicted;
      if (evicted > 0) this.#logger.info({ evicted, max: this.#config.maxRegisteredClients }, 'dynamic client registration: the oldest unused registered clients were deleted to make room');
      if (evicted < room) {
        this.registrationCounters.refusedFull += 1;
        this.#logger.warn({ address, max: this.#config.maxRegisteredClients }, 'dynamic client registration refused: every stored registered client holds a grant');
        oauthError(res, 429, 'temporarily_unavailable', `the gateway holds its most self-registered clients (identity.embedded.maxRegisteredClients: ${this.#config.maxRegisteredClients}), each with a grant; an administrator can sign users out or raise the limit`);
        return true;
      }
    }
    return false;
  }

  /** RFC 7591 registration, by mode; what an open registration may hold is in registration.ts. */
  async #register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const mode = this.#config.registration;
    if (mode !== 'open') {
      this.#logger.info({ address: req.socket.remoteAddress, mode }, 'dynamic client registration refused');
      return oauthError(res, 403, 'access_denied', mode === 'admin' ? 'clients are registered by an administrator here (identity.embedded.registration: admin): portcullis client add' : 'client registration is off here (identity.embedded.registration: off)');
    }
    const body = await readBody(req, 64 * 1024);
    if (body === undefined) return void res.writeHead(413).end();
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return oauthError(res, 400, 'invalid_client_metadata', 'the body must be JSON client metadata (RFC 7591 §2)');
    }
    const checked = publicClientMetadata(parsed);
    if ('error' in checked) {
      this.#logger.info({ address: req.socket.remoteAddress, error: checked.error, why: checked.error_description }, 'dynamic client registration refused');
      return oauthError(res, 400, checked.error, checked.error_description);
    }
    // Counted once valid: a refused registration stores nothing, so it is not what the bounds are for.
    if (this.#registrationRefused(req, res)) return;
    (req as IncomingMessage & { body?: string }).body = JSON.stringify(checked.metadata);
    this.#handler!(req, res);
  }

  /** Grant types the token endpoint refuses before oidc-provider decides anything else. */
  #tokenRequestProblem(body: string, isAgent: boolean): { status: number; error: string; description: string } | undefined {
    const grants = new URLSearchParams(body).getAll('grant_type');
    if (grants.length !== 1) return { status: 400, error: 'invalid_request', description: 'exactly one grant_type is required' };
    const grant = grants[0]!;
    if (!TOKEN_GRANTS.has(grant)) return { status: 400, error: 'unsupported_grant_type', description: `grant_type "${grant}" is not served here; use authorization_code (with PKCE), refresh_token, or client_credentials (agents only)` };
    if (grant === 'client_credentials' && !isAgent) {
      return { status: 401, error: 'invalid_client', description: 'client credentials are issued only to agents an administrator created (portcullis agent add), authenticated with their secret' };
    }
    return undefined;
  }

  /**
   * RFC 7009 for JWT access tokens (oidc-provider refuses to revoke structured tokens): the token's
   * `jti` is recorded as revoked until it expires, and the resource server refuses it from the next
   * request. The client must be the one the token was issued to (public clients by client_id; agents
   * with their secret). An invalid or foreign-issuer token is answered 200, as §2.2 says.
   */
  async #revokeJwt(res: ServerResponse, body: string, claimed: { clientId: string } | undefined, agentVerified: boolean): Promise<void> {
    const form = new URLSearchParams(body);
    const clientId = claimed?.clientId ?? form.get('client_id') ?? undefined;
    if (!clientId) return oauthError(res, 401, 'invalid_client', 'identify the client: client_id (public clients) or the agent\'s credentials');
    const isAgent = this.#store.agentByClientId(clientId) !== undefined;
    if ((isAgent || claimed) && !agentVerified) return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await (await jose()).jwtVerify(form.get('token')!, this.#keys, { issuer: this.issuer, algorithms: ['ES256'] }));
    } catch {
      return void res.writeHead(200, { 'cache-control': 'no-store' }).end();
    }
    if (claims.client_id !== clientId) return oauthError(res, 400, 'invalid_request', 'the token was not issued to this client');
    if (typeof claims.jti === 'string' && typeof claims.exp === 'number') {
      this.#store.revokeToken(claims.jti, claims.exp * 1000);
      this.#logger.info({ client: clientId, jti: claims.jti }, 'access token revoked');
    }
    res.writeHead(200, { 'cache-control': 'no-store' }).end();
  }

  /**
   * Whether a token this server issued still stands, and the scopes it may carry now: not revoked (jti),
   * its grant not revoked or expired (users' tokens), its agent not revoked, its user still configured —
   * and its scopes capped by what that user's roles (or that agent) allow today.
   */
  #check(claims: Record<string, unknown>): { scopes: string[]; roles: string[]; signedIn?: boolean } | AuthFailure {
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (typeof claims.jti === 'string' && this.#store.tokenRevoked(claims.jti)) return { error: 'invalid_token', description: 'the token was revoked' };
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : undefined;
    const agent = clientId ? this.#store.agentByClientId(clientId) : undefined;
    if (agent && claims.sub === clientId) {
      if (agent.revokedAt) return { error: 'invalid_token', description: `agent "${agent.clientId}" was revoked` };
      // `agent add` after `agent revoke` keeps the client id: a token minted under the revoked
      // credential (before this one was created) must not come back to life with it.
      if (typeof claims.iat !== 'number' || claims.iat < Math.floor(Date.parse(agent.createdAt) / 1000)) {
        return { error: 'invalid_token', description: `the token predates agent "${agent.clientId}"'s current credential (it was revoked and issued anew)` };
      }
      return { scopes: scopes.filter((s) => agent.scopes.includes(s)), roles: [] };
    }
    const grantId = claims[GRANT_CLAIM];
    if (typeof grantId !== 'string' || typeof claims.sub !== 'string' || clientId === undefined || !this.#store.grantLive(grantId, claims.sub, clientId)) {
      return { error: 'invalid_token', description: 'the token\'s grant was revoked (revocation, sign-out, or a reused refresh token), has expired, or is not this user\'s grant to this client; authorize again' };
    }
    const capped = typeof claims.sub === 'string' ? this.#caps.forUser(claims.sub, scopes) : undefined;
    if (!capped) return { error: 'invalid_token', description: 'the token\'s user is not configured on this gateway any more' };
    // Roles as configured today (a demoted user loses role-selected rules and approver rights at once).
    // A live grant of a configured user to a client: only the authorization-code flow makes those, with
    // the user signing in on the page.
    return { scopes: capped, roles: this.#caps.rolesOf(claims.sub as string), signedIn: true };
  }

  /** RFC 7662 semantics for this server's own opaque tokens, read in-process (no HTTP round trip). */
  async #introspect(token: string): Promise<Record<string, unknown> | undefined> {
    const found = (await (await this.#ready()).AccessToken.find(token)) ?? (await (await this.#ready()).ClientCredentials.find(token));
    if (!found?.isValid) return undefined;
    return {
      active: true,
      iss: this.issuer,
      sub: found.accountId ?? found.clientId,
      client_id: found.clientId,
      scope: found.scope,
      aud: found.aud,
      exp: found.exp,
      iat: found.iat,
      ...(found.grantId ? { [GRANT_CLAIM]: found.grantId } : {}),
    };
  }

  async #interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    let details: Awaited<ReturnType<Provider['interactionDetails']>> | undefined;
    const send = (status: number, html: string): void => {
      res.writeHead(status, pageHeaders(typeof details?.params.redirect_uri === 'string' ? details.params.redirect_uri : undefined));
      res.end(html);
    };
    try {
      details = await (await this.#ready()).interactionDetails(req, res);
    } catch {
      return send(400, page('Sign-in expired', '<p>This sign-in link is no longer valid. Start again from your client.</p>'));
    }
    const uid = details.uid;
    const action = path.split('/')[3];
    if (req.method === 'GET') {
      if (details.prompt.name === 'login') return send(200, loginForm(uid));
      return send(200, await this.#consentPage(details));
    }
    if (req.method !== 'POST') return send(405, page('Not allowed', ''));
    const form = new URLSearchParams((await readBody(req, 16 * 1024)) ?? '');
    if (action === 'login') {
      const username = (form.get('username') ?? '').slice(0, 64);
      const address = req.socket.remoteAddress ?? '?';
      const lockedFor = this.#failures.lockedFor(address, username);
      if (lockedFor > 0) {
        this.#logger.warn({ username, address }, 'embedded authorization server: login refused while locked out');
        return send(429, loginForm(uid, `Too many failed sign-ins. Try again in ${Math.ceil(lockedFor / 60_000)} minutes.`));
      }
      if (!this.#checkPassword(username, form.get('password') ?? '')) {
        this.#failures.fail(address, username);
        this.#logger.warn({ username, address }, 'embedded authorization server: failed login');
        return send(401, loginForm(uid, 'Unknown user or wrong password.'));
      }
      this.#failures.succeed(address, username);
      return (await this.#ready()).interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    }
    if (action === 'abort') {
      return (await this.#ready()).interactionFinished(req, res, { error: 'access_denied', error_description: 'the user refused' }, { mergeWithLastSubmission: false });
    }
    if (action === 'confirm' && details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      if (!accountId) return send(400, page('Sign-in expired', '<p>Start again from your client.</p>'));
      const grant = (details.grantId ? await (await this.#ready()).Grant.find(details.grantId) : undefined) ?? new (await this.#ready()).Grant({ accountId, clientId: String(details.params.client_id) });
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.filter((s) => OIDC_SCOPES.has(s)).join(' '));
      // What the user grants is capped by their roles, whatever the client asked for; the rest is
      // recorded as rejected, so the consent prompt does not come back for it.
      for (const [resource, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        const allowed = this.#caps.forUser(accountId, scopes) ?? [];
        grant.addResourceScope(resource, allowed.join(' '));
        const refused = scopes.filter((s) => !allowed.includes(s));
        if (refused.length > 0) grant.rejectResourceScope(resource, refused.join(' '));
      }
      const grantId = await grant.save();
      return (await this.#ready()).interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return send(400, page('Unexpected step', '<p>Start again from your client.</p>'));
  }

  async #consentPage(details: Awaited<ReturnType<Provider['interactionDetails']>>): Promise<string> {
    const clientId = String(details.params.client_id);
    const client = await (await this.#ready()).Client.find(clientId);
    const account = details.session?.accountId ?? '';
    const d = details.prompt.details as { missingResourceScopes?: Record<string, string[]> };
    const grants: Record<string, string[]> = {};
    for (const [resource, scopes] of Object.entries(d.missingResourceScopes ?? {})) grants[resource] = this.#caps.forUser(account, scopes) ?? [];
    const asked = String(details.params.scope ?? '').split(' ').filter((s) => s && !OIDC_SCOPES.has(s));
    const allowed = new Set(this.#caps.forUser(account, asked) ?? []);
    return consentForm({
      uid: details.uid,
      account,
      clientName: client?.clientName,
      clientId,
      clientKind: this.#store.client(clientId) ? 'admin' : /^https:/.test(clientId) ? 'metadata-document' : 'dynamic',
      redirectUri: String(details.params.redirect_uri ?? ''),
      grants,
      refused: asked.filter((s) => !allowed.has(s)),
    });
  }

  #checkPassword(username: string, password: string): boolean {
    const user = this.#config.users.find((u) => u.username === username);
    const expected = user ? resolveValue(user.password, this.#secrets) : undefined;
    const wanted = createHash('sha256').update(expected && 'value' in expected ? expected.value : randomBytes(32).toString('hex')).digest();
    const given = createHash('sha256').update(password).digest();
    return timingSafeEqual(wanted, given) && user !== undefined && expected !== undefined && 'value' in expected;
  }
}

/** The part of oidc-provider's request context loadExistingGrant reads. */
interface GrantContext {
  oidc: {
    client?: { clientId: string };
    result?: { consent?: { grantId?: string } };
    session?: { accountId?: string; grantIdFor(clientId: string): string | undefined };
    provider: Provider;
  };
}

/** The part of oidc-provider's request context the hooks read. */
interface OidcContext {
  oidc?: { entities?: { Grant?: { accountId?: string } }; session?: { accountId?: string }; route?: string };
}

/**
 * The scopes a token for this client may carry: an agent's own; a user's capped by their roles once the
 * user is known (at the token endpoint from the grant, at the authorization endpoint from the session);
 * before sign-in every scope, so the consent prompt can name what was asked (consent caps it again).
 */
function allowedScopes(ctx: OidcContext, clientId: string, scopes: string[], store: IdentityStore, caps: ScopeCaps): string[] {
  const agent = store.agentByClientId(clientId);
  if (agent) return scopes.filter((s) => agent.scopes.includes(s));
  let accountId: string | undefined;
  try {
    accountId = ctx.oidc?.entities?.Grant?.accountId ?? ctx.oidc?.session?.accountId;
  } catch {
    accountId = undefined;
  }
  return accountId ? (caps.forUser(accountId, scopes) ?? []) : scopes;
}

/**
 * Client ID Metadata Document URLs the server may fetch: https, a DNS name (no IP literal, no
 * localhost), no userinfo or fragment. What the name resolves to at fetch time is not checked here.
 */
function metadataUrlAllowed(clientId: string): boolean {
  if (redirectUriProblem(clientId) !== undefined || !clientId.startsWith('https://')) return false;
  const host = new URL(clientId).hostname.replace(/^\[|\]$/g, '');
  return isIP(host) === 0 && host !== 'localhost' && !host.endsWith('.localhost') && host.includes('.');
}

async function isJwt(token: string | null): Promise<boolean> {
  if (!token || token.split('.').length !== 3) return false;
  const { decodeProtectedHeader } = await jose();
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  const body = JSON.stringify({ error, error_description: description });
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Client id and secret from HTTP Basic or the form body. */
function agentCredentials(req: IncomingMessage, body: string): { clientId: string; secret: string; method: string } | undefined {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    try {
      return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)), method: 'client_secret_basic' };
    } catch {
      return undefined;
    }
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
  if (existsSync(path)) {
    ensurePrivateFile(path);
    return JSON.parse(readFileSync(path, 'utf8')) as { signingKey: JWK; cookieKey: string };
  }
  // An ES256 (P-256) key as a JWK: { kty: 'EC', crv: 'P-256', x, y, d }.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' };
  const secrets = { signingKey, cookieKey: randomBytes(32).toString('base64url') };
  writePrivateFile(path, `${JSON.stringify(secrets)}\n`);
  return secrets;
}
