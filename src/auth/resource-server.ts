/**
 * The OAuth 2.1 resource server: who is asking, from the bearer token or API key on each HTTP request.
 *
 * - JWT access tokens: the issuer must be trusted (configured, or the embedded authorization server);
 *   signature against its JWKS (fetched from its metadata and cached; an unknown `kid` triggers one
 *   refetch, then a 30 s cooldown — jose's remote key set); only the configured asymmetric algorithms
 *   (never `none`, never HS*); `exp`/`nbf` within a bounded skew; and the audience must be the exact
 *   resource URI of the endpoint called (RFC 8707), so a token minted for another resource is refused.
 * - Opaque tokens: RFC 7662 introspection at the issuers that configure it, cached for at most the
 *   token's remaining life (and never more than five minutes); a cached answer is judged again on every
 *   use (audience of the endpoint called, expiry, agent). The embedded server's own opaque tokens are
 *   looked up in-process on every use.
 * - Tokens of the embedded server: its revocation state (jti, grant) and scope caps on every request.
 * - API keys (`pcl_…`): looked up by hash; expiry and revocation checked on every call.
 * A token whose agent was revoked (`portcullis agent revoke`) is refused on its next call.
 *
 * It also writes the RFC 9728 Protected Resource Metadata and the WWW-Authenticate challenges.
 */
import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.ts';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { jose } from './jose.ts';
import type { SecretSource } from '../config/secrets.ts';
import { resolveValue } from '../config/secrets.ts';
import type { Endpoint } from '../pipeline/context.ts';
import type { Principal } from './principal.ts';
import type { IdentityConfig, IssuerConfig } from './schema.ts';
import { introspectionProblems, ownTokenPrefixes } from './token-prefixes.ts';
import type { IdentityStore } from './store.ts';
import { API_KEY_PREFIX } from './store.ts';

export interface AuthFailure {
  /** RFC 6750 error code, absent when no credential was presented at all. */
  error?: 'invalid_token' | 'invalid_request';
  description: string;
}

export interface TrustedIssuer {
  config: IssuerConfig;
  /** Key set for signature checks (remote, or the embedded server's own). */
  keys?: JWTVerifyGetKey;
  /**
   * Revocation state and scope caps the issuer keeps (the embedded server): whether a verified token
   * still stands, and the scopes it may carry now. Asked on every request.
   */
  /** The embedded server's own judgement: whether the token stands, with the scopes and roles its user holds today. */
  check?: (claims: Record<string, unknown>) => { scopes: string[]; roles?: string[]; signedIn?: boolean } | AuthFailure;
  /** RFC 7662 answers for the issuer's own opaque tokens, in-process (undefined: not active). */
  introspect?: (token: string) => Promise<Record<string, unknown> | undefined>;
}

/**
 * Refuses a request that carries more than one Authorization header (Node keeps only the first in
 * `req.headers`; a proxy in front may have judged the other one). Returns undefined when there is at
 * most one.
 */
export function ambiguousCredentials(req: IncomingMessage): GatewayError | undefined {
  // Counted on the raw headers: `req.headersDistinct` would build a copy of every header per request.
  const raw = req.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count += 1;
  }
  if (count <= 1) return undefined;
  return new GatewayError('PC_AUTH_AMBIGUOUS_CREDENTIALS', `the request carries ${count} Authorization headers; send exactly one`);
}

const WELL_KNOWN_PRM = '/.well-known/oauth-protected-resource';
/** How often an open stream's opaque token is looked up again (revalidator). */
const REVALIDATE_OPAQUE_MS = 1000;
const INTROSPECTION_CACHE_MAX = 10_000;
const INTROSPECTION_CACHE_MS = 5 * 60_000;

export class ResourceServer {
  readonly base: string;
  readonly #issuers = new Map<string, TrustedIssuer>();
  readonly #store: IdentityStore | undefined;
  readonly #apiKeys: boolean;
  readonly #allowNoExpiry: boolean;
  readonly #scopes: () => string[];
  readonly #secrets: SecretSource;
  readonly #fetch: typeof fetch;
  readonly #introspected = new Map<string, { answer: Record<string, unknown>; trusted: TrustedIssuer; until: number }>();
  readonly #now: () => Date;
  readonly #baseScopes: readonly string[];
  /** External issuers with RFC 7662 introspection, in config order. */
  readonly #introspecting: TrustedIssuer[];
  /** How the gateway's own credentials begin: never sent to an issuer. */
  readonly #ownPrefixes: readonly string[];

  constructor(options: {
    base: string;
    identity: IdentityConfig;
    store: IdentityStore | undefined;
    scopes: () => string[];
    secrets: SecretSource;
    fetch?: typeof fetch;
    now?: () => Date;
    embedded?: TrustedIssuer;
  }) {
    this.base = options.base.replace(/\/$/, '');
    this.#store = options.store;
    this.#apiKeys = options.identity.apiKeys?.enabled ?? false;
    this.#allowNoExpiry = options.identity.apiKeys?.allowNoExpiry ?? false;
    this.#scopes = options.scopes;
    this.#secrets = options.secrets;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? (() => new Date());
    this.#baseScopes = options.identity.scopes;
    for (const config of options.identity.issuers) this.#issuers.set(config.issuer, { config });
    this.#introspecting = [...this.#issuers.values()].filter((i) => i.config.introspection);
    // The config schema refuses these; a ResourceServer built from an unchecked config must not fan out either.
    this.#ownPrefixes = ownTokenPrefixes(options.embedded !== undefined);
    const problems = introspectionProblems(options.identity.issuers, options.embedded !== undefined);
    if (problems.length > 0) throw new GatewayError('PC_CONFIG_INVALID', `identity.${problems[0]!.path.join('.')} ${problems[0]!.message}`);
    if (options.embedded) this.#issuers.set(options.embedded.config.issuer, options.embedded);
  }

  get authorizationServers(): string[] {
    return [...this.#issuers.keys()];
  }

  resourceFor(endpoint: Endpoint): string {
    return endpoint.kind === 'server' ? `${this.base}/mcp/${endpoint.server}` : `${this.base}/mcp`;
  }

  metadataUrlFor(endpoint: Endpoint): string {
    return `${this.base}${WELL_KNOWN_PRM}${endpoint.kind === 'server' ? `/mcp/${endpoint.server}` : '/mcp'}`;
  }

  /**
   * RFC 9728 metadata for a request path: the path-inserted URL of each endpoint (what the challenge
   * advertises) and the root well-known URL (for the aggregated endpoint). undefined: not ours.
   */
  metadataFor(path: string, hasServer: (name: string) => boolean): Record<string, unknown> | undefined {
    if (!path.startsWith(WELL_KNOWN_PRM)) return undefined;
    const rest = path.slice(WELL_KNOWN_PRM.length);
    let endpoint: Endpoint;
    if (rest === '' || rest === '/mcp') endpoint = { kind: 'aggregate' };
    else {
      const m = /^\/mcp\/([^/]+)$/.exec(rest);
      if (!m || !hasServer(m[1]!)) return undefined;
      endpoint = { kind: 'server', server: m[1]! };
    }
    const scopes = this.#scopes();
    return {
      resource: this.resourceFor(endpoint),
      authorization_servers: this.authorizationServers,
      bearer_methods_supported: ['header'],
      ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
      resource_name: endpoint.kind === 'server' ? `Portcullis: ${endpoint.server}` : 'Portcullis',
    };
  }

  /**
   * The WWW-Authenticate value for a 401 (RFC 6750 §3, RFC 9728 §5.1). Its `scope` is the base scopes
   * (identity.scopes): tools that need more ask for them with a 403 step-up when first called, so a
   * client consents to what it uses, incrementally.
   */
  challenge(endpoint: Endpoint, failure?: AuthFailure): string {
    const parts = [`resource_metadata="${this.metadataUrlFor(endpoint)}"`];
    if (this.#baseScopes.length > 0) parts.push(`scope="${this.#baseScopes.join(' ')}"`);
    if (failure?.error) parts.push(`error="${failure.error}"`, `error_description="${failure.description.replace(/["\\]/g, "'")}"`);
    return `Bearer ${parts.join(', ')}`;
  }

  /** The WWW-Authenticate value for a 403 step-up: every scope the operation needs. */
  insufficientScope(endpoint: Endpoint, scopes: readonly string[]): string {
    return `Bearer error="insufficient_scope", scope="${scopes.join(' ')}", resource_metadata="${this.metadataUrlFor(endpoint)}", error_description="the operation needs ${scopes.join(' ')}"`;
  }

  async authenticate(authorization: string | undefined, endpoint: Endpoint): Promise<Principal | AuthFailure> {
    if (authorization === undefined || authorization === '') return { description: 'this endpoint needs a bearer token (see the resource_metadata URL)' };
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization.trim());
    if (!m) return { error: 'invalid_request', description: 'Authorization must be "Bearer <token>"' };
    const token = m[1]!;
    if (token.startsWith(API_KEY_PREFIX)) return this.#apiKey(token);
    if (token.split('.').length === 3) return this.#jwt(token, endpoint);
    return this.#introspect(token, endpoint);
  }

  /**
   * A synchronous re-check of the credential a long-lived stream was opened with (a legacy GET stream,
   * a `subscriptions/listen` stream), run before each message it would deliver and on a timer: undefined
   * while it still stands, else why not. The signature was verified when the stream opened and the
   * token is the same string, so what is judged again is what can change: expiry, revocation (API key,
   * agent, the embedded server's jti and grant), the user still configured, scopes still present. An
   * opaque token is looked up again (introspection or the embedded server's store) at most once a
   * second, in the background; the check answers with the last look's verdict.
   */
  revalidator(authorization: string | undefined, endpoint: Endpoint): () => AuthFailure | undefined {
    const gone = (description: string): AuthFailure => ({ error: 'invalid_token', description });
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec((authorization ?? '').trim());
    if (!m) return () => gone('the stream has no credential');
    const token = m[1]!;
    if (token.startsWith(API_KEY_PREFIX)) return () => failureOf(this.#apiKey(token));
    if (token.split('.').length === 3) {
      let claims: Record<string, unknown>;
      try {
        claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        return () => gone('the token is not a well-formed JWT');
      }
      const trusted = typeof claims.iss === 'string' ? this.#issuers.get(claims.iss) : undefined;
      if (!trusted) return () => gone('the token\'s issuer is not trusted any more');
      return () => {
        if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.#now().getTime()) return gone('the token expired');
        return failureOf(this.#principal(claims, trusted));
      };
    }
    // An opaque token is looked up asynchronously (introspection, or the embedded server's own store):
    // the check answers with the verdict of the last look, and starts a new look at most once a second.
    let verdict: AuthFailure | undefined;
    let looking = false;
    let lookedAtMs = this.#now().getTime();
    return () => {
      const now = this.#now().getTime();
      if (!looking && now - lookedAtMs >= REVALIDATE_OPAQUE_MS) {
        looking = true;
        lookedAtMs = now;
        this.#introspect(token, endpoint).then(
          (result) => {
            verdict = failureOf(result);
          },
          () => {
            verdict = gone('the token could not be looked up again');
          },
        ).finally(() => {
          looking = false;
        });
      }
      return verdict;
    };
  }

  #apiKey(token: string): Principal | AuthFailure {
    if (!this.#apiKeys || !this.#store) return { error: 'invalid_token', description: 'API keys are not enabled on this gateway' };
    const key = this.#store.verifyKey(token, this.#now());
    if ('problem' in key) return { error: 'invalid_token', description: key.problem };
    if (key.expiresAt === null && !this.#allowNoExpiry) return { error: 'invalid_token', description: 'API keys without expiry are not accepted here (identity.apiKeys.allowNoExpiry)' };
    if (this.#store.agent(key.agent)?.revokedAt) return { error: 'invalid_token', description: `agent "${key.agent}" was revoked` };
    return { kind: 'key', subject: `key:${key.id}`, agent: key.agent, scopes: key.scopes, allScopes: false, roles: [], issuer: 'portcullis:api-key', tokenId: key.id };
  }

  async #jwt(token: string, endpoint: Endpoint): Promise<Principal | AuthFailure> {
    let j;
    try {
      j = await jose();
    } catch (error) {
      return { error: 'invalid_token', description: `the token could not be verified: ${(error as Error).message}` };
    }
    const { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } = j;
    let iss: string | undefined;
    try {
      decodeProtectedHeader(token);
      iss = decodeJwt(token).iss;
    } catch {
      return { error: 'invalid_token', description: 'the token is not a well-formed JWT' };
    }
    const trusted = iss === undefined ? undefined : this.#issuers.get(iss);
    if (!trusted) return { error: 'invalid_token', description: `tokens from issuer ${iss === undefined ? '(none)' : JSON.stringify(iss)} are not accepted here` };
    const { config } = trusted;
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      trusted.keys ??= createRemoteJWKSet(new URL(config.jwksUri ?? (await this.#discoverJwks(config.issuer))), {
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: 5_000,
      });
      ({ payload, protectedHeader: { typ } } = await jwtVerify(token, trusted.keys, {
        issuer: config.issuer,
        audience: config.audience ?? this.resourceFor(endpoint),
        algorithms: config.algorithms,
        clockTolerance: config.clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
        currentDate: this.#now(),
      }));
    } catch (error) {
      return { error: 'invalid_token', description: describeJoseError(j.errors, error, this.resourceFor(endpoint)) };
    }
    const notAccess = notAnAccessToken(typ, payload, config.accessTokenType ?? 'at+jwt');
    if (notAccess) return { error: 'invalid_token', description: notAccess };
    return this.#principal(payload, trusted);
  }

  #principal(claims: Record<string, unknown>, trusted: TrustedIssuer): Principal | AuthFailure {
    const { config } = trusted;
    // RFC 7519 §4.1.2: `sub` is a StringOrURI; anything else would be stringified into a principal
    // (every object `sub` the same "[object Object]").
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) return { error: 'invalid_token', description: 'the token\'s sub claim must be a non-empty string' };
    const agent = config.agentClaim.map((c) => claims[c]).find((v): v is string => typeof v === 'string' && v.length > 0);
    // Without an agent name, unrelated clients would share one ("unknown"): its per-agent limits, its kill switch.
    if (agent === undefined) return { error: 'invalid_token', description: `the token names no agent (none of the claims ${config.agentClaim.join(', ')}); set identity.issuers[].agentClaim to the claim this issuer uses` };
    if (typeof claims.iat === 'number' && claims.iat * 1000 > this.#now().getTime() + config.clockSkewSeconds * 1000) {
      return { error: 'invalid_token', description: 'the token was issued in the future (iat), beyond the allowed clock skew' };
    }
    if (this.#store?.agentRevoked(agent)) return { error: 'invalid_token', description: `agent "${agent}" was revoked` };
    // An agent made with `portcullis agent add NAME` holds the OAuth client id agent-NAME; policy, the kill
    // switch, limits and the audit know it by NAME, as the CLI and its API keys do (one name everywhere:
    // a deny rule or `kill --agent NAME` written with the name the operator gave must hold).
    const named = trusted.check ? this.#store?.agentByClientId(agent)?.name : undefined;
    const scope = claims.scope ?? claims.scp;
    let scopes = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : [];
    // Fail closed on a token that says nothing about what it may do: an issuer that leaves `scope` out
    // has not limited the token, and taking that as "no limit" would give it every rule that does not
    // select by scope. The embedded server's own tokens are judged by its scope caps below instead.
    if (scopes.length === 0 && !trusted.check) {
      if (!config.defaultScopes) return { error: 'invalid_token', description: `the token carries no scope (no scope or scp claim, or an empty one), so it grants nothing here; have ${config.issuer} put the scopes in its access tokens, or grant a default with identity.issuers[].defaultScopes` };
      scopes = [...config.defaultScopes];
    }
    let roles: string[] | undefined;
    let signedIn = false;
    if (trusted.check) {
      const live = trusted.check(claims);
      if ('description' in live) return live;
      scopes = live.scopes;
      roles = live.roles;
      signedIn = live.signedIn === true;
    }
    if (roles !== undefined) {
      // The embedded server's users: their roles as configured now, not as the token was minted.
    } else if (config.rolesClaim) {
      const value = config.rolesClaim.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), claims);
      roles = Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string') : typeof value === 'string' ? [value] : [];
    }
    const principal: Principal = { kind: 'token', subject: claims.sub, agent: named ?? agent, scopes, allScopes: false, roles: roles ?? [], issuer: config.issuer, ...(trusted.check ? { own: true } : {}), ...(signedIn ? { signedIn } : {}) };
    return typeof claims.jti === 'string' ? { ...principal, tokenId: claims.jti } : principal;
  }

  async #discoverJwks(issuer: string): Promise<string> {
    const url = new URL(issuer);
    const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    const candidates = [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}${path}/.well-known/openid-configuration`];
    for (const candidate of candidates) {
      try {
        const response = await this.#fetch(candidate, { signal: AbortSignal.timeout(5_000) });
        if (!response.ok) continue;
        const metadata = (await response.json()) as { issuer?: string; jwks_uri?: string };
        if (metadata.issuer === issuer && typeof metadata.jwks_uri === 'string') return metadata.jwks_uri;
      } catch {
        // next candidate
      }
    }
    throw new Error(`the signing keys of ${issuer} could not be found (no metadata with a jwks_uri)`);
  }

  async #introspect(token: string, endpoint: Endpoint): Promise<Principal | AuthFailure> {
    const key = hash('sha256', token, 'base64url');
    const now = this.#now().getTime();
    const cached = this.#introspected.get(key);
    if (cached && cached.until > now) {
      // A cached answer is judged again on every use as if it had just come back: the audience for the
      // endpoint called now (a token introspected at /mcp/<a> is not a token for /mcp), expiry, agent.
      const judged = this.#judgeAnswer(cached.answer, cached.trusted, endpoint, now);
      if (!('error' in judged)) return judged;
      this.#introspected.delete(key);
      return judged;
    }
    // The gateway's own tokens are looked up in-process and never shown to another issuer, live or not.
    for (const trusted of this.#issuers.values()) {
      if (!trusted.introspect) continue;
      const answer = await trusted.introspect(token);
      // The issuer's own state is read in-process on every use: nothing to cache.
      if (answer) return this.#judgeAnswer(answer, trusted, endpoint, now);
    }
    if (this.#ownPrefixes.some((p) => token.startsWith(p))) return { error: 'invalid_token', description: 'the token is not active' };
    // At most one issuer sees the token: the one whose tokenPrefix it begins with, or the only
    // introspecting issuer when it names none (the config refuses any other arrangement). Never tried
    // in turn: each issuer asked would learn a live token of another.
    const trusted = this.#introspectorFor(token);
    if (!trusted) {
      return this.#introspecting.length === 0
        ? { error: 'invalid_token', description: 'the token is not a JWT and no issuer here offers introspection' }
        : { error: 'invalid_token', description: `the token is not a JWT and begins with no issuer's introspection.tokenPrefix (${this.#introspecting.map((i) => JSON.stringify(i.config.introspection!.tokenPrefix)).join(', ')})` };
    }
    const { config } = trusted;
    const { url, clientId, clientSecret } = config.introspection!;
    const resolved = resolveValue(clientSecret, this.#secrets);
    if ('problem' in resolved) return { error: 'invalid_token', description: `introspection at ${config.issuer} is misconfigured, so the token cannot be checked` };
    let answer: Record<string, unknown>;
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(resolved.value)}`).toString('base64')}` },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) return { error: 'invalid_token', description: `introspection at ${config.issuer} answered HTTP ${response.status}` };
      answer = (await response.json()) as Record<string, unknown>;
    } catch {
      return { error: 'invalid_token', description: `introspection at ${config.issuer} could not be reached` };
    }
    if (answer.active !== true) return { error: 'invalid_token', description: 'the token is not active' };
    if (answer.iss !== undefined && answer.iss !== config.issuer) return { error: 'invalid_token', description: `the introspection answer names another issuer than ${config.issuer}` };
    // An issuer that says what the token is: only an access token is one here (never a refresh or ID token).
    if (typeof answer.token_type === 'string' && !/^(bearer|access[-_ ]?token|urn:ietf:params:oauth:token-type:access_token|dpop)$/i.test(answer.token_type)) {
      return { error: 'invalid_token', description: `the issuer says this is a ${JSON.stringify(answer.token_type.slice(0, 64))} token, not an access token` };
    }
    const judged = this.#judgeAnswer(answer, trusted, endpoint, now);
    if ('error' in judged) return judged;
    if (this.#introspected.size >= INTROSPECTION_CACHE_MAX) this.#introspected.delete(this.#introspected.keys().next().value!);
    const exp = typeof answer.exp === 'number' ? answer.exp * 1000 : now + 60_000;
    this.#introspected.set(key, { answer, trusted, until: Math.min(exp, now + INTROSPECTION_CACHE_MS) });
    return judged;
  }

  /** The one external issuer whose introspection endpoint may see this opaque token (see introspectionProblems). */
  #introspectorFor(token: string): TrustedIssuer | undefined {
    const [only] = this.#introspecting;
    if (this.#introspecting.length === 1 && only!.config.introspection!.tokenPrefix === undefined) return only;
    return this.#introspecting.find((i) => {
      const prefix = i.config.introspection!.tokenPrefix;
      return prefix !== undefined && token.startsWith(prefix);
    });
  }

  /** An active RFC 7662 answer, judged for the endpoint called now: audience, expiry, then the principal. */
  #judgeAnswer(answer: Record<string, unknown>, trusted: TrustedIssuer, endpoint: Endpoint, now: number): Principal | AuthFailure {
    const audience = trusted.config.audience ?? [this.resourceFor(endpoint)];
    const aud = Array.isArray(answer.aud) ? answer.aud : [answer.aud];
    if (!aud.some((a) => typeof a === 'string' && audience.includes(a))) return { error: 'invalid_token', description: `the token is for another resource (audience must be ${audience.join(' or ')})` };
    // Without `exp` the answer is trusted for a minute from when it came (the cache bounds it too).
    if (typeof answer.exp === 'number' && answer.exp * 1000 <= now) return { error: 'invalid_token', description: 'the token expired' };
    return this.#principal({ ...answer, sub: answer.sub ?? answer.client_id }, trusted);
  }
}

const failureOf = (result: Principal | AuthFailure): AuthFailure | undefined => ('kind' in result ? undefined : result);

/** Claims only ID tokens (OpenID Connect Core §2, §3.1.3.6) and logout tokens (OIDC Back-Channel Logout §2.4) carry. */
const NOT_ACCESS_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash', 'events'] as const;

/**
 * Why a verified JWT is not an access token (token-type confusion, RFC 8725 §3.11): its `typ` must be
 * `at+jwt` (RFC 9068 §2.1) unless the issuer is configured `accessTokenType: any`, and in either case
 * it must not carry a claim of an ID token or a logout token — an ID token with the same `aud` (an
 * issuer's `audience` set to its client id) would otherwise be a credential here.
 */
export function notAnAccessToken(typ: string | undefined, claims: Record<string, unknown>, required: 'at+jwt' | 'any'): string | undefined {
  const type = typ?.toLowerCase().replace(/^application\//, '');
  if (type !== undefined && /(^|\+)(logout|id[-_]?token)(\+|$)/.test(type)) return `the token is a ${JSON.stringify(typ)}, not an access token`;
  if (required === 'at+jwt' && type !== 'at+jwt') {
    return `the token's typ is ${typ === undefined ? 'missing' : JSON.stringify(typ)}, not at+jwt (RFC 9068); if this issuer does not type its access tokens, set identity.issuers[].accessTokenType: any`;
  }
  const marked = NOT_ACCESS_CLAIMS.find((c) => claims[c] !== undefined);
  if (marked) return `the token carries "${marked}", a claim of ID or logout tokens: it is not an access token`;
  return undefined;
}

function describeJoseError(joseErrors: typeof import('jose').errors, error: unknown, resource: string): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return `the token is for another resource (audience must be ${resource})`;
    if (error.claim === 'nbf') return 'the token is not valid yet';
    if (error.claim === 'iss') return 'the token has the wrong issuer';
    return `the token's "${error.claim}" claim is invalid`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this gateway does not accept';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no signing key of the issuer matches the token';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) return 'the token is malformed';
  return `the token could not be verified (${(error as Error).message})`;
}
