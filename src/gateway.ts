/**
 * `createGateway(config, deps)`: wires upstreams, catalog and pipeline. No globals: everything the
 * gateway touches from outside (environment, secrets, logger) comes in through `deps`, so tests build
 * as many independent gateways as they like.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import type { SecretSource } from './config/secrets.ts';
import { GatewayError } from './errors.ts';
import { isObject, type JsonObject, type JsonRpcNotification, type JsonRpcRequest } from './protocol/jsonrpc.ts';
import type { ClientLink, Endpoint, MessageContext, Outcome } from './pipeline/context.ts';
import { InputBridge } from './pipeline/input-bridge.ts';
import { createPipeline, type Pipeline } from './pipeline/order.ts';
import { createForward } from './pipeline/stages/forward.ts';
import { createRoute, type Description } from './pipeline/stages/route.ts';
import { createCheckParamHeaders } from './pipeline/stages/check-param-headers.ts';
import { Catalog, type CatalogServer, type ListKind } from './routing/catalog.ts';
import { SubscriptionRegistry } from './routing/subscriptions.ts';
import { createUpstream } from './upstream/create.ts';
import type { Upstream } from './upstream/types.ts';
import { VERSION } from './version.ts';
import { join } from 'node:path';
import { defaultDataDir } from './config/defaults.ts';
import { createSupplyCheck } from './pipeline/stages/supply-check.ts';
import { SupplyGuard } from './supply/guard.ts';
import { PinStore, type DefinitionKind } from './supply/pins.ts';
import { checkServerPin } from './supply/server-pin.ts';
import { nameClashes, pinnedNames, prefixOf } from './config/namespaces.ts';
import { RefusedUpstream } from './upstream/refused.ts';
import { PORTCULLIS_ROOT } from './config/defaults.ts';
import { AuditLog } from './audit/log.ts';
import { auditInstance, openAuditStore, signerFor, sinksFor } from './audit/open.ts';
import { lookup } from 'node:dns/promises';
import { userInfo } from 'node:os';
import { localPrincipal, missingScopes, type Principal } from './auth/principal.ts';
import { KillSwitchStore } from './killswitch/store.ts';
import type { PolicyProblem } from './policy/policy.ts';
import type { ResolveHost } from './policy/guard-result.ts';
import { PolicyRuntime } from './policy/runtime.ts';
import type { PolicyConfig } from './policy/schema.ts';
import { createApprove } from './pipeline/stages/approve.ts';
import { createAuthorize } from './pipeline/stages/authorize.ts';
import { createKillSwitch } from './pipeline/stages/kill-switch.ts';
import { createRateLimit } from './pipeline/stages/rate-limit.ts';
import { createValidateArgs } from './pipeline/stages/validate-args.ts';
import { ArgumentValidator } from './validate/args.ts';

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
}

/** The task label an agent declares for a call, in `_meta`. */
export const TASK_META_KEY = 'dev.portcullis/task';

const systemResolve: ResolveHost = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** The known tool names of a server, from its pins (undefined until its tool list has been seen). */
export function pinnedToolNames(pins: PinStore, server: string): ReadonlySet<string> | undefined {
  if (!pins.seen(server, 'tools')) return undefined;
  return new Set(Object.keys(pins.allPinned(server)).filter((k) => k.startsWith('tools:')).map((k) => k.slice('tools:'.length)));
}

/** A change a server announced, for the downstream sessions that should hear of it. */
export interface ChangeEvent {
  server: string;
  notification: JsonRpcNotification;
}

const LIST_CHANGED: ReadonlyMap<string, ListKind> = new Map([
  ['notifications/tools/list_changed', 'tools'],
  ['notifications/prompts/list_changed', 'prompts'],
  ['notifications/resources/list_changed', 'resources'],
]);

/** Authentication refusals written to the audit trail per second at most (burst 100); the rest count in /metrics. */
const REFUSALS_PER_SECOND = 20;

/** How long `initialize` on the aggregated endpoint waits for servers still starting. */
const DESCRIBE_WAIT_MS = 10_000;
/** How long a parked (input-required) call waits for the modern client's retry. */
const INPUT_TTL_MS = 5 * 60_000;

export interface Gateway {
  readonly config: Config;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly instanceId: string;
  /** The audit log, unless `audit.store: off`. */
  readonly audit: AuditLog | undefined;
  readonly policy: PolicyRuntime;
  readonly kill: KillSwitchStore;
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
   * Records a request the HTTP front refused before it became a message (a missing or invalid
   * credential). At most REFUSALS_PER_SECOND a second are recorded (burst 100), so a flood of bad tokens
   * cannot flood the trail; the rest only count. Returns whether it was recorded.
   */
  recordRefusal(endpoint: Endpoint, error: GatewayError): Promise<boolean>;
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
  /** Capabilities, server info and instructions a client sees on an endpoint. */
  describe(endpoint: Endpoint): Promise<Description>;
  /** Forwards a client notification (e.g. roots/list_changed) to the servers behind an endpoint. */
  notifyServers(endpoint: Endpoint, notification: JsonRpcNotification): Promise<void>;
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /** A client session ended: release what the gateway holds upstream on its behalf (subscriptions). */
  clientGone(clientKey: string): void;
  hasServer(name: string): boolean;
  close(): Promise<void>;
}

export function createGateway(config: Config, deps: GatewayDeps): Gateway {
  const logger = deps.logger;
  const make = deps.createUpstream ?? createUpstream;
  const upstreams = new Map<string, Upstream>();
  const catalogServers = new Map<string, CatalogServer>();
  const clientInfo = { name: 'portcullis', version: VERSION };
  const dataDir = config.dataDir ?? defaultDataDir(deps.secrets.env);
  const pins = new PinStore(join(dataDir, 'pins.json'));
  // Two servers exposing one name on /mcp is a configuration error (names known from the pins; the
  // catalog refuses clashes it learns later).
  const clashes = nameClashes(config.servers, config.routing.separator, (server) => pinnedNames(pins, server));
  if (clashes.length > 0) throw new GatewayError('PC_CONFIG_INVALID', `configuration error: ${clashes.map((c) => `${c.path}: ${c.message}`).join('; ')}`);
  for (const [name, server] of Object.entries(config.servers)) {
    if (server.disabled) continue;
    const pin = checkServerPin(name, server, {
      cwd: process.cwd(),
      pathEnv: deps.secrets.env.PATH,
      packageRoots: [PORTCULLIS_ROOT],
      allowUnpinned: config.supply.allowUnpinned,
    });
    if (!pin.ok) logger.error({ alert: 'supply-chain', server: name }, pin.problem);
    else if (!pin.pinned) logger.warn({ alert: 'supply-chain', server: name }, 'server runs unpinned');
    const upstream = pin.ok
      ? make(name, server, { logger, secrets: deps.secrets, clientInfo, connectTimeoutMs: Math.min(config.defaults.timeoutMs, 30_000) })
      : new RefusedUpstream(name, pin.problem);
    upstreams.set(name, upstream);
    catalogServers.set(name, { upstream, prefix: prefixOf(name, server) });
  }
  const catalog = new Catalog(catalogServers, config.routing.separator, logger);
  const kill = new KillSwitchStore(join(dataDir, 'killswitch.json'));
  const resolveHost = deps.resolveHost ?? systemResolve;
  const now = deps.now ?? (() => new Date());
  const policy = new PolicyRuntime(config.policy, () => ({
    servers: Object.keys(config.servers),
    knownTools: (server) => {
      pins.reload(0);
      return pinnedToolNames(pins, server);
    },
    resolveHost,
  }), deps.clock);
  if (!config.policy) logger.warn('no policy section: every call is denied and every list is empty (see `portcullis init` for a starter policy)');
  const osUser = (() => {
    try {
      return userInfo().username;
    } catch {
      return 'local';
    }
  })();
  const supply = new SupplyGuard({
    pins,
    modeFor: (server) => config.servers[server]?.pinning ?? 'quarantine',
    toolNames: () => catalog.toolNames(),
    logger,
  });
  catalog.review = (server, kind, items) => supply.review(server, kind as DefinitionKind, items, true);
  catalog.reviewGeneration = () => supply.generation();
  const bridge = new InputBridge(INPUT_TTL_MS);
  const subscriptions = new SubscriptionRegistry();
  const listeners = new Set<(event: ChangeEvent) => void>();
  const timeoutMsFor = (server: string | undefined): number =>
    (server ? config.servers[server]?.timeoutMs : undefined) ?? config.defaults.timeoutMs;

  for (const upstream of upstreams.values()) {
    upstream.onEvent((notification) => {
      const list = LIST_CHANGED.get(notification.method);
      if (list) catalog.invalidate(upstream.name, list);
      for (const listener of listeners) listener({ server: upstream.name, notification });
    });
  }

  async function describe(endpoint: Endpoint): Promise<Description> {
    if (endpoint.kind === 'server') {
      const upstream = upstreams.get(endpoint.server);
      if (!upstream) throw new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${endpoint.server}"`);
      const info = await upstream.ready(timeoutMsFor(endpoint.server));
      return { capabilities: info.capabilities, serverInfo: info.serverInfo, instructions: info.instructions };
    }
    const infos = await Promise.all(
      [...upstreams.values()].map((u) => u.ready(Math.min(DESCRIBE_WAIT_MS, timeoutMsFor(u.name))).then((info) => ({ name: u.name, info }), () => undefined)),
    );
    const has = (key: string): boolean => infos.some((i) => i && isObject(i.info.capabilities[key]));
    const capabilities: JsonObject = {};
    if (has('tools')) capabilities.tools = { listChanged: true };
    if (has('prompts')) capabilities.prompts = { listChanged: true };
    if (has('resources')) {
      const subscribe = infos.some((i) => i && isObject(i.info.capabilities.resources) && (i.info.capabilities.resources as JsonObject).subscribe === true);
      capabilities.resources = { listChanged: true, ...(subscribe ? { subscribe: true } : {}) };
    }
    if (has('logging')) capabilities.logging = {};
    if (has('completions')) capabilities.completions = {};
    const instructions = infos
      .filter((i) => i?.info.instructions)
      .map((i) => `## ${i!.name}\n${i!.info.instructions}`)
      .join('\n\n');
    return { capabilities, serverInfo: { name: 'portcullis', version: VERSION }, instructions: instructions || undefined };
  }

  const instanceId = randomUUID();
  let refusalTokens = 100;
  let refusalAt = performance.now();
  let retentionTimer: NodeJS.Timeout | undefined;
  const audit =
    config.audit.store !== 'off'
      ? new AuditLog({
        openStore: async () => (await openAuditStore(config, deps.secrets))!,
        kind: config.audit.store,
        instance: auditInstance(config),
        gatewayId: instanceId,
        redactFields: config.audit.redact.fields,
        argumentsModeFor: (server) => (server ? config.servers[server]?.auditArguments : undefined) ?? 'redacted',
        logger,
        signer: signerFor(config, deps.secrets),
        checkpointEvery: config.audit.checkpointEvery,
        sinks: sinksFor(config, deps.secrets, logger),
        retentionDays: config.audit.retentionDays,
      })
    : undefined;
  if (!audit) logger.warn('audit is off: calls through this gateway leave no record');

  const validator = new ArgumentValidator();
  const pipeline: Pipeline = createPipeline(
    {
      route: createRoute({ upstreams, catalog, bridge, describe, timeoutMsFor }),
      checkParamHeaders: createCheckParamHeaders({ upstreams, catalog, timeoutMsFor }),
      authenticate: () => undefined,
      supplyCheck: createSupplyCheck({ supply, catalog, timeoutMsFor }),
      killSwitch: createKillSwitch(kill),
      authorize: createAuthorize({ runtime: policy, catalog, kill, timeoutMsFor, now, logger, validator }),
      validateArgs: createValidateArgs(policy, validator),
      rateLimit: createRateLimit(policy),
      approve: createApprove(policy),
      forward: createForward({ upstreams, catalog, bridge, pageSize: config.routing.pageSize, timeoutMsFor, subscriptions, supply }),
    },
    logger,
    audit,
  );

  return {
    config,
    upstreams,
    instanceId,
    audit,
    policy,
    kill,
    reloadPolicy(next) {
      return policy.load(next);
    },
    scopes() {
      return [...new Set([...(config.identity?.scopes ?? []), ...policy.current.policy.scopes])];
    },
    async recordRefusal(endpoint, error) {
      if (!audit) return false;
      const at = performance.now();
      refusalTokens = Math.min(100, refusalTokens + ((at - refusalAt) / 1000) * REFUSALS_PER_SECOND);
      refusalAt = at;
      if (refusalTokens < 1) return false;
      refusalTokens -= 1;
      const ctx: MessageContext = {
        correlationId: randomUUID(),
        receivedAtMs: Date.now(),
        startedAt: at,
        endpoint,
        request: { jsonrpc: '2.0', id: null as unknown as string, method: '(authentication)' },
        client: { key: 'modern:refused', era: 'modern', protocolVersion: '', capabilities: {}, info: undefined, notify: () => undefined, request: undefined },
        signal: new AbortController().signal,
        paramHeaders: undefined,
        principal: { kind: 'token', subject: 'anonymous', agent: 'unknown', scopes: [], allScopes: false, roles: [] },
        task: undefined,
      };
      await audit.record(ctx, { error });
      return true;
    },
    async missingScopes(endpoint, request, principal) {
      if (request.method !== 'tools/call' || principal.allScopes || typeof request.params?.name !== 'string') return undefined;
      if (policy.current.policy.mode === 'monitor') return undefined; // recorded by authorize, not enforced
      let server: string;
      let tool: string;
      if (endpoint.kind === 'server') {
        server = endpoint.server;
        tool = request.params.name;
      } else {
        const found = await catalog.resolveName('tools', request.params.name, timeoutMsFor(undefined)).catch(() => undefined);
        if (!found) return undefined; // the pipeline answers the unknown tool
        ({ server, name: tool } = found);
      }
      const needed = policy.current.policy.requiredScopes(server, tool);
      return missingScopes(principal, needed).length > 0 ? needed : undefined;
    },
    async start() {
      await audit?.open().catch(() => undefined);
      if (audit) {
        const retain = (): void => void audit.applyRetention().catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'audit retention failed'));
        retain();
        retentionTimer = setInterval(retain, 3_600_000);
        retentionTimer.unref();
      }
      await Promise.all(
        [...upstreams.values()].map((u) =>
          u.start().catch((error: unknown) => {
            logger.warn({ server: u.name, err: (error as Error).message }, 'server not available at start; calls to it will fail until it is');
          }),
        ),
      );
      // Review every server's tools with every other server's names known, so that shadowing is
      // seen on first sight too: one pass to learn the names, one to review with all of them.
      if (upstreams.size > 1) {
        await catalog.aggregate('tools', DESCRIBE_WAIT_MS).catch(() => undefined);
        for (const name of upstreams.keys()) catalog.invalidate(name, 'tools');
      }
      await catalog.aggregate('tools', DESCRIBE_WAIT_MS).catch(() => undefined);
    },
    async handle({ endpoint, request, client, signal, paramHeaders, principal, task }) {
      const meta = isObject(request.params?._meta) ? request.params._meta : undefined;
      const declaredTask = typeof meta?.[TASK_META_KEY] === 'string' ? (meta[TASK_META_KEY] as string) : task;
      const ctx: MessageContext = {
        correlationId: randomUUID(),
        receivedAtMs: Date.now(),
        startedAt: performance.now(),
        endpoint,
        request,
        client,
        signal,
        paramHeaders,
        principal: principal ?? localPrincipal(osUser, config.identity?.localAgent ?? (typeof client.info?.name === 'string' ? client.info.name : 'local')),
        task: declaredTask,
      };
      const outcome = await pipeline(ctx);
      return { ...outcome, correlationId: ctx.correlationId };
    },
    describe,
    async notifyServers(endpoint, notification) {
      const targets = endpoint.kind === 'server' ? [upstreams.get(endpoint.server)] : [...upstreams.values()];
      await Promise.all(targets.map((u) => (u && u.state() === 'ready' ? u.notify(notification.method, notification.params).catch(() => undefined) : undefined)));
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    hasServer: (name) => upstreams.has(name),
    clientGone(clientKey) {
      for (const { server, uri } of subscriptions.removeClient(clientKey)) {
        const upstream = upstreams.get(server);
        if (!upstream || upstream.state() !== 'ready') continue;
        upstream
          .connectorFor('legacy', timeoutMsFor(server))
          .then((u) => u.request('resources/unsubscribe', { uri }, { timeoutMs: timeoutMsFor(server), caller: 'portcullis:unsubscribe' }))
          .catch(() => undefined);
      }
    },
    async close() {
      clearInterval(retentionTimer);
      bridge.close();
      await audit?.close();
      await Promise.all([...upstreams.values()].map((u) => u.close()));
    },
  };
}
