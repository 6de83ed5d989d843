/**
 * Builds the connector for one configured server: a supervised stdio child, or an HTTP server whose era
 * and transport are probed at start (modern `server/discover`, then legacy Streamable HTTP, then legacy
 * HTTP+SSE) unless the config pins them.
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { JsonObject } from '../protocol/jsonrpc.ts';
import type { Era } from '../protocol/versions.ts';
import { isStdioServer, PER_PRINCIPAL_DEFAULTS } from '../config/names.ts';
import type { HttpServerConfig, ServerConfig } from '../config/schema.ts';
import { resolveValue, type SecretSource } from '../config/secrets.ts';
import type { LimitCounters } from '../limits/counters.ts';
import type { MessageChannel } from './channel.ts';
import type { TaskOwnership } from '../routing/tasks.ts';
import { LegacySessionUpstream, type LegacySessionOptions } from './legacy-session.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-limit.ts';
import { PerPrincipalUpstream } from './per-principal.ts';
import { canSwitchUser, isGatewayIdentity, resolveRunAs, type RunAs } from './run-as.ts';
import { childEnvironment, StdioChannel } from './stdio-channel.ts';
import type { CallOptions, EventListener, Upstream, UpstreamInfo, UpstreamReply, UpstreamState } from './types.ts';

export interface UpstreamDeps {
  logger: Logger;
  secrets: SecretSource;
  clientInfo: { name: string; version: string };
  connectTimeoutMs: number;
  /**
   * Runs before every start of a stdio child, restarts included (the server pin check): throwing a
   * GatewayError refuses the start, and the server fails for good with that error. What it returns is
   * started instead of the configured command (an npm runner replaced by the verified package's bin).
   */
  beforeStart?: () => { command: string; args: readonly string[] } | undefined;
  /** Task ownership, to attribute server messages that name a task. */
  tasks?: TaskOwnership | undefined;
  /** Counts server→client traffic no caller could be found for (dropped or refused). */
  onUnattributed?: ((server: string, kind: 'notification' | 'request', method: string) => void) | undefined;
  /** The largest message taken from this server (servers.<name>.maxMessageBytes; default 16 MiB). */
  maxMessageBytes?: number;
  /** Where limit hits are counted (the gateway's; absent in one-off commands such as `scan`). */
  limits?: LimitCounters | undefined;
  /** A stdio server's effective runAs (its own, else supply.runAs): the user[:group] its child runs as. */
  runAs?: string | undefined;
}

/**
 * The identity a stdio server's child gets, checked before anything starts: a runAs this host does not
 * know, or one the gateway lacks the privilege to switch to, refuses the server (and so the gateway's
 * start) rather than running it as the gateway's own user.
 */
function childIdentity(name: string, spec: string | undefined): RunAs | undefined {
  if (spec === undefined) return undefined;
  const target = resolveRunAs(spec);
  if ('problem' in target) throw new GatewayError('PC_CONFIG_RUN_AS', `servers.${name}.runAs: ${target.problem}`, { server: name });
  if (isGatewayIdentity(target)) return target;
  if (!canSwitchUser()) {
    const uid = process.getuid?.();
    throw new GatewayError(
      'PC_CONFIG_RUN_AS',
      `server "${name}" must run as ${spec} (uid ${target.uid}, gid ${target.gid}), but the gateway (uid ${uid}) cannot switch user: it needs root or CAP_SETUID and CAP_SETGID; refusing to start rather than run it as the gateway's own user`,
      { server: name },
    );
  }
  return target;
}

/** What every legacy session of a server shares: attribution facts and where to count what has none. */
function attributionOptions(name: string, deps: UpstreamDeps): Pick<LegacySessionOptions, 'tasks' | 'onUnattributed'> {
  const count = deps.onUnattributed;
  return { tasks: deps.tasks, onUnattributed: count ? (kind, method) => count(name, kind, method) : undefined };
}

/** One shared legacy session, or one per principal when the server's config asks for that. */
function legacySessions(name: string, server: ServerConfig, logger: Logger, open: (owner: string | undefined) => LegacySessionUpstream): Upstream {
  if (server.upstreamSession !== 'per-principal') return open(undefined);
  const bounds = { ...PER_PRINCIPAL_DEFAULTS, ...server.perPrincipal };
  return new PerPrincipalUpstream({ name, logger, maxSessions: bounds.maxSessions, idleMs: bounds.idleMs, open });
}

function resolveAll(values: Readonly<Record<string, string>>, secrets: SecretSource, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const resolved = resolveValue(value, secrets);
    if ('problem' in resolved) throw new GatewayError('PC_CONFIG_INVALID', `${where}.${key}: ${resolved.problem}`);
    out[key] = resolved.value;
  }
  return out;
}

export function createUpstream(name: string, server: ServerConfig, deps: UpstreamDeps): Upstream {
  const logger = deps.logger.child({ server: name });
  if (isStdioServer(server)) {
    const identity = childIdentity(name, deps.runAs);
    const env = childEnvironment(deps.secrets.env, resolveAll(server.env, deps.secrets, `servers.${name}.env`));
    const maxMessageBytes = deps.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const { limits } = deps;
    return legacySessions(name, server, logger, (owner) => new LegacySessionUpstream({
      name,
      logger,
      owner,
      ...attributionOptions(name, deps),
      restart: server.restart,
      roots: server.roots,
      clientInfo: deps.clientInfo,
      connectTimeoutMs: deps.connectTimeoutMs,
      maxMessageBytes,
      limits,
      createChannel: () => {
        const launch = deps.beforeStart?.();
        return new StdioChannel({ command: launch?.command ?? server.command, args: launch?.args ?? server.args, cwd: server.cwd, env, declared: Object.keys(server.env), runAs: identity, logger, maxLineBytes: maxMessageBytes, limits, server: name });
      },
      describeExit: (channel) => {
        const exit = (channel as StdioChannel).exit;
        if (!exit) return 'connection closed';
        if (exit.reason) return `stopped by the gateway: ${exit.reason}`;
        return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
      },
    }));
  }
  return new HttpUpstream(name, server, { ...deps, logger });
}

/** An HTTP server whose era is settled by probing at start; every call is delegated to that connector. */
class HttpUpstream implements Upstream {
  readonly name: string;
  readonly #server: HttpServerConfig;
  readonly #deps: UpstreamDeps;
  readonly #headers: Record<string, string>;
  #inner: Upstream | undefined;
  /** For a modern server: a legacy session opened on first use by a legacy client, if the server speaks both eras. */
  #legacy: Promise<Upstream | undefined> | undefined;
  /** What #legacy settled on: the legacy-era connector, or null when the server speaks only the modern era. */
  #legacyOpened: Upstream | null | undefined;
  #starting: Promise<void> | undefined;
  #failure = '';
  readonly #listeners = new Set<EventListener>();

  constructor(name: string, server: HttpServerConfig, deps: UpstreamDeps) {
    this.name = name;
    this.#server = server;
    this.#deps = deps;
    this.#headers = resolveAll(server.headers, deps.secrets, `servers.${name}.headers`);
  }

  state(): UpstreamState {
    return this.#inner?.state() ?? (this.#failure ? 'failed' : 'starting');
  }

  info(): UpstreamInfo | undefined {
    return this.#inner?.info();
  }

  onEvent(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  sessionCount(): number {
    return this.#inner?.sessionCount?.() ?? 0;
  }

  start(): Promise<void> {
    this.#starting ??= this.#probe().catch((error: unknown) => {
      this.#failure = error instanceof Error ? error.message : String(error);
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #probe(): Promise<void> {
    const { transport, era, url } = this.#server;
    const { logger, clientInfo, connectTimeoutMs } = this.#deps;
    const attempts: string[] = [];
    if (era !== 'legacy' && transport !== 'sse') {
      // The HTTP connectors (and undici under them, ~29 MB resident) load only when an HTTP server is configured.
      const { ModernHttpUpstream } = await import('./modern-http.ts');
      const modern = new ModernHttpUpstream({
        name: this.name,
        url,
        headers: this.#headers,
        logger,
        clientInfo,
        connectTimeoutMs,
        maxMessageBytes: this.#deps.maxMessageBytes,
        limits: this.#deps.limits,
      });
      const outcome = await modern.discover().catch((error: unknown) => ({ modern: false as const, reason: (error as Error).message }));
      if (outcome.modern) {
        this.#adopt(modern);
        modern.adopt(outcome.info);
        return;
      }
      await modern.close();
      attempts.push(`modern: ${outcome.reason}`);
      if (era === 'modern') throw new Error(`server "${this.name}" did not answer as a modern server (${attempts.join('; ')})`);
    }
    const kinds: Array<'streamable-http' | 'sse'> = transport === 'auto' ? ['streamable-http', 'sse'] : [transport];
    for (const kind of kinds) {
      const legacy = this.#newLegacy(kind, undefined);
      try {
        await legacy.start();
        this.#adopt(this.#perPrincipal(legacy, kind));
        return;
      } catch (error) {
        await legacy.close();
        attempts.push(`${kind}: ${(error as Error).message}`);
      }
    }
    throw new Error(`cannot connect to server "${this.name}" at ${new URL(url).origin}: ${attempts.join('; ')}`);
  }

  connectorFor(era: Era, timeoutMs: number): Promise<Upstream> {
    // Every call asks: once known, the connector is answered without an async function's turns.
    const inner = this.#inner;
    if (inner && this.#isOwnConnector(era, inner)) return Promise.resolve(inner);
    if (inner && this.#legacyOpened !== undefined) return Promise.resolve(this.#legacyOpened ?? inner);
    return this.#connectorOnceStarted(era, timeoutMs);
  }

  #isOwnConnector(era: Era, inner: Upstream): boolean {
    return era === 'modern' || inner.info()?.era === 'legacy' || this.#server.era === 'modern';
  }

  async #connectorOnceStarted(era: Era, timeoutMs: number): Promise<Upstream> {
    if (!this.#inner) await this.#startWithin(timeoutMs);
    const inner = this.#inner!;
    if (this.#isOwnConnector(era, inner)) return inner;
    // A legacy client in front of a modern server: reach it in the legacy era when it also speaks that
    // (sessions, subscriptions, server→client requests as the client expects them); translate otherwise.
    this.#legacy ??= this.#openLegacy();
    const legacy = await this.#legacy;
    this.#legacyOpened = legacy ?? null;
    return legacy ?? inner;
  }

  /** The started session `first` as the gateway's own, with one more per principal if the config asks. */
  #perPrincipal(first: LegacySessionUpstream, kind: 'streamable-http' | 'sse'): Upstream {
    return legacySessions(this.name, this.#server, this.#deps.logger, (owner) => (owner === undefined ? first : this.#newLegacy(kind, owner)));
  }

  /** A legacy-era session over HTTP; a dropped one (a server restart, a stream cut for an oversized event) is re-opened. */
  #newLegacy(kind: 'streamable-http' | 'sse', owner: string | undefined): LegacySessionUpstream {
    const { logger, clientInfo, connectTimeoutMs, maxMessageBytes, limits } = this.#deps;
    return new LegacySessionUpstream({
      name: this.name,
      logger,
      owner,
      ...attributionOptions(this.name, this.#deps),
      clientInfo,
      connectTimeoutMs,
      maxMessageBytes,
      limits,
      roots: this.#server.roots,
      restart: { initialDelayMs: 1000, maxDelayMs: 30_000, maxRestarts: 1_000 },
      createChannel: () => this.#legacyChannel(kind),
    });
  }

  async #openLegacy(): Promise<Upstream | undefined> {
    const { logger } = this.#deps;
    const first = this.#newLegacy('streamable-http', undefined);
    try {
      await first.start();
    } catch (error) {
      await first.close();
      logger.info({ server: this.name, err: (error as Error).message }, 'server speaks only the modern era; legacy clients are translated');
      return undefined;
    }
    const legacy = this.#perPrincipal(first, 'streamable-http');
    // Change notifications already arrive on the modern listen stream; only resource updates (tied to
    // legacy subscriptions) and what belongs to one caller are taken from the legacy session, so nothing
    // is announced twice.
    legacy.onEvent((notification, to) => {
      if (to === undefined && notification.method !== 'notifications/resources/updated') return;
      for (const listener of this.#listeners) listener(notification, to);
    });
    return legacy;
  }

  async #legacyChannel(kind: 'streamable-http' | 'sse'): Promise<MessageChannel> {
    const { logger, maxMessageBytes, connectTimeoutMs } = this.#deps;
    const options = { url: this.#server.url, headers: this.#headers, logger, maxMessageBytes };
    if (kind === 'streamable-http') {
      const { LegacyHttpChannel } = await import('./legacy-http-channel.ts');
      return new LegacyHttpChannel(options);
    }
    const { LegacySseChannel } = await import('./legacy-sse-channel.ts');
    return new LegacySseChannel({ ...options, connectTimeoutMs });
  }

  #adopt(inner: Upstream): void {
    this.#inner = inner;
    inner.onEvent((notification, to) => {
      for (const listener of this.#listeners) listener(notification, to);
    });
  }

  async ready(timeoutMs: number): Promise<UpstreamInfo> {
    if (!this.#inner) {
      const started = Date.now();
      await this.#startWithin(timeoutMs);
      return this.#inner!.ready(Math.max(1, timeoutMs - (Date.now() - started)));
    }
    return this.#inner.ready(timeoutMs);
  }

  async #startWithin(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const unavailable = (why: string): GatewayError =>
      new GatewayError('PC_UPSTREAM_UNAVAILABLE', `server "${this.name}" is unavailable: ${why}`, { server: this.name });
    try {
      await Promise.race([
        this.start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(unavailable('it did not answer in time')), timeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw unavailable((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  async request(method: string, params: JsonObject | undefined, options: CallOptions): Promise<UpstreamReply> {
    if (!this.#inner) await this.#startWithin(options.timeoutMs);
    return this.#inner!.request(method, params, options);
  }

  async notify(method: string, params: JsonObject | undefined): Promise<void> {
    if (!this.#inner) throw new GatewayError('PC_UPSTREAM_UNAVAILABLE', `server "${this.name}" is unavailable`, { server: this.name });
    await this.#inner.notify(method, params);
  }

  async close(): Promise<void> {
    await this.#inner?.close();
    const legacy = await this.#legacy;
    await legacy?.close();
  }
}
