/**
 * The `identity` section: who may call the gateway. Without it (or with nothing in it enabled) every
 * caller is a local principal. With trusted issuers, the embedded authorization server or API keys, every
 * HTTP request must carry a valid bearer token or key (401 otherwise), and the gateway serves RFC 9728
 * Protected Resource Metadata for each endpoint.
 */
import * as z from 'zod';
import { introspectionProblems } from './token-prefixes.ts';

export { introspectionProblems, OWN_OPAQUE_PREFIX, ownTokenPrefixes } from './token-prefixes.ts';

const secretRef = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/, 'must be a reference: env:NAME or file:/path');
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be an RFC 6749 scope token');
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export const issuerSchema = z.strictObject({
  issuer: z.string().url().describe('The `iss` value, exactly; its metadata is found at the RFC 8414 / OIDC well-known URLs'),
  jwksUri: z.string().url().optional().describe('Where its signing keys are (default: from its metadata)'),
  audience: z.array(z.string().min(1)).min(1).optional().describe('Accepted `aud` values (default: the exact resource URI of the endpoint called)'),
  algorithms: z.array(z.enum(ALGORITHMS)).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']).describe('Asymmetric algorithms only: never none, never HS*'),
  clockSkewSeconds: z.number().int().min(0).max(300).default(60),
  agentClaim: z.array(z.string().min(1)).min(1).default(['client_id', 'azp']).describe('Claims naming the agent (first present wins)'),
  accessTokenType: z
    .enum(['at+jwt', 'any'])
    .default('at+jwt')
    .describe('at+jwt: a JWT access token must say so in its typ header (RFC 9068), so an ID token is never taken for one; any: for issuers that do not type their access tokens (tokens with ID- or logout-token claims are refused either way)'),
  rolesClaim: z.string().min(1).optional().describe('Dotted path to the roles/groups claim, e.g. realm_access.roles (Keycloak), groups (Okta), roles (Entra)'),
  defaultScopes: z
    .array(scopeToken)
    .min(1)
    .optional()
    .describe('Scopes a token of this issuer holds when it carries no scope at all (no scope or scp claim, or an empty one); without this such a token is refused'),
  introspection: z
    .strictObject({
      url: z.string().url(),
      clientId: z.string().min(1),
      clientSecret: secretRef,
      tokenPrefix: z
        .string()
        .regex(/^[A-Za-z0-9\-._~+/]{1,64}$/, 'must be 1-64 characters a bearer token can hold (A-Z a-z 0-9 - . _ ~ + /)')
        .optional()
        .describe('How this issuer\'s opaque tokens begin (e.g. "ory_at_"): only tokens that begin so are sent to its introspection endpoint. Required on every issuer when more than one introspects'),
    })
    .optional()
    .describe('RFC 7662 introspection for opaque (non-JWT) tokens; a token goes to one endpoint at most, chosen by tokenPrefix (see docs/identity.md)'),
});

export const identitySchema = z.strictObject({
  publicUrl: z
    .string()
    .url()
    .optional()
    .describe('The URL clients reach the gateway at (behind a proxy); resource URIs are <publicUrl>/mcp and <publicUrl>/mcp/<server>. Default: the listen address'),
  localAgent: z.string().min(1).max(128).optional().describe('Agent name of local principals (stdio front, or no identity); default: the client\'s declared name'),
  issuers: z.array(issuerSchema).default([]).describe('External authorization servers whose tokens are accepted'),
  scopes: z.array(scopeToken).default([]).describe('Scopes advertised in metadata besides those policy.tools names'),
  embedded: z
    .strictObject({
      enabled: z.boolean().default(true),
      accessTokenTtlSeconds: z.number().int().min(60).max(86_400).default(900),
      refreshTokenTtlSeconds: z.number().int().min(300).max(90 * 86_400).default(14 * 86_400),
      accessTokenFormat: z
        .enum(['jwt', 'opaque'])
        .default('jwt')
        .describe('jwt: signed RFC 9068 tokens; opaque: random strings another resource server checks by RFC 7662 introspection'),
      users: z
        .array(
          z.strictObject({
            username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ @ -'),
            password: secretRef.describe('env:NAME or file:/path holding the password'),
            roles: z.array(z.string().min(1)).default([]),
            scopes: z.array(scopeToken).default([]).describe('Scopes this user may hold besides those of its roles'),
          }),
        )
        .default([])
        .describe('Local users who can log in on the consent page'),
      roles: z
        .record(z.string().min(1), z.array(scopeToken))
        .default({})
        .describe('Role -> scopes a token of a user with that role may carry ("*": every scope). A token never carries a scope its user is not allowed'),
      registration: z
        .enum(['open', 'admin', 'off'])
        .default('open')
        .describe('RFC 7591 dynamic registration. open: anyone may register a public client (authorization code + PKCE only, loopback or https redirect URIs); admin: only `portcullis client add`; off: neither'),
      cimd: z.boolean().default(true).describe('Accept Client ID Metadata Documents (https client_id URLs) when registration is open'),
      registrationsPerMinute: z.number().int().min(1).max(10_000).default(30).describe('Valid open registrations (POST /oauth/register) accepted per client address per minute; past it 429 with Retry-After'),
      maxRegisteredClients: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .default(10_000)
        .describe('Self-registered clients stored at most; past it the oldest one no grant names is deleted to make room, and when every one holds a grant registration answers 429'),
      loginAttempts: z.number().int().min(1).max(100).default(5).describe('Failed sign-ins per address and user name before a lockout'),
      userLoginAttempts: z.number().int().min(1).max(1000).default(20).describe('Failed sign-ins per user name, from any address, before a lockout'),
      lockoutMinutes: z.number().int().min(1).max(1440).default(15).describe('How long a lockout lasts'),
    })
    .optional()
    .describe('The built-in OAuth 2.1 authorization server (issuer = publicUrl)'),
  maxCredentialAgeDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .optional()
    .describe('Agent secrets, API keys and upstream secrets older than this are flagged for rotation by `portcullis credentials`'),
  apiKeys: z
    .strictObject({
      enabled: z.boolean().default(true),
      allowNoExpiry: z.boolean().default(false).describe('Accept keys created without --expires (flagged by config check)'),
    })
    .optional(),
}).superRefine((identity, ctx) => {
  for (const problem of introspectionProblems(identity.issuers, identity.embedded?.enabled === true)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
});

export type IdentityConfig = z.output<typeof identitySchema>;
export type EmbeddedConfig = NonNullable<IdentityConfig['embedded']>;
export type IssuerConfig = z.output<typeof issuerSchema>;
