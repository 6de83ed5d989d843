/**
 * Resumable SSE streams for legacy-era sessions (spec 2025-11-25 transports §Resumability and
 * Redelivery, SEP-1699): every event on a POST stream carries an id `<stream>.<seq>`; the stream starts
 * with a priming event (id, `retry`, empty data) so a client that loses the connection — or a proxy
 * that cuts it — can come back with `GET` + `Last-Event-ID` and receive what it missed, then the rest
 * live. A disconnect is not a cancellation in the legacy era, so the call runs on meanwhile.
 *
 * Bounded: a log keeps at most `MAX_EVENTS` events and a session at most `MAX_STREAMS` logs.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { sseFrame } from '../protocol/sse.ts';

const MAX_EVENTS = 1000;
export const MAX_STREAMS = 64;
/** The `retry` the priming event suggests, in ms. */
export const RETRY_MS = 1000;

export class StreamLog {
  readonly id = randomBytes(9).toString('base64url');
  #frames: Array<{ seq: number; frame: string }> = [];
  #seq = 0;
  #finished = false;
  #target: ServerResponse | undefined;

  constructor(target: ServerResponse) {
    this.#target = target;
    target.on('close', () => this.detach(target));
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** The priming event: an id to resume from, and the reconnection delay. */
  priming(): string {
    return `id: ${this.id}.0\nretry: ${RETRY_MS}\ndata: \n\n`;
  }

  write(message: JsonRpcMessage): void {
    const seq = ++this.#seq;
    const frame = sseFrame(JSON.stringify(message), { id: `${this.id}.${seq}` });
    this.#frames.push({ seq, frame });
    if (this.#frames.length > MAX_EVENTS) this.#frames.shift();
    this.#send(frame);
  }

  finish(): void {
    this.#finished = true;
    const target = this.#target;
    this.#target = undefined;
    if (target && !target.writableEnded) target.end();
  }

  /** Replays what came after `afterSeq` on a new connection, which then receives the rest live. */
  resume(res: ServerResponse, afterSeq: number): void {
    for (const { seq, frame } of this.#frames) if (seq > afterSeq) res.write(frame);
    if (this.#finished) {
      res.end();
      return;
    }
    this.#target = res;
    res.on('close', () => this.detach(res));
  }

  detach(res: ServerResponse): void {
    if (this.#target === res) this.#target = undefined;
  }

  #send(frame: string): void {
    const target = this.#target;
    if (target && !target.writableEnded && !target.destroyed) target.write(frame);
  }
}

/** Splits a `Last-Event-ID` into its stream and sequence number. */
export function parseEventId(value: string): { stream: string; seq: number } | undefined {
  const match = /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(value);
  if (!match) return undefined;
  return { stream: match[1]!, seq: Number(match[2]) };
}
