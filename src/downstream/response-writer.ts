/**
 * One HTTP response that starts as plain JSON and becomes an SSE stream when anything must be sent
 * before the answer (progress, a log message, a server→client request) — or from the start, for calls
 * that get a resumable stream (see stream-log.ts).
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { sseFrame } from '../protocol/sse.ts';
import type { MessageSink } from './session.ts';
import type { StreamLog } from './stream-log.ts';

const KEEPALIVE_MS = 15_000;

export class ResponseWriter implements MessageSink {
  readonly #res: ServerResponse;
  readonly #acceptsSse: boolean;
  readonly #headers: Record<string, string>;
  readonly #log: StreamLog | undefined;
  #streaming = false;
  #keepalive: NodeJS.Timeout | undefined;

  constructor(res: ServerResponse, acceptsSse: boolean, headers: Record<string, string> = {}, log?: StreamLog) {
    this.#res = res;
    this.#acceptsSse = acceptsSse;
    this.#headers = headers;
    this.#log = log;
  }

  get open(): boolean {
    return !this.#res.writableEnded && !this.#res.destroyed;
  }

  /** Switches to SSE (once) and keeps the stream warm against idle-cutting proxies. */
  stream(): boolean {
    if (this.#streaming) return true;
    if (!this.#acceptsSse || this.#res.headersSent) return false;
    this.#streaming = true;
    this.#res.writeHead(200, {
      ...this.#headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (this.#log) this.#res.write(this.#log.priming());
    this.#res.flushHeaders();
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
    clearInterval(this.#keepalive);
    if (this.#log && this.#streaming) {
      for (const m of Array.isArray(message) ? message : [message]) this.#log.write(m);
      this.#log.finish();
      return;
    }
    if (!this.open) return;
    if (this.#streaming) {
      for (const m of Array.isArray(message) ? message : [message]) this.#res.write(sseFrame(JSON.stringify(m)));
      this.#res.end();
      return;
    }
    const body = JSON.stringify(message);
    this.#res.writeHead(status, { ...this.#headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    this.#res.end(body);
  }

  end(): void {
    clearInterval(this.#keepalive);
    if (this.open) this.#res.end();
  }
}
