/**
 * A modern-era (2026-07-28) Streamable HTTP upstream: stateless, one POST per request, the protocol
 * version, client info and capabilities in `_meta` on every request, and `Mcp-Method` / `Mcp-Name`
 * headers that mirror the body (spec 2026-07-28 `basic/transports/streamable-http.mdx`). The response
 * is one JSON body or an SSE stream scoped to the request; closing that stream is cancellation.
 * Change notifications arrive on a `subscriptions/listen` stream the connector keeps open.
 */
import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import { GatewayError } from '../errors.ts';
import { encodeHeaderValue, expectedMcpName } from '../protocol/headers.ts';
import { assertJsonDepth, isObject, MAX_JSON_DEPTH, type JsonObject, type JsonRpcNotification, type JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { LimitCounters } from '../limits/counters.ts';
import { readSseMessages, SseEventTooLarge } from '../protocol/sse.ts';
import {
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_PROTOCOL_VERSION,
  META_SERVER_INFO,
  META_SUBSCRIPTION_ID,
  MODERN_VERSION,
} from '../protocol/versions.ts';
import { OversizeBreaker } from './health.ts';
import { batchRefusal, DEFAULT_MAX_MESSAGE_BYTES, MessageTooLarge, readBoundedText, tooLargeError } from './message-limit.ts';
import { discard, post } from './post.ts';
import type { CallOptions, Upstream, UpstreamInfo, UpstreamReply, UpstreamState } from './types.ts';

export interface ModernHttpOptions {
  name: string;
  url: string;
  headers: Record<string, string>;
  logger: Logger;
  clientInfo: { name: string; version: string };
  connectTimeoutMs: number;
  dispatcher?: Dispatcher;
  /** One JSON body or SSE event larger than this fails the call and drops the connection (default 16 MiB). */
  maxMessageBytes?: number;
  limits?: LimitCounters | undefined;
}

/** What a `server/discover` probe found: a modern server, or a reason to try the legacy era. */
export type DiscoverOutcome = { modern: true; info: UpstreamInfo } | { modern: false; reason: string };

/** setTimeout's longest delay (about 24.8 days): a watched request is ended by its answer, not by a clock of the gateway's. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ModernHttpUpstream implements Upstream {
  readonly name: string;
  readonly #options: ModernHttpOptions;
  readonly #dispatcher: Dispatcher;
  #state: UpstreamState = 'starting';
  #info: UpstreamInfo | undefined;
  #nextId = 1;
  readonly #listeners = new Set<(notification: JsonRpcNotification) => void>();
  #listenAbort: AbortController | undefined;
  readonly #maxMessageBytes: number;
  readonly #breaker: OversizeBreaker;
  /** The URL parsed once, for the dispatcher (undici's `request(url)` parses it on every call). */
  readonly #origin: string;
  readonly #path: string;

  constructor(options: ModernHttpOptions) {
    this.name = options.name;
    this.#options = options;
    const url = new URL(options.url);
    this.#origin = url.origin;
    this.#path = `${url.pathname}${url.search}`;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#breaker = new OversizeBreaker(options.name, options.limits);
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  }

  state(): UpstreamState {
    return this.#state === 'ready' && this.#breaker.open ? 'unhealthy' : this.#state;
  }

  info(): UpstreamInfo | undefined {
    return this.#info;
  }

  connectorFor(): Promise<Upstream> {
    return Promise.resolve(this);
  }

  onEvent(listener: (notification: JsonRpcNotification) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Probes with `server/discover`. A non-modern answer is not an error: the caller falls back. */
  async discover(): Promise<DiscoverOutcome> {
    let reply: UpstreamReply;
    try {
      reply = await this.#post('server/discover', undefined, { timeoutMs: this.#options.connectTimeoutMs, caller: 'portcullis:internal' });
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'PC_UPSTREAM_PROTOCOL') return { modern: false, reason: error.message };
      throw error;
    }
    if ('error' in reply) return { modern: false, reason: `server/discover answered error ${reply.error.code}` };
    const result = reply.result;
    const versions = Array.isArray(result.supportedVersions) ? result.supportedVersions : [];
    if (!versions.includes(MODERN_VERSION)) return { modern: false, reason: `server supports ${JSON.stringify(versions)}` };
    const meta = isObject(result._meta) ? result._meta : {};
    const info: UpstreamInfo = {
      era: 'modern',
      protocolVersion: MODERN_VERSION,
      capabilities: isObject(result.capabilities) ? result.capabilities : {},
      serverInfo: isObject(meta[META_SERVER_INFO]) ? (meta[META_SERVER_INFO] as JsonObject) : { name: this.name, version: 'unknown' },
      instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
    };
    return { modern: true, info };
  }

  async start(): Promise<void> {
    const outcome = await this.discover();
    if (!outcome.modern) throw new Error(`server "${this.name}" is not a ${MODERN_VERSION} server: ${outcome.reason}`);
    this.adopt(outcome.info);
  }

  /** Takes a discover result found by a probe, and starts listening for change notifications. */
  adopt(info: UpstreamInfo): void {
    this.#info = info;
    this.#state = 'ready';
    const caps = info.capabilities;
    const listChanged = (key: string): boolean => isObject(caps[key]) && (caps[key] as JsonObject).listChanged === true;
    if (listChanged('tools') || listChanged('prompts') || listChanged('resources')) this.#listen(0);
  }

  ready(): Promise<UpstreamInfo> {
    if (this.#info && this.#state === 'ready') return Promise.resolve(this.#info);
    return Promise.reject(new GatewayError('PC_UPSTREAM_UNAVAILABLE', `server "${this.name}" is unavailable (${this.#state})`, { server: this.name }));
  }

  request(method: string, params: JsonObject | undefined, options: CallOptions): Promise<UpstreamReply> {
    if (this.#breaker.open) return Promise.reject(this.#breaker.refusal());
    const post = (): Promise<UpstreamReply> => (options.onAnswered ? this.#postWatched(method, params, options, options.onAnswered) : this.#post(method, params, options));
    if (this.#state !== 'ready') return this.ready().then(post);
    return post();
  }

  async notify(method: string, params: JsonObject | undefined): Promise<void> {
    // Modern servers take notifications as POSTs answered 202; cancellation is a closed stream instead.
    if (method === 'notifications/cancelled') return;
    await this.#post(method, params, { timeoutMs: this.#options.connectTimeoutMs, caller: 'portcullis:internal' }, true);
  }

  #envelope(params: JsonObject | undefined, options: CallOptions): JsonObject {
    const meta = isObject(params?._meta) ? params._meta : {};
    return {
      ...params,
      _meta: {
        ...meta,
        [META_PROTOCOL_VERSION]: MODERN_VERSION,
        [META_CLIENT_INFO]: options.clientInfo ?? this.#options.clientInfo,
        [META_CLIENT_CAPABILITIES]: options.clientCapabilities ?? {},
      },
    };
  }

  /**
   * A request holding a concurrency slot (`answered`: frees it). When the client cancels it or the
   * gateway's timeout passes, the caller is answered at once but the request is not aborted: the server
   * may go on working either way (closing its stream does not stop it), and only its answer — or the
   * request ending otherwise — frees the slot, so cancel-and-restart cannot run more operations than the
   * cap (red team K2, L1) nor shut the cap for good. The kill switch still aborts.
   */
  #postWatched(method: string, params: JsonObject | undefined, options: CallOptions, answered: () => void): Promise<UpstreamReply> {
    const kill = new AbortController();
    const { signal, timeoutMs } = options;
    const work = this.#post(method, params, { ...options, signal: kill.signal, timeoutMs: MAX_TIMER_MS });
    work.then(answered, answered);
    return new Promise<UpstreamReply>((resolve, reject) => {
      const stop = (error: GatewayError): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const timer = setTimeout(() => stop(new GatewayError('PC_UPSTREAM_TIMEOUT', `server "${this.name}" did not answer ${method} within ${timeoutMs} ms`, { server: this.name, timeoutMs })), timeoutMs);
      const onAbort = (): void => {
        if (signal?.reason instanceof GatewayError && signal.reason.code === 'PC_KILL_SWITCH') {
          kill.abort(signal.reason);
          return stop(signal.reason);
        }
        stop(new GatewayError('PC_REQUEST_CANCELLED', `${method} to server "${this.name}" was cancelled by the client`, { server: this.name }));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      work.then(
        (reply) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(reply);
        },
        (error: unknown) => stop(error as GatewayError),
      );
    });
  }

  async #post(method: string, params: JsonObject | undefined, options: CallOptions, notification = false): Promise<UpstreamReply> {
    const id = `pc-${this.#nextId++}`;
    const body: JsonObject = notification
      ? { jsonrpc: '2.0', method, params: this.#envelope(params, options) }
      : { jsonrpc: '2.0', id, method, params: this.#envelope(params, options) };
    const headers: Record<string, string> = {
      ...options.headers,
      ...this.#options.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': method,
    };
    const name = expectedMcpName(body as unknown as JsonRpcRequest);
    if (name !== undefined) headers['mcp-name'] = encodeHeaderValue(name);

    const abort = new AbortController();
    const timeoutMs = options.timeoutMs;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    const onAbort = (): void => abort.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await post(this.#dispatcher, { origin: this.#origin, path: this.#path, headers, body: JSON.stringify(body), signal: abort.signal, maxBytes: this.#maxMessageBytes });
      const type = String(response.headers['content-type'] ?? '');
      if (notification) {
        await discard(response);
        return { result: {} };
      }
      if (response.body && type.includes('text/event-stream')) return await this.#readStream(response.body, id, options);
      const text = response.text ?? (await readBoundedText(response.body!, this.#maxMessageBytes, response.headers['content-length']));
      let parsed: unknown;
      try {
        assertJsonDepth(text);
        parsed = JSON.parse(text);
      } catch {
        throw new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${this.name}" answered ${method} with HTTP ${response.statusCode} and a body that is not JSON or nests deeper than ${MAX_JSON_DEPTH} levels`, {
          server: this.name,
          status: response.statusCode,
        });
      }
      return this.#toReply(parsed, method, response.statusCode);
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (error instanceof MessageTooLarge || error instanceof SseEventTooLarge) {
        // Stop the transfer: the body is already destroyed, the abort ends the request for good.
        abort.abort();
        this.#breaker.record(this.#maxMessageBytes, error instanceof SseEventTooLarge ? 'SSE event' : 'JSON body');
        throw tooLargeError(this.name, this.#maxMessageBytes, `an answer to ${method}`);
      }
      if (timedOut) {
        throw new GatewayError('PC_UPSTREAM_TIMEOUT', `server "${this.name}" did not answer ${method} within ${timeoutMs} ms`, { server: this.name, timeoutMs });
      }
      if (options.signal?.aborted) {
        throw new GatewayError('PC_REQUEST_CANCELLED', `${method} to server "${this.name}" was cancelled by the client`, { server: this.name });
      }
      throw new GatewayError('PC_UPSTREAM_UNAVAILABLE', `cannot reach server "${this.name}": ${(error as Error).message}`, { server: this.name });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  #toReply(message: unknown, method: string, status: number): UpstreamReply {
    if (isObject(message) && isObject(message.result)) return { result: message.result };
    if (isObject(message) && isObject(message.error) && typeof message.error.code === 'number') {
      const error = message.error;
      return { error: { code: error.code as number, message: String(error.message ?? ''), ...(error.data !== undefined ? { data: error.data } : {}) } };
    }
    throw new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${this.name}" answered ${method} with HTTP ${status} and no JSON-RPC response`, {
      server: this.name,
      status,
    });
  }

  async #readStream(body: AsyncIterable<Buffer>, id: string, options: CallOptions): Promise<UpstreamReply> {
    for await (const { message, batch } of readSseMessages(body, { maxEventBytes: this.#maxMessageBytes })) {
      if (batch) throw batchRefusal(this.name);
      if (!message) continue;
      if (message.id === id && ('result' in message || 'error' in message)) return this.#toReply(message, 'request', 200);
      if (typeof message.method === 'string' && !('id' in message)) options.onNotification?.(message as unknown as JsonRpcNotification);
    }
    throw new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${this.name}" closed the response stream without an answer`, { server: this.name });
  }

  /** Keeps one `subscriptions/listen` stream open for list_changed; reopens it with backoff. */
  #listen(attempt: number): void {
    if (this.#state === 'closed') return;
    const abort = new AbortController();
    this.#listenAbort = abort;
    const body = {
      jsonrpc: '2.0',
      id: `pc-listen-${this.#nextId++}`,
      method: 'subscriptions/listen',
      params: this.#envelope({ notifications: { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true } }, {
        timeoutMs: 0,
        caller: 'portcullis:internal',
      }),
    };
    const run = async (): Promise<void> => {
      const response = await this.#dispatcher.request({
        origin: this.#origin,
        path: this.#path,
        method: 'POST',
        headers: {
          ...this.#options.headers,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': MODERN_VERSION,
          'mcp-method': 'subscriptions/listen',
        },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      if (!String(response.headers['content-type'] ?? '').includes('text/event-stream')) {
        await response.body.dump();
        return;
      }
      for await (const { message } of readSseMessages(response.body, { maxEventBytes: this.#maxMessageBytes })) {
        if (!message || typeof message.method !== 'string' || 'id' in message) continue;
        if (message.method === 'notifications/subscriptions/acknowledged') {
          attempt = 0;
          continue;
        }
        const params = isObject(message.params) ? { ...message.params } : undefined;
        if (params && isObject(params._meta)) {
          const { [META_SUBSCRIPTION_ID]: _drop, ...rest } = params._meta;
          params._meta = rest;
        }
        const notification: JsonRpcNotification = { jsonrpc: '2.0', method: message.method };
        if (params) notification.params = params;
        for (const listener of this.#listeners) listener(notification);
      }
    };
    run()
      .catch((error: unknown) => {
        if (error instanceof SseEventTooLarge) {
          this.#breaker.record(this.#maxMessageBytes, 'listen stream event');
          attempt += 1;
        } else if (!abort.signal.aborted) this.#options.logger.debug({ server: this.name, err: String(error) }, 'listen stream ended');
      })
      .finally(() => {
        if (abort.signal.aborted || this.#state === 'closed') return;
        const delay = Math.min(30_000, 500 * 2 ** attempt);
        setTimeout(() => this.#listen(attempt + 1), delay).unref();
      });
  }

  async close(): Promise<void> {
    this.#state = 'closed';
    this.#listenAbort?.abort();
    await this.#dispatcher.close().catch(() => undefined);
  }
}
