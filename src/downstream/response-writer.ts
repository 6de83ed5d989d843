/**
 * One HTTP response that starts as plain JSON and becomes an SSE stream when anything must be sent
 * before the answer (progress, a log message, a server→client request) — or, for resumable legacy
 * streams (see stream-log.ts), an SSE response from the start.
 *
 * A resumable stream opens lazily: if the answer is ready within `PRIMING_DELAY_MS`, headers, the
 * priming event and the answer leave in one write (as cheap as a JSON reply); otherwise the priming
 * event goes out at once so that a client cut off later has an id to resume from.
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { sseFrame } from '../protocol/sse.ts';
import type { MessageSink } from './session.ts';
import type { StreamLog } from './stream-log.ts';

const KEEPALIVE_MS = 15_000;
const PRIMING_DELAY_MS = 20;

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export class ResponseWriter implements MessageSink {
  readonly #res: ServerResponse;
  readonly #acceptsSse: boolean;
  readonly #headers: Record<string, string>;
  readonly #log: StreamLog | undefined;
  #streaming = false;
  #keepalive: NodeJS.Timeout | undefined;
  #priming: NodeJS.Timeout | undefined;

  constructor(res: ServerResponse, acceptsSse: boolean, headers: Record<string, string> = {}, log?: StreamLog) {
    this.#res = res;
    this.#acceptsSse = acceptsSse;
    this.#headers = headers;
    this.#log = log;
    if (log) {
      this.#priming = setTimeout(() => this.stream(), PRIMING_DELAY_MS);
      this.#priming.unref();
    }
  }

  get open(): boolean {
    return !this.#res.writableEnded && !this.#res.destroyed;
  }

  /** Switches to SSE (once) and keeps the stream warm against idle-cutting proxies. */
  stream(): boolean {
    if (this.#streaming) return true;
    if (!this.#acceptsSse || this.#res.headersSent || !this.open) return false;
    clearTimeout(this.#priming);
    this.#streaming = true;
    this.#res.writeHead(200, { ...this.#headers, ...SSE_HEADERS });
    if (this.#log) this.#res.write(this.#log.priming());
    else this.#res.flushHeaders();
    this.#keepalive = setInterval(() => {
      if (this.open) this.#res.write(': keep-alive\n\n');
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
    return true;
  }

  send(message: JsonRpcMessage): void {
    if (this.#log) {
      this.stream();
      this.#log.write(message);
      return;
    }
    if (!this.open || !this.stream()) return;
    this.#res.write(sseFrame(JSON.stringify(message)));
  }

  finish(message: JsonRpcMessage | JsonRpcMessage[], status = 200): void {
    clearTimeout(this.#priming);
    clearInterval(this.#keepalive);
    const messages = Array.isArray(message) ? message : [message];
    if (this.#log) {
      if (!this.#streaming && this.open && !this.#res.headersSent && this.#acceptsSse) {
        // Answered before the stream had to open: everything in one write.
        this.#streaming = true;
        const frames = messages.map((m) => this.#log!.record(m)).join('');
        const body = this.#log.priming() + frames;
        this.#res.writeHead(200, { ...this.#headers, ...SSE_HEADERS });
        this.#res.end(body);
        this.#log.finish();
        return;
      }
      if (this.#streaming) {
        for (const m of messages) this.#log.write(m);
        this.#log.finish();
        return;
      }
    }
    if (!this.open) return;
    if (this.#streaming) {
      this.#res.end(messages.map((m) => sseFrame(JSON.stringify(m))).join(''));
      return;
    }
    const body = JSON.stringify(message);
    this.#res.writeHead(status, { ...this.#headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    this.#res.end(body);
  }

  end(): void {
    clearTimeout(this.#priming);
    clearInterval(this.#keepalive);
    if (this.open) this.#res.end();
  }
}
