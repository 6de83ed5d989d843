/**
 * Portcullis' own secret rules: shapes the generated table (secret-rules.ts, from gitleaks and Nosey
 * Parker) does not cover in full — a Slack token of any layout, an `sk-` key of any vendor's layout, a
 * fine-grained GitHub token shorter than the source rules ask, a JWT with short parts, a bare private
 * key header, a bearer token after the word `Bearer`, credentials in any URL scheme, and a private key as
 * `openssl -text` prints it.
 *
 * Written for Portcullis (not derived from either source), under the project's licence (Apache-2.0).
 * Hand-written, so kept small; each entry has the shape of the generated ones (SecretRuleData), and its
 * `anchors`, `before` and `after` are what src/dlp/regex computes for its pattern (a test holds them to
 * it). Every pattern runs in linear time like the others. These are shape rules: no entropy floor (a
 * random token and a long hyphenated word look alike to one), so a non-secret of the same shape — for
 * example the text `Bearer` followed by 16 characters of a path — is treated as a secret too. The
 * prefixed tokens are matched up to 250 characters past their prefix, as the audit trail's own list
 * did (a longer one is masked up to there): an unbounded match costs a capture run over all of it.
 */
import type { SecretRuleData } from '../secret-rule-data.ts';
import { JWK_PRIVATE_KEY_RULE } from './jwk-private-key.ts';

export const OWN_SECRET_RULES: readonly SecretRuleData[] = [
  {
    id: 'portcullis:github-fine-grained-token',
    label: 'github-fine-grained-token',
    family: 'vcs-ci',
    pattern: String.raw`\b(github_pat_[A-Za-z0-9_]{22,255})`,
    group: 1,
    anchors: ['github_pa'],
    before: 0,
    after: 266,
  },
  {
    // xoxb- bot, xoxa- app, xoxp- user, xoxr- refresh, xoxs- session: any length from 10, any layout.
    id: 'portcullis:slack-token',
    label: 'slack-token',
    family: 'chat',
    pattern: String.raw`\b(xox[baprs]-[A-Za-z0-9-]{10,250})`,
    group: 1,
    anchors: ['xox'],
    before: 0,
    after: 255,
  },
  {
    // OpenAI (sk-, sk-proj-), Anthropic (sk-ant-api03-) and the many services that copied the prefix.
    id: 'portcullis:sk-api-key',
    label: 'api-key',
    family: 'ai',
    pattern: String.raw`\b(sk-[A-Za-z0-9_-]{20,250})`,
    group: 1,
    anchors: ['sk-'],
    before: 0,
    after: 253,
  },
  {
    id: 'portcullis:jwt',
    label: 'jwt',
    family: 'jwt',
    pattern: String.raw`\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})`,
    group: 1,
    anchors: ['.eyj'],
    before: null,
    after: null,
  },
  {
    // The header alone: a key cut short, or the header of one whose body follows in another field.
    id: 'portcullis:private-key-header',
    label: 'private-key',
    family: 'private-key',
    pattern: '-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----',
    group: 0,
    anchors: ['-----begi'],
    before: 0,
    after: 67,
  },
  {
    // RFC 6750 section 2.1: `Bearer` and a b64token (with the trailing `=` padding).
    id: 'portcullis:bearer-token',
    label: 'bearer-token',
    family: 'generic',
    pattern: String.raw`\b[Bb]earer\s+([A-Za-z0-9._~+/-]{16,}=*)`,
    group: 1,
    anchors: ['bearer'],
    before: 0,
    after: null,
  },
  {
    // RFC 3986 section 3.2.1 userinfo `user:password@` in a URL of any scheme; the password is the secret.
    id: 'portcullis:url-credentials',
    label: 'url-credentials',
    family: 'database-url',
    pattern: String.raw`\b[a-z][a-z0-9+.-]{1,20}://[^\s:@/]{1,256}:([^\s@/]{1,256})@`,
    group: 1,
    anchors: ['://'],
    before: 21,
    after: 517,
  },
  {
    // A private key as `openssl pkey|rsa|ec -text` prints it (red team J, F4): a private member's label
    // (`priv:` of EC and EdDSA keys, RSA's `privateExponent:`, primes, CRT exponents and coefficient)
    // and the indented lines of colon hex below it; the whole block is the secret.
    id: 'portcullis:private-key-text',
    label: 'private-key',
    family: 'private-key',
    // Indented as openssl prints it, or not (red team M, M4: the lines pasted flush left).
    pattern: String.raw`\b(?:priv|privateExponent|prime[12]|exponent[12]|coefficient):[ \t]*\r?\n((?:[ \t]*(?:[0-9a-fA-F]{2}:){1,15}[0-9a-fA-F]{0,2}[ \t]*\r?\n?){2,64})`,
    group: 1,
    anchors: ['priv:', 'privateexponent:', 'prime1:', 'prime2:', 'exponent1:', 'exponent2:', 'coefficient:'],
    before: 0,
    after: null,
  },
  {
    // A PuTTY private key file (`.ppk`, versions 2 and 3, unencrypted or not): the base64 lines after
    // `Private-Lines: N` are the private key (red team M, M4); the whole block is the secret.
    id: 'portcullis:putty-private-lines',
    label: 'private-key',
    family: 'private-key',
    pattern: String.raw`\bPrivate-Lines:[ \t]*[0-9]{1,3}[ \t]*\r?\n((?:[A-Za-z0-9+/]{4,128}={0,2}[ \t]*(?:\r?\n|$)){1,64})`,
    group: 1,
    anchors: ['private-l'],
    before: 0,
    after: null,
  },
  JWK_PRIVATE_KEY_RULE,
];
