/**
 * A legacy-era (2024-11-05 … 2025-11-25) upstream: one long-lived, initialized session over a message
 * channel (our stdio child, or the SDK's Streamable HTTP / HTTP+SSE client transports), shared by all
 * downstream callers, supervised and restarted with exponential backoff when it dies.
 *
 * Server→client traffic has no caller on the wire in a shared session, so it is attributed: progress
 * by the (rewritten, gateway-unique) progress token, everything else by the facts `attribution.ts`
 * lists. What cannot be attributed is refused (requests) or dropped (notifications) and counted —
 * a sampling request or log line sent to the wrong user leaks data.
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import {
  isObject,
  type JsonObject,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from '../protocol/jsonrpc.ts';
import { LATEST_LEGACY_VERSION, isLegacyVersion } from '../protocol/versions.ts';
import type { LimitCounters } from '../limits/counters.ts';
import type { TaskOwnership } from '../routing/tasks.ts';
import { Attributor, UNTARGETED_NOTIFICATIONS, type AttributableCall } from './attribution.ts';
import type { MalformedAnswer, MessageChannel } from './channel.ts';
import { OversizeBreaker } from './health.ts';
import { batchRefusal, DEFAULT_MAX_MESSAGE_BYTES, tooLargeError } from './message-limit.ts';
import {
  ServerRequestRefused,
  type CallOptions,
  type EventListener,
  type ServerRequest,
  type Upstream,
  type UpstreamInfo,
  type UpstreamReply,
  type UpstreamState,
} from './types.ts';

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxRestarts: number;
}

export interface LegacySessionOptions {
  name: string;
  /**
   * Makes the channel for each (re)start. Rejecting with a GatewayError means the server must not be
   * started at all (its pin no longer holds): the session fails for good with that error.
   */
  createChannel: () => MessageChannel | Promise<MessageChannel>;
  logger: Logger;
  restart: RestartPolicy;
  roots: 'client' | readonly string[] | undefined;
  clientInfo: { name: string; version: string };
  connectTimeoutMs: number;
  /** Describes why the channel closed (exit code, signal) for the crash message. */
  describeExit?: (channel: MessageChannel) => string;
  /** The size limit the channel enforces, for the refusal message (default 16 MiB). */
  maxMessageBytes?: number;
  limits?: LimitCounters | undefined;
  /** The principal this session is reserved for (per-principal upstream sessions). */
  owner?: string | undefined;
  /** Task ownership, to attribute messages that name a task. */
  tasks?: TaskOwnership | undefined;
  /** Server→client traffic that could not be attributed and was dropped or refused. */
  onUnattributed?: ((kind: 'notification' | 'request', method: string) => void) | undefined;
}

interface Pending extends AttributableCall {
  id: number;
  method: string;
  caller: string;
  principal: string | undefined;
  taskId: string | undefined;
  options: CallOptions | undefined;
  resolve: (reply: UpstreamReply) => void;
  reject: (error: GatewayError) => void;
  timer: NodeJS.Timeout | undefined;
  progressToken: number | undefined;
  originalProgressToken: string | number | undefined;
  /** Server→client requests of this call being answered by the client: the timeout is paused. */
  paused: number;
  unlisten?: () => void;
}

const INTERNAL_CALLER = 'portcullis:internal';
/** Abandoned requests whose late answers are watched for at most (#abandon). */
const MAX_ABANDONED = 10_000;
/** A connection that stayed up this long resets the backoff. */
const STABLE_AFTER_MS = 60_000;

export class LegacySessionUpstream implements Upstream {
  readonly name: string;
  readonly #options: LegacySessionOptions;
  #state: UpstreamState = 'starting';
  #channel: MessageChannel | undefined;
  #info: UpstreamInfo | undefined;
  #nextId = 1;
  #nextProgressToken = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #progress = new Map<number, Pending>();
  /** Requests the gateway stopped waiting for (cancelled, timed out) whose answer is still awaited: who to tell (CallOptions.onAnswered). */
  readonly #abandoned = new Map<number, () => void>();
  readonly #listeners = new Set<EventListener>();
  readonly #attributor: Attributor<Pending>;
  #waiters: Array<{ resolve: (info: UpstreamInfo) => void; reject: (error: GatewayError) => void }> = [];
  #restarts = 0;
  #delayMs: number;
  #connectedAt = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #lastFailure = '';
  readonly #breaker: OversizeBreaker;
  /** Why the server may not be started at all (set when createChannel refused): every call gets it. */
  #refused: GatewayError | undefined;

  constructor(options: LegacySessionOptions) {
    this.name = options.name;
    this.#options = options;
    this.#delayMs = options.restart.initialDelayMs;
    this.#breaker = new OversizeBreaker(options.name, options.limits);
    this.#attributor = new Attributor<Pending>({ server: options.name, owner: options.owner, tasks: options.tasks });
  }

  state(): UpstreamState {
    return this.#state === 'ready' && this.#breaker.open ? 'unhealthy' : this.#state;
  }

  info(): UpstreamInfo | undefined {
    return this.#info;
  }

  /** The live channel, for tests that need to kill a child. */
  channel(): MessageChannel | undefined {
    return this.#channel;
  }

  connectorFor(): Promise<Upstream> {
    return Promise.resolve(this);
  }

  /** Calls in flight for downstream callers (not the gateway's own), e.g. to spot an idle session. */
  get callsInFlight(): number {
    let count = 0;
    for (const pending of this.#pending.values()) if (pending.principal !== undefined) count += 1;
    return count;
  }

  onEvent(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  ready(timeoutMs: number): Promise<UpstreamInfo> {
    if (this.#state === 'ready' && this.#info) return Promise.resolve(this.#info);
    if (this.#state === 'failed' || this.#state === 'closed') return Promise.reject(this.#unavailable());
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (info: UpstreamInfo) => {
          clearTimeout(timer);
          resolve(info);
        },
        reject: (error: GatewayError) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(this.#unavailable());
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #unavailable(): GatewayError {
    if (this.#refused) return this.#refused;
    const why =
      this.#state === 'failed'
        ? `gave up after ${this.#restarts} restarts`
        : this.#state === 'closed'
          ? 'the gateway is shutting down'
          : this.#state === 'restarting'
            ? 'it is restarting after a failure'
            : 'it is still starting';
    return new GatewayError('PC_UPSTREAM_UNAVAILABLE', `server "${this.name}" is unavailable: ${why}${this.#lastFailure ? ` (${this.#lastFailure})` : ''}`, {
      server: this.name,
      state: this.#state,
    });
  }

  async #connect(): Promise<void> {
    let channel: MessageChannel;
    try {
      channel = await this.#options.createChannel();
    } catch (error) {
      this.#lastFailure = error instanceof Error ? error.message : String(error);
      if (error instanceof GatewayError) this.#refuse(error);
      else this.#scheduleRestart();
      throw error;
    }
    this.#channel = channel;
    channel.onmessage = (message, extra) => this.#onMessage(channel, message, extra?.relatedRequestId);
    channel.onerror = (error) => this.#options.logger.debug({ err: error.message }, 'upstream channel error');
    channel.onclose = () => this.#onClose(channel);
    channel.onoversize = (info) => this.#onOversize(channel, info.requestId, info.where);
    channel.onmalformed = (info) => this.#onMalformed(channel, info);
    try {
      await channel.start();
      const initialize = await this.#send(
        'initialize',
        {
          protocolVersion: LATEST_LEGACY_VERSION,
          capabilities: this.#clientCapabilities(),
          clientInfo: this.#options.clientInfo,
        },
        { timeoutMs: this.#options.connectTimeoutMs, caller: INTERNAL_CALLER },
      );
      if ('error' in initialize) throw new Error(`initialize was refused: ${initialize.error.message}`);
      const result = initialize.result;
      const version = typeof result.protocolVersion === 'string' ? result.protocolVersion : '';
      if (!isLegacyVersion(version)) throw new Error(`server answered initialize with unsupported protocol version "${version}"`);
      channel.setProtocolVersion?.(version);
      this.#info = {
        era: 'legacy',
        protocolVersion: version,
        capabilities: isObject(result.capabilities) ? result.capabilities : {},
        serverInfo: isObject(result.serverInfo) ? result.serverInfo : { name: this.name, version: 'unknown' },
        instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
      };
      await channel.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      // A new upstream session: nothing the server says on it belongs to callers of the previous one.
      this.#attributor.reset();
      this.#state = 'ready';
      this.#connectedAt = Date.now();
      this.#lastFailure = '';
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.resolve(this.#info);
      this.#options.logger.info({ server: this.name, protocolVersion: version, serverInfo: this.#info.serverInfo }, 'upstream ready');
    } catch (error) {
      this.#lastFailure = error instanceof Error ? error.message : String(error);
      this.#options.logger.warn({ server: this.name, err: this.#lastFailure }, 'upstream failed to start');
      const stale = this.#channel === channel;
      await channel.close().catch(() => undefined);
      if (stale && this.#state !== 'closed') this.#scheduleRestart();
      throw error;
    }
  }

  #clientCapabilities(): JsonObject {
    // Declared so that servers may use these features; each use is relayed to the calling client only
    // if that client declared the capability itself. Roots are offered only when the admin configured
    // them: a client's roots would otherwise replace a filesystem server's allowed folders.
    const capabilities: JsonObject = { sampling: {}, elicitation: { form: {}, url: {} } };
    if (this.#options.roots !== undefined) capabilities.roots = { listChanged: false };
    return capabilities;
  }

  #onClose(channel: MessageChannel): void {
    if (this.#channel !== channel) return;
    const why = this.#options.describeExit?.(channel) ?? 'connection closed';
    this.#lastFailure = why;
    this.#forgetAbandoned();
    for (const pending of this.#pending.values()) {
      this.#settle(pending);
      pending.reject(
        new GatewayError('PC_UPSTREAM_CRASHED', `server "${this.name}" stopped (${why}) while ${pending.method} was in flight; it is being restarted`, {
          server: this.name,
        }),
      );
    }
    if (this.#state === 'closed') return;
    this.#options.logger.warn({ server: this.name, why }, 'upstream stopped');
    if (this.#state === 'ready') this.#scheduleRestart();
  }

  /** The server may not be started (again): failed for good, and every waiting or later call gets the reason. */
  #refuse(error: GatewayError): void {
    if (this.#state === 'closed') return;
    this.#refused = error;
    this.#state = 'failed';
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }

  #scheduleRestart(): void {
    if (this.#state === 'closed') return;
    if (this.#restartTimer) return;
    if (this.#restarts >= this.#options.restart.maxRestarts) {
      this.#state = 'failed';
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(this.#unavailable());
      this.#options.logger.error({ server: this.name, restarts: this.#restarts }, 'upstream failed for good');
      return;
    }
    if (this.#connectedAt && Date.now() - this.#connectedAt > STABLE_AFTER_MS) this.#delayMs = this.#options.restart.initialDelayMs;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, this.#options.restart.maxDelayMs);
    this.#state = 'restarting';
    this.#restarts += 1;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#connect().catch(() => undefined);
    }, delay);
    this.#restartTimer.unref();
  }

  /** The channel dropped a message over the size limit: the call it answered fails now, not at its timeout. */
  #onOversize(channel: MessageChannel, requestId: JsonRpcId | undefined, where: string): void {
    if (this.#channel !== channel) return;
    const max = this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#breaker.record(max, where);
    const pending = typeof requestId === 'number' ? this.#pending.get(requestId) : undefined;
    if (!pending) return;
    this.#settle(pending);
    this.#cancelUpstream(pending.id, 'the answer exceeds the gateway\'s size limit');
    pending.reject(tooLargeError(this.name, max, `an answer to ${pending.method}`));
  }

  /**
   * The server answered a call in a form the gateway does not take (a batch; an answer nested too deep):
   * the call fails now, not at its timeout.
   */
  #onMalformed(channel: MessageChannel, { requestId, reason, what }: MalformedAnswer): void {
    if (this.#channel !== channel) return;
    const pending = typeof requestId === 'number' ? this.#pending.get(requestId) : undefined;
    if (!pending) return;
    this.#settle(pending);
    const batch = reason === 'batch';
    this.#cancelUpstream(pending.id, batch ? 'the answer was a JSON-RPC batch, which the gateway does not take' : `the gateway refused ${what}`);
    pending.reject(batch ? batchRefusal(this.name, pending.method) : new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${this.name}" answered ${pending.method} with ${what}; the call is failed`, { server: this.name }));
  }

  request(method: string, params: JsonObject | undefined, options: CallOptions): Promise<UpstreamReply> {
    if (this.#breaker.open) return Promise.reject(this.#breaker.refusal());
    // A ready session's call is the promise #send makes: an async function returning it would add a
    // promise and three microtask turns to every call.
    if (this.#state === 'ready') return this.#send(method, params, options);
    return this.#requestOnceReady(method, params, options);
  }

  async #requestOnceReady(method: string, params: JsonObject | undefined, options: CallOptions): Promise<UpstreamReply> {
    const started = Date.now();
    await this.ready(options.timeoutMs);
    const remaining = Math.max(1, options.timeoutMs - (Date.now() - started));
    return this.#send(method, params, { ...options, timeoutMs: remaining });
  }

  async notify(method: string, params: JsonObject | undefined): Promise<void> {
    if (this.#state !== 'ready' || !this.#channel) throw this.#unavailable();
    const message: JsonRpcNotification = { jsonrpc: '2.0', method };
    if (params) message.params = params;
    await this.#channel.send(message);
  }

  #send(method: string, params: JsonObject | undefined, options: CallOptions): Promise<UpstreamReply> {
    const channel = this.#channel;
    if (!channel) return Promise.reject(this.#unavailable());
    if (options.signal?.aborted) return Promise.reject(cancelled(this.name, method));
    const id = this.#nextId++;
    let outgoing = params;
    let progressToken: number | undefined;
    let originalProgressToken: string | number | undefined;
    const meta = isObject(params?._meta) ? params._meta : undefined;
    if (meta && (typeof meta.progressToken === 'string' || typeof meta.progressToken === 'number')) {
      // Progress tokens are chosen by each client and could collide on a shared session: swap in ours.
      originalProgressToken = meta.progressToken;
      progressToken = this.#nextProgressToken++;
      outgoing = { ...params, _meta: { ...meta, progressToken } };
    }
    this.#attributor.served(options.principal);
    return new Promise<UpstreamReply>((resolve, reject) => {
      const pending: Pending = {
        id,
        method,
        caller: options.caller,
        principal: options.principal,
        taskId: method.startsWith('tasks/') && typeof params?.taskId === 'string' ? params.taskId : undefined,
        options,
        resolve,
        reject,
        timer: undefined,
        progressToken,
        originalProgressToken,
        paused: 0,
      };
      this.#pending.set(id, pending);
      if (progressToken !== undefined) this.#progress.set(progressToken, pending);
      this.#arm(pending);
      const signal = options.signal;
      if (signal) {
        const onAbort = (): void => {
          if (!this.#pending.has(id)) return;
          this.#settle(pending);
          const stopped = signal.reason instanceof GatewayError && signal.reason.code === 'PC_KILL_SWITCH';
          // A call holding a concurrency slot is left to run to its answer, which frees the slot: servers
          // (every MCP SDK server) never answer a request they were told is cancelled, so telling them
          // would keep the cap shut for every caller until a restart — one cancel, the tool locked (L1).
          // The kill switch still tells the server to stop.
          if (this.#abandon(pending) && !stopped) return reject(cancelled(this.name, method));
          this.#cancelUpstream(id, stopped ? 'stopped by the kill switch' : 'the client cancelled the request');
          reject(stopped ? signal.reason : cancelled(this.name, method));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        pending.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      const message: JsonRpcRequest = { jsonrpc: '2.0', id, method };
      if (outgoing) message.params = outgoing;
      channel.send(message).catch((error: unknown) => {
        if (!this.#pending.has(id)) return;
        this.#settle(pending);
        reject(
          new GatewayError('PC_UPSTREAM_UNAVAILABLE', `cannot reach server "${this.name}": ${error instanceof Error ? error.message : String(error)}`, {
            server: this.name,
          }),
        );
      });
    });
  }

  /** (Re)starts the call's timer; progress from the server counts as a sign of life. */
  #arm(pending: Pending): void {
    clearTimeout(pending.timer);
    if (pending.paused > 0) return;
    const timeoutMs = pending.options?.timeoutMs ?? this.#options.connectTimeoutMs;
    pending.timer = setTimeout(() => {
      if (!this.#pending.has(pending.id)) return;
      this.#settle(pending);
      // A call holding a concurrency slot runs on to its answer (see the client's cancel above).
      if (!this.#abandon(pending)) this.#cancelUpstream(pending.id, `timed out after ${timeoutMs} ms`);
      pending.reject(
        new GatewayError('PC_UPSTREAM_TIMEOUT', `server "${this.name}" did not answer ${pending.method} within ${timeoutMs} ms`, {
          server: this.name,
          timeoutMs,
        }),
      );
    }, timeoutMs);
  }

  #settle(pending: Pending): void {
    clearTimeout(pending.timer);
    pending.unlisten?.();
    this.#pending.delete(pending.id);
    if (pending.progressToken !== undefined) this.#progress.delete(pending.progressToken);
  }

  /**
   * The gateway stops waiting for `pending`, the server may not: its late answer is still reported
   * (onAnswered). True when it is so watched (the call holds a concurrency slot).
   */
  #abandon(pending: Pending): boolean {
    const answered = pending.options?.onAnswered;
    if (!answered) return false;
    if (this.#abandoned.size >= MAX_ABANDONED) {
      // Bounded: only calls holding a concurrency slot are watched, so at most the sum of the caps; past
      // this many the oldest is given up on and its slot freed.
      const [oldest, tell] = this.#abandoned.entries().next().value!;
      this.#abandoned.delete(oldest);
      tell();
    }
    this.#abandoned.set(pending.id, answered);
    return true;
  }

  /** Every abandoned request is over: the connection that carried them is gone. */
  #forgetAbandoned(): void {
    const all = [...this.#abandoned.values()];
    this.#abandoned.clear();
    for (const tell of all) tell();
  }

  #cancelUpstream(id: number, reason: string): void {
    this.#channel?.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }).catch(() => undefined);
  }

  #onMessage(channel: MessageChannel, message: JsonRpcMessage, relatedRequestId: JsonRpcId | undefined): void {
    if (!isObject(message)) return;
    if ('method' in message && typeof message.method === 'string') {
      if ('id' in message && message.id !== undefined && message.id !== null) {
        void this.#onServerRequest(channel, message as JsonRpcRequest, relatedRequestId);
      } else {
        this.#onNotification(message as JsonRpcNotification, relatedRequestId);
      }
      return;
    }
    if (!('id' in message) || typeof message.id !== 'number') return;
    const pending = this.#pending.get(message.id);
    if (!pending) {
      const answered = this.#abandoned.get(message.id);
      if (answered) {
        this.#abandoned.delete(message.id);
        answered();
      }
      return;
    }
    pending.options?.onAnswered?.();
    this.#settle(pending);
    if ('error' in message && isObject(message.error)) {
      const error = message.error as { code: number; message: string; data?: unknown };
      this.#rememberUrlElicitations(pending, error);
      pending.resolve({ error: { code: error.code, message: String(error.message ?? ''), ...(error.data !== undefined ? { data: error.data } : {}) } });
    } else {
      const result = 'result' in message && isObject(message.result) ? message.result : {};
      pending.options?.onResult?.(result);
      pending.resolve({ result });
    }
  }

  #onNotification(notification: JsonRpcNotification, relatedRequestId: JsonRpcId | undefined): void {
    const params = notification.params;
    const { method } = notification;
    if (method === 'notifications/progress' && params) {
      const token = params.progressToken;
      const pending = typeof token === 'number' ? this.#progress.get(token) : undefined;
      if (!pending) return this.#unattributed('notification', method, 'its progress token names no call in flight');
      // Restarting the running timer allocates nothing: a server sending progress by the thousand
      // costs no timer churn.
      if (pending.timer && pending.paused === 0) pending.timer.refresh();
      else this.#arm(pending);
      pending.options?.onNotification?.({ ...notification, params: { ...params, progressToken: pending.originalProgressToken } });
      return;
    }
    if (method === 'notifications/cancelled') return;
    if (UNTARGETED_NOTIFICATIONS.has(method)) {
      // On a per-principal session even a resource update is its principal's alone.
      const owner = this.#attributor.owner;
      const to = owner !== undefined && method === 'notifications/resources/updated' ? { principal: owner } : undefined;
      for (const listener of this.#listeners) listener(notification, to);
      return;
    }
    const found = this.#attributor.forNotification(method, params, this.#pending.values(), relatedRequestId);
    if (found.kind === 'call') {
      if (found.call.options?.onNotification) found.call.options.onNotification(notification);
      else this.#unattributed('notification', method, 'its call cannot carry notifications');
    } else if (found.kind === 'recipient') {
      for (const listener of this.#listeners) listener(notification, found.to);
    } else {
      this.#unattributed('notification', method, found.why);
    }
  }

  #unattributed(kind: 'notification' | 'request', method: string, why: string): void {
    this.#options.onUnattributed?.(kind, method);
    this.#options.logger.debug({ server: this.name, method, why }, `server ${kind} not relayed: ${why}`);
  }

  /** URL elicitations a call's -32042 error asks for: their completion notifications go to its caller. */
  #rememberUrlElicitations(pending: Pending, error: { code: number; data?: unknown }): void {
    if (error.code !== -32042 || pending.principal === undefined || !isObject(error.data) || !Array.isArray(error.data.elicitations)) return;
    for (const elicitation of error.data.elicitations) {
      if (isObject(elicitation) && typeof elicitation.elicitationId === 'string') {
        this.#attributor.rememberElicitation(elicitation.elicitationId, { principal: pending.principal, caller: pending.caller });
      }
    }
  }

  async #onServerRequest(channel: MessageChannel, request: JsonRpcRequest, relatedRequestId: JsonRpcId | undefined): Promise<void> {
    const reply = (body: { result: JsonObject } | { error: { code: number; message: string } }): void => {
      channel.send({ jsonrpc: '2.0', id: request.id as JsonRpcId, ...body } as JsonRpcMessage).catch(() => undefined);
    };
    if (request.method === 'ping') return reply({ result: {} });
    const roots = this.#options.roots;
    if (request.method === 'roots/list' && Array.isArray(roots)) {
      return reply({ result: { roots: roots.map((uri) => ({ uri })) } });
    }
    if (request.method === 'roots/list' && roots === undefined) {
      return reply({ error: { code: -32601, message: 'roots are not offered by this gateway for this server' } });
    }
    const found = this.#attributor.forRequest(request.method, request.params, this.#pending.values(), relatedRequestId);
    const target = found.kind === 'call' ? found.call : undefined;
    if (!target?.options?.onServerRequest) {
      const why = found.kind === 'none' ? found.why : 'its call cannot relay requests to the client';
      this.#unattributed('request', request.method, why);
      const hint = this.#attributor.owner === undefined ? ` (servers.${this.name}.upstreamSession: per-principal gives each caller its own session)` : '';
      return reply({ error: { code: -32603, message: `${request.method} refused by the gateway: ${why}${hint}` } });
    }
    if (request.method === 'elicitation/create' && request.params?.mode === 'url' && typeof request.params.elicitationId === 'string' && target.principal !== undefined) {
      this.#attributor.rememberElicitation(request.params.elicitationId, { principal: target.principal, caller: target.caller });
    }
    target.paused += 1;
    clearTimeout(target.timer);
    const serverRequest: ServerRequest = { method: request.method, params: request.params };
    try {
      const result = await target.options.onServerRequest(serverRequest);
      reply({ result });
    } catch (error) {
      if (error instanceof ServerRequestRefused) reply({ error: { code: error.rpcCode, message: error.message } });
      else reply({ error: { code: -32603, message: 'the client could not answer' } });
    } finally {
      target.paused -= 1;
      if (this.#pending.has(target.id)) this.#arm(target);
    }
  }

  async close(): Promise<void> {
    this.#state = 'closed';
    clearTimeout(this.#restartTimer);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(this.#unavailable());
    await this.#channel?.close().catch(() => undefined);
  }
}

function cancelled(server: string, method: string): GatewayError {
  return new GatewayError('PC_REQUEST_CANCELLED', `${method} to server "${server}" was cancelled by the client`, { server });
}
