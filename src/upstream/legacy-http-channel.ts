/**
 * A legacy-era Streamable HTTP client channel (spec 2025-03-26 … 2025-11-25 transports), on undici's
 * pooled `request` — the SDK's client transport goes through `fetch`, which measured several times
 * slower here. Every message is a POST; answers come back as JSON or as an SSE stream; the session id
 * from `initialize` is echoed on every later request; server-initiated messages arrive on a GET stream
 * kept open (if the server offers one); a POST stream cut before its answer is resumed with
 * `GET` + `Last-Event-ID`, as the server's `retry` asks.
 */
import type { Logger } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import { assertJsonDepth, isObject, MAX_JSON_DEPTH, type JsonRpcId, type JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { batchResponseIds, readSseMessages, SseEventTooLarge } from '../protocol/sse.ts';
import type { ChannelMessageExtra, MalformedAnswer, MessageChannel } from './channel.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, MessageTooLarge, oversizedMessageId, readBoundedText } from './message-limit.ts';
import { discard, post } from './post.ts';

export interface LegacyHttpChannelOptions {
  url: string;
  headers: Record<string, string>;
  logger: Logger;
  dispatcher?: Dispatcher;
  /** One JSON body or SSE event larger than this is dropped with its connection (default 16 MiB). */
  maxMessageBytes?: number;
}

const MAX_RESUMES = 5;

export class LegacyHttpChannel implements MessageChannel {
  onmessage?: ((message: JsonRpcMessage, extra?: ChannelMessageExtra) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onoversize?: ((info: { requestId: JsonRpcId | undefined; where: string }) => void) | undefined;
  onmalformed?: ((info: MalformedAnswer) => void) | undefined;

  readonly #options: LegacyHttpChannelOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #abort = new AbortController();
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #closed = false;
  #getStream = false;
  readonly #maxMessageBytes: number;
  /**
   * No abort signal on POSTs to a dispatcher of the channel's own (undici adds and removes a listener
   * on every call): close() destroys that dispatcher, which ends the POSTs in flight as the signal would.
   */
  readonly #postSignal: AbortSignal | undefined;
  /** The URL parsed once, for the dispatcher (undici's `request(url)` parses it on every call). */
  readonly #origin: string;
  readonly #path: string;
  /** A POST's headers, made again only when the session id or the protocol version changes. */
  #postHeaders: Record<string, string> | undefined;

  constructor(options: LegacyHttpChannelOptions) {
    this.#options = options;
    const url = new URL(options.url);
    this.#origin = url.origin;
    this.#path = `${url.pathname}${url.search}`;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 128 });
    this.#postSignal = this.#ownsDispatcher ? undefined : this.#abort.signal;
  }

  async start(): Promise<void> {
    // Nothing to open until the first message: Streamable HTTP has no connection of its own.
  }

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
    this.#postHeaders = undefined;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { ...this.#options.headers, ...extra };
    if (this.#sessionId) headers['mcp-session-id'] = this.#sessionId;
    if (this.#protocolVersion) headers['mcp-protocol-version'] = this.#protocolVersion;
    return headers;
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (this.#closed) throw new Error('channel is closed');
    const response = await post(this.#dispatcher, {
      origin: this.#origin,
      path: this.#path,
      headers: (this.#postHeaders ??= this.#headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' })),
      body: JSON.stringify(message),
      signal: this.#postSignal,
      maxBytes: this.#maxMessageBytes,
    });
    const sid = response.headers['mcp-session-id'];
    if (typeof sid === 'string' && sid !== '' && sid !== this.#sessionId) {
      this.#sessionId = sid;
      this.#postHeaders = undefined;
    }
    const type = String(response.headers['content-type'] ?? '');
    if (response.statusCode === 404 && this.#sessionId !== undefined) {
      // The server forgot our session: the channel is over; the supervisor reconnects.
      await discard(response);
      this.#finish();
      throw new Error('the server ended the session (HTTP 404)');
    }
    const awaiting = 'method' in message && 'id' in message ? message.id : undefined;
    if (response.body && type.includes('text/event-stream')) {
      void this.#readStream(response.body, awaiting, 0).catch((error: unknown) => this.onerror?.(error as Error));
      if (!this.#getStream && 'method' in message && message.method === 'notifications/initialized') this.#openGetStream(0);
      return;
    }
    let text: string;
    try {
      text = response.text ?? (await readBoundedText(response.body!, this.#maxMessageBytes, response.headers['content-length']));
    } catch (error) {
      if (!(error instanceof MessageTooLarge)) throw error;
      this.onoversize?.({ requestId: awaiting ?? oversizedMessageId(error.head), where: 'JSON body' });
      return;
    }
    if (response.statusCode === 202 || text === '') {
      if (response.statusCode >= 400) throw new Error(`HTTP ${response.statusCode}`);
      if (!this.#getStream && 'method' in message && message.method === 'notifications/initialized') this.#openGetStream(0);
      return;
    }
    let parsed: unknown;
    try {
      assertJsonDepth(text);
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${response.statusCode} with a body that is not JSON or nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    const delivered = messages.filter((m) => isObject(m) && ('result' in m || 'error' in m || 'method' in m));
    if (delivered.length === 0 && response.statusCode >= 400) throw new Error(`HTTP ${response.statusCode}`);
    for (const m of delivered) this.onmessage?.(m as JsonRpcMessage);
  }

  /**
   * Reads an SSE body; resumes with Last-Event-ID if it ends before the awaited answer. An event over
   * the size limit ends the stream (its connection is dropped, never resumed); returns false then.
   */
  async #readStream(body: AsyncIterable<Buffer>, awaiting: JsonRpcId | undefined, resumes: number): Promise<boolean> {
    let lastEventId: string | undefined;
    let answered = awaiting === undefined;
    let retryMs = 1000;
    try {
      for await (const { event, message, batch } of readSseMessages(body, { maxEventBytes: this.#maxMessageBytes })) {
        if (event.id !== undefined) lastEventId = event.id;
        if (event.retryMs !== undefined) retryMs = event.retryMs;
        if (batch) {
          const ids = batchResponseIds(batch);
          if (awaiting !== undefined && !ids.includes(awaiting)) ids.push(awaiting);
          for (const requestId of ids) this.onmalformed?.({ requestId, reason: 'batch', what: 'a JSON-RPC batch (an array) in an SSE event' });
          if (awaiting !== undefined) answered = true;
          continue;
        }
        if (!message) continue;
        if (message.id === awaiting && ('result' in message || 'error' in message)) answered = true;
        // What a request's own stream carries relates to that request (spec 2025-11-25 transports): the
        // session uses this to attribute it to the request's caller.
        this.onmessage?.(message as unknown as JsonRpcMessage, awaiting === undefined ? undefined : { relatedRequestId: awaiting });
      }
    } catch (error) {
      if (!(error instanceof SseEventTooLarge)) throw error;
      this.onoversize?.({ requestId: answered ? oversizedMessageId(error.head) : awaiting, where: 'SSE event' });
      return false;
    }
    if (answered || this.#closed || lastEventId === undefined || resumes >= MAX_RESUMES) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, 5000)));
    if (this.#closed) return true;
    const response = await request(this.#options.url, {
      method: 'GET',
      headers: this.#headers({ accept: 'text/event-stream', 'last-event-id': lastEventId }),
      dispatcher: this.#dispatcher,
      signal: this.#abort.signal,
    });
    if (!String(response.headers['content-type'] ?? '').includes('text/event-stream')) {
      await response.body.dump();
      return true;
    }
    return this.#readStream(response.body, awaiting, resumes + 1);
  }

  /** The standalone GET stream for server-initiated messages; reopened with backoff while the channel lives. */
  #openGetStream(attempt: number): void {
    if (this.#closed) return;
    this.#getStream = true;
    /** 'again': reopen now; 'backoff': reopen after a pause (the stream failed); 'stop': the server offers none. */
    const run = async (): Promise<'again' | 'backoff' | 'stop'> => {
      const response = await request(this.#options.url, {
        method: 'GET',
        headers: this.#headers({ accept: 'text/event-stream' }),
        dispatcher: this.#dispatcher,
        signal: this.#abort.signal,
      });
      if (response.statusCode === 405 || !String(response.headers['content-type'] ?? '').includes('text/event-stream')) {
        await response.body.dump();
        return 'stop';
      }
      return (await this.#readStream(response.body, undefined, MAX_RESUMES)) ? 'again' : 'backoff';
    };
    run()
      .then((next) => {
        if (next === 'stop' || this.#closed) return;
        const delay = next === 'again' ? 500 : Math.min(30_000, 500 * 2 ** (attempt + 1));
        setTimeout(() => this.#openGetStream(next === 'again' ? 0 : attempt + 1), delay).unref();
      })
      .catch((error: unknown) => {
        if (this.#closed) return;
        this.#options.logger.debug({ err: (error as Error).message }, 'upstream GET stream failed');
        setTimeout(() => this.#openGetStream(attempt + 1), Math.min(30_000, 500 * 2 ** attempt)).unref();
      });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sessionId) {
      // Best effort: tell the server the session is over (spec: DELETE; 405 is an allowed answer).
      await request(this.#options.url, { method: 'DELETE', headers: this.#headers(), dispatcher: this.#dispatcher, headersTimeout: 2000, bodyTimeout: 2000 })
        .then((r) => r.body.dump())
        .catch(() => undefined);
    }
    this.#abort.abort();
    if (this.#ownsDispatcher) await this.#dispatcher.destroy().catch(() => undefined);
    this.onclose?.();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.onclose?.();
  }
}
