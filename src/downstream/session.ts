/**
 * Legacy-era downstream sessions (2025-03-26 … 2025-11-25 Streamable HTTP, and the stdio front): what
 * `initialize` negotiated, the calls in flight (so `notifications/cancelled` can reach them), and the
 * server→client requests waiting for the client's answer. Sessions idle longer than the configured
 * limit are reaped: clients often never send DELETE.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject, JsonRpcId, JsonRpcMessage, JsonRpcResponse } from '../protocol/jsonrpc.ts';
import { isObject } from '../protocol/jsonrpc.ts';
import { GatewayError } from '../errors.ts';
import { ServerRequestRefused } from '../upstream/types.ts';
import type { LimitCounters } from '../limits/counters.ts';
import type { Endpoint } from '../pipeline/context.ts';
import { MAX_STREAMS, type StreamLog } from './stream-log.ts';

/** How long a server→client request (an elicitation a human answers) may wait for the client. */
export const CLIENT_REQUEST_TIMEOUT_MS = 5 * 60_000;

export interface MessageSink {
  send(message: JsonRpcMessage): void;
}

interface WaitingAnswer {
  resolve: (result: JsonObject) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class DownstreamSession {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly protocolVersion: string;
  readonly capabilities: JsonObject;
  readonly clientInfo: JsonObject | undefined;
  lastSeenMs: number;
  initialized = false;
  /** The standalone GET stream, when the client opened one. */
  stream: (MessageSink & { close(): void }) | undefined;
  readonly subscriptions = new Set<string>();
  /** The principal that opened the session (identity on), bound so no other caller can use it. */
  owner: string | undefined;
  /** Its user (issuer and subject, whatever client acts for them): what listen.maxSessionsPerPrincipal counts. */
  user: string | undefined;
  /** Resumable POST streams, by stream id (oldest first). */
  readonly streams = new Map<string, StreamLog>();
  /**
   * The ids of the last MAX_STREAMS streams delivered in full: a client may come back for one of them
   * (the SDK client resumes a stream that ended with an error answer), which is routine, not a refusal
   * worth a record — unlike an id this session never had, or a stream forgotten before it was delivered.
   */
  readonly #delivered = new Set<string>();
  readonly #inflight = new Map<string, AbortController>();
  readonly #waiting = new Map<string, WaitingAnswer>();
  #nextId = 1;
  #closed = false;

  constructor(init: { id?: string; endpoint: Endpoint; protocolVersion: string; capabilities: JsonObject; clientInfo: JsonObject | undefined; nowMs: number }) {
    // Visible ASCII, cryptographically random (spec 2025-11-25 transports §Session Management).
    this.id = init.id ?? randomBytes(24).toString('base64url');
    this.endpoint = init.endpoint;
    this.protocolVersion = init.protocolVersion;
    this.capabilities = init.capabilities;
    this.clientInfo = init.clientInfo;
    this.lastSeenMs = init.nowMs;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the client is using the session right now (a call in flight, or its GET stream open). */
  get busy(): boolean {
    return this.#inflight.size > 0 || this.stream !== undefined;
  }

  addStream(log: StreamLog): void {
    this.streams.set(log.id, log);
    log.owner = this;
    log.onDelivered = () => {
      this.streams.delete(log.id);
      this.#delivered.add(log.id);
      if (this.#delivered.size > MAX_STREAMS) this.#delivered.delete(this.#delivered.values().next().value!);
    };
    if (this.streams.size > MAX_STREAMS) this.streams.values().next().value?.forget();
  }

  /** Whether the stream `id` of this session was delivered in full lately (see #delivered). */
  delivered(id: string): boolean {
    return this.#delivered.has(id);
  }

  /**
   * Registers a client request in flight; returns its abort signal and a release function, or a refusal
   * when a request under the same id (String(id): 1 and "1" are one to a client matching answers by text)
   * is still in flight: its answer could not be told from the other's, nor its cancellation (red team K4).
   */
  track(id: JsonRpcId): { signal: AbortSignal; release: () => void } | GatewayError {
    const key = String(id);
    if (this.#inflight.has(key)) return new GatewayError('PC_PROTOCOL_AMBIGUOUS', `request id ${JSON.stringify(id)} is already in flight on this session; give each request its own id`);
    const controller = new AbortController();
    // A request that got past the session check while the session was being ended (DELETE, idle,
    // evicted during an await) is cancelled too: it must not leave state for a session that is gone.
    if (this.#closed) controller.abort();
    this.#inflight.set(key, controller);
    return { signal: controller.signal, release: () => this.#inflight.delete(key) };
  }

  /** `notifications/cancelled` from the client. */
  cancel(requestId: unknown): void {
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    this.#inflight.get(String(requestId))?.abort();
  }

  /** Sends a request to the client through `sink` and waits for the answer it POSTs back. */
  requestClient(sink: MessageSink, method: string, params: JsonObject | undefined): Promise<JsonObject> {
    if (this.#closed) return Promise.reject(new ServerRequestRefused(-32603, 'the client session has ended'));
    const id = `pc-${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new ServerRequestRefused(-32603, `the client did not answer ${method} within ${CLIENT_REQUEST_TIMEOUT_MS} ms`));
      }, CLIENT_REQUEST_TIMEOUT_MS);
      this.#waiting.set(id, { resolve, reject, timer });
      const message: JsonRpcMessage = params ? { jsonrpc: '2.0', id, method, params } : { jsonrpc: '2.0', id, method };
      sink.send(message);
    });
  }

  /** A response the client POSTed; true when it answered one of our requests. */
  answer(response: JsonRpcResponse): boolean {
    if (typeof response.id !== 'string') return false;
    const waiting = this.#waiting.get(response.id);
    if (!waiting) return false;
    clearTimeout(waiting.timer);
    this.#waiting.delete(response.id);
    if ('error' in response) {
      const error = isObject(response.error) ? response.error : { code: -32603, message: 'error' };
      waiting.reject(new ServerRequestRefused(Number(error.code) || -32603, String(error.message ?? 'the client refused')));
    } else {
      waiting.resolve(isObject(response.result) ? response.result : {});
    }
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const controller of this.#inflight.values()) controller.abort();
    this.#inflight.clear();
    for (const waiting of this.#waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new ServerRequestRefused(-32603, 'the client session has ended'));
    }
    this.#waiting.clear();
    this.stream?.close();
    this.stream = undefined;
    for (const log of [...this.streams.values()]) {
      log.finish();
      log.forget();
    }
    this.streams.clear();
  }
}

/** How many sessions may be open, in all and per principal; past a cap the least recently used one is ended. */
export interface SessionCaps {
  maxSessions: number;
  maxSessionsPerPrincipal: number;
  limits?: LimitCounters | undefined;
}

/** The members of the biggest of some sets (of all of them that are biggest, on a tie), oldest set first. */
export function ofLargest<T>(sets: Iterable<Set<T>>): T[] {
  const all = [...sets];
  const most = Math.max(0, ...all.map((s) => s.size));
  return all.filter((s) => s.size === most).flatMap((s) => [...s]);
}

export class SessionStore {
  readonly #sessions = new Map<string, DownstreamSession>();
  /**
   * Sessions by the user that opened them (issuer and subject: a user's several OAuth clients are one
   * user; '' when identity is off: everyone is one principal).
   */
  readonly #byOwner = new Map<string, Set<DownstreamSession>>();
  readonly #idleMs: number;
  readonly #timer: NodeJS.Timeout;
  readonly #onEnd: (session: DownstreamSession) => void;
  readonly #caps: SessionCaps;

  constructor(
    idleMs: number,
    onEnd: (session: DownstreamSession) => void = () => undefined,
    caps: SessionCaps = { maxSessions: 10_000, maxSessionsPerPrincipal: 256 },
  ) {
    this.#idleMs = idleMs;
    this.#onEnd = onEnd;
    this.#caps = caps;
    this.#timer = setInterval(() => this.reap(Date.now()), Math.min(60_000, Math.max(250, Math.floor(idleMs / 2))));
    this.#timer.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Adds a session, first ending the least recently used one of its user, when a cap is reached. At the
   * total cap it is again the user's own least recently used session that ends; only a user who holds
   * none ends one of whoever holds the most. Sessions in use (a call in flight, a GET stream open) go
   * last, so a flood of new sessions ends the flood's own idle ones before anything a working client holds.
   */
  add(session: DownstreamSession): void {
    const owner = session.user ?? '';
    const { maxSessions, maxSessionsPerPrincipal, limits } = this.#caps;
    const mine = this.#byOwner.get(owner);
    if (mine && mine.size >= maxSessionsPerPrincipal) {
      const victim = leastRecentlyUsed(mine.values());
      if (victim) {
        this.delete(victim.id);
        limits?.hit('sessions_per_principal', {}, `a principal opened more than listen.maxSessionsPerPrincipal (${maxSessionsPerPrincipal}) sessions; its least recently used one was ended`);
      }
    }
    if (this.#sessions.size >= maxSessions) {
      const own = this.#byOwner.get(owner);
      const victim = leastRecentlyUsed(own && own.size > 0 ? own.values() : ofLargest(this.#byOwner.values()).values());
      if (victim) {
        this.delete(victim.id);
        limits?.hit('sessions_total', {}, `more than listen.maxSessions (${maxSessions}) sessions were open; the least recently used one was ended`);
      }
    }
    this.#sessions.set(session.id, session);
    let set = this.#byOwner.get(owner);
    if (!set) this.#byOwner.set(owner, (set = new Set()));
    set.add(session);
  }

  get(id: string): DownstreamSession | undefined {
    return this.#sessions.get(id);
  }

  delete(id: string): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    session.close();
    this.#sessions.delete(id);
    const owner = session.user ?? '';
    const set = this.#byOwner.get(owner);
    set?.delete(session);
    if (set?.size === 0) this.#byOwner.delete(owner);
    this.#onEnd(session);
    return true;
  }

  all(): IterableIterator<DownstreamSession> {
    return this.#sessions.values();
  }

  /** Ends sessions idle for longer than the limit (a GET stream open counts as activity). */
  reap(nowMs: number): number {
    let reaped = 0;
    for (const session of this.#sessions.values()) {
      if (session.stream) continue;
      if (nowMs - session.lastSeenMs > this.#idleMs) {
        this.delete(session.id);
        reaped += 1;
      }
    }
    return reaped;
  }

  close(): void {
    clearInterval(this.#timer);
    for (const id of [...this.#sessions.keys()]) this.delete(id);
  }
}

/** The session to end first: idle before busy, then the one seen longest ago. */
function leastRecentlyUsed(sessions: Iterable<DownstreamSession>): DownstreamSession | undefined {
  let victim: DownstreamSession | undefined;
  for (const session of sessions) {
    if (!victim || Number(session.busy) < Number(victim.busy) || (session.busy === victim.busy && session.lastSeenMs < victim.lastSeenMs)) victim = session;
  }
  return victim;
}
