/**
 * Which kind of credential a literal value is, by its shape. A compact table derived from the gitleaks
 * default rules (MIT, config/gitleaks.toml) and the Nosey Parker built-in rules (Apache-2.0,
 * crates/noseyparker/data/default/builtin/rules/*.yml); `source` names the rule each pattern follows.
 * Their licence texts and Nosey Parker's NOTICE are in THIRD_PARTY_NOTICES.md beside this file.
 *
 * The patterns are rewritten for JavaScript and kept bounded (no nested quantifiers), so each runs in
 * linear time on any value. Rules that need surrounding text (a keyword before a bare hex string) are
 * left out: the caller knows the key name and classifies those as `generic-secret` instead.
 * Anything DLP's built-in rules (src/dlp/rules/) find and no pattern here names is a `generic-secret`.
 */
import { createHash } from 'node:crypto';
import { SENSITIVE_NAME } from '../config/names.ts';
import { holdsBuiltInSecret } from '../dlp/create.ts';

export interface SecretKind {
  kind: string;
  label: string;
  pattern: RegExp;
  source: string;
}

/** Tokens end where a token character no longer follows (JavaScript has no \b for `-`). */
const END = '(?![A-Za-z0-9_-])';

const rule = (kind: string, label: string, pattern: string, source: string): SecretKind => ({ kind, label, pattern: new RegExp(pattern), source });

export const SECRET_KINDS: readonly SecretKind[] = [
  rule('aws-access-key-id', 'AWS access key id', `\\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[A-Z2-7]{16}\\b`, 'gitleaks:aws-access-token, noseyparker:np.aws.1'),
  rule('github-pat', 'GitHub personal access token', `\\bghp_[0-9A-Za-z]{36}${END}`, 'gitleaks:github-pat, noseyparker:np.github.1'),
  rule('github-fine-grained-pat', 'GitHub fine-grained token', `\\bgithub_pat_\\w{82}${END}`, 'gitleaks:github-fine-grained-pat'),
  rule('github-oauth-token', 'GitHub OAuth token', `\\bgho_[0-9A-Za-z]{36}${END}`, 'gitleaks:github-oauth, noseyparker:np.github.2'),
  rule('github-app-token', 'GitHub app token', `\\bgh[us]_[0-9A-Za-z]{36}${END}`, 'gitleaks:github-app-token, noseyparker:np.github.3'),
  rule('github-refresh-token', 'GitHub refresh token', `\\bghr_[0-9A-Za-z]{36,76}${END}`, 'gitleaks:github-refresh-token, noseyparker:np.github.4'),
  rule('gitlab-token', 'GitLab token', `\\bgl(?:pat|ptt|rt)-[0-9A-Za-z_-]{20,300}`, 'gitleaks:gitlab-pat, gitlab-ptt; noseyparker:np.gitlab.2'),
  rule('slack-token', 'Slack token', `\\bxox[abeoprs]-[0-9A-Za-z-]{10,250}`, 'gitleaks:slack-bot-token, slack-user-token, slack-legacy-*'),
  rule('slack-app-token', 'Slack app token', `\\bxapp-\\d-[A-Z0-9]{1,20}-\\d{1,20}-[a-z0-9]{10,100}`, 'gitleaks:slack-app-token'),
  rule('slack-webhook', 'Slack webhook URL', `hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,80}`, 'gitleaks:slack-webhook-url'),
  rule('stripe-key', 'Stripe secret key', `\\b[rs]k_(?:test|live|prod)_[0-9A-Za-z]{10,99}${END}`, 'gitleaks:stripe-access-token'),
  rule('anthropic-api-key', 'Anthropic API key', `\\bsk-ant-(?:api|admin)\\d{2}-[0-9A-Za-z_-]{80,120}`, 'gitleaks:anthropic-api-key, anthropic-admin-api-key; noseyparker:np.anthropic.1'),
  rule('openai-api-key', 'OpenAI API key', `\\bsk-(?:proj|svcacct|admin)-[0-9A-Za-z_-]{40,200}|\\bsk-[0-9A-Za-z]{20}T3BlbkFJ[0-9A-Za-z]{20}|\\bsk-[0-9A-Za-z]{48}${END}`, 'gitleaks:openai-api-key, noseyparker:np.openai.1'),
  rule('google-api-key', 'Google API key', `\\bAIza[\\w-]{35}${END}`, 'gitleaks:gcp-api-key'),
  rule('google-oauth-client-secret', 'Google OAuth client secret', `\\bGOCSPX-[0-9A-Za-z_-]{28}`, 'noseyparker:np.google.*'),
  rule('npm-token', 'npm access token', `\\bnpm_[0-9A-Za-z]{36}${END}`, 'gitleaks:npm-access-token, noseyparker:np.npm.1'),
  rule('pypi-token', 'PyPI upload token', `\\bpypi-AgEIcHlwaS5vcmc[\\w-]{50,1000}`, 'gitleaks:pypi-upload-token'),
  rule('huggingface-token', 'Hugging Face token', `\\bhf_[A-Za-z]{34}${END}`, 'gitleaks:huggingface-access-token, noseyparker:np.huggingface.1'),
  rule('groq-api-key', 'Groq API key', `\\bgsk_[0-9A-Za-z]{50,54}${END}`, 'noseyparker:np.groq.1'),
  rule('tavily-api-key', 'Tavily API key', `\\btvly-[0-9A-Za-z]{32}${END}`, 'noseyparker:np.tavily.1'),
  rule('perplexity-api-key', 'Perplexity API key', `\\bpplx-[0-9A-Za-z]{48}${END}`, 'gitleaks:perplexity-api-key'),
  rule('sendgrid-api-key', 'SendGrid API key', `\\bSG\\.[0-9A-Za-z=_.-]{66}${END}`, 'gitleaks:sendgrid-api-token'),
  rule('twilio-api-key', 'Twilio API key', `\\bSK[0-9a-fA-F]{32}\\b`, 'gitleaks:twilio-api-key'),
  rule('digitalocean-token', 'DigitalOcean token', `\\bdo[por]_v1_[a-f0-9]{64}\\b`, 'gitleaks:digitalocean-pat'),
  rule('shopify-token', 'Shopify access token', `\\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\\b`, 'gitleaks:shopify-access-token'),
  rule('linear-api-key', 'Linear API key', `\\blin_api_[0-9A-Za-z]{40}\\b`, 'gitleaks:linear-api-key'),
  rule('notion-token', 'Notion token', `\\bntn_[0-9]{11}[0-9A-Za-z]{35}\\b`, 'gitleaks:notion-api-token'),
  rule('databricks-token', 'Databricks token', `\\bdapi[a-f0-9]{32}(?:-\\d)?\\b`, 'gitleaks:databricks-api-token'),
  rule('doppler-token', 'Doppler token', `\\bdp\\.pt\\.[0-9A-Za-z]{43}\\b`, 'gitleaks:doppler-api-token'),
  rule('grafana-token', 'Grafana token', `\\b(?:glsa_[0-9A-Za-z]{32}_[0-9A-Fa-f]{8}|glc_[0-9A-Za-z+/]{32,400}={0,3})`, 'gitleaks:grafana-service-account-token, grafana-cloud-api-token'),
  rule('sentry-token', 'Sentry token', `\\bsntry[us]_[0-9A-Za-z+/=_]{40,500}`, 'gitleaks:sentry-user-token, sentry-org-token'),
  rule('atlassian-api-token', 'Atlassian API token', `\\bATATT3[0-9A-Za-z_=-]{186}`, 'gitleaks:atlassian-api-token'),
  rule('vault-token', 'HashiCorp Vault token', `\\bhv[sb]\\.[\\w-]{90,300}`, 'gitleaks:vault-service-token, vault-batch-token'),
  rule('terraform-token', 'Terraform Cloud token', `\\b[0-9A-Za-z]{14}\\.atlasv1\\.[0-9A-Za-z_=-]{60,70}`, 'gitleaks:hashicorp-tf-api-token'),
  rule('pulumi-token', 'Pulumi token', `\\bpul-[a-f0-9]{40}\\b`, 'gitleaks:pulumi-api-token'),
  rule('postman-token', 'Postman API key', `\\bPMAK-[0-9a-f]{24}-[0-9a-f]{34}\\b`, 'gitleaks:postman-api-token'),
  rule('1password-service-token', '1Password service account token', `\\bops_eyJ[0-9A-Za-z+/]{250,}`, 'gitleaks:1password-service-account-token'),
  rule('azure-client-secret', 'Azure AD client secret', `(?:^|[\\s'"=:(,])[0-9A-Za-z_~.]{3}\\dQ~[0-9A-Za-z_~.-]{31,34}(?:$|[\\s'"),])`, 'gitleaks:azure-ad-client-secret'),
  rule('portcullis-api-key', 'Portcullis API key', `\\bpcl_[0-9A-Za-z_-]{20,200}`, 'src/auth/store.ts API_KEY_PREFIX'),
  rule('private-key', 'private key (PEM)', `-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----`, 'gitleaks:private-key, noseyparker:np.pem.1'),
  rule('jwt', 'JSON Web Token', `\\beyJ[0-9A-Za-z_-]{8,4096}\\.eyJ[0-9A-Za-z_-]{8,8192}\\.[0-9A-Za-z_-]{0,4096}`, 'gitleaks:jwt, noseyparker:np.jwt.1'),
  rule('url-credentials', 'password in a URL', `\\b[a-z][a-z0-9+.-]{1,20}://[^\\s:@/]{0,256}:[^\\s@/]{1,256}@`, 'noseyparker:np.postgres.1, np.uri.*'),
];

export interface Classified {
  /** `literal`: the value itself is the secret; `reference`: it names where the secret is kept. */
  literal: boolean;
  kind: string;
  /** For a reference: what it refers to (`env:NAME`, `input:id`, …); never set for a literal. */
  reference?: string;
}

/**
 * `${VAR}`, `${VAR:-x}`, `${env:VAR}`, `${input:id}`, `${{ secrets.X }}`, `$VAR`, `env:NAME`, `file:/p`.
 * A bare `$name` counts only in upper case (environment variables), so a password like `pa$$word` stays a literal.
 */
const REFERENCE = /\$\{\{\s{0,8}secrets\.([A-Za-z0-9_-]{1,128})\s{0,8}\}\}|\$\{(env|input|secret|keychain):([A-Za-z0-9_.-]{1,128})\}|\$\{([A-Za-z_][A-Za-z0-9_]{0,127})(?::-[^}]{0,256})?\}|\$([A-Z_][A-Z0-9_]{0,127})|^env:([A-Za-z_][A-Za-z0-9_]{0,127})$|^file:(\/.{1,4096})$/g;

export interface Reference {
  scheme: 'env' | 'input' | 'secrets' | 'file' | 'keychain';
  name: string;
}

/** The references a value holds, in order. */
export function referencesIn(value: string): Reference[] {
  const out: Reference[] = [];
  for (const m of value.matchAll(REFERENCE)) {
    if (m[1]) out.push({ scheme: 'secrets', name: m[1] });
    else if (m[2] && m[3]) out.push({ scheme: m[2] === 'input' ? 'input' : m[2] === 'env' ? 'env' : 'keychain', name: m[3] });
    else if (m[4]) out.push({ scheme: 'env', name: m[4] });
    else if (m[5]) out.push({ scheme: 'env', name: m[5] });
    else if (m[6]) out.push({ scheme: 'env', name: m[6] });
    else if (m[7]) out.push({ scheme: 'file', name: m[7] });
  }
  return out;
}

const formatReference = (r: Reference): string => `${r.scheme}:${r.name}`;

/** The kind of the first secret rule the value matches. */
export function secretKindOf(value: string): string | undefined {
  if (value.length > 64 * 1024) return undefined;
  return SECRET_KINDS.find((k) => k.pattern.test(value))?.kind;
}

/** Shannon entropy in bits per character. */
function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits;
}

/**
 * A long, random-looking token (no path, URL, version or digest shape): maybe a secret with no
 * recognisable format. Reported as `unknown` so it is masked and looked at, at a lower severity.
 */
export function looksRandom(value: string): boolean {
  if (value.length < 24 || value.length > 4096 || /\s/.test(value)) return false;
  if (/^(?:[a-z0-9+.-]+:\/\/|\/|~|\.|[A-Za-z]:\\)/i.test(value) || /[/\\]/.test(value)) return false;
  if (/^(?:sha(?:256|384|512)[:-]|[0-9a-f]{40}$|[0-9a-f]{64}$|[0-9a-f-]{36}$)/i.test(value)) return false;
  if (!/[A-Za-z]/.test(value) || !/[0-9]/.test(value)) return false;
  // Package specs and dotted names: pkg@1.2.3, pkg==1.2.3, awslabs.aws-documentation-mcp-server.
  if (/==|@v?\d+\.\d+/.test(value) || /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+){2,}$/i.test(value)) return false;
  return entropy(value) >= 4.2;
}

/**
 * The words of a variable, header or flag name that say its value is a credential, beyond the substrings
 * SENSITIVE_NAME catches: `SMTP_PASS`, `MYSQL_PWD`, `AUTH_HEADER`, `--access-key`, `--bearer`, `--session`,
 * `passphrase`. Names are cut into words at `-`, `_`, `.`, spaces and camel-case humps.
 */
const CREDENTIAL_WORDS = new Set(['pass', 'passwd', 'password', 'passphrase', 'passcode', 'pwd', 'pw', 'auth', 'bearer', 'session', 'sessionid', 'sid', 'key', 'keys', 'apikey', 'secret', 'secrets', 'token', 'tokens', 'cookie', 'cookies', 'credential', 'credentials', 'creds', 'pat', 'pin', 'otp', 'dsn']);
/** One-letter flags whose value is a password (`-p secret` as mysql and many CLIs take it; case matters: `-P` is a port). */
const PASSWORD_FLAGS = new Set(['p']);

const wordsOf = (name: string): string[] =>
  name
    .replace(/^-+/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/** True when a name says its value is a credential. */
export function isCredentialName(name: string): boolean {
  if (name === '') return false;
  if (SENSITIVE_NAME.test(name)) return true;
  const words = wordsOf(name);
  return words.some((w) => CREDENTIAL_WORDS.has(w)) || PASSWORD_FLAGS.has(name.replace(/^-{1,2}/, ''));
}

/** A connection string's password (`Password=…;`, `Pwd=…`), as ADO.NET, ODBC and JDBC write them. */
const CONNECTION_PASSWORD = /(?:^|;)\s{0,8}(?:password|pwd|passwd)\s{0,8}=\s{0,8}[^;\s][^;]{0,1024}/i;
/** `user:password` as `-u`/`--user` flags (curl and most HTTP tools) take it. */
const USER_PASSWORD = /^[^\s:/@]{1,256}:[^\s]{1,1024}$/;
const USER_FLAG = /^(?:u|user|usr|userinfo|basic|basic-auth)$/i;

/** Values under a credential-named key that are not secrets: flags, numbers, empty, placeholders. */
function isTrivial(value: string): boolean {
  return value.length < 6 || /^(?:true|false|yes|no|on|off|null|none|\d+|<[^>]*>|x+|\*+)$/i.test(value.trim());
}

const isLocation = (value: string): boolean => /^(?:\/|~\/|\.\.?\/|[A-Za-z]:\\|[a-z][a-z0-9+.-]*:\/\/[^\s@/]*(?:[/?#]|$))/i.test(value) && !/\s/.test(value);

/**
 * Classifies one configured value. `key` is the variable, header or flag name it sits under (used when
 * the value has no shape of its own). Returns undefined when it is not a credential.
 */
export function classifyValue(value: string, key = ''): Classified | undefined {
  const refs = referencesIn(value);
  const remainder = refs.length ? value.replace(REFERENCE, '') : value;
  const kind = secretKindOf(remainder);
  if (kind) return { literal: true, kind };
  const sensitiveKey = isCredentialName(key);
  if (refs.length > 0) {
    const sensitive = sensitiveKey || refs.some((r) => r.scheme === 'input' || r.scheme === 'secrets' || r.scheme === 'keychain' || SENSITIVE_NAME.test(r.name));
    if (!sensitive) return undefined;
    // "Bearer ${TOKEN}" refers; "Bearer abc…${X}" would still hold a literal in the remainder.
    const rest = remainder.replace(/^\s*(?:Bearer|Basic|Token)\s*/i, '').trim();
    if (rest.length >= 8 && !isTrivial(rest)) return { literal: true, kind: 'generic-secret' };
    return { literal: false, kind: 'reference', reference: refs.map(formatReference).join(' ') };
  }
  if (/^\s*Bearer\s+\S{8,}/i.test(value)) return { literal: true, kind: 'bearer-token' };
  if (/^\s*Basic\s+[A-Za-z0-9+/=]{8,}/i.test(value)) return { literal: true, kind: 'basic-auth' };
  if (holdsBuiltInSecret(value)) return { literal: true, kind: 'generic-secret' };
  if (CONNECTION_PASSWORD.test(value)) return { literal: true, kind: 'connection-string-password' };
  if (USER_FLAG.test(key.replace(/^-+/, '')) && USER_PASSWORD.test(value)) return { literal: true, kind: 'basic-auth' };
  // A path or URL under a credential-named key names where the secret is (`--key /etc/tls/key.pem`).
  if (sensitiveKey && !isTrivial(value) && !(isLocation(value) && !SENSITIVE_NAME.test(key))) return { literal: true, kind: 'generic-secret' };
  if (looksRandom(value)) return { literal: true, kind: 'unknown' };
  return undefined;
}

/** The short fingerprint of a secret: the first 8 hex digits of its SHA-256 (the value is never shown). */
export function fingerprint(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 8);
}

/** What is printed instead of a secret. */
export const masked = (kind: string, value: string): string => `[redacted ${kind} ${fingerprint(value)}]`;

/** Age in days a token's own format tells (a JWT's `iat`), and its expiry. */
export function tokenDates(value: string): { issuedAt?: Date; expiresAt?: Date } {
  const m = /\beyJ[0-9A-Za-z_-]{8,4096}\.(eyJ[0-9A-Za-z_-]{8,8192})\./.exec(value);
  if (!m) return {};
  try {
    const claims = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    return {
      ...(typeof claims.iat === 'number' && Number.isFinite(claims.iat) ? { issuedAt: new Date(claims.iat * 1000) } : {}),
      ...(typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? { expiresAt: new Date(claims.exp * 1000) } : {}),
    };
  } catch {
    return {};
  }
}
