/**
 * Resumable SSE streams for legacy-era sessions (spec 2025-11-25 transports §Resumability and
 * Redelivery, SEP-1699): every event on a POST stream carries an id `<stream>.<seq>`; the stream starts
 * with a priming event (id, `retry`, empty data) so a client that loses the connection — or a proxy
 * that cuts it — can come back with `GET` + `Last-Event-ID` and receive what it missed, then the rest
 * live. A disconnect is not a cancellation in the legacy era, so the call runs on meanwhile.
 *
 * Memory stays bounded: a stream delivered in full on its connection is forgotten at once; only cut
 * streams are kept, at most `MAX_EVENTS` events each and `MAX_STREAMS` per session.
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { sseFrame } from '../protocol/sse.ts';

const MAX_EVENTS = 1000;
export const MAX_STREAMS = 64;
/** The `retry` the priming event suggests, in ms. */
export const RETRY_MS = 1000;

let nextStream = 0;

export class StreamLog {
  /** Unique per process, hence per session, which is all resumption needs (ids are not secrets). */
  readonly id = `s${(nextStream++).toString(36)}`;
  /** Called once the stream has been delivered in full, so its owner can forget it. */
  onDelivered: (() => void) | undefined;
  #frames: Array<{ seq: number; frame: string }> = [];
  #seq = 0;
  #finished = false;
  #target: ServerResponse | undefined;

  constructor(target: ServerResponse) {
    this.#target = target;
    target.once('close', () => this.#detach(target));
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** The priming event: an id to resume from, and the reconnection delay. */
  priming(): string {
    return `id: ${this.id}.0\nretry: ${RETRY_MS}\ndata: \n\n`;
  }

  write(message: JsonRpcMessage): void {
    const frame = this.record(message);
    const target = this.#target;
    if (target && !target.writableEnded && !target.destroyed) target.write(frame);
  }

  /** Logs a message and returns its frame, without sending it (the caller writes it). */
  record(message: JsonRpcMessage): string {
    const seq = ++this.#seq;
    const frame = sseFrame(JSON.stringify(message), { id: `${this.id}.${seq}` });
    this.#frames.push({ seq, frame });
    if (this.#frames.length > MAX_EVENTS) this.#frames.shift();
    return frame;
  }

  /** The last message has been logged: end the live connection; if one is attached, all was delivered. */
  finish(): void {
    this.#finished = true;
    const target = this.#target;
    this.#target = undefined;
    if (!target || target.destroyed) return;
    if (!target.writableEnded) target.end();
    this.#delivered();
  }

  /** Replays what came after `afterSeq` on a new connection, which then receives the rest live. */
  resume(res: ServerResponse, afterSeq: number): void {
    for (const { seq, frame } of this.#frames) if (seq > afterSeq) res.write(frame);
    if (this.#finished) {
      res.end();
      this.#delivered();
      return;
    }
    this.#target = res;
    res.once('close', () => this.#detach(res));
  }

  #detach(res: ServerResponse): void {
    if (this.#target === res) this.#target = undefined;
  }

  #delivered(): void {
    this.#frames = [];
    this.onDelivered?.();
    this.onDelivered = undefined;
  }
}

/** Splits a `Last-Event-ID` into its stream and sequence number. */
export function parseEventId(value: string): { stream: string; seq: number } | undefined {
  const match = /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(value);
  if (!match) return undefined;
  return { stream: match[1]!, seq: Number(match[2]) };
}
