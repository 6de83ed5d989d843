/**
 * A private key in JSON Web Key form (RFC 7517/7518/8037): a JSON object with `kty` and a private member —
 * `d` (RSA private exponent, EC or OKP private key), the RSA primes and CRT values `p`, `q`, `dp`, `dq`,
 * `qi`, or `k` (a symmetric key) — with a base64url value. PEM keys have their own rules; a JWK has no
 * header, so without this rule the embedded authorization server's signing key (oauth-secrets.json) or
 * any exported JWK passed DLP in clear (red-team F16). The whole object is the match, so every private
 * member is masked with it (an RSA key's `p` and `q` give the key away as surely as `d`). Public JWKs
 * (`n`/`e`, `x`/`y`, no private member) are not matched; a member name with an escaped quote (JSON inside a
 * JSON string) is matched too.
 *
 * Written for Portcullis, under the project's licence (Apache-2.0); `anchors`, `before` and `after` are
 * what src/dlp/regex computes for the pattern (test/dlp/own-secret-rules.test.ts holds them to it).
 */
import type { SecretRuleData } from '../secret-rule-data.ts';

const KTY = String.raw`\\?"kty\\?"`;
const PRIVATE_MEMBER = String.raw`\\?"(?:d|p|q|dp|dq|qi|k)\\?"\s*:\s*\\?"[A-Za-z0-9_-]{16,}`;

export const JWK_PRIVATE_KEY_RULE: SecretRuleData = {
  id: 'portcullis:jwk-private-key',
  label: 'private-key',
  family: 'private-key',
  pattern: String.raw`\{[^{}]*(?:${KTY}[^{}]*${PRIVATE_MEMBER}|${PRIVATE_MEMBER}[^{}]*${KTY})[^{}]*\}`,
  group: 0,
  anchors: ['"kty"', '"kty\\"'],
  before: null,
  after: null,
};

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/**
 * A parsed JSON object that is a private JWK (structuredContent, a tool's arguments): the walkers judge
 * it as its JSON text, so the rule above finds it however its members are ordered or nested.
 */
export function isPrivateJwk(value: Record<string, unknown>): boolean {
  if (typeof value.kty !== 'string') return false;
  for (const member of PRIVATE_MEMBERS) {
    const v = value[member];
    if (typeof v === 'string' && v.length >= 16) return true;
  }
  return false;
}
