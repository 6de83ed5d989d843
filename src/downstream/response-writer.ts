/**
 * One HTTP response that starts as plain JSON and becomes an SSE stream when anything must be sent
 * before the answer (progress, a log message, a server→client request) — or, for resumable legacy
 * streams (see stream-log.ts), an SSE response from the start.
 *
 * A resumable stream opens lazily: if the answer is ready within `PRIMING_DELAY_MS` and nothing was
 * sent before it, it goes out as one plain JSON reply (spec: the server answers a POST with either;
 * a cut single write is no more resumable as SSE, whose priming id would arrive with it) and no
 * stream log is ever made; otherwise the log is opened and its priming event goes out at once, so
 * that a client cut off later has an id to resume from.
 *
 * A client that stops reading cannot make the gateway buffer without bound: with a `SlowClientGuard`,
 * once more than `maxQueueBytes` wait unsent on the response (Node's write buffer, which grows while
 * `write()` returns false and shrinks on 'drain'), a call's stream drops further notifications (the
 * answer and server→client requests always go out: each is one bounded message), and a notification
 * stream (legacy GET, `subscriptions/listen`) is closed — its client reconnects and lists again.
 */
import type { ServerResponse } from 'node:http';
import type { LimitCounters } from '../limits/counters.ts';
import { isNotification, type JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { sseFrame } from '../protocol/sse.ts';
import type { MessageSink } from './session.ts';
import type { StreamLog } from './stream-log.ts';
import type { WatchedStream } from './stream-watch.ts';

const KEEPALIVE_MS = 15_000;
/**
 * How long a legacy call may take before its resumable stream opens. Well above the gateway's own tail
 * under load: at 20 ms the slowest calls of a busy gateway (c=32) crossed it and paid the stream log, a
 * priming write and SSE framing at the worst moment, which lengthened the tail further (docs/performance.md).
 * A call cut before its answer within this time is not resumable; the client repeats it.
 */
export const PRIMING_DELAY_MS = 250;

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * The resumable streams waiting to open, in the order they were made — which is also the order of their
 * deadlines, since every one waits PRIMING_DELAY_MS: one timer serves them all (the head's deadline),
 * instead of a timer set up and cleared for every call. A writer done before its deadline only drops
 * its turn (`cancel`).
 */
class PrimingQueue {
  #turns: Array<{ at: number; writer: ResponseWriter | undefined }> = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  /** Opens `writer`'s stream PRIMING_DELAY_MS from now unless the returned turn is cancelled first. */
  add(writer: ResponseWriter): { writer: ResponseWriter | undefined } {
    const turn = { at: performance.now() + PRIMING_DELAY_MS, writer: writer as ResponseWriter | undefined };
    this.#turns.push(turn);
    if (!this.#timer) this.#arm(PRIMING_DELAY_MS);
    return turn;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#due(), ms);
    this.#timer.unref();
  }

  #due(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head < this.#turns.length) {
      const turn = this.#turns[this.#head]!;
      if (turn.writer && turn.at > now) break;
      this.#head++;
      const writer = turn.writer;
      turn.writer = undefined;
      writer?.stream();
    }
    // Compact: the turns before the head are over.
    if (this.#head === this.#turns.length) {
      this.#turns = [];
      this.#head = 0;
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#turns.length) {
      this.#turns = this.#turns.slice(this.#head);
      this.#head = 0;
    }
    this.#arm(Math.max(1, Math.ceil(this.#turns[this.#head]!.at - now)));
  }
}

const priming = new PrimingQueue();

export interface SlowClientGuard {
  maxQueueBytes: number;
  /** 'drop': notifications past the limit are dropped (a call's stream); 'close': the stream is closed. */
  mode: 'drop' | 'close';
  limits?: LimitCounters | undefined;
}

export class ResponseWriter implements MessageSink {
  readonly #res: ServerResponse;
  readonly #acceptsSse: boolean;
  readonly #headers: Record<string, string>;
  /** Opens the resumable stream's log (registered with its session) when the stream must open. */
  readonly #openLog: (() => StreamLog) | undefined;
  #log: StreamLog | undefined;
  readonly #guard: SlowClientGuard | undefined;
  #streaming = false;
  /** The kill switch and the credential judged again before each message (stream-watch.ts). */
  #watched: WatchedStream | undefined;
  #keepalive: NodeJS.Timeout | undefined;
  /** This writer's turn in the priming queue, until its stream opens or its answer is written. */
  #priming: { writer: ResponseWriter | undefined } | undefined;

  constructor(res: ServerResponse, acceptsSse: boolean, headers: Record<string, string> = {}, openLog?: () => StreamLog, guard?: SlowClientGuard) {
    this.#res = res;
    this.#acceptsSse = acceptsSse;
    this.#headers = headers;
    this.#openLog = acceptsSse ? openLog : undefined;
    this.#guard = guard;
    if (this.#openLog) this.#priming = priming.add(this);
  }

  get open(): boolean {
    return !this.#res.writableEnded && !this.#res.destroyed;
  }

  #unprime(): void {
    if (this.#priming) this.#priming.writer = undefined;
    this.#priming = undefined;
  }

  /** Switches to SSE (once) and keeps the stream warm against idle-cutting proxies. */
  stream(): boolean {
    if (this.#streaming) return true;
    if (!this.#acceptsSse || this.#res.headersSent || !this.open) return false;
    this.#unprime();
    this.#streaming = true;
    this.#res.writeHead(200, { ...this.#headers, ...SSE_HEADERS });
    if (this.#openLog) {
      this.#log = this.#openLog();
      this.#res.write(this.#log.priming());
    } else this.#res.flushHeaders();
    this.#keepalive = setInterval(() => {
      // A stream with bytes still queued is not idle: no keep-alive needed (nor wanted, if it is stuck).
      if (this.open && this.#res.writableLength === 0) this.#res.write(': keep-alive\n\n');
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
    return true;
  }

  /** Judges the stream again before each message from now on; stops watching when the response closes. */
  watch(watched: WatchedStream): void {
    this.#watched = watched;
    this.#res.once('close', () => watched.done());
  }

  send(message: JsonRpcMessage): void {
    if (this.#watched && !this.#watched.allowed()) return;
    if (this.#behind(message)) return;
    if (this.#openLog) {
      // Without an open stream (the client left before it opened) there is no id to resume from.
      if (this.stream()) this.#log?.write(message);
      return;
    }
    if (!this.open || !this.stream()) return;
    writeCoalesced(this.#res, sseFrame(JSON.stringify(message)));
  }

  finish(message: JsonRpcMessage | JsonRpcMessage[], status = 200): void {
    this.#unprime();
    clearInterval(this.#keepalive);
    const messages = Array.isArray(message) ? message : [message];
    if (this.#log) {
      for (const m of messages) this.#log.write(m);
      this.#log.finish();
      return;
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

  /** True when `message` must not be written because the client is not reading (see the guard). */
  #behind(message: JsonRpcMessage): boolean {
    const guard = this.#guard;
    if (!guard || !this.#streaming || this.#res.writableLength <= guard.maxQueueBytes) return false;
    if (guard.mode === 'close') {
      clearInterval(this.#keepalive);
      guard.limits?.hit('stream_closed_slow', {}, `a client did not read its notification stream (over listen.maxStreamQueueBytes = ${guard.maxQueueBytes} bytes queued); the stream was closed`);
      // destroy, not end: what is queued would otherwise stay in memory until the client reads it.
      this.#res.destroy();
      return true;
    }
    if (!isNotification(message)) return false;
    guard.limits?.hit('stream_notification_dropped', {}, `a client did not read its call's stream (over listen.maxStreamQueueBytes = ${guard.maxQueueBytes} bytes queued); notifications were dropped`);
    return true;
  }

  end(): void {
    this.#unprime();
    clearInterval(this.#keepalive);
    this.#watched?.done();
    if (this.open) this.#res.end();
  }
}

/**
 * Writes `data`, coalescing every write of the same tick into one (the response is corked until the
 * next tick): a server sending notifications by the thousand costs one socket write per batch, not one
 * per notification.
 */
export function writeCoalesced(res: ServerResponse, data: string): void {
  if (!res.writableCorked) {
    res.cork();
    process.nextTick(() => res.uncork());
  }
  res.write(data);
}
