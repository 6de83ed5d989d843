/**
 * Generates src/dlp/rules/secret-rules.ts, the gateway's secret rule table, from the gitleaks and Nosey
 * Parker rule data. The gateway runs from an installed package, without the corpora, so the table is
 * derived here once and committed; their licences are kept beside it (src/dlp/rules/).
 *
 *   node scripts/dlp-rules.ts [--corpora ../shared/corpora]
 *
 * Sources (read in place):
 *   <corpora>/gitleaks/config/gitleaks.toml                                  (MIT, © 2019 Zachary Rice)
 *   <corpora>/noseyparker-rules/crates/noseyparker/data/default/builtin/rules/*.yml  (Apache-2.0, Praetorian)
 *
 * Each pattern is compiled with the gateway's own linear-time engine (src/dlp/regex): a rule it cannot
 * run, or whose matches need not contain a distinctive literal (at least 3 characters) to look for
 * first, is left out and listed with the reason at the end of the generated file.
 */
import { chmodSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { LinearRegex } from '../src/dlp/regex/automaton.ts';
import type { AllowData, SecretRuleData } from '../src/dlp/secret-rule-data.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const corpora = resolve(argv.includes('--corpora') ? argv[argv.indexOf('--corpora') + 1]! : join(ROOT, '../shared/corpora'));
const OUT_DIR = join(ROOT, 'src/dlp/rules');
const MIN_ANCHOR = 3;

type Allow = Mutable<AllowData>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] | undefined ? U[] | Exclude<T[K], readonly unknown[]> : T[K] };
type RuleOut = Omit<Mutable<SecretRuleData>, 'allow'> & { allow?: Allow[] };

/** Family by the first keyword found in the rule id or name (for the per-family quality table). */
const FAMILIES: ReadonlyArray<[string, RegExp]> = [
  ['private-key', /private[-_ ]?key|\bpem\b|pgp|ssh|age-secret|wireguard|putty/i],
  ['jwt', /\bjwt\b|json web token|jwe/i],
  ['database-url', /postgres|mongodb|mysql|jdbc|odbc|redis|database|connection string|\bdb\b/i],
  ['cloud', /aws|amazon|azure|gcp|google|alibaba|digitalocean|heroku|cloudflare|ibm|oracle|linode|vultr|scaleway|hashicorp|vault|terraform|doppler|fly\.?io|netlify|vercel|render|openshift|kubernetes|k8s|dynatrace|datadog|new ?relic|sentry|grafana|s3|gcs|arn|appsync|databricks|snowflake|confluent|planetscale|pulumi|infracost/i],
  ['vcs-ci', /github|gitlab|bitbucket|gitea|gitter|circleci|travis|jenkins|teamcity|drone|codecov|sonar|artifactory|jfrog|npm|pypi|nuget|rubygems|crates|docker|clojars|gradle|maven|octopus|harness|buildkite|snyk|sourcegraph|dependency-track|dtrack|atlassian|jira|confluence|linear|postman|readme/i],
  ['chat', /slack|discord|telegram|teams|mattermost|twilio|sendgrid|sendinblue|mailgun|mailchimp|postmark|messagebird|sendbird|intercom|zendesk|freshdesk|twitch|twitter|facebook|linkedin|microsoft ?teams|webhook|gitalk|kakao|line/i],
  ['payment', /stripe|square|paypal|braintree|shopify|adyen|plaid|coinbase|kraken|kucoin|bittrex|flutterwave|gocardless|finicity|duffel|shippo|easypost|razorpay|checkout/i],
  ['ai', /openai|anthropic|huggingface|hugging face|cohere|groq|perplexity|pplx|replicate|jina|tavily|firecrawl|mistral|kagi/i],
  ['generic', /generic|password|secret|credential|api[-_ ]?key|token|netrc|basic auth|bearer|curl|htpasswd|pwhash|krb5|kerberos/i],
];

function familyOf(text: string): string {
  for (const [family, test] of FAMILIES) if (test.test(text)) return family;
  return 'service-token';
}

const slug = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

const rules: RuleOut[] = [];
const skipped: Array<{ id: string; reason: string }> = [];

function add(id: string, label: string, family: string, pattern: string, group: number | undefined, extra: { entropy?: number; allow?: Allow[] }): void {
  let re: LinearRegex;
  try {
    re = new LinearRegex(pattern, { trimLeading: true }).compile();
  } catch (error) {
    skipped.push({ id, reason: (error as Error).message });
    return;
  }
  if (re.minLength === 0) {
    skipped.push({ id, reason: 'the pattern can match empty text' });
    return;
  }
  const anchors = re.anchors;
  if (!anchors || Math.min(...anchors.literals.map((l) => l.length)) < MIN_ANCHOR) {
    skipped.push({ id, reason: `no literal of ${MIN_ANCHOR}+ characters that every match contains (it would run on every text)` });
    return;
  }
  const secretGroup = group ?? (re.captures === 1 ? 1 : 0);
  if (secretGroup > re.captures) {
    skipped.push({ id, reason: `secret group ${secretGroup} does not exist` });
    return;
  }
  const rule: RuleOut = {
    id,
    label,
    family,
    pattern,
    group: secretGroup,
    anchors: anchors.literals,
    before: Number.isFinite(anchors.before) ? anchors.before : null,
    after: Number.isFinite(anchors.after) ? anchors.after : null,
  };
  if (extra.entropy !== undefined) rule.entropy = extra.entropy;
  if (extra.allow && extra.allow.length > 0) rule.allow = extra.allow;
  rules.push(rule);
}

// ---------- Nosey Parker ----------
const npDir = join(corpora, 'noseyparker-rules/crates/noseyparker/data/default/builtin/rules');
for (const file of readdirSync(npDir).sort()) {
  const doc = parseYaml(readFileSync(join(npDir, file), 'utf8')) as { rules?: Array<{ id: string; name: string; pattern: string }> };
  for (const rule of doc.rules ?? []) {
    // One capture group is the secret; with several (user, password, host…) the whole match is.
    add(`np:${rule.id}`, slug(rule.name), familyOf(`${rule.id} ${rule.name}`), rule.pattern.trim(), undefined, {});
  }
}

// ---------- gitleaks ----------
interface GitleaksRule {
  id: string;
  regex?: string;
  secretGroup?: number;
  entropy?: number;
  allowlists?: Array<{ regexTarget?: string; regexes?: string[]; stopwords?: string[]; paths?: string[]; condition?: string }>;
}
const toml = parseToml(readFileSync(join(corpora, 'gitleaks/config/gitleaks.toml'), 'utf8')) as unknown as {
  allowlist?: { regexes?: string[]; stopwords?: string[] };
  rules: GitleaksRule[];
};
for (const rule of toml.rules) {
  const id = `gitleaks:${rule.id}`;
  if (!rule.regex) {
    skipped.push({ id, reason: 'path-only rule (no content pattern)' });
    continue;
  }
  const allow: Allow[] = [];
  for (const list of rule.allowlists ?? []) {
    // Allowlists on file paths or whole lines have no meaning for a tool result; an AND condition
    // with a path part can never hold here.
    if (list.paths && list.condition === 'AND') continue;
    if (list.regexTarget === 'line') continue;
    const entry: Allow = { target: list.regexTarget === 'match' ? 'match' : 'secret' };
    if (list.regexes?.length) entry.regexes = list.regexes;
    if (list.stopwords?.length) entry.stopwords = list.stopwords.map((w) => w.toLowerCase());
    if (entry.regexes || entry.stopwords) allow.push(entry);
  }
  const extra: { entropy?: number; allow?: Allow[] } = { allow };
  if (rule.entropy !== undefined) extra.entropy = rule.entropy;
  add(id, rule.id, familyOf(rule.id), rule.regex, rule.secretGroup, extra);
}

const globalAllow: Allow = { target: 'secret', regexes: toml.allowlist?.regexes ?? [], stopwords: (toml.allowlist?.stopwords ?? []).map((w) => w.toLowerCase()) };
// Rules that compile but whose global allowlist patterns cannot are a generator bug: fail loudly.
for (const pattern of globalAllow.regexes ?? []) new LinearRegex(pattern).compile();

const header = `/**
 * GENERATED by scripts/dlp-rules.ts — do not edit; regenerate with \`node scripts/dlp-rules.ts\`.
 *
 * Secret rules derived from:
 *   - gitleaks default rules, config/gitleaks.toml (commit b58d3f10), MIT — see LICENSE.gitleaks
 *   - Nosey Parker built-in rules, crates/noseyparker/data/default/builtin/rules/*.yml (commit 2e6e7f36),
 *     Apache-2.0 — see LICENSE.noseyparker and NOTICE.noseyparker
 * Patterns are the originals (RE2 / Rust regex syntax), run by src/dlp/regex in linear time. \`anchors\`
 * are literals every match contains; \`before\`/\`after\` bound how far a match reaches around one
 * (null: unbounded). \`group\`: the capture group holding the secret (0: the whole match).
 */
import type { SecretRuleData, AllowData } from '../secret-rule-data.ts';

`;
const body = [
  header,
  `export const SECRET_RULES: readonly SecretRuleData[] = ${JSON.stringify(rules, null, 1)};\n\n`,
  `/** gitleaks' global allowlist (placeholders and stop words that are never secrets). */\n`,
  `export const GLOBAL_ALLOW: AllowData = ${JSON.stringify(globalAllow)};\n\n`,
  `/** Source rules left out, and why. */\n`,
  `export const SKIPPED_RULES: ReadonlyArray<{ id: string; reason: string }> = ${JSON.stringify(skipped, null, 1)};\n`,
].join('');
writeFileSync(join(OUT_DIR, 'secret-rules.ts'), body);
for (const [from, to] of [
  ['gitleaks/LICENSE', 'LICENSE.gitleaks'],
  ['noseyparker-rules/LICENSE', 'LICENSE.noseyparker'],
  ['noseyparker-rules/NOTICE', 'NOTICE.noseyparker'],
] as const) {
  const target = join(OUT_DIR, to);
  try {
    chmodSync(target, 0o644);
  } catch {
    // not there yet
  }
  copyFileSync(join(corpora, from), target);
  chmodSync(target, 0o644);
}
console.log(`${rules.length} rules written, ${skipped.length} left out (reasons at the end of src/dlp/rules/secret-rules.ts)`);
