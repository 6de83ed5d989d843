/**
 * The HTTP+SSE transport of protocol version 2024-11-05 (spec 2024-11-05 `basic/transports` §HTTP with
 * SSE), client side, on undici: a GET opens the event stream, whose first `endpoint` event names the URL
 * the client POSTs its messages to (same origin only, so the configured headers never go elsewhere);
 * every server message arrives as a `message` event on that one stream.
 *
 * Our own rather than the SDK's client transport because that one reads with no bound: an event over
 * `maxMessageBytes` here ends the stream (reported through `onoversize`, then `onclose`, and the session
 * supervisor reconnects with backoff) instead of growing the heap until the process dies.
 */
import type { Logger } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import type { JsonRpcId, JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { batchResponseIds, readSseMessages, SseEventTooLarge } from '../protocol/sse.ts';
import type { MalformedAnswer, MessageChannel } from './channel.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, oversizedMessageId } from './message-limit.ts';

export interface LegacySseChannelOptions {
  url: string;
  headers: Record<string, string>;
  logger: Logger;
  /** How long to wait for the stream and its `endpoint` event. */
  connectTimeoutMs: number;
  maxMessageBytes?: number;
  dispatcher?: Dispatcher;
}

export class LegacySseChannel implements MessageChannel {
  onmessage?: ((message: JsonRpcMessage) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onoversize?: ((info: { requestId: JsonRpcId | undefined; where: string }) => void) | undefined;
  onmalformed?: ((info: MalformedAnswer) => void) | undefined;

  readonly #options: LegacySseChannelOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #abort = new AbortController();
  #endpoint: URL | undefined;
  #closed = false;

  constructor(options: LegacySseChannelOptions) {
    this.#options = options;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 32 });
  }

  async start(): Promise<void> {
    const base = new URL(this.#options.url);
    const response = await request(base, {
      method: 'GET',
      headers: { ...this.#options.headers, accept: 'text/event-stream' },
      dispatcher: this.#dispatcher,
      signal: this.#abort.signal,
      headersTimeout: this.#options.connectTimeoutMs,
      // The session lives on this stream, which may stay quiet for hours: no idle timeout.
      bodyTimeout: 0,
    });
    if (response.statusCode !== 200 || !String(response.headers['content-type'] ?? '').includes('text/event-stream')) {
      await response.body.dump();
      throw new Error(`GET ${base.pathname} answered HTTP ${response.statusCode} without an event stream`);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no endpoint event within ${this.#options.connectTimeoutMs} ms`)), this.#options.connectTimeoutMs);
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      void this.#read(response.body, base, settle);
    }).catch(async (error: unknown) => {
      await this.close();
      throw error;
    });
  }

  /** Reads the event stream until it ends; `ready` settles once the endpoint is known (or never will be). */
  async #read(body: AsyncIterable<Buffer>, base: URL, ready: (error?: Error) => void): Promise<void> {
    const max = this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    try {
      for await (const { event, message, batch } of readSseMessages(body, { maxEventBytes: max })) {
        if (batch) {
          for (const requestId of batchResponseIds(batch)) this.onmalformed?.({ requestId, reason: 'batch', what: 'a JSON-RPC batch (an array) in an SSE event' });
          continue;
        }
        if (event.event === 'endpoint') {
          let endpoint: URL;
          try {
            endpoint = new URL(event.data, base);
          } catch {
            ready(new Error('the endpoint event is not a URL'));
            continue;
          }
          if (endpoint.origin !== base.origin) {
            ready(new Error(`the endpoint event names another origin (${endpoint.origin}); refused`));
            break;
          }
          this.#endpoint = endpoint;
          ready();
        } else if (message) {
          this.onmessage?.(message as unknown as JsonRpcMessage);
        }
      }
    } catch (error) {
      if (error instanceof SseEventTooLarge) this.onoversize?.({ requestId: oversizedMessageId(error.head), where: 'SSE event' });
      else if (!this.#closed) this.onerror?.(error as Error);
    }
    ready(new Error('the event stream ended before its endpoint event'));
    // The session lives on this one stream: when it ends, so does the channel.
    this.#finish();
  }

  async send(message: JsonRpcMessage): Promise<void> {
    const endpoint = this.#endpoint;
    if (this.#closed || !endpoint) throw new Error('channel is closed');
    const response = await request(endpoint, {
      method: 'POST',
      headers: { ...this.#options.headers, 'content-type': 'application/json' },
      body: JSON.stringify(message),
      dispatcher: this.#dispatcher,
      signal: this.#abort.signal,
    });
    // The answer comes on the event stream; the POST's own body is an acknowledgement (read up to undici's dump limit).
    await response.body.dump();
    if (response.statusCode >= 400) throw new Error(`POST answered HTTP ${response.statusCode}`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#finish();
    if (this.#ownsDispatcher) await this.#dispatcher.close().catch(() => undefined);
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.onclose?.();
  }
}

