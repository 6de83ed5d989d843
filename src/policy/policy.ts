/**
 * The compiled policy: rules, scopes and attested annotations turned into a decision for one call and a
 * visibility test for one listed item. Compiling checks everything the schema cannot (CEL syntax and
 * types, attributes a rule's phase cannot have, unknown servers and tools, time zones) and reports each
 * problem with its path; a policy with problems is never put in force.
 *
 * Decision order (deny overrides; default deny):
 *   1. the caller holds the scopes the tool needs (else 403 insufficient_scope, naming them all);
 *   2. any matching deny rule denies. Its condition must be exactly `false` not to: true, an error, a
 *      value of another type (`"yes"`, `1`, a list) or an argument of a type the condition never
 *      compares (see ./condition.ts) all deny — fail closed;
 *   3. any matching approve rule asks for a human. Like a deny rule, it is a gate: its condition must be
 *      exactly `false` not to ask (an error or a value of another type asks, with the reason shown);
 *   4. any matching allow rule allows;
 *   5. nothing matched: denied, with the guard or condition that kept an allow rule from matching.
 * An allow rule matches only if its condition is exactly `true` and every guard passes. An approve rule
 * whose condition is not exactly false and whose guard fails denies (its guard is a requirement).
 *
 * Guards may put arguments in canonical form (a serialized URL, a resolved path): the decision then
 * carries the arguments to forward, and the whole decision is taken again on them, so deny rules and
 * conditions judge exactly what the server will receive. A path is decided on again in every form a
 * server may read it as — resolved (`.env/.` and `a/../.env` are `.env`), percent-decoded, NFKC,
 * backslashes as separators (`%2eenv`, `．env`): a deny rule that holds for any form denies.
 *
 * Self-declared values (the task label, a local principal's agent name) only narrow: an allow or approve
 * rule may select by task only together with a principal selector (refused at load otherwise).
 */
import type { GatewayErrorCode } from '../errors.ts';
import type { Principal } from '../auth/principal.ts';
import { missingScopes, vouchedBy } from '../auth/principal.ts';
import { anyGlob, isGlob } from '../util/glob.ts';
import { compileLinear, UnsupportedPattern } from '../validate/linear-regex.ts';
import { compileCondition, jsonType, type Condition } from './condition.ts';
import type { GuardResult, ResolveHost } from './guard-result.ts';
import { drive, type Maybe } from '../util/maybe.ts';
import { compileGuards, type CompiledGuards } from './guards.ts';
import type { GatewayState } from './gateway-state.ts';
import { hasPrincipalSelector } from './self-declared.ts';
import { DAYS } from './days.ts';
import type { PolicyConfig, RuleConfig } from './schema.ts';
import type { RuleApproval } from '../approvals/options.ts';

/** What a rule can be about: a tool, a prompt, a resource URI, or a custom method (`methods:`). */
export type TargetKind = 'tool' | 'prompt' | 'resource' | 'method';
export type Effect = 'allow' | 'deny' | 'approve';

/** Effective tool annotations (MCP defaults filled in: destructive and open-world unless said otherwise). */
export interface Annotations {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  openWorld: boolean;
  /** Can send data outside: the attested `egress`, else `openWorld` (data-loss prevention, docs/dlp.md). */
  egress: boolean;
  /** Reads private data: only when attested (toxic flows, docs/monitor.md). */
  private: boolean;
  /** Brings in outside content: the attested `untrusted`, else `openWorld`. */
  untrusted: boolean;
}

export interface CallFacts {
  principal: Principal;
  server: string;
  kind: TargetKind;
  /** Tool or prompt name, or resource URI. */
  name: string;
  args: Record<string, unknown>;
  /** The `annotations` object the server declared for the tool, if any. */
  declared: Record<string, unknown> | undefined;
  task: string | undefined;
  now: Date;
  /** What the caller's session did so far (monitor toxic flows): labels of its calls and the tools it called; empty when not tracked. */
  session?: { labels: string[]; tools: string[] } | undefined;
}

export interface Decision {
  effect: Effect;
  rule?: string;
  reason: string;
  code?: GatewayErrorCode;
  /** For PC_AUTH_INSUFFICIENT_SCOPE: every scope the operation needs. */
  scopes?: string[];
  /** The arguments to forward, when guards put some in canonical form (they were decided on as such). */
  arguments?: Record<string, unknown>;
  /** An approve rule's `approval` options (docs/approvals.md). */
  approval?: RuleApproval;
}

export interface PolicyProblem {
  path: (string | number)[];
  message: string;
}

export interface CompileOptions {
  /** Server names in the configuration. */
  servers: readonly string[];
  /** The pinned tool names of a server, when known (unknown exact tool names are then rejected). */
  knownTools?: (server: string) => ReadonlySet<string> | undefined;
  resolveHost: ResolveHost;
  /** The gateway's own files: a path guard refuses any path into them (./gateway-state.ts). */
  gatewayState?: GatewayState;
  /**
   * The directories a server resolves relative text against (its directory arguments, working directory:
   * gateway-state.ts serverBases); a path guard judges `~` and `file:` strings read that way too.
   * Unknown: the gateway's working directory.
   */
  serverBases?: (server: string) => readonly string[];
}

interface CompiledRule {
  readonly index: number;
  readonly name: string;
  readonly effect: Effect;
  readonly onCall: boolean;
  readonly onList: boolean;
  readonly server: (s: string) => boolean;
  readonly target: (kind: TargetKind, name: string) => boolean;
  /** The rule names no target: it is about everything on its servers. */
  readonly wholeServer: boolean;
  readonly principal: ((p: Principal) => boolean) | undefined;
  readonly task: ((t: string | undefined) => boolean) | undefined;
  readonly annotations: Partial<Annotations> | undefined;
  readonly time: ((now: Date) => boolean) | undefined;
  readonly when: Condition | undefined;
  readonly guards: CompiledGuards | undefined;
  readonly reason: string | undefined;
  readonly approval: RuleApproval | undefined;
}

interface ToolEntry {
  readonly server: (s: string) => boolean;
  readonly tool: (t: string) => boolean;
  readonly scopes: readonly string[];
  readonly annotations: Partial<Annotations> | undefined;
}

const CACHE_LIMIT = 10_000;

/** What a CEL condition sees of the caller (never the token). */
function celPrincipal(p: Principal): Record<string, unknown> {
  return { kind: p.kind, subject: p.subject, agent: p.agent, roles: [...p.roles], scopes: [...p.scopes], issuer: p.issuer ?? '' };
}

function effectiveAnnotations(declared: Record<string, unknown> | undefined, attested: Partial<Annotations> | undefined): Annotations {
  const flag = (key: string, fallback: boolean): boolean => (typeof declared?.[key] === 'boolean' ? (declared[key] as boolean) : fallback);
  const openWorld = attested?.openWorld ?? flag('openWorldHint', true);
  return {
    readOnly: attested?.readOnly ?? flag('readOnlyHint', false),
    destructive: attested?.destructive ?? flag('destructiveHint', true),
    idempotent: attested?.idempotent ?? flag('idempotentHint', false),
    openWorld,
    egress: attested?.egress ?? openWorld,
    private: attested?.private ?? false,
    untrusted: attested?.untrusted ?? openWorld,
  };
}

function compileTime(time: NonNullable<RuleConfig['time']>): (now: Date) => boolean {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: time.timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const days = time.days ? new Set(time.days) : undefined;
  const window = time.hours?.split('-').map((hm) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3)));
  return (now) => {
    const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
    if (days && !days.has(String(parts.weekday).toLowerCase().slice(0, 3) as (typeof DAYS)[number])) return false;
    if (!window) return true;
    const minute = Number(parts.hour) * 60 + Number(parts.minute);
    const [start, end] = window as [number, number];
    return start <= end ? minute >= start && minute < end : minute >= start || minute < end;
  };
}

export class Policy {
  readonly mode: 'enforce' | 'monitor';
  readonly ruleCount: number;
  readonly #rules: readonly CompiledRule[];
  readonly #tools: readonly ToolEntry[];
  readonly #candidates = new Map<string, readonly CompiledRule[]>();
  /** Set when the configuration has no policy section: everything is denied, saying so. */
  readonly #absent: boolean;
  readonly #serverBases: ((server: string) => readonly string[]) | undefined;
  readonly #bases = new Map<string, readonly string[]>();

  constructor(mode: 'enforce' | 'monitor', rules: readonly CompiledRule[], tools: readonly ToolEntry[], absent: boolean, serverBases?: (server: string) => readonly string[]) {
    this.mode = mode;
    this.#rules = rules;
    this.#tools = tools;
    this.#absent = absent;
    this.#serverBases = serverBases;
    this.ruleCount = rules.length;
  }

  /** What `server` resolves relative text against (CompileOptions.serverBases), once per server. */
  #basesOf(server: string): readonly string[] {
    let bases = this.#bases.get(server);
    if (!bases) {
      bases = this.#serverBases?.(server) ?? [process.cwd()];
      if (this.#bases.size >= CACHE_LIMIT) this.#bases.clear();
      this.#bases.set(server, bases);
    }
    return bases;
  }

  get absent(): boolean {
    return this.#absent;
  }

  /** Every scope some tool needs. */
  get scopes(): string[] {
    return [...new Set(this.#tools.flatMap((t) => t.scopes))];
  }

  /** Scopes a tool needs (every matching policy.tools entry contributes). */
  requiredScopes(server: string, tool: string): string[] {
    const scopes = new Set<string>();
    for (const entry of this.#tools) if (entry.server(server) && entry.tool(tool)) for (const s of entry.scopes) scopes.add(s);
    return [...scopes];
  }

  /**
   * Whether the server holds private data: some `policy.tools` entry covering it attests `private: true`.
   * Its resources and prompts are then private reads too (toxic flows, docs/monitor.md): a resource of
   * a mail server is the same mailbox its attested `read_*` tools read.
   */
  holdsPrivateData(server: string): boolean {
    return this.#tools.some((entry) => entry.annotations?.private === true && entry.server(server));
  }

  annotations(server: string, tool: string, declared: Record<string, unknown> | undefined): Annotations {
    let attested: Partial<Annotations> | undefined;
    for (const entry of this.#tools) if (entry.annotations && entry.server(server) && entry.tool(tool)) attested = { ...attested, ...entry.annotations };
    return effectiveAnnotations(declared, attested);
  }

  /** Rules whose server and target patterns match (cached: the catalog is finite). */
  #rulesFor(server: string, kind: TargetKind, name: string): readonly CompiledRule[] {
    const key = `${server}\u0000${kind}\u0000${name}`;
    let found = this.#candidates.get(key);
    if (!found) {
      found = this.#rules.filter((r) => r.server(server) && r.target(kind, name));
      if (this.#candidates.size >= CACHE_LIMIT) this.#candidates.clear();
      this.#candidates.set(key, found);
    }
    return found;
  }

  #staticMatch(rule: CompiledRule, principal: Principal, task: string | undefined, annotations: Annotations, now: Date): boolean {
    if (rule.principal && !rule.principal(principal)) return false;
    if (rule.task && !rule.task(task)) return false;
    if (rule.annotations) {
      for (const [key, want] of Object.entries(rule.annotations)) if (annotations[key as keyof Annotations] !== want) return false;
    }
    if (rule.time && !rule.time(now)) return false;
    return true;
  }

  /** Synchronous unless a URL guard must resolve a host (the per-call hot path pays no promise). */
  decide(facts: CallFacts): Maybe<Decision> {
    return drive(this.#decideTwice(facts));
  }

  *#decideTwice(facts: CallFacts): Generator<Maybe<GuardResult>, Decision, GuardResult> {
    const { judged, ...first } = yield* this.#decideOnce(facts);
    const readings = [...(first.arguments ? [first.arguments] : []), ...(judged ?? [])];
    // Guards put arguments in canonical form: decide again on exactly what will be forwarded, and on
    // every other reading the server may act on (a path forwarded as sent, resolved: a deny on `.env`
    // holds for `.env/.`; its percent-decoded, NFKC and backslash spellings: `%2eenv`, `．env`).
    for (const args of readings) {
      const again = yield* this.#decideOnce({ ...facts, args });
      if (again.effect === 'deny') return again;
      if (again.effect !== first.effect || again.rule !== first.rule || again.arguments) {
        return {
          effect: 'deny',
          rule: first.rule,
          code: 'PC_POLICY_GUARD',
          reason: `${facts.kind} "${facts.name}" of server "${facts.server}" denied: the arguments in the canonical form rule "${first.rule}" forwards are not decided the same way as sent`,
        };
      }
    }
    return first;
  }

  /** Yields what a guard returns (a promise only when a URL guard resolves a host). */
  *#decideOnce(facts: CallFacts): Generator<Maybe<GuardResult>, Decision & { judged?: Record<string, unknown>[] }, GuardResult> {
    const { principal, server, kind, name, args, task, now } = facts;
    const what = `${kind} "${name}" of server "${server}"`;
    if (this.#absent) {
      return { effect: 'deny', code: 'PC_POLICY_DENIED', reason: 'no policy is configured, so every call is denied; add a `policy` section (`portcullis init` writes a starter policy)' };
    }
    if (kind === 'tool') {
      const needed = this.requiredScopes(server, name);
      const missing = missingScopes(principal, needed);
      if (missing.length > 0) {
        return { effect: 'deny', code: 'PC_AUTH_INSUFFICIENT_SCOPE', scopes: needed, reason: `${what} needs scope${needed.length > 1 ? 's' : ''} ${needed.join(' ')}; the token lacks ${missing.join(' ')}` };
      }
    }
    const annotations = kind === 'tool' ? this.annotations(server, name, facts.declared) : effectiveAnnotations(undefined, undefined);
    let vars: Record<string, unknown> | undefined;
    const variables = (): Record<string, unknown> =>
      (vars ??= { principal: celPrincipal(principal), tool: { server, name, kind, annotations: { ...annotations } }, task: task ?? '', args, session: facts.session ?? { labels: [], tools: [] } });

    const matched: Record<Effect, CompiledRule | undefined> = { deny: undefined, approve: undefined, allow: undefined };
    const rewrites = new Map<CompiledRule, Record<string, unknown>>();
    const judged = new Map<CompiledRule, Record<string, unknown>[]>();
    let firstMiss: { rule: CompiledRule; reason: string; code: GatewayErrorCode } | undefined;
    const unjudgedApprove = new Map<CompiledRule, string>();
    for (const rule of this.#rulesFor(server, kind, name)) {
      if (!rule.onCall || !this.#staticMatch(rule, principal, task, annotations, now)) continue;
      if (rule.effect !== 'deny' && matched[rule.effect] && (rule.effect === 'allow' || matched.approve)) continue;
      if (rule.when) {
        let value: unknown;
        let unjudged = rule.when.typeProblem(args);
        if (unjudged === undefined) {
          try {
            value = rule.when.evaluate(variables());
          } catch (error) {
            unjudged = `it could not be evaluated (${firstLine(error)})`;
          }
        }
        if (unjudged === undefined && typeof value !== 'boolean') unjudged = `it gave ${describeValue(value)}, not a boolean`;
        if (rule.effect === 'deny') {
          if (unjudged !== undefined) {
            return { effect: 'deny', rule: rule.name, code: 'PC_POLICY_DENIED', reason: `${what} denied: the condition of deny rule "${rule.name}" is not false (${unjudged}); a deny condition that is not exactly false denies` };
          }
          if (value === false) continue;
        } else if (rule.effect === 'approve') {
          // An approve rule is a gate, like a deny rule: it asks a human unless its condition is exactly
          // false. A condition that cannot be judged (an amount sent as "5000", a missing field) must not
          // let the call fall through to an allow rule without the human's yes.
          if (value === false && unjudged === undefined) continue;
          if (unjudged !== undefined) unjudgedApprove.set(rule, unjudged);
        } else {
          if (unjudged !== undefined) {
            firstMiss ??= { rule, reason: `the condition of rule "${rule.name}" is not true (${unjudged})`, code: 'PC_POLICY_DENIED' };
            continue;
          }
          if (value !== true) continue;
        }
      }
      if (rule.effect === 'deny') return { effect: 'deny', rule: rule.name, code: 'PC_POLICY_DENIED', reason: rule.reason ?? `${what} is denied by rule "${rule.name}"` };
      if (rule.guards) {
        const result = yield rule.guards(args, kind === 'tool' && !annotations.readOnly, this.#basesOf(server));
        if (result.problem) {
          if (result.gatewayState) return { effect: 'deny', rule: rule.name, code: 'PC_POLICY_GATEWAY_STATE', reason: `${what} denied: rule "${rule.name}": ${result.problem}` };
          // An approve rule's guard is a requirement of the gate, not a way out of it: a call the rule
          // selects whose arguments fail it is refused, never passed on to an allow rule unasked.
          if (rule.effect === 'approve') return { effect: 'deny', rule: rule.name, code: 'PC_POLICY_GUARD', reason: `${what} denied: approve rule "${rule.name}": ${result.problem}` };
          firstMiss ??= { rule, reason: `rule "${rule.name}": ${result.problem}`, code: 'PC_POLICY_GUARD' };
          continue;
        }
        if (result.rewrites) rewrites.set(rule, result.rewrites);
        if (result.judged) judged.set(rule, result.judged);
      }
      matched[rule.effect] ??= rule;
    }
    const decided = matched.approve ?? matched.allow;
    const forward = decided && rewrites.get(decided);
    const readAs = decided && judged.get(decided);
    const canonical = {
      ...(forward ? { arguments: { ...args, ...forward } } : {}),
      ...(readAs ? { judged: readAs.map((reading) => ({ ...args, ...forward, ...reading })) } : {}),
    };
    if (matched.approve) {
      const rule = matched.approve;
      const unjudged = unjudgedApprove.get(rule);
      const why = unjudged === undefined ? '' : `; its condition is not false (${unjudged}), and an approve condition that is not exactly false asks`;
      return { effect: 'approve', rule: rule.name, code: 'PC_POLICY_APPROVAL_REQUIRED', reason: `${rule.reason ?? `${what} needs a human's approval (rule "${rule.name}")`}${why}`, ...canonical, ...(rule.approval ? { approval: rule.approval } : {}) };
    }
    if (matched.allow) return { effect: 'allow', rule: matched.allow.name, reason: matched.allow.reason ?? `allowed by rule "${matched.allow.name}"`, ...canonical };
    if (firstMiss) return { effect: 'deny', rule: firstMiss.rule.name, code: firstMiss.code, reason: `${what} denied: ${firstMiss.reason}` };
    return { effect: 'deny', code: 'PC_POLICY_DENIED', reason: `no rule allows ${what} for agent "${principal.agent}" (default deny)` };
  }

  /**
   * Whether this caller may use a server-level method (`logging/setLevel`) on `server`: an allow or
   * approve rule about the whole server (no tools/prompts/resources/methods selector) matches the
   * caller, and no such deny rule matches unconditionally. A rule that allows one tool allows that
   * tool, not changes to the server's state that every caller of the server shares.
   */
  serverAllowed(principal: Principal, server: string, task: string | undefined, now: Date): { allowed: boolean; rule?: string; why: string } {
    if (this.#absent) return { allowed: false, why: 'no policy is configured' };
    let allowedBy: CompiledRule | undefined;
    for (const rule of this.#rules) {
      if (!rule.onCall || !rule.server(server)) continue;
      if (rule.principal && !rule.principal(principal)) continue;
      if (rule.task && !rule.task(task)) continue;
      if (rule.time && !rule.time(now)) continue;
      if (!rule.wholeServer) continue;
      if (rule.effect === 'deny') {
        if (!rule.annotations && !rule.when) return { allowed: false, rule: rule.name, why: `denied by rule "${rule.name}"` };
        continue;
      }
      allowedBy ??= rule;
    }
    return allowedBy
      ? { allowed: true, rule: allowedBy.name, why: `rule "${allowedBy.name}" (${allowedBy.effect})` }
      : { allowed: false, why: `no rule about the whole server "${server}" matches agent "${principal.agent}" (default deny)` };
  }

  /**
   * Whether this caller may use anything of `server` at all: some allow or approve rule naming the
   * server (any target, any condition: what a list would show it counts as "could") matches the
   * caller, and no unconditional deny of the whole server does. What a client sees of a server before
   * it calls anything (its instructions, routing/describe.ts) is for such callers only (red team D6).
   * Not checked: scopes a tool needs (per tool, not per server) and task selectors (no task is known
   * when a client initializes: a rule that selects by task does not count).
   */
  reaches(principal: Principal, server: string, now: Date): boolean {
    if (this.#absent) return false;
    if (this.mode === 'monitor') return true;
    let allowed = false;
    for (const rule of this.#rules) {
      if (!rule.server(server)) continue;
      if (rule.principal && !rule.principal(principal)) continue;
      if (rule.time && !rule.time(now)) continue;
      if (rule.effect === 'deny') {
        if (rule.wholeServer && !rule.task && !rule.annotations && !rule.when) return false;
        continue;
      }
      if (!rule.task) allowed = true;
    }
    return allowed;
  }

  /**
   * Whether a list shows an item to this caller: it needs the scopes, no unconditional deny may match,
   * and some allow or approve rule could match (conditions on arguments cannot be known yet and count as
   * "could"; guards likewise).
   */
  visible(principal: Principal, server: string, kind: TargetKind, name: string, declared: Record<string, unknown> | undefined, task: string | undefined, now: Date): { visible: boolean; why: string; approval?: string } {
    if (this.#absent) return { visible: false, why: 'no policy is configured' };
    if (kind === 'tool') {
      const missing = missingScopes(principal, this.requiredScopes(server, name));
      if (missing.length > 0) return { visible: false, why: `lacks scope ${missing.join(' ')}` };
    }
    const annotations = kind === 'tool' ? this.annotations(server, name, declared) : effectiveAnnotations(undefined, undefined);
    let vars: Record<string, unknown> | undefined;
    let allowedBy: CompiledRule | undefined;
    let approvedBy: CompiledRule | undefined;
    for (const rule of this.#rulesFor(server, kind, name)) {
      if (!rule.onList || !this.#staticMatch(rule, principal, task, annotations, now)) continue;
      let holds: boolean | undefined = true;
      if (rule.when) {
        if (!rule.when.withoutArgs) holds = undefined;
        else {
          let value: unknown;
          try {
            vars ??= { principal: celPrincipal(principal), tool: { server, name, kind, annotations: { ...annotations } }, task: task ?? '' };
            value = rule.when.evaluate(vars);
          } catch {
            value = undefined;
          }
          // As for calls: a deny holds unless its condition is exactly false, an allow only if exactly true.
          holds = rule.effect === 'deny' ? value !== false : value === true;
        }
      }
      if (rule.effect === 'deny' && holds === true) return { visible: false, why: `denied by rule "${rule.name}"` };
      if (rule.effect !== 'deny' && holds !== false) allowedBy ??= rule;
      if (rule.effect === 'approve' && holds !== false) approvedBy ??= rule;
    }
    // An approve rule that could match wins over an allow on the call: the tool may need a human's yes.
    if (approvedBy) return { visible: true, why: `rule "${approvedBy.name}" (approve)`, approval: approvedBy.name };
    return allowedBy ? { visible: true, why: `rule "${allowedBy.name}" (${allowedBy.effect})` } : { visible: false, why: 'no rule allows it (default deny)' };
  }
}

/** A condition's result described by type only (never the value: it may come from the arguments). */
function describeValue(value: unknown): string {
  if (value === undefined) return 'no value';
  const type = jsonType(value);
  return type === 'list' || type === 'object' ? `a${type === 'object' ? 'n' : ''} ${type}` : `a ${type}`;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.trim();
}

const SELF_DECLARED_TASK =
  'the task label is declared by the caller (Portcullis-Task header or _meta), so it may only narrow: an allow or approve rule that selects by task needs a principal selector (principal.subjects, agents, roles or scopes)';

/** Compiles a policy section (or its absence). Problems mean the policy must not be used. */
export function compilePolicy(config: PolicyConfig | undefined, options: CompileOptions): { policy: Policy; problems: PolicyProblem[] } {
  const problems: PolicyProblem[] = [];
  if (!config) return { policy: new Policy('enforce', [], [], true), problems };
  const servers = new Set(options.servers);

  const checkServers = (patterns: readonly string[], path: (string | number)[]): void => {
    patterns.forEach((p, i) => {
      if (!isGlob(p) && !servers.has(p)) problems.push({ path: [...path, i], message: `no server named "${p}" in the configuration (servers: ${[...servers].join(', ') || 'none'})` });
    });
  };
  const checkTools = (serverPatterns: readonly string[], tools: readonly string[] | undefined, path: (string | number)[]): void => {
    if (!tools || !options.knownTools) return;
    const matchServer = anyGlob(serverPatterns);
    const catalogs = [...servers].filter(matchServer).map((s) => options.knownTools!(s)).filter((c): c is ReadonlySet<string> => c !== undefined);
    if (catalogs.length === 0) return;
    tools.forEach((t, i) => {
      const known = isGlob(t) ? catalogs.some((c) => [...c].some(anyGlob([t]))) : catalogs.some((c) => c.has(t));
      if (!known) problems.push({ path: [...path, i], message: `no tool matching "${t}" in the pinned catalog of ${serverPatterns.join(', ')}` });
    });
  };

  const names = new Set<string>();
  const rules: CompiledRule[] = [];
  config.rules.forEach((rule, index) => {
    const path = ['policy', 'rules', index];
    if (names.has(rule.name)) problems.push({ path: [...path, 'name'], message: `rule name "${rule.name}" is used twice; names identify the rule in decisions and the audit trail` });
    names.add(rule.name);
    checkServers(rule.servers, [...path, 'servers']);
    checkTools(rule.servers, rule.tools, [...path, 'tools']);
    const onCall = rule.on.includes('call');
    const onList = rule.on.includes('list');
    if (rule.effect === 'deny' && rule.guards) problems.push({ path: [...path, 'guards'], message: 'guards belong to allow and approve rules (a guard that fails keeps the rule from allowing); use `when` for a deny condition' });
    if (rule.approval && rule.effect !== 'approve') problems.push({ path: [...path, 'approval'], message: `approval options belong to rules with effect: approve (this rule's effect is ${rule.effect})` });
    if (rule.approval?.approvers && rule.approval.mode === 'in-band') problems.push({ path: [...path, 'approval', 'mode'], message: 'approvers name a second person, who is asked out of band; use mode: out-of-band or either (or drop approvers)' });
    if (!onCall && rule.guards) problems.push({ path: [...path, 'guards'], message: 'guards check call arguments, which a list has not: this rule applies only to lists (on: [list])' });

    let when: CompiledRule['when'];
    if (rule.when !== undefined) {
      const compiled = compileCondition(rule.when);
      if ('problem' in compiled) problems.push({ path: [...path, 'when'], message: compiled.problem });
      else {
        if (!onCall && !compiled.withoutArgs) problems.push({ path: [...path, 'when'], message: '`args` cannot be known while filtering a list, and this rule applies only to lists (on: [list])' });
        if (rule.effect !== 'deny' && compiled.usesTask && !hasPrincipalSelector(rule.principal)) {
          problems.push({ path: [...path, 'when'], message: SELF_DECLARED_TASK });
        }
        when = compiled;
      }
    }
    if (rule.effect !== 'deny' && rule.tasks && !hasPrincipalSelector(rule.principal)) problems.push({ path: [...path, 'tasks'], message: SELF_DECLARED_TASK });
    let time: CompiledRule['time'];
    if (rule.time) {
      try {
        time = compileTime(rule.time);
      } catch {
        problems.push({ path: [...path, 'time', 'timezone'], message: `unknown time zone "${rule.time.timezone}" (use an IANA name such as Europe/Berlin)` });
      }
    }
    let guards: CompiledRule['guards'];
    if (rule.guards) {
      let patternsOk = true;
      for (const [arg, c] of Object.entries(rule.guards.values ?? {})) {
        if (c.pattern === undefined) continue;
        try {
          compileLinear(c.pattern); // as written: a pattern is wrapped in ^(?:…)$ only once it is known to be whole
        } catch (error) {
          if (!(error instanceof UnsupportedPattern)) throw error;
          patternsOk = false;
          problems.push({ path: [...path, 'guards', 'values', arg, 'pattern'], message: `cannot be used: ${error.message}` });
        }
      }
      if (patternsOk) guards = compileGuards(rule.guards, options.resolveHost, options.gatewayState);
    }
    // A rule without target selectors covers the servers' tools, prompts and resources; custom methods
    // only ever match a rule that names them (default deny over the method space).
    const anyTarget = !rule.tools && !rule.prompts && !rule.resources && !rule.methods;
    const matchers = {
      tool: rule.tools && anyGlob(rule.tools),
      prompt: rule.prompts && anyGlob(rule.prompts),
      resource: rule.resources && anyGlob(rule.resources),
      method: rule.methods && anyGlob(rule.methods),
    };
    const p = rule.principal;
    const subjects = p?.subjects && anyGlob(p.subjects);
    const agents = p?.agents && anyGlob(p.agents);
    const tasks = rule.tasks && anyGlob(rule.tasks);
    rules.push({
      index,
      name: rule.name,
      effect: rule.effect,
      onCall,
      onList,
      server: anyGlob(rule.servers),
      target: (kind, name) => (anyTarget && kind !== 'method') || (matchers[kind]?.(name) ?? false),
      wholeServer: anyTarget,
      principal: p
        ? (pr) =>
          (!p.issuers || p.issuers.includes(vouchedBy(pr))) &&
          (!subjects || subjects(pr.subject)) &&
          (!agents || agents(pr.agent)) &&
          (!p.roles || p.roles.some((r) => pr.roles.includes(r))) &&
          (!p.scopes || missingScopes(pr, p.scopes).length === 0)
        : undefined,
      task: tasks ? (t) => t !== undefined && tasks(t) : undefined,
      annotations: rule.annotations,
      time,
      when,
      guards,
      reason: rule.reason,
      approval: rule.approval,
    });
  });

  const tools: ToolEntry[] = config.tools.map((entry, i) => {
    checkServers([entry.server], ['policy', 'tools', i, 'server']);
    checkTools([entry.server], [entry.tool], ['policy', 'tools', i, 'tool']);
    return { server: anyGlob([entry.server]), tool: anyGlob([entry.tool]), scopes: entry.scopes, annotations: entry.annotations };
  });
  config.limits.forEach((limit, i) => {
    checkServers(limit.servers, ['policy', 'limits', i, 'servers']);
    checkTools(limit.servers, limit.tools, ['policy', 'limits', i, 'tools']);
  });
  checkServers(Object.keys(config.concurrency), ['policy', 'concurrency']);
  if (config.rules.length === 0) problems.push({ path: ['policy', 'rules'], message: 'a policy with no rules denies every call; add at least one allow rule (or remove the section to say so explicitly)' });
  return { policy: new Policy(config.mode, rules, tools, false, options.serverBases), problems };
}
