/**
 * One POST to an HTTP upstream on undici's `dispatch` (its handler API) rather than `request`. An
 * ordinary answer — a JSON body of declared length up to `WHOLE_MAX_BYTES` — is gathered by the
 * handler as it arrives and handed over as one text: no body stream, no stream events and ticks, no
 * extra promise per call (undici's `request` makes a readable stream for every answer, which with its
 * reading was a tenth of the passthrough's CPU). Any other answer (an SSE stream, a chunked or larger
 * body) comes as a Node stream fed by the handler, paused while its reader is behind, which the
 * callers read as they read undici's body before (size limits, SSE framing).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Bodies of declared length up to this are gathered whole (as message-limit.ts reads them in one go). */
export const WHOLE_MAX_BYTES = 256 * 1024;

export interface PostAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The whole body (UTF-8), when it was gathered; otherwise `body` streams it. */
  text?: string;
  body?: Readable;
}

export interface PostOptions {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  signal?: AbortSignal | undefined;
  /** Largest body gathered whole (the caller's message limit); a larger declared one streams. */
  maxBytes: number;
}

/** Sends the POST; resolves once the answer's headers (and, for a gathered body, the body) are in. */
export function post(dispatcher: Dispatcher, options: PostOptions): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const handler = new PostHandler(resolve, reject, options.maxBytes, options.signal);
    if (options.signal?.aborted) {
      reject(options.signal.reason ?? new Error('aborted'));
      return;
    }
    dispatcher.dispatch({ origin: options.origin, path: options.path, method: 'POST', headers: options.headers, body: options.body }, handler);
  });
}

/** A streamed body read past this without being wanted is dropped with its connection (as undici's `dump`). */
const DISCARD_MAX_BYTES = 128 * 1024;

/** Reads a streamed answer's body to its end and drops it, so its connection can be reused (a gathered one is already over). */
export function discard(answer: PostAnswer): Promise<void> {
  const body = answer.body;
  if (!body || body.destroyed || body.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DISCARD_MAX_BYTES) body.destroy();
    });
    body.once('end', resolve);
    body.once('close', resolve);
    body.once('error', () => resolve());
  });
}

class PostHandler implements Dispatcher.DispatchHandler {
  readonly #resolve: (answer: PostAnswer) => void;
  readonly #reject: (error: Error) => void;
  readonly #maxBytes: number;
  readonly #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #answer: PostAnswer | undefined;
  /** Gathering: the chunks so far (undefined: streaming, or not started). */
  #chunks: Buffer[] | undefined;
  #stream: Readable | undefined;
  #settled = false;

  constructor(resolve: (answer: PostAnswer) => void, reject: (error: Error) => void, maxBytes: number, signal: AbortSignal | undefined) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#maxBytes = maxBytes;
    this.#signal = signal;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#signal) {
      this.#onAbort = () => controller.abort(this.#signal!.reason instanceof Error ? this.#signal!.reason : new Error('aborted'));
      this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#answer = { statusCode, headers };
    const declared = Number(headers['content-length']);
    const type = headers['content-type'];
    const sse = typeof type === 'string' && type.includes('text/event-stream');
    if (!sse && Number.isFinite(declared) && declared <= WHOLE_MAX_BYTES && declared <= this.#maxBytes) {
      this.#chunks = [];
      return;
    }
    const stream = new Readable({
      // As undici's own body stream: 64 KB read ahead before the connection is paused.
      highWaterMark: 64 * 1024,
      read: () => controller.resume(),
      destroy: (error, callback) => {
        this.#done();
        if (!this.#settled) {
          this.#settled = true;
          controller.abort(error ?? new Error('the answer was not read'));
        }
        callback(error);
      },
    });
    this.#stream = stream;
    this.#answer.body = stream;
    this.#resolve(this.#answer);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#chunks) {
      this.#chunks.push(chunk);
      return;
    }
    if (this.#stream && !this.#stream.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.#settled = true;
    this.#done();
    if (this.#chunks) {
      const chunks = this.#chunks;
      this.#answer!.text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      this.#resolve(this.#answer!);
      return;
    }
    this.#stream?.push(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const settled = this.#settled;
    this.#settled = true;
    this.#done();
    if (this.#stream) {
      if (!settled && !this.#stream.destroyed) this.#stream.destroy(error);
      return;
    }
    this.#reject(error);
  }

  #done(): void {
    if (this.#onAbort) this.#signal!.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
  }
}
