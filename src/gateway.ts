/**
 * `createGateway(config, deps)`: wires upstreams, catalog and pipeline. The stages are built in
 * gateway/stages.ts, started and closed in gateway/lifecycle.ts; server notifications are routed in
 * gateway/change-events.ts. No globals: everything the gateway touches from outside (environment,
 * secrets, logger) comes in through `deps`, so tests build as many independent gateways as they like.
 */
import { signalLayer } from './inspect/scanner.ts';
import { ensurePrivateDir } from './util/private-files.ts';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditLog } from './audit/log.ts';
import { createAuditLog } from './audit/open.ts';
import { createRefusalRecorder, type RefusalRecorder } from './audit/refusals.ts';
import type { Front } from './audit/chain-lease.ts';
import { localPrincipal, principalKey, type Principal } from './auth/principal.ts';
import { defaultDataDir } from './config/defaults.ts';
import { nameClashes, pinnedNames } from './config/namespaces.ts';
import type { Config } from './config/schema.ts';
import type { SecretSource } from './config/secrets.ts';
import { GatewayError } from './errors.ts';
import { openKillSwitches } from './killswitch/open.ts';
import type { KillSwitchStore } from './killswitch/store.ts';
import { InFlightCalls } from './killswitch/in-flight.ts';
import { createKillSwitch } from './pipeline/stages/kill-switch.ts';
import { createMonitor } from './monitor/create.ts';
import type { Monitor } from './monitor/monitor.ts';
import { createLimitCounters, type LimitCounters } from './limits/counters.ts';
import { InputBridge } from './pipeline/input-bridge.ts';
import type { ClientLink, Endpoint, MessageContext, Outcome } from './pipeline/context.ts';
import type { Description } from './pipeline/stages/route.ts';
import { createDlp } from './dlp/create.ts';
import { createListingScreen } from './dlp/listing.ts';
import { auditSecretTest } from './audit/redact.ts';
import { screenLogs } from './logger.ts';
import type { Dlp } from './dlp/engine.ts';
import { guardClient } from './dlp/client-guard.ts';
import type { ResolveHost } from './policy/guard-result.ts';
import type { PolicyProblem } from './policy/policy.ts';
import { PolicyRuntime } from './policy/runtime.ts';
import type { PolicyConfig } from './policy/schema.ts';
import { createScopeCheck } from './policy/step-up.ts';
import { isObject, type JsonRpcNotification, type JsonRpcRequest } from './protocol/jsonrpc.ts';
import { CallerDirectory } from './routing/callers.ts';
import { createRecipients } from './routing/recipients.ts';
import { Catalog } from './routing/catalog.ts';
import { createDescribe } from './routing/describe.ts';
import { createInstructionsScreen, createServerInfoScreen } from './dlp/instructions.ts';
import { SubscriptionRegistry } from './routing/subscriptions.ts';
import { TaskRegistry } from './routing/tasks.ts';
import { createTaskStopper } from './killswitch/tasks.ts';
import { SupplyGuard } from './supply/guard.ts';
import { openPins } from './supply/open-pins.ts';
import { pinnedToolNames, type PinStore } from './supply/pins.ts';
import { buildUpstreams } from './upstream/build.ts';
import { createUpstream } from './upstream/create.ts';
import type { Upstream } from './upstream/types.ts';
import type { Approvals } from './approvals/open.ts';
import { wireChangeEvents } from './gateway/change-events.ts';
import { releaseSubscriptions, UnattributedCounter } from './gateway/isolation.ts';
import { createLifecycle } from './gateway/lifecycle.ts';
import { buildPipeline } from './gateway/stages.ts';
import { compileOptionsWith, stateGuardOf } from './policy/state-decision.ts';

export interface GatewayDeps {
  logger: Logger;
  secrets: SecretSource;
  /** Replaces the connector factory (tests); defaults to the real one. */
  createUpstream?: typeof createUpstream;
  /** DNS for the URL guard (tests pass a fake); defaults to the system resolver. */
  resolveHost?: ResolveHost;
  /** The clock policy time windows read (tests); defaults to the system clock. */
  now?: () => Date;
  /** Monotonic milliseconds for rate limits (tests); defaults to performance.now. */
  clock?: () => number;
  /** The configuration file (absolute), when one was read: it is part of the gateway's own state. */
  configFile?: string;
  /** Which front runs this gateway: its audit chain is named after it (src/audit/chain-lease.ts). */
  front?: Front;
}

/** The task label an agent declares for a call, in `_meta`. */
export const TASK_META_KEY = 'dev.portcullis/task';

/** The system resolver, loaded with the first name to resolve (a gateway with no URL upstream by name never needs it). */
const systemResolve: ResolveHost = async (host) => {
  const { lookup } = await import('node:dns/promises');
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
};

/**
 * A notification a server sent outside any call in flight, for the downstream sessions that should
 * hear of it (routing/recipients.ts): without `to`, a list change for every session that shows the
 * server; with `to`, only for those callers (legacy session ids) — a resource update's subscribers, or
 * the callers of the principal it belongs to.
 */
export interface ChangeEvent {
  server: string;
  notification: JsonRpcNotification;
  to?: readonly string[] | undefined;
}

/** Counters and gauges of caller isolation, for /metrics. */
export interface IsolationStats {
  /** Server→client messages no caller could be found for (dropped or refused), by server and kind. */
  unattributed: Array<{ server: string; kind: 'notification' | 'request'; count: number }>;
  parkedCalls: number;
  parkedRefused: number;
  parkedExpired: number;
  tasksTracked: number;
  /** tasks/get|result|cancel naming a task the caller does not own. */
  taskUnknownLookups: number;
  /** Per-principal upstream sessions open, by server (servers with upstreamSession: per-principal). */
  upstreamSessions: Array<{ server: string; sessions: number }>;
}

export interface Gateway {
  readonly config: Config;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly instanceId: string;
  /** The audit log, unless `audit.store: off`. */
  readonly audit: AuditLog | undefined;
  /** Where every resource limit that acts is counted (for /metrics) and logged once per burst. */
  readonly limits: LimitCounters;
  readonly policy: PolicyRuntime;
  readonly kill: KillSwitchStore;
  /** Data-loss prevention (docs/dlp.md): its counters feed /metrics. */
  readonly dlp: Dlp;
  /** Human approval of calls (docs/approvals.md): the queue, and the stage that waits on it. */
  readonly approvals: Approvals;
  /** The behaviour monitor (docs/monitor.md), when `monitor` is configured and the audit trail is on. */
  readonly monitor: Monitor | undefined;
  /** Puts a new policy section in force, unless it has problems (then the old one stays; problems returned). */
  reloadPolicy(policy: PolicyConfig | undefined): PolicyProblem[];
  /** Every scope the identity section and the policy name (for metadata and the embedded server). */
  scopes(): string[];
  /**
   * For a tools/call: every scope the tool needs when `principal` lacks one of them (the HTTP front
   * answers 403 insufficient_scope before anything starts); undefined when nothing is missing.
   */
  missingScopes(endpoint: Endpoint, request: JsonRpcRequest, principal: Principal): Promise<string[] | undefined>;
  /**
   * Records a request a front refused before it became a pipeline message (an invalid credential,
   * malformed or ambiguous input; `method` names what was refused when known). At most REFUSALS_PER_SECOND a second are recorded (burst 100), so a flood of bad tokens
   * cannot flood the trail; the rest only count. Returns whether it was recorded.
   */
  recordRefusal: RefusalRecorder;
  start(): Promise<void>;
  /** Runs one request through the pipeline. */
  handle(input: {
    endpoint: Endpoint;
    request: JsonRpcRequest;
    client: ClientLink;
    signal: AbortSignal;
    paramHeaders?: Readonly<Record<string, string>> | undefined;
    /** The verified caller; absent: the local principal (OS user, the agent the client declared). */
    principal?: Principal | undefined;
    /** A task label from a transport header (the `_meta` label wins). */
    task?: string | undefined;
  }): Promise<Outcome & { correlationId: string }>;
  /**
   * Capabilities, server info and instructions a client sees on an endpoint: the instructions of the
   * servers `caller` may use, screened by DLP. `caller.principal` absent: the local principal, as
   * `handle` makes it (`clientName` the agent the client declared).
   */
  describe(endpoint: Endpoint, caller: { principal?: Principal | undefined; clientName?: unknown }): Promise<Description>;
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /** Isolation counters: unattributed server traffic, parked calls, tracked tasks, per-principal sessions. */
  isolation(): IsolationStats;
  /** A client session ended: release what the gateway holds upstream on its behalf (subscriptions). */
  clientGone(clientKey: string): void;
  hasServer(name: string): boolean;
  close(): Promise<void>;
}

export function createGateway(config: Config, deps: GatewayDeps): Gateway {
  const logger = deps.logger;
  const limits = createLimitCounters(logger);
  const tasks = new TaskRegistry(config.routing.tasks);
  const unattributed = new UnattributedCounter();
  const dataDir = config.dataDir ?? defaultDataDir(deps.secrets.env);
  // State on disk is private (issue 12): the directory 0700 before any store writes into it.
  ensurePrivateDir(dataDir);
  // Opened before the servers: an npm-pinned server's package files are recorded and checked there.
  const pins = openPins(config, deps.secrets, { create: true });
  const { upstreams, catalogServers } = buildUpstreams(config, {
    logger,
    secrets: deps.secrets,
    make: deps.createUpstream ?? createUpstream,
    tasks,
    onUnattributed: (server, kind) => unattributed.count(server, kind),
    limits,
    pins,
  });
  const catalog = new Catalog(catalogServers, config.routing.separator, logger);
  assertNoNameClashes(config, pins);
  const now = deps.now ?? (() => new Date());
  const kill = openKillSwitches(config, deps.secrets, {
    now: () => now().getTime(),
    onUntrusted: (problem) => logger.error({ code: 'PC_KILL_UNTRUSTED', alert: 'kill-switch' }, `kill-switch file untrusted: ${problem}`),
  });
  // The gateway's own files, which no governed call may reach (src/policy/state-decision.ts; the same
  // guard `portcullis policy test` decides with).
  const stateGuard = stateGuardOf(config, dataDir, deps.configFile);
  for (const exposure of stateGuard.exposures) logger.warn({ path: exposure.path }, exposure.message);
  const policy = new PolicyRuntime(config.policy, () => compileOptionsWith(config, stateGuard, {
    knownTools: (server) => {
      pins.reload(0);
      return pinnedToolNames(pins, server);
    },
    resolveHost: deps.resolveHost ?? systemResolve,
  }), deps.clock);
  // A running task counts against its server's concurrency cap until it finishes (routing/tasks.ts).
  tasks.holdSlot = (server) => policy.concurrency.hold(server);
  if (!config.policy) logger.warn('no policy section: every call is denied and every list is empty (see `portcullis init` for a starter policy)');
  const osUser = currentOsUser();
  /** The caller without a verified identity: the OS user, as the agent the client declared (or `identity.localAgent`). */
  const localCaller = (clientName: unknown): Principal => localPrincipal(osUser, config.identity?.localAgent ?? (typeof clientName === 'string' ? clientName : 'local'));
  const supply = new SupplyGuard({
    pins,
    modeFor: (server) => config.servers[server]?.pinning ?? 'quarantine',
    toolNames: () => catalog.toolNames(),
    logger,
    scanner: signalLayer(config.supply.scanner),
    onHold: (event) => monitor?.supplyHeld(event),
  });
  const dlp = createDlp(config, deps.secrets, logger);
  const screenListing = createListingScreen(dlp, logger);
  // What the review lets through is then screened for secrets like a result (src/dlp/listing.ts).
  catalog.review = (server, kind, items) => screenListing(server, kind, supply.review(server, kind, items, true));
  catalog.reviewGeneration = () => supply.generation();
  const bridge = new InputBridge(config.routing.inputRequired);
  const subscriptions = new SubscriptionRegistry(config.routing.subscriptions, limits);
  const callers = new CallerDirectory();
  const perPrincipal = (server: string): boolean => config.servers[server]?.upstreamSession === 'per-principal';
  const sessionScope = (server: string, principal: string): string => (perPrincipal(server) ? principal : '');
  const timeoutMsFor = (server: string | undefined): number =>
    (server ? config.servers[server]?.timeoutMs : undefined) ?? config.defaults.timeoutMs;
  const screenInstructions = createInstructionsScreen(dlp, logger);
  const screenServerInfo = createServerInfoScreen(dlp, logger);
  const describe = createDescribe(upstreams, timeoutMsFor, {
    review: (server, description) => supply.reviewDescription(server, description),
    // A server's instructions reach only callers some rule lets use it (red team D6), and not while a kill switch stops it for them.
    mayUse: (server, caller) => caller !== undefined && policy.current.policy.reaches(caller, server, now()) && (kill.refresh(), !kill.stops(server, undefined, caller, false)),
    screen: screenInstructions,
    screenServerInfo,
  });
  const onChange = wireChangeEvents(upstreams, catalog, createRecipients({ callers, subscriptions, onUnattributed: (server) => unattributed.count(server, 'notification') }), dlp, logger);

  const instanceId = randomUUID();
  // The behaviour monitor (docs/monitor.md) watches the records the audit log stores.
  const monitor = createMonitor(config, { dataDir, logger, kill, secrets: deps.secrets, now });
  // The record masks what DLP detects, whatever DLP's actions for the server (docs/audit.md).
  const holdsSecret = auditSecretTest(dlp);
  // The log screens every line with the same test (src/logger.ts).
  screenLogs(logger, holdsSecret);
  const audit = createAuditLog(config, deps.secrets, logger, instanceId, deps.front, monitor ? [monitor] : [], holdsSecret);
  if (!audit) logger.warn('audit is off: calls through this gateway leave no record');
  // Every alert is also an audit record (decision `alert`), chained with the records it is about.
  if (audit) monitor?.attachTrail((entry) => audit.recordAlert(entry));

  const { pipeline, approvals } = buildPipeline({
    config, logger, secrets: deps.secrets, dataDir, now, stateGuard, upstreams, catalog, bridge, tasks, subscriptions, describe, timeoutMsFor, sessionScope, policy, kill, supply, dlp, screenListing, screenServerInfo, audit, monitor, holdsSecret,
  });
  const inFlight = new InFlightCalls(kill, createKillSwitch(kill));
  // Tasks a switch covers are cancelled upstream and forgotten (killswitch/tasks.ts).
  const taskStopper = createTaskStopper({
    store: kill,
    tasks,
    cancel: (task) => {
      logger.warn({ server: task.server, tool: task.tool }, 'kill switch: a running task was cancelled upstream and forgotten');
      void upstreams.get(task.server)?.request('tasks/cancel', { taskId: task.taskId }, { timeoutMs: 5000, caller: task.caller, principal: task.principal }).catch(() => undefined);
    },
  });
  const lifecycle = createLifecycle({ logger, upstreams, catalog, describe, audit, approvals, bridge, limits, dataDir, instanceId });

  // Refusals at the front: budgets per class of caller; an identified caller's unwritten one still reaches the monitor.
  const recordRefusal = createRefusalRecorder(audit, deps.clock, monitor ? (ctx, error) => monitor.unrecorded(ctx, error) : undefined);
  return {
    config,
    upstreams,
    instanceId,
    audit,
    limits,
    policy,
    kill,
    dlp,
    approvals,
    monitor,
    reloadPolicy(next) {
      return policy.load(next);
    },
    scopes() {
      return [...new Set([...(config.identity?.scopes ?? []), ...policy.current.policy.scopes])];
    },
    recordRefusal,
    missingScopes: createScopeCheck(policy, catalog, timeoutMsFor),
    start: lifecycle.start,
    async handle({ endpoint, request, client, signal, paramHeaders, principal, task }) {
      const meta = isObject(request.params?._meta) ? request.params._meta : undefined;
      const declaredTask = typeof meta?.[TASK_META_KEY] === 'string' ? (meta[TASK_META_KEY] as string) : task;
      // Server→client traffic of this call is inspected as it passes (src/dlp/client-guard.ts).
      const guarded = guardClient(dlp, client, () => ctx);
      // The call's own signal: aborted when the client cancels or goes away, or when a kill switch
      // written while it runs covers it (killswitch/in-flight.ts).
      const stop = new AbortController();
      const onClientAbort = (): void => stop.abort(signal.reason);
      if (signal.aborted) stop.abort(signal.reason);
      else signal.addEventListener('abort', onClientAbort, { once: true });
      const ctx: MessageContext = {
        correlationId: randomUUID(),
        receivedAtMs: Date.now(),
        startedAt: performance.now(),
        endpoint,
        request,
        client: guarded,
        signal: stop.signal,
        paramHeaders,
        principal: principal ?? localCaller(client.info?.name),
        task: declaredTask,
      };
      // An ended session's request is cancelled (its signal aborted): it must not be noted again after clientGone.
      if (client.era === 'legacy' && !signal.aborted) callers.note(principalKey(ctx.principal), client.key);
      const untrack = inFlight.track(ctx, stop);
      try {
        const outcome = await pipeline(ctx);
        return { ...outcome, correlationId: ctx.correlationId };
      } finally {
        untrack();
        signal.removeEventListener('abort', onClientAbort);
      }
    },
    describe: (endpoint, caller) => describe(endpoint, caller.principal ?? localCaller(caller.clientName)),
    onChange,
    isolation() {
      return {
        unattributed: unattributed.list(),
        parkedCalls: bridge.size,
        parkedRefused: bridge.refused,
        parkedExpired: bridge.expired,
        tasksTracked: tasks.size,
        taskUnknownLookups: tasks.unknownLookups,
        upstreamSessions: [...upstreams.values()].filter((u) => perPrincipal(u.name)).map((u) => ({ server: u.name, sessions: u.sessionCount?.() ?? 0 })),
      };
    },
    hasServer: (name) => upstreams.has(name),
    clientGone(clientKey) {
      callers.forget(clientKey);
      releaseSubscriptions(clientKey, subscriptions, upstreams, timeoutMsFor);
    },
    async close() {
      taskStopper.close();
      // What the refusal budgets left unwritten is summed up in the trail before it closes.
      await recordRefusal.summarize().catch(() => undefined);
      await lifecycle.close();
    },
  };
}

/**
 * Two servers exposing one name on /mcp is a configuration error (names known from the pins; the
 * catalog refuses clashes it learns later).
 */
function assertNoNameClashes(config: Config, pins: PinStore): void {
  const clashes = nameClashes(config.servers, config.routing.separator, (server) => pinnedNames(pins, server));
  if (clashes.length > 0) throw new GatewayError('PC_CONFIG_INVALID', `configuration error: ${clashes.map((c) => `${c.path}: ${c.message}`).join('; ')}`);
}

function currentOsUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'local';
  }
}
