/**
 * Which issuer may see an opaque bearer token (red team D3): the gateway's own credentials begin with
 * prefixes of their own and are never sent out; another token goes to the one issuer whose
 * `introspection.tokenPrefix` it begins with. Kept apart from ./schema.ts so the request path (the
 * resource server, the embedded server) reads these without loading the config schema library.
 */
import type { IssuerConfig } from './schema.ts';

/** How the embedded server's opaque tokens (access, client-credentials, refresh) begin: they are never sent to another issuer. */
export const OWN_OPAQUE_PREFIX = 'pco_';
/**
 * Prefixes of the gateway's own credentials: API keys always; agent client secrets and opaque tokens
 * when its embedded server runs (without one, `pco_` tokens may well come from another Portcullis that
 * this one trusts as an issuer).
 */
export function ownTokenPrefixes(embedded: boolean): readonly string[] {
  return embedded ? ['pcl_', 'pcs_', OWN_OPAQUE_PREFIX] : ['pcl_'];
}

/**
 * Which issuer's introspection endpoint may see an opaque token: the one whose tokenPrefix it begins
 * with, or the only introspecting issuer when just one is configured and it names no prefix. Problems
 * (each with its config path) when that choice would not be unique: two introspecting issuers of which
 * one names no prefix, a prefix that begins another, a prefix that overlaps the gateway's own.
 */
export function introspectionProblems(issuers: readonly IssuerConfig[], embedded: boolean): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const introspecting = issuers.map((issuer, i) => ({ issuer, i })).filter(({ issuer }) => issuer.introspection);
  for (const { issuer, i } of introspecting) {
    const prefix = issuer.introspection!.tokenPrefix;
    const path = ['issuers', i, 'introspection', 'tokenPrefix'];
    if (prefix === undefined) {
      if (introspecting.length > 1) problems.push({ path, message: `is required when more than one issuer introspects (${introspecting.length} do): without it a token would have to be tried at each, showing one issuer another's tokens; set the prefix ${issuer.issuer}'s opaque tokens begin with` });
      continue;
    }
    const own = ownTokenPrefixes(embedded).find((p) => p.startsWith(prefix) || prefix.startsWith(p));
    if (own) problems.push({ path, message: `"${prefix}" overlaps "${own}", the beginning of the gateway's own credentials, which are never sent to an issuer` });
    for (const other of introspecting) {
      const theirs = other.issuer.introspection!.tokenPrefix;
      if (other.i !== i && theirs !== undefined && theirs.startsWith(prefix) && (theirs !== prefix || other.i > i)) {
        problems.push({ path, message: `"${prefix}" also begins the prefix "${theirs}" of identity.issuers[${other.i}]: a token must belong to one issuer only` });
      }
    }
  }
  return problems;
}
