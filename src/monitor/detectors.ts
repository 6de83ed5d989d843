/**
 * The detectors. Each is built once from its config and returns a plain function that looks at one
 * observation (an audit record, the principal's state, the time) and raises findings; the monitor
 * turns findings into alerts (deduplicated, stored, sent) and applies the response.
 *
 * They run after the record is stored and before the answer leaves, so a containment they trigger
 * holds from the principal's next message on. They judge what the audit record says — decision, code,
 * target, scopes — never argument values (only the argument hash, for "distinct").
 */
import { isIPv6 } from 'node:net';
import type { AuditRecord } from '../audit/record.ts';
import type { AlertKind } from './alert.ts';
import { alphaFor, countCall, newBaseline, threshold, type VolumeRule } from './baseline.ts';
import type { DetectorResponse, MonitorConfig, Severity } from './schema.ts';
import { clip, learn, MAX_TOOL_BASELINES, type PrincipalState } from './state.ts';
import { UTC_ZONES } from './utc-zones.ts';
import { BurstWindow, DistinctWindow } from './window.ts';
import { FLOW_METHODS, flowKeys, type FlowTracker } from './flows.ts';
import type { Principal } from '../auth/principal.ts';

export interface Observation {
  record: AuditRecord;
  atMs: number;
  principal: PrincipalState;
  /** Within the learning period: behaviour is learned, novelty is not alerted on. */
  learning: boolean;
  /** A refusal the front recorded before it knew who was asking (no principal to judge). */
  anonymous: boolean;
  /**
   * The agent's state across all its credentials (issuer + agent: every API key or token of one agent),
   * where scopes are learned; only asked for records that carry scopes.
   */
  agent: () => PrincipalState;
  /** The caller's identity across its credentials (`callerIdentity`): what counts and flows key on. */
  identity: string;
  /** The verified caller behind the record (or what the record says of it). */
  who: Principal;
}

export interface Finding {
  kind: AlertKind;
  severity: Severity;
  server?: string | undefined;
  tool?: string | undefined;
  /** The client address the finding is about (refusals counted per address). */
  address?: string | undefined;
  fromMs: number;
  evidence: number[];
  summary: string;
  response: DetectorResponse;
}

export type Detector = (obs: Observation, raise: (finding: Finding) => void) => void;

/** Calls: what reaches (or tries to reach) a server's tools, prompts and resources. */
const CALL_METHODS: ReadonlySet<string> = new Set(['tools/call', 'resources/read', 'prompts/get']);

/**
 * The unit refusals are counted by: an IPv4 address (also when IPv4-mapped), or an IPv6 /64 — one
 * host is usually handed a whole /64, so counting single IPv6 addresses would let it rotate freely.
 */
export function addressUnit(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::') as [string, string?];
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/** Client addresses whose refusals are counted apart, at most (per burst detector). */
export const MAX_ADDRESSES = 10_000;

const has = (codes: readonly string[]) => {
  const set = new Set(codes);
  return (code: string | undefined): boolean => code !== undefined && set.has(code);
};

/** What each burst detector counts (audit record codes). */
export const BURST_CODES = {
  denials: has(['PC_POLICY_DENIED', 'PC_POLICY_GUARD', 'PC_POLICY_GATEWAY_STATE']),
  validation: has(['PC_ARGS_INVALID', 'PC_ARGS_TOO_LARGE', 'PC_PROTOCOL_INVALID_PARAMS', 'PC_INPUT_STATE_INVALID', 'PC_PROTOCOL_HEADER_MISMATCH']),
  unknownTargets: has(['PC_ROUTE_UNKNOWN_TOOL', 'PC_ROUTE_UNKNOWN_PROMPT', 'PC_ROUTE_UNKNOWN_RESOURCE', 'PC_ROUTE_UNKNOWN_METHOD', 'PC_ROUTE_UNKNOWN_SERVER', 'PC_TASK_UNKNOWN']),
  stepUp: has(['PC_AUTH_INSUFFICIENT_SCOPE']),
  authFailures: has(['PC_AUTH_REQUIRED', 'PC_AUTH_INVALID_TOKEN', 'PC_AUTH_AMBIGUOUS_CREDENTIALS']),
} as const;

const BURST_KIND: Record<keyof typeof BURST_CODES, { kind: AlertKind; severity: Severity; what: string }> = {
  denials: { kind: 'denials', severity: 'medium', what: 'policy refusals' },
  validation: { kind: 'validation', severity: 'medium', what: 'calls with invalid arguments' },
  unknownTargets: { kind: 'unknown-targets', severity: 'medium', what: 'calls to tools, prompts, resources or methods that do not exist' },
  stepUp: { kind: 'step-up', severity: 'high', what: 'insufficient-scope refusals' },
  authFailures: { kind: 'auth-failures', severity: 'high', what: 'refused credentials' },
};

const toolOf = (r: AuditRecord): string | undefined => (r.method === 'tools/call' ? r.target : undefined);
const qualified = (r: AuditRecord): string => `${r.server ?? '?'}.${r.target ?? '?'}`;
const allowed = (r: AuditRecord): boolean => r.decision === 'allowed' || r.decision === 'approval' || r.decision === 'error' || r.decision === 'timeout';

function firstUse(config: MonitorConfig['detectors']['firstUse']): Detector {
  return function detectFirstUse({ record, principal, learning, anonymous, atMs }, raise) {
    if (anonymous || !allowed(record) || !record.server) return;
    const newServer = learn(principal.servers, record.server);
    const tool = toolOf(record);
    const newTool = tool !== undefined && learn(principal.tools, qualified(record));
    if (learning) return;
    const response = { ...config, severity: undefined };
    if (newServer && config.servers) {
      raise({ kind: 'first-use-server', severity: config.severity ?? 'medium', server: record.server, fromMs: atMs, evidence: [record.seq], summary: `first use of server "${record.server}" by this principal after the learning period`, response });
    }
    if (newTool) {
      raise({ kind: 'first-use-tool', severity: config.severity ?? 'medium', server: record.server, tool, fromMs: atMs, evidence: [record.seq], summary: `first use of tool "${qualified(record)}" by this principal after the learning period`, response });
    }
  };
}

function volume(config: MonitorConfig['detectors']['volume']): Detector {
  const rule: VolumeRule = { alpha: alphaFor(config.halfLife), factor: config.factor, deviations: config.deviations, min: config.min, max: config.max, warmup: config.warmup };
  const describe = (count: number, mean: number, bar: number) => `${count} calls this minute against a usual ${mean.toFixed(1)}/min (alert above ${Math.ceil(bar)})`;
  return function detectVolume({ record, principal, anonymous, atMs }, raise) {
    if (anonymous || !CALL_METHODS.has(record.method)) return;
    const minute = Math.floor(atMs / 60_000);
    const b = (principal.volume ??= newBaseline(minute));
    const count = countCall(b, minute, rule);
    const bar = threshold(b, rule);
    if (count > bar) {
      raise({ kind: 'volume', severity: config.severity ?? 'high', fromMs: minute * 60_000, evidence: [record.seq], summary: describe(count, b.mean, bar), response: config });
    }
    const tool = toolOf(record);
    if (!config.perTool || tool === undefined) return;
    const name = clip(qualified(record));
    let t = principal.toolVolume.get(name);
    if (!t) {
      if (principal.toolVolume.size >= MAX_TOOL_BASELINES) return;
      t = newBaseline(minute);
      principal.toolVolume.set(name, t);
    }
    const toolCount = countCall(t, minute, rule);
    const toolBar = threshold(t, rule);
    if (toolCount > toolBar) {
      raise({ kind: 'tool-volume', severity: config.severity ?? 'high', server: record.server, tool, fromMs: minute * 60_000, evidence: [record.seq], summary: `${name}: ${describe(toolCount, t.mean, toolBar)}`, response: config });
    }
  };
}

function distinctResources(config: MonitorConfig['detectors']['distinctResources']): Detector {
  return function detectDistinct({ record, principal, anonymous, atMs }, raise) {
    if (anonymous || !allowed(record)) return;
    let key: string;
    if (record.method === 'resources/read' && record.target !== undefined) key = `r:${record.server}:${record.target}`;
    else if (record.method === 'tools/call' && record.argsHash !== undefined) key = `t:${qualified(record)}:${record.argsHash}`;
    else return;
    let window = principal.bursts.get('distinct') as DistinctWindow | undefined;
    if (!window) principal.bursts.set('distinct', (window = new DistinctWindow()));
    if (window.add(key, atMs, record.seq, config.count, config.window)) {
      raise({ kind: 'distinct-resources', severity: config.severity ?? 'high', fromMs: window.since, evidence: window.evidence(), summary: `${config.count} distinct resources or argument sets read within ${config.window / 1000}s`, response: config });
    }
  };
}

function burst(name: keyof typeof BURST_CODES, config: MonitorConfig['detectors']['denials']): Detector {
  const counts = BURST_CODES[name];
  const { kind, severity, what } = BURST_KIND[name];
  // Refusals before the caller is known (bad credentials) are counted per client address when the
  // front recorded one: one prober is told apart from everyone else's typos. Bounded: past
  // MAX_ADDRESSES the least recently seen address is forgotten.
  const byAddress = new Map<string, BurstWindow>();
  const windowFor = (address: string): BurstWindow => {
    let window = byAddress.get(address);
    if (window) byAddress.delete(address);
    else {
      window = new BurstWindow();
      if (byAddress.size >= MAX_ADDRESSES) byAddress.delete(byAddress.keys().next().value as string);
    }
    byAddress.set(address, window);
    return window;
  };
  return function detectBurst({ record, principal, anonymous, atMs }, raise) {
    if (!counts(record.code)) return;
    const address = anonymous && record.address !== undefined ? addressUnit(record.address) : undefined;
    let window = address !== undefined ? windowFor(address) : (principal.bursts.get(name) as BurstWindow | undefined);
    if (!window) principal.bursts.set(name, (window = new BurstWindow()));
    if (window.add(atMs, record.seq, config.count, config.window)) {
      const from = address !== undefined ? ` from ${address}` : '';
      raise({ kind, severity: config.severity ?? severity, server: record.server, tool: toolOf(record), address, fromMs: window.since, evidence: window.evidence(), summary: `${config.count} ${what}${from} within ${config.window / 1000}s (last: ${record.code})`, response: config });
    }
  };
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/**
 * Weekday and minute of the day in a time zone, computed once per minute (Intl is slow per call). UTC
 * (the default) is plain arithmetic; any other zone builds its `Intl.DateTimeFormat` on the first call,
 * not at start: the first one a process makes loads ICU's calendar and pattern data, ~8 MB resident
 * (docs/performance.md, "Memory").
 */
function clockIn(timeZone: string): (atMs: number) => { day: string; minute: number } {
  let format: Intl.DateTimeFormat | undefined;
  const read = UTC_ZONES.has(timeZone)
    ? (atMs: number) => {
        const date = new Date(atMs);
        return { day: DAY_NAMES[date.getUTCDay()]!, minute: date.getUTCHours() * 60 + date.getUTCMinutes() };
      }
    : (atMs: number) => {
        format ??= new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
        const parts = Object.fromEntries(format.formatToParts(new Date(atMs)).map((p) => [p.type, p.value]));
        return { day: String(parts.weekday).toLowerCase().slice(0, 3), minute: Number(parts.hour) * 60 + Number(parts.minute) };
      };
  let cachedMinute = Number.NaN;
  let cached = { day: 'mon', minute: 0 };
  return (atMs) => {
    const minute = Math.floor(atMs / 60_000);
    if (minute !== cachedMinute) {
      cached = read(atMs);
      cachedMinute = minute;
    }
    return cached;
  };
}

function offHours(config: MonitorConfig['detectors']['offHours']): Detector {
  const local = clockIn(config.timeZone);
  const windows = config.windows?.map((w) => {
    const [from, to] = w.hours.split('-').map((hm) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3))) as [number, number];
    return { days: new Set<string>(w.days), from, to };
  });
  const at = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  return function detectOffHours({ record, principal, anonymous, learning, atMs }, raise) {
    if (anonymous || !CALL_METHODS.has(record.method)) return;
    const { day, minute } = local(atMs);
    const hour = Math.floor(minute / 60);
    if (windows) {
      const inside = windows.some((w) => w.days.has(day) && minute >= w.from && minute < w.to);
      if (!inside) raise({ kind: 'off-hours', severity: config.severity, server: record.server, fromMs: atMs, evidence: [record.seq], summary: `activity at ${day} ${at(minute)} ${config.timeZone}, outside the configured working windows`, response: config });
      return;
    }
    const hours = principal.hours;
    const total = hours.reduce((a, b) => a + b, 0);
    const usual = hours[hour]! >= config.minShare * total;
    hours[hour] = hours[hour]! + 1;
    if (!learning && !usual && total > 0) {
      raise({ kind: 'off-hours', severity: config.severity, server: record.server, fromMs: atMs, evidence: [record.seq], summary: `activity at ${at(minute)} ${config.timeZone}, an hour this principal does not usually work (${hours[hour]! - 1} of ${total} calls so far)`, response: config });
    }
  };
}

function scopeElevation(config: MonitorConfig['detectors']['scopeElevation']): Detector {
  return function detectScopes({ record, agent, anonymous, learning, atMs }, raise) {
    if (anonymous || record.scopes.length === 0) return;
    const state = agent();
    const added = record.scopes.filter((scope) => learn(state.scopes, scope));
    // An agent's first scopes are its baseline, not an elevation.
    if (learning || added.length === 0 || state.firstSeenMs === atMs) return;
    raise({ kind: 'scope-elevation', severity: config.severity, fromMs: atMs, evidence: [record.seq], summary: `presents scope${added.length > 1 ? 's' : ''} this agent never held before (on any of its credentials): ${added.join(' ')}`, response: config });
  };
}

const SUPPLY_CODES = has(['PC_SUPPLY_QUARANTINED', 'PC_ARGS_SCHEMA_UNSAFE', 'PC_SUPPLY_PINS_INVALID', 'PC_SUPPLY_PIN_FAILED']);

function supplyChain(config: MonitorConfig['detectors']['supplyChain']): Detector {
  return function detectSupply({ record, atMs }, raise) {
    if (!SUPPLY_CODES(record.code)) return;
    raise({ kind: 'supply-chain', severity: config.severity, server: record.server, tool: record.target, fromMs: atMs, evidence: [record.seq], summary: `${record.code} on ${qualified(record)}: the definition is new, changed since approval or poisoned, or the pins cannot be trusted (portcullis pin diff)`, response: config });
  };
}

/**
 * A call refused because its arguments reach the gateway's own state (PC_POLICY_GATEWAY_STATE: its
 * kill switch, policy, keys, audit store): alerted at the first one, whatever the count — no ordinary
 * task reads the token-signing key or writes the kill switch (redteam-b B5). Anonymous records never
 * carry this code (it is decided after authentication).
 */
function gatewayState(config: MonitorConfig['detectors']['gatewayState']): Detector {
  return function detectGatewayState({ record, atMs }, raise) {
    if (record.code !== 'PC_POLICY_GATEWAY_STATE') return;
    raise({ kind: 'gateway-state', severity: config.severity, server: record.server, tool: toolOf(record), fromMs: atMs, evidence: [record.seq], summary: `${record.method} ${qualified(record)} reached for the gateway's own state (PC_POLICY_GATEWAY_STATE: its kill switch, policy, keys or audit store)`, response: config });
  };
}

function dlp(config: MonitorConfig['detectors']['dlp']): Detector {
  return function detectDlp({ record, atMs }, raise) {
    if (!record.dlp || record.dlp.length === 0) return;
    const stopped = record.code === 'PC_DLP_BLOCKED' || record.code === 'PC_DLP_EXFILTRATION' || record.dlp.some((f) => f.action === 'block');
    const types = [...new Set(record.dlp.map((f) => `${f.type}/${f.action}`))].join(', ');
    raise({ kind: 'dlp', severity: config.severity ?? (stopped ? 'high' : 'medium'), server: record.server, tool: toolOf(record), fromMs: atMs, evidence: [record.seq], summary: `data-loss prevention findings in ${record.method} ${qualified(record)}: ${types}${stopped ? ' (refused)' : ''}`, response: config });
  };
}

function toxicFlow(config: MonitorConfig['detectors']['toxicFlow'], flows: FlowTracker): Detector {
  return function detectToxicFlow({ record, anonymous, atMs, identity }, raise) {
    if (anonymous || !FLOW_METHODS.has(record.method)) return;
    const blocked = record.code === 'PC_POLICY_TOXIC_FLOW';
    const key = flowKeys(record.session, identity);
    const labels = record.labels ?? [];
    if (labels.includes('egress') || blocked) {
      const read = flows.seen(key, 'private', atMs);
      const untrusted = flows.seen(key, 'untrusted', atMs);
      if (read) {
        const trifecta = untrusted !== undefined;
        raise({
          kind: 'toxic-flow',
          severity: config.severity ?? (trifecta ? 'critical' : 'high'),
          server: record.server,
          tool: record.target,
          fromMs: Math.min(read.atMs, untrusted?.atMs ?? read.atMs),
          evidence: [read.seq, ...(untrusted ? [untrusted.seq] : []), record.seq].sort((a, b) => a - b),
          summary: `${qualified(record)} can send data out after ${read.tool} read private data${trifecta ? ` and ${untrusted.tool} brought in outside content` : ''} in the same session or principal's window${blocked ? ' (refused)' : ''}`,
          response: config,
        });
      }
    }
    if (allowed(record)) flows.note(key, labels, qualified(record), record.seq, atMs, record.method === 'tools/call');
  };
}

/** The detectors the config turns on, in a fixed order. */
export function createDetectors(config: MonitorConfig, flows?: FlowTracker): Detector[] {
  const d = config.detectors;
  const out: Detector[] = [];
  if (d.firstUse.enabled) out.push(firstUse(d.firstUse));
  if (d.volume.enabled) out.push(volume(d.volume));
  if (d.distinctResources.enabled) out.push(distinctResources(d.distinctResources));
  for (const name of Object.keys(BURST_CODES) as Array<keyof typeof BURST_CODES>) if (d[name].enabled) out.push(burst(name, d[name]));
  if (d.offHours.enabled) out.push(offHours(d.offHours));
  if (d.scopeElevation.enabled) out.push(scopeElevation(d.scopeElevation));
  if (d.supplyChain.enabled) out.push(supplyChain(d.supplyChain));
  if (d.gatewayState.enabled) out.push(gatewayState(d.gatewayState));
  if (d.dlp.enabled) out.push(dlp(d.dlp));
  if (d.toxicFlow.enabled && flows) out.push(toxicFlow(d.toxicFlow, flows));
  return out;
}
