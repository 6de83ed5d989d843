/**
 * What a client may register with the embedded authorization server (RFC 7591, and Client ID Metadata
 * Documents, which are registrations by URL). Anyone who reaches the port can register, so a
 * registration buys nothing by itself: the client may only send a user through sign-in and consent
 * (authorization code + PKCE, public client) and gets at most what that user is allowed.
 *
 * Refused (invalid_client_metadata / invalid_redirect_uri, nothing stored):
 *   - any grant type other than authorization_code and refresh_token (client_credentials is for the
 *     agents an administrator creates; implicit, password, device, token exchange, JWT bearer: never);
 *   - any response type other than `code`;
 *   - redirect URIs that are not https (with a host, no userinfo, no fragment) or http on a loopback
 *     address (RFC 8252 §7.3; any port). Custom schemes only through `portcullis client add`.
 * Replaced: the token endpoint auth method is `none` (a public client: nothing secret is stored for
 * it); a registered `scope` is dropped (what a token carries is decided by the user's consent, capped by
 * the user's roles). Every other field is dropped, so nothing the server would fetch (jwks_uri,
 * sector_identifier_uri, request_uris) and nothing it would show unchecked (logo_uri) is kept.
 */
import { isIP } from 'node:net';

export type RegistrationMode = 'open' | 'admin' | 'off';

export const PUBLIC_CLIENT_GRANTS: readonly string[] = ['authorization_code', 'refresh_token'];

export interface MetadataProblem {
  error: 'invalid_client_metadata' | 'invalid_redirect_uri';
  error_description: string;
}

const MAX_NAME = 100;
const MAX_REDIRECTS = 10;

/** Why a redirect URI may not be registered by anyone (undefined: it may). */
export function redirectUriProblem(uri: unknown, allowCustomScheme = false): string | undefined {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 2000) return 'must be a URL of at most 2000 characters';
  // The URL parser forgives what other parsers read differently: refuse the raw forms it would rewrite.
  if (/[\s\\\u0000-\u001f\u007f]/.test(uri)) return 'must not contain whitespace, control characters or backslashes';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URL';
  }
  if (uri.includes('#')) return 'must not have a fragment (RFC 6749 §3.1.2)';
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?]*@/i.test(uri)) return 'must not carry userinfo (user:password@)';
  if ((url.protocol === 'https:' || url.protocol === 'http:') && !/^https?:\/\/[^/?#]/i.test(uri)) return 'must name a host right after the scheme (scheme://host/…)';
  if (url.protocol === 'https:') return url.hostname ? undefined : 'must name a host';
  if (url.protocol === 'http:') return isLoopback(url.hostname) ? undefined : 'http is allowed only on a loopback address (127.0.0.1, [::1], localhost); use https';
  if (allowCustomScheme && /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:/.test(uri)) return undefined;
  return allowCustomScheme
    ? 'must be https, http on loopback, or a private-use scheme in reverse domain form (com.example.app:/callback, RFC 8252 §7.1)'
    : 'must be https or http on a loopback address; custom schemes only through `portcullis client add`';
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * The metadata to hand to oidc-provider for an open registration, or why it is refused. `body` is the
 * parsed JSON of the request.
 */
export function publicClientMetadata(body: unknown): { metadata: Record<string, unknown> } | MetadataProblem {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return invalid('the body must be a JSON object of client metadata (RFC 7591 §2)');
  const m = body as Record<string, unknown>;
  const grants = m.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grants) || grants.length === 0 || grants.some((g) => typeof g !== 'string' || !PUBLIC_CLIENT_GRANTS.includes(g))) {
    return invalid(`grant_types: ${JSON.stringify(grants)} is not allowed; a registered client may use only ${PUBLIC_CLIENT_GRANTS.join(' and ')} (client credentials are issued by an administrator: portcullis agent add)`);
  }
  const responses = m.response_types ?? ['code'];
  if (!Array.isArray(responses) || responses.some((r) => r !== 'code')) return invalid(`response_types: ${JSON.stringify(responses)} is not allowed; only ["code"]`);
  if (!(grants as string[]).includes('authorization_code')) return invalid('grant_types must include authorization_code');
  const redirects = m.redirect_uris;
  if (!Array.isArray(redirects) || redirects.length === 0 || redirects.length > MAX_REDIRECTS) return { error: 'invalid_redirect_uri', error_description: `redirect_uris must list 1 to ${MAX_REDIRECTS} URIs` };
  for (const [i, uri] of redirects.entries()) {
    const problem = redirectUriProblem(uri);
    if (problem) return { error: 'invalid_redirect_uri', error_description: `redirect_uris[${i}] ${problem}` };
  }
  const name = m.client_name;
  if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME || /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name))) {
    return invalid(`client_name must be text of at most ${MAX_NAME} characters without control or bidirectional formatting characters`);
  }
  const kept: Record<string, unknown> = {
    redirect_uris: redirects,
    grant_types: grants,
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  if (typeof name === 'string' && name.trim() !== '') kept.client_name = name;
  for (const key of ['software_id', 'software_version'] as const) if (typeof m[key] === 'string' && (m[key] as string).length <= 200) kept[key] = m[key];
  return { metadata: kept };
}

/** Whether a client (as oidc-provider built it) keeps to what an open registration allows. */
export function isPublicCodeClient(client: { grantTypes?: readonly string[]; responseTypes?: readonly string[]; redirectUris?: readonly string[]; clientAuthMethod?: string }): boolean {
  // Fails closed: a client without these lists is not one this function can vouch for.
  const { grantTypes, responseTypes, redirectUris } = client;
  if (!Array.isArray(grantTypes) || !Array.isArray(responseTypes) || !Array.isArray(redirectUris)) return false;
  return (
    grantTypes.length > 0 &&
    grantTypes.every((g) => PUBLIC_CLIENT_GRANTS.includes(g)) &&
    responseTypes.every((r) => r === 'code') &&
    redirectUris.length > 0 &&
    redirectUris.every((u) => redirectUriProblem(u) === undefined) &&
    client.clientAuthMethod === 'none'
  );
}

function invalid(description: string): MetadataProblem {
  return { error: 'invalid_client_metadata', error_description: description };
}
