/**
 * `portcullis kill`, `unkill` and `status`: the kill switch, from the shell. Switches are written to
 * the data dir the configuration names; a running gateway sees them on its next message.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { identityDbPath, identityEnabled } from '../auth/identity.ts';
import { IdentityStore } from '../auth/store.ts';
import { join } from 'node:path';
import { looseModes } from '../util/private-files.ts';
import { displayText } from '../audit/display.ts';
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import { openKillSwitches } from '../killswitch/open.ts';
import { describeTarget, type KillSwitch, type KillTarget } from '../killswitch/store.ts';
import { openPins } from '../supply/open-pins.ts';
import { pinnedToolNames } from '../supply/pins.ts';
import { anyGlob } from '../util/glob.ts';
import { approvalsDbPath } from '../approvals/open.ts';
import { ApprovalStore } from '../approvals/store.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import type { Io } from './serve.ts';
import { runningGateways } from '../gateway/presence.ts';

export interface KillOptions {
  config?: string;
  dataDir?: string;
  all?: boolean;
  server?: string;
  tool?: string;
  agent?: string;
  subject?: string;
  reason?: string;
  by?: string;
  everything?: boolean;
  reseal?: boolean;
  json?: boolean;
}

function load(options: KillOptions, io: Pick<Io, 'err' | 'secrets'>): { config: Config; dataDir: string } | undefined {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  return { config: loaded.config, dataDir: loaded.config.dataDir ?? defaultDataDir(io.secrets.env) };
}

/** Exactly one of --all, --server, --tool, --agent, --subject. */
function targetOf(options: KillOptions, config: Config): KillTarget | string {
  const given = [options.all ? 'all' : undefined, options.server, options.tool, options.agent, options.subject].filter((v) => v !== undefined);
  if (given.length !== 1) return 'say exactly one of --all, --server NAME, --tool NAME (or server.tool, globs allowed), --agent NAME, --subject USER';
  if (options.all) return { all: true };
  if (options.server !== undefined) {
    if (!config.servers[options.server]) return `--server: no server named "${options.server}" (servers: ${Object.keys(config.servers).join(', ') || 'none'})`;
    return { server: options.server };
  }
  if (options.tool !== undefined) return options.tool.trim() ? { tool: switchToolName(options.tool.trim(), config) } : '--tool needs a name';
  if (options.subject !== undefined) return options.subject.trim() ? { subject: options.subject.trim() } : '--subject needs a user (the subject, as `portcullis audit` shows it)';
  return options.agent!.trim() ? { agent: options.agent!.trim() } : '--agent needs a name';
}

/**
 * The name a switch holds for a tool given as clients of the aggregated `/mcp` see it
 * (`<prefix><separator><tool>`, copied from a client's UI in an incident; globs allowed): `server.tool`,
 * the form the switch matches. The prefix is the server's `namespace` (the server name by default, or
 * the string configured); where several prefixes match, the longest wins. A name that starts with no
 * prefix is kept as given (a bare server's tool: it matches that tool name on every server).
 */
function switchToolName(name: string, config: Config): string {
  const separator = config.routing.separator;
  let best: { server: string; prefix: string } | undefined;
  for (const [server, entry] of Object.entries(config.servers)) {
    const namespace = entry.namespace;
    if (namespace === false) continue;
    const prefix = `${namespace === true ? server : namespace}${separator}`;
    if (name.startsWith(prefix) && name.length > prefix.length && (!best || prefix.length > best.prefix.length)) best = { server, prefix };
  }
  return best ? `${best.server}.${name.slice(best.prefix.length)}` : name;
}

const who = (): string => {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
};

export function kill(options: KillOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const loaded = load(options, io);
  if (!loaded) return 2;
  if (options.reseal) return reseal(loaded.config, options, io);
  const target = targetOf(options, loaded.config);
  if (typeof target === 'string') {
    io.err(`portcullis: ${target}\n`);
    return 2;
  }
  const named = 'agent' in target ? agentNamed(loaded.dataDir, target.agent) : undefined;
  if (named && 'agent' in target) {
    io.err(`portcullis: note: "${target.agent}" is the OAuth client id of agent "${named}"; the switch names the agent, as policy and the audit do\n`);
    target.agent = named;
  }
  const store = openKillSwitches(loaded.config, io.secrets);
  try {
    store.add(target, options.reason ?? 'stopped by an operator', options.by ?? who());
  } catch (error) {
    io.err(`portcullis: ${(error as Error).message}\n`);
    return 1;
  }
  const readers = runningGateways(loaded.dataDir);
  if (readers.length === 0) {
    // Written, for a gateway started on this data dir later — but nothing running reads it now.
    io.err(`portcullis: NOT IN EFFECT: no running gateway uses data dir ${displayText(loaded.dataDir)}; the switch on ${describeTarget(target)} is written there but stops nothing now (a gateway started on that data dir will honour it). Name the running gateway's configuration with -c (or --data-dir)\n`);
    return 3;
  }
  io.out(`killed: ${describeTarget(target)} in ${displayText(loaded.dataDir)}, read by ${readers.length} running gateway${readers.length === 1 ? '' : 's'} (pid ${readers.map((r) => r.pid).join(', ')}) — takes effect on the next message; lift with \`portcullis unkill\`\n`);
  if ('tool' in target) {
    const unmatched = unmatchedTool(loaded.config, io, target.tool);
    if (unmatched) io.err(`portcullis: warning: ${unmatched}\n`);
  }
  return 0;
}

/**
 * Why a tool switch may stop nothing: no tool the servers' pinned catalogs list has that name (as
 * `tool` or `server.tool`, globs as the gateway matches them). A typo in an incident must not pass for
 * a stop; the switch is still set, for a tool that appears later. Undefined when a tool matches or no
 * catalog is known yet.
 */
function unmatchedTool(config: Config, io: Pick<Io, 'secrets'>, pattern: string): string | undefined {
  const pins = openPins(config, io.secrets, { create: false });
  const names: string[] = [];
  let known = false;
  for (const server of Object.keys(config.servers)) {
    const tools = pinnedToolNames(pins, server);
    if (!tools) continue;
    known = true;
    for (const tool of tools) names.push(tool, `${server}.${tool}`);
  }
  if (!known || names.some(anyGlob([pattern]))) return undefined;
  return `no tool the servers have listed is named "${pattern}" (give a tool name or server.tool, as \`portcullis pin list\` shows them); the switch is set and stops such a tool if one appears`;
}

/**
 * `kill --reseal`: accepts the kill-switch file as it is (after review: `status` shows it untrusted,
 * the file itself is plain JSON) and seals it, so the gateway believes it again.
 */
function reseal(config: Config, options: KillOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  if ([options.all, options.server, options.tool, options.agent, options.subject].some((v) => v !== undefined)) {
    io.err('portcullis: --reseal takes no target (it accepts the whole file as it is)\n');
    return 2;
  }
  const store = openKillSwitches(config, io.secrets);
  const result = store.reseal();
  if ('problem' in result) {
    io.err(`portcullis: ${result.problem}\n`);
    return 1;
  }
  io.out(`sealed ${store.path}: ${result.switches} kill switch${result.switches === 1 ? '' : 'es'} accepted as written\n`);
  return 0;
}

export function unkill(options: KillOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const loaded = load(options, io);
  if (!loaded) return 2;
  const store = openKillSwitches(loaded.config, io.secrets);
  let target: KillTarget | 'everything';
  if (options.everything) target = 'everything';
  else {
    const t = targetOf(options, loaded.config);
    if (typeof t === 'string') {
      io.err(`portcullis: ${t}, or --everything to lift every switch\n`);
      return 2;
    }
    target = t;
  }
  const untrusted = store.integrity();
  let lifted: number;
  try {
    lifted = store.remove(target);
  } catch (error) {
    io.err(`portcullis: ${(error as Error).message}\n`);
    return 1;
  }
  if (target === 'everything' && !untrusted.ok) {
    io.out(`started over: ${store.path} is sealed and empty (lifted ${lifted} kill switch${lifted === 1 ? '' : 'es'} this process still believed); the untrusted file was set aside as ${store.path}.untrusted\n`);
    return 0;
  }
  if (lifted === 0) {
    io.err(`portcullis: no kill switch on ${target === 'everything' ? 'anything' : describeTarget(target)}\n`);
    return 1;
  }
  io.out(`lifted ${lifted} kill switch${lifted === 1 ? '' : 'es'}\n`);
  if (runningGateways(loaded.dataDir).length === 0) io.err(`portcullis: note: no running gateway uses data dir ${displayText(loaded.dataDir)}; the switches lifted there were not holding anything now\n`);
  return 0;
}

export function status(options: KillOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const loaded = load(options, io);
  if (!loaded) return 2;
  const { config, dataDir } = loaded;
  // Modes are read before anything opens a store (opening identity.db narrows them).
  const loose = looseModes(dataDir);
  const kills = openKillSwitches(config, io.secrets);
  const switches = kills.list();
  const killIntegrity = kills.integrity();
  const pins = openPins(config, io.secrets, { create: false });
  const waiting = Object.fromEntries(pins.servers().map((s) => [s, Object.keys(pins.pending(s)).length]).filter(([, n]) => (n as number) > 0));
  const policy = config.policy
    ? { mode: config.policy.mode, rules: config.policy.rules.length, limits: config.policy.limits.length }
    : { mode: 'absent (every call denied)', rules: 0, limits: 0 };
  const identity = identitySummary(config, dataDir);
  const integrity = pins.integrity();
  const approvalsWaiting = waitingApprovals(dataDir);
  const claimed = kills.unverified();
  const summary = { dataDir, servers: Object.keys(config.servers), killSwitches: switches, killSwitchFile: killIntegrity.ok ? 'verified' : `UNTRUSTED: ${killIntegrity.problem}`, ...(claimed ? { killSwitchFileSays: claimed } : {}), policy, quarantined: waiting, pins: integrity.ok ? 'verified' : `UNTRUSTED: ${integrity.problem}`, audit: config.audit.store, identity, looseModes: loose, approvalsWaiting };
  if (options.json) {
    io.out(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  io.out(`data dir:      ${dataDir}\n`);
  for (const m of loose) io.out(`  WARNING readable by others: ${m}\n`);
  io.out(`servers:       ${summary.servers.join(', ') || 'none'}\n`);
  io.out(`policy:        ${policy.mode}, ${policy.rules} rule${policy.rules === 1 ? '' : 's'}, ${policy.limits} rate limit${policy.limits === 1 ? '' : 's'}\n`);
  io.out(`audit store:   ${config.audit.store}\n`);
  io.out(`identity:      ${identity.enabled ? `on (${[identity.embedded ? 'embedded server' : '', identity.issuers ? `${identity.issuers} issuer${identity.issuers === 1 ? '' : 's'}` : '', identity.apiKeys ? 'API keys' : ''].filter(Boolean).join(', ')}); ${identity.activeAgents} active agent${identity.activeAgents === 1 ? '' : 's'}, ${identity.activeKeys} active key${identity.activeKeys === 1 ? '' : 's'}` : 'off (local principals)'}\n`);
  io.out(`kill switches: ${killIntegrity.ok ? (switches.length === 0 ? 'none' : '') : displayText(summary.killSwitchFile)}\n`);
  // A monitor kill names the agent a caller chose, and its reason quotes it: shown escaped.
  const line = (s: KillSwitch, state: string): string => `  ${state}  ${displayText(describeTarget(s.target))} — ${displayText(s.reason)} (by ${displayText(s.by)} at ${s.at}${s.until ? `, until ${s.until}` : ''})\n`;
  for (const s of switches) io.out(line(s, s.effect === 'approve' ? 'APPROVAL' : 'ON'));
  if (!killIntegrity.ok) io.out(`  in force: ${killIntegrity.stopsEverything ? 'EVERY CALL is stopped' : switches.length === 0 ? 'nothing (no switch was in force before)' : 'the switches above, as they were before the file changed'}\n`);
  if (claimed) {
    // What `kill --reseal` would accept: shown so the admin reviews it, marked as not verified.
    io.out(`  the file says (NOT verified; \`portcullis kill --reseal\` would make exactly this the state)${claimed.length === 0 ? ': no switches' : ''}\n`);
    for (const s of claimed) io.out(line(s, `  UNVERIFIED ${s.effect === 'approve' ? 'APPROVAL' : 'ON'}`));
  }
  const q = Object.entries(waiting);
  io.out(`quarantined:   ${q.length === 0 ? 'none' : q.map(([s, n]) => `${s}: ${n}`).join(', ')}\n`);
  io.out(`pins:          ${summary.pins}\n`);
  io.out(`approvals:     ${approvalsWaiting === 0 ? 'none waiting' : `${approvalsWaiting} waiting (portcullis approvals list)`}\n`);
  return 0;
}

/** Approvals waiting for a decision (docs/approvals.md); 0 when none was ever asked for. */
function waitingApprovals(dataDir: string): number {
  const path = approvalsDbPath(dataDir);
  if (!existsSync(path)) return 0;
  const store = new ApprovalStore(path);
  try {
    const now = Date.now();
    return store.list('pending').filter((a) => a.expiresAt > now).length;
  } finally {
    store.close();
  }
}

/**
 * The agent name for an `agent add` agent's OAuth client id (`agent-NAME`), so a switch copied from a
 * client's configuration stops the agent: the gateway knows it by NAME everywhere. Undefined otherwise.
 */
function agentNamed(dataDir: string, given: string): string | undefined {
  const db = identityDbPath(dataDir);
  if (!existsSync(db)) return undefined;
  const store = new IdentityStore(db);
  try {
    return store.agent(given) ? undefined : store.agentByClientId(given)?.name;
  } finally {
    store.close();
  }
}

function identitySummary(config: Config, dataDir: string): { enabled: boolean; embedded: boolean; issuers: number; apiKeys: boolean; activeAgents: number; activeKeys: number } {
  const enabled = identityEnabled(config);
  let activeAgents = 0;
  let activeKeys = 0;
  const db = identityDbPath(dataDir);
  if (existsSync(db)) {
    const store = new IdentityStore(db);
    try {
      const now = Date.now();
      activeAgents = store.agents().filter((a) => !a.revokedAt).length;
      activeKeys = store.keys().filter((k) => !k.revokedAt && (!k.expiresAt || Date.parse(k.expiresAt) > now)).length;
    } finally {
      store.close();
    }
  }
  return { enabled, embedded: config.identity?.embedded?.enabled ?? false, issuers: config.identity?.issuers.length ?? 0, apiKeys: config.identity?.apiKeys?.enabled ?? false, activeAgents, activeKeys };
}
