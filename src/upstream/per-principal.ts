/**
 * `upstreamSession: per-principal`: one legacy-era upstream session per principal instead of one
 * shared by all, for servers that keep per-session state (a logging level, subscriptions, session
 * resources, background work that logs) or ask clients things mid-call. Everything such a session
 * says belongs to its principal, so attribution is exact; the price is a process (stdio) or an HTTP
 * session per principal.
 *
 * Bounded: at most `maxSessions` principal sessions; opening one more closes the least recently used
 * session that has no call in flight, and when every session is busy the call is refused
 * (`PC_UPSTREAM_SESSION_LIMIT`) rather than given someone else's session. A session unused for
 * `idleMs` is closed. The gateway's own calls (catalog, describe) use a separate session that no
 * principal's traffic reaches. Closing a session ends the server state of that principal, tasks
 * included.
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { JsonObject } from '../protocol/jsonrpc.ts';
import type { LegacySessionUpstream } from './legacy-session.ts';
import type { CallOptions, EventListener, Upstream, UpstreamInfo, UpstreamReply, UpstreamState } from './types.ts';

export interface PerPrincipalOptions {
  name: string;
  maxSessions: number;
  idleMs: number;
  logger: Logger;
  /** Opens a session: for the gateway itself (`undefined`) or reserved to one principal. */
  open: (owner: string | undefined) => LegacySessionUpstream;
  now?: () => number;
}

interface PrincipalSession {
  readonly upstream: LegacySessionUpstream;
  lastUsedMs: number;
  /** Requests sent through this wrapper and not yet answered (a parked call counts until it ends). */
  active: number;
}

export class PerPrincipalUpstream implements Upstream {
  readonly name: string;
  readonly #options: PerPrincipalOptions;
  readonly #now: () => number;
  readonly #internal: LegacySessionUpstream;
  readonly #sessions = new Map<string, PrincipalSession>();
  readonly #listeners = new Set<EventListener>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: PerPrincipalOptions) {
    this.name = options.name;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#internal = options.open(undefined);
    // The gateway's own session carries list changes only; it has no principal to attribute anything to.
    this.#internal.onEvent((notification, to) => {
      if (to === undefined) this.#emit(notification);
    });
    this.#timer = setInterval(() => this.reap(), Math.min(30_000, Math.max(250, Math.floor(options.idleMs / 2))));
    this.#timer.unref();
  }

  state(): UpstreamState {
    return this.#internal.state();
  }

  info(): UpstreamInfo | undefined {
    return this.#internal.info();
  }

  ready(timeoutMs: number): Promise<UpstreamInfo> {
    return this.#internal.ready(timeoutMs);
  }

  start(): Promise<void> {
    return this.#internal.start();
  }

  connectorFor(): Promise<Upstream> {
    return Promise.resolve(this);
  }

  onEvent(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Principal sessions open now (the gateway's own not counted). */
  sessionCount(): number {
    return this.#sessions.size;
  }

  #emit(...args: Parameters<EventListener>): void {
    for (const listener of this.#listeners) listener(...args);
  }

  async request(method: string, params: JsonObject | undefined, options: CallOptions): Promise<UpstreamReply> {
    if (options.principal === undefined) return this.#internal.request(method, params, options);
    const session = this.#sessionFor(options.principal);
    if (session instanceof GatewayError) throw session;
    session.active += 1;
    session.lastUsedMs = this.#now();
    try {
      // A session still connecting is waited for within the call's own timeout (LegacySessionUpstream.request).
      return await session.upstream.request(method, params, options);
    } finally {
      session.active -= 1;
      session.lastUsedMs = this.#now();
    }
  }

  #sessionFor(principal: string): PrincipalSession | GatewayError {
    const existing = this.#sessions.get(principal);
    if (existing && existing.upstream.state() !== 'failed' && existing.upstream.state() !== 'closed') return existing;
    if (existing) this.#drop(principal, existing);
    if (this.#closed) return new GatewayError('PC_UPSTREAM_UNAVAILABLE', `server "${this.name}" is unavailable: the gateway is shutting down`, { server: this.name });
    if (this.#sessions.size >= this.#options.maxSessions && !this.#evictIdle()) {
      return new GatewayError(
        'PC_UPSTREAM_SESSION_LIMIT',
        `server "${this.name}" already has ${this.#sessions.size} per-principal sessions, all busy (servers.${this.name}.perPrincipal.maxSessions); retry shortly`,
        { server: this.name, limit: this.#options.maxSessions, retryAfterMs: 1000 },
      );
    }
    const upstream = this.#options.open(principal);
    upstream.onEvent((notification, to) => this.#emit(notification, to));
    upstream.start().catch(() => undefined);
    const session: PrincipalSession = { upstream, lastUsedMs: this.#now(), active: 0 };
    this.#sessions.set(principal, session);
    this.#options.logger.debug({ server: this.name, sessions: this.#sessions.size }, 'per-principal upstream session opened');
    return session;
  }

  /** Closes the least recently used session with nothing in flight; false when every session is busy. */
  #evictIdle(): boolean {
    let victim: [string, PrincipalSession] | undefined;
    for (const entry of this.#sessions) {
      const [, session] = entry;
      if (session.active > 0 || session.upstream.callsInFlight > 0) continue;
      if (!victim || session.lastUsedMs < victim[1].lastUsedMs) victim = entry;
    }
    if (!victim) return false;
    this.#drop(victim[0], victim[1]);
    return true;
  }

  #drop(principal: string, session: PrincipalSession): void {
    if (this.#sessions.get(principal) === session) this.#sessions.delete(principal);
    void session.upstream.close();
  }

  /** Closes sessions unused for `idleMs` with nothing in flight; returns how many. */
  reap(): number {
    const cutoff = this.#now() - this.#options.idleMs;
    let closed = 0;
    for (const [principal, session] of this.#sessions) {
      if (session.active > 0 || session.upstream.callsInFlight > 0 || session.lastUsedMs > cutoff) continue;
      this.#drop(principal, session);
      closed += 1;
    }
    if (closed > 0) this.#options.logger.debug({ server: this.name, closed, sessions: this.#sessions.size }, 'idle per-principal upstream sessions closed');
    return closed;
  }

  async notify(method: string, params: JsonObject | undefined): Promise<void> {
    const live = [this.#internal, ...[...this.#sessions.values()].map((s) => s.upstream)].filter((u) => u.state() === 'ready');
    await Promise.all(live.map((u) => u.notify(method, params).catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const all = [this.#internal, ...[...this.#sessions.values()].map((s) => s.upstream)];
    this.#sessions.clear();
    await Promise.all(all.map((u) => u.close()));
  }
}
