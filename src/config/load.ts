/**
 * The one config loader: YAML text → every problem with its path, or a frozen, validated config.
 * Problems are collected, not thrown one at a time, so `config check` can list all of them at once.
 */
import { identityEnabled } from '../auth/identity.ts';
import { compilePolicy } from '../policy/policy.ts';
import { selfDeclaredAgents, selfDeclaredWarnings } from '../policy/self-declared.ts';
import { nameSourceProblems } from '../policy/name-sources.ts';
import { prefixClashes } from './namespaces.ts';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { exposures, gatewayStateOf } from '../policy/gateway-state.ts';
import { defaultDataDir } from './defaults.ts';
import { createRequire } from 'node:module';
import type * as z from 'zod';
import { configSchema, httpServerSchema, stdioServerSchema, type Config } from './schema.ts';
import { isLoopbackHost, SENSITIVE_NAME, SERVER_NAME } from './names.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { isSecretRef, resolveValue, type SecretSource } from './secrets.ts';
import { isObject } from '../protocol/jsonrpc.ts';
import { checkMonitor } from '../monitor/config-check.ts';
import { unpinnedCode } from '../supply/launch.ts';
import { pinCoverageProblem } from '../supply/server-pin.ts';
import { runAsErrors } from '../upstream/run-as.ts';

export interface ConfigProblem {
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export type LoadResult = { ok: true; config: Config; warnings: ConfigProblem[] } | { ok: false; problems: ConfigProblem[] };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[]): ConfigProblem[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return { path: formatPath([...prefix, ...issue.path]), message, severity: 'error' as const };
  });
}


function checkServerUrl(url: string, path: string, problems: ConfigProblem[]): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problems.push({ path, message: `must be an https URL (got "${url}")`, severity: 'error' });
    return;
  }
  if (parsed.username || parsed.password) {
    problems.push({ path, message: 'must not carry credentials; put them in headers as env:/file: references', severity: 'error' });
  }
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return;
  problems.push({
    path,
    message: `must be an https URL (plain http is accepted only for loopback hosts; got "${parsed.protocol}//${parsed.host}")`,
    severity: 'error',
  });
}

/** Query parameters of a URL whose names say they hold a credential. */
function credentialQuery(url: string): string[] {
  try {
    return [...new URL(url).searchParams.keys()].filter((k) => SENSITIVE_NAME.test(k) || /^(?:key|auth|sig|signature|pass|pwd)$/i.test(k));
  } catch {
    return [];
  }
}

function checkSecrets(
  values: Record<string, unknown>,
  path: string,
  kind: 'header' | 'variable',
  source: SecretSource | undefined,
  problems: ConfigProblem[],
): void {
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== 'string') continue;
    const where = `${path}.${key}`;
    if (SENSITIVE_NAME.test(key) && !isSecretRef(value)) {
      problems.push({
        path: where,
        message: `looks like a credential; write it as a reference (env:NAME or file:/path), not a literal ${kind} value`,
        severity: 'error',
      });
      continue;
    }
    if (source && isSecretRef(value)) {
      const resolved = resolveValue(value, source);
      if ('problem' in resolved) problems.push({ path: where, message: resolved.problem, severity: 'error' });
    }
  }
}

/**
 * Validates a decoded config document. `source`, when given, also checks that every secret reference
 * resolves (what `serve` and `config check` do); without it only the shape is checked.
 */
export function validateConfig(raw: unknown, source?: SecretSource): LoadResult {
  const problems: ConfigProblem[] = [];
  const document = raw ?? {};
  if (!isObject(document)) {
    return { ok: false, problems: [{ path: '(root)', message: 'must be a mapping (key: value pairs)', severity: 'error' }] };
  }
  // Servers are checked one by one against the schema their shape selects, so a mistake in one server
  // is reported against that server's own fields instead of as an opaque union failure.
  const rawServers = document.servers;
  if (rawServers !== undefined && !isObject(rawServers)) {
    problems.push({ path: 'servers', message: 'must be a mapping of server name to server definition', severity: 'error' });
  } else if (rawServers) {
    for (const [name, server] of Object.entries(rawServers)) {
      const path = `servers.${name}`;
      if (!SERVER_NAME.test(name)) {
        problems.push({ path, message: 'server names must be 1-32 characters of A-Z a-z 0-9 _ - (they appear in URLs and tool names)', severity: 'error' });
      }
      if (!isObject(server)) {
        problems.push({ path, message: 'must be a mapping with either "command" (stdio server) or "url" (HTTP server)', severity: 'error' });
        continue;
      }
      const hasCommand = 'command' in server;
      const hasUrl = 'url' in server;
      if (hasCommand === hasUrl) {
        problems.push({ path, message: 'needs exactly one of "command" (stdio server) or "url" (HTTP server)', severity: 'error' });
        continue;
      }
      const parsed = (hasCommand ? stdioServerSchema : httpServerSchema).safeParse(server);
      if (!parsed.success) problems.push(...zodProblems(parsed.error, ['servers', name]));
      if (hasUrl && typeof server.url === 'string') checkServerUrl(server.url, `${path}.url`, problems);
      if (hasUrl && isObject(server.headers)) checkSecrets(server.headers, `${path}.headers`, 'header', source, problems);
      if (hasCommand && isObject(server.env)) checkSecrets(server.env, `${path}.env`, 'variable', source, problems);
    }
  }
  const parsed = configSchema.safeParse({ ...document, servers: {} });
  if (!parsed.success) problems.push(...zodProblems(parsed.error, []));
  const audit = isObject(document.audit) ? document.audit : undefined;
  for (const key of ['signingKey', 'verifyKey'] as const) {
    const value = audit?.[key];
    if (source && typeof value === 'string' && isSecretRef(value)) {
      const resolved = resolveValue(value, source);
      if ('problem' in resolved) problems.push({ path: `audit.${key}`, message: resolved.problem, severity: 'error' });
    }
  }
  // Identity secrets (user passwords, introspection client secrets) must resolve too, or a login fails
  // later for a reason nobody sees.
  const identity = isObject(document.identity) ? document.identity : undefined;
  const refs: [string, unknown][] = [];
  const embedded = isObject(identity?.embedded) ? identity.embedded : undefined;
  if (Array.isArray(embedded?.users)) embedded.users.forEach((u, i) => isObject(u) && refs.push([`identity.embedded.users[${i}].password`, u.password]));
  if (Array.isArray(identity?.issuers)) {
    identity.issuers.forEach((issuer, i) => {
      if (isObject(issuer) && isObject(issuer.introspection)) refs.push([`identity.issuers[${i}].introspection.clientSecret`, issuer.introspection.clientSecret]);
    });
  }
  for (const [path, value] of refs) {
    if (source && typeof value === 'string' && isSecretRef(value)) {
      const resolved = resolveValue(value, source);
      if ('problem' in resolved) problems.push({ path, message: resolved.problem, severity: 'error' });
    }
  }
  if (audit?.store === 'postgres') {
    if (typeof audit.url !== 'string') {
      problems.push({ path: 'audit.url', message: 'is required when audit.store is postgres (e.g. env:PORTCULLIS_AUDIT_URL)', severity: 'error' });
    } else if (isSecretRef(audit.url)) {
      if (source) {
        const resolved = resolveValue(audit.url, source);
        if ('problem' in resolved) problems.push({ path: 'audit.url', message: resolved.problem, severity: 'error' });
      }
    } else if (/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(audit.url)) {
      problems.push({ path: 'audit.url', message: 'carries a password; write the URL as a reference (env:NAME or file:/path)', severity: 'error' });
    } else if (!/^postgres(ql)?:\/\//.test(audit.url)) {
      problems.push({ path: 'audit.url', message: 'must be a postgres:// URL or a reference (env:NAME or file:/path)', severity: 'error' });
    }
  }
  // The approval webhook (docs/approvals.md): same URL rule as HTTP servers; its key must resolve.
  const webhook = isObject(document.approvals) && isObject(document.approvals.webhook) ? document.approvals.webhook : undefined;
  if (typeof webhook?.url === 'string') checkServerUrl(webhook.url, 'approvals.webhook.url', problems);
  // Trusted issuers: whoever answers for these URLs mints identities here (metadata, signing keys,
  // introspection answers), so they are held to the rule for upstream servers — https, or http on loopback.
  if (Array.isArray(identity?.issuers)) {
    identity.issuers.forEach((issuer, i) => {
      if (!isObject(issuer)) return;
      const path = `identity.issuers[${i}]`;
      if (typeof issuer.issuer === 'string') checkServerUrl(issuer.issuer, `${path}.issuer`, problems);
      if (typeof issuer.jwksUri === 'string') checkServerUrl(issuer.jwksUri, `${path}.jwksUri`, problems);
      if (isObject(issuer.introspection) && typeof issuer.introspection.url === 'string') checkServerUrl(issuer.introspection.url, `${path}.introspection.url`, problems);
    });
  }
  if (source && typeof webhook?.secret === 'string' && isSecretRef(webhook.secret)) {
    const resolved = resolveValue(webhook.secret, source);
    if ('problem' in resolved) problems.push({ path: 'approvals.webhook.secret', message: resolved.problem, severity: 'error' });
  }
  if (problems.length > 0) return { ok: false, problems };

  const full = configSchema.parse(document);
  const clashes = prefixClashes(full.servers, full.routing.separator);
  if (clashes.length > 0) return { ok: false, problems: clashes.map((c) => ({ ...c, severity: 'error' as const })) };
  // What the schema cannot see in the policy (CEL, phases, server names, time zones) is checked by
  // compiling it; DNS is never consulted at load.
  const compiled = compilePolicy(full.policy, { servers: Object.keys(full.servers), resolveHost: async () => [] });
  if (compiled.problems.length > 0) {
    return { ok: false, problems: compiled.problems.map((p) => ({ path: formatPath(p.path), message: p.message, severity: 'error' as const })) };
  }
  const names = nameSourceProblems(full.policy, full.identity);
  if (names.errors.length > 0) return { ok: false, problems: names.errors.map((p) => ({ path: formatPath(p.path), message: p.message, severity: 'error' as const })) };
  const warnings: ConfigProblem[] = names.warnings.map((p) => ({ path: formatPath(p.path), message: p.message, severity: 'warning' as const }));
  if (!full.policy) {
    warnings.push({ path: 'policy', message: 'missing: every call will be denied and every list will be empty; `portcullis init` writes a starter policy', severity: 'warning' });
  } else if (full.policy.mode === 'monitor') {
    warnings.push({ path: 'policy.mode', message: 'monitor: decisions are logged and recorded but nothing is blocked', severity: 'warning' });
  }
  // Self-declared values (task labels; agent names without identity.localAgent: on every front while
  // identity is off, on the stdio front while it is on) may only narrow.
  const agents = selfDeclaredAgents(identityEnabled(full), full.identity?.localAgent);
  for (const w of selfDeclaredWarnings(full.policy, agents)) warnings.push({ path: formatPath(w.path), message: w.message, severity: 'warning' });
  // The monitor's containment is judged for the HTTP front's callers, who are authenticated while identity is on.
  const agentsSelfDeclared = agents === 'identity-off';
  const enabled = Object.entries(full.servers).filter(([, s]) => !s.disabled);
  if (enabled.length === 0) warnings.push({ path: 'servers', message: 'no servers are configured; the gateway will expose nothing', severity: 'warning' });
  const launchErrors: ConfigProblem[] = [];
  for (const [name, server] of enabled) {
    const named = 'url' in server ? credentialQuery(server.url) : [];
    if (named.length > 0) {
      // Some services take a key only in the query, so a warning: the value sits in clear in this file.
      warnings.push({ path: `servers.${name}.url`, message: `carries ${named.join(', ')} in its query: a credential in clear in the configuration file (and in any log of the URL); use a header with an env:/file: reference where the server takes one`, severity: 'warning' });
    }
    if ('command' in server && !server.pin && !full.supply.allowUnpinned) {
      warnings.push({ path: `servers.${name}.pin`, message: 'missing: this server will not start unless it is pinned (or supply.allowUnpinned is true)', severity: 'warning' });
    }
    if (!('command' in server)) continue;
    // A pin holds only for what it covers: code loaded by flags or variables, or a pinned file that is not
    // what runs, make it hold for something else (refused); an unpinned server's are reported.
    if (server.pin) {
      const problem = pinCoverageProblem(server, process.cwd());
      if (problem !== undefined) launchErrors.push({ path: `servers.${name}.pin`, message: problem, severity: 'error' });
    } else {
      for (const o of unpinnedCode(server, isSecretRef)) warnings.push({ path: `servers.${name}.${o.where}`, message: `${o.why} (the server is unpinned)`, severity: 'warning' });
    }
  }
  launchErrors.push(...runAsErrors(full));
  if (launchErrors.length > 0) return { ok: false, problems: launchErrors };
  const monitorCheck = checkMonitor(full, source, agentsSelfDeclared);
  if (monitorCheck.errors.length > 0) return { ok: false, problems: monitorCheck.errors };
  warnings.push(...monitorCheck.warnings);
  if (!isLoopbackHost(full.listen.host)) {
    warnings.push({
      path: 'listen.host',
      message: `listening on ${full.listen.host} exposes the gateway beyond this machine; put authentication in front of it`,
      severity: 'warning',
    });
  }
  return { ok: true, config: deepFreeze(full), warnings };
}

// The YAML parser is loaded when a file is read, not with this module: the embedded default (`npm
// start` without a file) never parses YAML and so does not hold the parser in memory.
const require = createRequire(import.meta.url);

export function parseConfigText(text: string, source?: SecretSource): LoadResult {
  const { parseDocument } = require('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: lineOf(e),
        message: e.message.split('\n')[0] ?? e.message,
        severity: 'error' as const,
      })),
    };
  }
  // An unknown tag (`!custom x`) loads as its plain value with only a warning: refused like an unknown key.
  const tags = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (tags.length > 0) return { ok: false, problems: tags.map((w) => ({ path: lineOf(w), message: `${w.message.split('\n')[0] ?? w.message}; the configuration takes plain YAML (no tags)`, severity: 'error' as const })) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    // yaml refuses to expand a document whose aliases multiply (a "billion laughs"): a clear error, not a crash.
    return { ok: false, problems: [{ path: '(root)', message: `the YAML cannot be expanded: ${(error as Error).message.split('\n')[0]} (at most ${MAX_YAML_ALIASES} alias expansions)`, severity: 'error' }] };
  }
  return validateConfig(data, source);
}

/** How many alias expansions a configuration may make (yaml's own default, named here). */
const MAX_YAML_ALIASES = 100;

const lineOf = (e: { linePos?: [{ line: number; col: number }, ...unknown[]] }): string => (e.linePos?.[0] ? `(line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '(root)');

export function loadConfigFile(path: string, source?: SecretSource): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, problems: [{ path: '(file)', message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, severity: 'error' }] };
  }
  const loaded = parseConfigText(text, source);
  if (!loaded.ok) return loaded;
  // A server directory or path-guard root holding the gateway's own state (src/policy/gateway-state.ts).
  const dataDir = loaded.config.dataDir ?? defaultDataDir(source?.env ?? {});
  const exposed = exposures(loaded.config, gatewayStateOf(loaded.config, dataDir, resolve(path)));
  return exposed.length === 0 ? loaded : { ...loaded, warnings: [...loaded.warnings, ...exposed.map((e) => ({ path: e.path, message: e.message, severity: 'warning' as const }))] };
}
