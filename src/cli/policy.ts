/**
 * `portcullis policy test` and `policy explain`: the policy author's tools. Both work offline on the
 * configuration file and the pinned tool catalog of its data dir (annotations and names as the gateway
 * last saw them), or with `--live` on the servers' current lists. Nothing is forwarded or recorded.
 */
import { lookup } from 'node:dns/promises';
import type { Principal } from '../auth/principal.ts';
import { localPrincipal } from '../auth/principal.ts';
import type { Config } from '../config/schema.ts';
import { pinnedToolNames } from '../supply/pins.ts';
import { resolve } from 'node:path';
import { defaultDataDir } from '../config/defaults.ts';
import { compilePolicy, type Policy } from '../policy/policy.ts';
import { compileOptionsWith, decideGoverned, stateGuardOf, type StateGuard } from '../policy/state-decision.ts';
import { openPins } from '../supply/open-pins.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import { listToolsLive } from './scan.ts';
import type { Io } from './serve.ts';

export interface PolicyCliOptions {
  config?: string;
  dataDir?: string;
  as?: string;
  task?: string;
  at?: string;
  json?: boolean;
  live?: boolean;
}

type Catalog = Map<string, Map<string, Record<string, unknown>>>;

const AS_KEYS = ['agent', 'subject', 'roles', 'scopes', 'issuer'] as const;

/** `agent=a,subject=u,roles=r1,roles=r2,scopes=s1` → a principal (token-like when scopes are given). */
export function parseAs(text: string | undefined): Principal | string {
  const fields: Record<string, string[]> = {};
  for (const part of (text ?? '').split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!(AS_KEYS as readonly string[]).includes(key)) return `--as: "${part}" is not key=value with key one of ${AS_KEYS.join(', ')}`;
    (fields[key] ??= []).push(...part.slice(eq + 1).split(/[ +]/).filter(Boolean));
  }
  const agent = fields.agent?.[0] ?? 'local';
  const subject = fields.subject?.[0] ?? 'local';
  if (!fields.scopes && !fields.roles && !fields.issuer) return localPrincipal(subject, agent);
  return { kind: 'token', subject, agent, scopes: fields.scopes ?? [], allScopes: false, roles: fields.roles ?? [], ...(fields.issuer ? { issuer: fields.issuer[0]! } : {}) };
}

/** `server.tool {json}` → its parts. */
export function parseCall(text: string): { server: string; tool: string; args: Record<string, unknown> } | string {
  const match = /^\s*([A-Za-z0-9][A-Za-z0-9_-]{0,31})\.(\S+)\s*(.*)$/s.exec(text);
  if (!match) return '--call must be "server.tool {json arguments}", e.g. \'files.read_text_file {"path":"/tmp/x"}\'';
  let args: unknown = {};
  if (match[3]!.trim() !== '') {
    try {
      args = JSON.parse(match[3]!);
    } catch (error) {
      return `--call: the arguments are not JSON (${(error as Error).message})`;
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return '--call: the arguments must be a JSON object';
  return { server: match[1]!, tool: match[2]!, args: args as Record<string, unknown> };
}

export interface Prepared {
  config: Config;
  policy: Policy;
  catalog: Catalog;
  principal: Principal;
  now: Date;
  stateGuard: StateGuard;
}

/** The configuration, its compiled policy and the tool catalog (pinned, or live) a command decides on. */
export async function prepare(options: PolicyCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<Prepared | number> {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return 2;
  }
  const principal = parseAs(options.as);
  if (typeof principal === 'string') {
    io.err(`portcullis: ${principal}\n`);
    return 2;
  }
  const now = options.at ? new Date(options.at) : new Date();
  if (Number.isNaN(now.getTime())) {
    io.err(`portcullis: --at "${options.at}" is not a date (use ISO 8601, e.g. 2026-11-27T09:30:00Z)\n`);
    return 2;
  }
  const config = loaded.config;
  const pins = openPins(config, io.secrets, { create: false });
  const catalog: Catalog = new Map();
  if (options.live) {
    for (const { server, tools } of await listToolsLive(loaded, io)) {
      catalog.set(server, new Map(tools.filter((t) => typeof t.name === 'string').map((t) => [t.name as string, t as Record<string, unknown>])));
    }
  } else if (!pins.integrity().ok) {
    io.err(`portcullis: the pins file is untrusted (${(pins.integrity() as { problem: string }).problem}); no catalog is used (see portcullis pin verify)\n`);
  } else {
    for (const server of Object.keys(config.servers)) {
      if (!pins.seen(server, 'tools')) continue;
      const tools = new Map<string, Record<string, unknown>>();
      for (const [key, pin] of Object.entries(pins.allPinned(server))) if (key.startsWith('tools:')) tools.set(key.slice(6), pin.definition);
      catalog.set(server, tools);
    }
  }
  // The gateway's own state, guarded as `serve -c FILE` guards it (src/policy/state-decision.ts).
  const stateGuard = stateGuardOf(config, config.dataDir ?? defaultDataDir(io.secrets.env), options.config ? resolve(options.config) : undefined);
  const { policy, problems } = compilePolicy(config.policy, compileOptionsWith(config, stateGuard, {
    knownTools: (server) => (options.live ? (catalog.has(server) ? new Set(catalog.get(server)!.keys()) : undefined) : pinnedToolNames(pins, server)),
    resolveHost: async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address),
  }));
  if (problems.length > 0) {
    io.err(`portcullis: the policy in ${loaded.source} has problems:\n${problems.map((p) => `  error   ${p.path.join('.')}: ${p.message}`).join('\n')}\n`);
    return 2;
  }
  return { config, policy, catalog, principal, now, stateGuard };
}

/** Prints the decision on one call; exit 0 when allowed, 1 when denied or waiting for approval. */
export async function policyTest(options: PolicyCliOptions & { call?: string }, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  if (!options.call) {
    io.err('portcullis: policy test needs --call \'server.tool {json arguments}\'\n');
    return 2;
  }
  const call = parseCall(options.call);
  if (typeof call === 'string') {
    io.err(`portcullis: ${call}\n`);
    return 2;
  }
  const prepared = await prepare(options, io);
  if (typeof prepared === 'number') return prepared;
  if (!prepared.config.servers[call.server]) {
    io.err(`portcullis: --call names server "${call.server}", which the configuration does not have (servers: ${Object.keys(prepared.config.servers).join(', ') || 'none'})\n`);
    return 2;
  }
  const known = prepared.catalog.get(call.server);
  const definition = known?.get(call.tool);
  const notes: string[] = [];
  if (!known) notes.push(`no catalog for server "${call.server}" (run the gateway once, or use --live): annotations are the policy's and MCP's defaults`);
  else if (!definition) notes.push(`server "${call.server}" has no tool "${call.tool}": the gateway would refuse the call as unknown`);
  const decision = await decideGoverned(prepared.policy, prepared.stateGuard, {
    principal: prepared.principal,
    server: call.server,
    kind: 'tool',
    name: call.tool,
    args: call.args,
    declared: definition && typeof definition.annotations === 'object' ? (definition.annotations as Record<string, unknown>) : undefined,
    task: options.task,
    now: prepared.now,
  });
  // Monitor mode records a denial without blocking it, except a refusal to reach the gateway's state.
  const monitored = prepared.policy.mode === 'monitor' && !(decision.code === 'PC_POLICY_GATEWAY_STATE' && decision.rule === undefined);
  const result = {
    decision: decision.effect,
    rule: decision.rule ?? null,
    reason: decision.reason,
    code: decision.code ?? null,
    ...(decision.arguments ? { forwards: decision.arguments } : {}),
  };
  if (options.json) io.out(`${JSON.stringify(monitored ? { ...result, mode: 'monitor' } : result)}\n`);
  else {
    io.out(`${decision.effect.toUpperCase()}  ${call.server}.${call.tool}${decision.rule ? `  rule=${decision.rule}` : ''}${decision.code ? `  code=${decision.code}` : ''}\n  ${decision.reason}\n`);
    if (decision.arguments) io.out(`  forwards (canonical form the guards judged): ${JSON.stringify(decision.arguments)}\n`);
    if (monitored) io.out('  (policy.mode is monitor: the gateway would record this decision but not block)\n');
    for (const note of notes) io.out(`  note: ${note}\n`);
  }
  return decision.effect === 'allow' ? 0 : 1;
}

export interface ToolVisibility {
  server: string;
  tool: string;
  visible: boolean;
  why: string;
  scopes: string[];
  /** The approve rule that may hold calls of this tool for a human (docs/approvals.md). */
  approval?: string;
}

/** Which catalog tools `principal` would see (and so may call), and why — what `policy explain` prints. */
export function explainTools(prepared: Prepared, principal: Principal, task?: string): ToolVisibility[] {
  const rows: ToolVisibility[] = [];
  for (const [server, tools] of prepared.catalog) {
    for (const [tool, definition] of tools) {
      const declared = typeof definition.annotations === 'object' ? (definition.annotations as Record<string, unknown>) : undefined;
      const { visible, why, approval } = prepared.policy.visible(principal, server, 'tool', tool, declared, task, prepared.now);
      rows.push({ server, tool, visible, why, scopes: prepared.policy.requiredScopes(server, tool), ...(approval ? { approval } : {}) });
    }
  }
  return rows;
}

/** Shows, for one caller, which tools each server's list would show, and why. */
export async function policyExplain(options: PolicyCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  const prepared = await prepare(options, io);
  if (typeof prepared === 'number') return prepared;
  const { policy, catalog, principal } = prepared;
  const rows = explainTools(prepared, principal, options.task);
  if (options.json) {
    io.out(`${JSON.stringify({ principal: { agent: principal.agent, subject: principal.subject, roles: principal.roles, scopes: principal.allScopes ? '*' : principal.scopes }, tools: rows })}\n`);
    return 0;
  }
  io.out(`As agent "${principal.agent}", subject "${principal.subject}"${principal.roles.length ? `, roles ${principal.roles.join(' ')}` : ''}${principal.allScopes ? ' (local: every scope)' : `, scopes ${principal.scopes.join(' ') || '(none)'}`}:\n`);
  if (catalog.size === 0) {
    io.out('  no tool catalog yet: run the gateway once so it pins the servers\' tools, or use --live\n');
    return 0;
  }
  for (const row of rows) io.out(`  ${row.visible ? 'shown ' : 'HIDDEN'}  ${row.server}.${row.tool}  — ${row.why}${row.scopes.length ? `  [needs ${row.scopes.join(' ')}]` : ''}${row.approval ? `  [needs approval: rule ${row.approval}]` : ''}\n`);
  const shown = rows.filter((r) => r.visible).length;
  io.out(`${shown} of ${rows.length} tools shown${policy.mode === 'monitor' ? ' (policy.mode is monitor: lists are not filtered while monitoring)' : ''}\n`);
  return 0;
}
