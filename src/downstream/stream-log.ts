/**
 * Resumable SSE streams for legacy-era sessions (spec 2025-11-25 transports §Resumability and
 * Redelivery, SEP-1699): every event on a POST stream carries an id `<stream>.<seq>`; the stream starts
 * with a priming event (id, `retry`, empty data) so a client that loses the connection — or a proxy
 * that cuts it — can come back with `GET` + `Last-Event-ID` and receive what it missed, then the rest
 * live. A disconnect is not a cancellation in the legacy era, so the call runs on meanwhile.
 *
 * Memory stays bounded: a stream delivered in full on its connection is forgotten at once; the others
 * keep at most `MAX_EVENTS` events each and `MAX_STREAMS` per session, and a `ResumeBudget` caps the
 * bytes they hold per session (`listen.maxResumeBytesPerSession`) and in total (`listen.maxResumeBytes`):
 * past either, the oldest streams are forgotten whole (a later resume of one is answered 404, as for an
 * unknown stream), never cut into a stream with a gap.
 */
import type { ServerResponse } from 'node:http';
import type { LimitCounters } from '../limits/counters.ts';
import type { JsonRpcMessage } from '../protocol/jsonrpc.ts';
import { sseFrame } from '../protocol/sse.ts';
import { writeCoalesced } from './response-writer.ts';

const MAX_EVENTS = 1000;
export const MAX_STREAMS = 64;
/** The `retry` the priming event suggests, in ms. */
export const RETRY_MS = 1000;

let nextStream = 0;

/** What a stream log needs to know of its session: the other logs it holds (oldest first). */
export interface StreamOwner {
  readonly streams: Map<string, StreamLog>;
}

export class StreamLog {
  /** Unique per process, hence per session, which is all resumption needs (ids are not secrets). */
  readonly id = `s${(nextStream++).toString(36)}`;
  /** Called once the stream has been delivered in full, so its owner can forget it. */
  onDelivered: (() => void) | undefined;
  owner: StreamOwner | undefined;
  #frames: Array<{ seq: number; frame: string; bytes: number }> = [];
  #bytes = 0;
  #seq = 0;
  #finished = false;
  /** False once forgotten by the budget: the stream goes on live, but is no longer kept. */
  #kept = true;
  #target: ServerResponse | undefined;
  readonly #budget: ResumeBudget | undefined;

  constructor(target: ServerResponse, budget?: ResumeBudget) {
    this.#target = target;
    this.#budget = budget;
    target.once('close', () => this.#detach(target));
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Bytes of the frames kept for resumption. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The priming event: an id to resume from, and the reconnection delay. */
  priming(): string {
    return `id: ${this.id}.0\nretry: ${RETRY_MS}\ndata: \n\n`;
  }

  write(message: JsonRpcMessage): void {
    const frame = this.record(message);
    const target = this.#target;
    if (target && !target.writableEnded && !target.destroyed) writeCoalesced(target, frame);
  }

  /** Logs a message and returns its frame, without sending it (the caller writes it). */
  record(message: JsonRpcMessage): string {
    const seq = ++this.#seq;
    const frame = sseFrame(JSON.stringify(message), { id: `${this.id}.${seq}` });
    if (!this.#kept) return frame;
    const bytes = Buffer.byteLength(frame);
    this.#frames.push({ seq, frame, bytes });
    this.#bytes += bytes;
    if (this.#frames.length > MAX_EVENTS) this.#release(this.#frames.shift()!.bytes);
    this.#budget?.grew(this, bytes);
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

  /** Drops what is kept and leaves its session: nobody can resume this stream any more. */
  forget(): void {
    this.#kept = false;
    this.#frames = [];
    this.#release(this.#bytes);
    this.#budget?.remove(this);
    if (this.owner?.streams.get(this.id) === this) this.owner.streams.delete(this.id);
  }

  #release(bytes: number): void {
    this.#bytes -= bytes;
    this.#budget?.shrank(bytes);
  }

  #detach(res: ServerResponse): void {
    if (this.#target === res) this.#target = undefined;
  }

  #delivered(): void {
    this.#frames = [];
    this.#release(this.#bytes);
    this.#budget?.remove(this);
    this.onDelivered?.();
    this.onDelivered = undefined;
  }
}

/**
 * The bytes every resumable stream keeps, per session and in total; past a budget the oldest streams
 * (of that session, or of all) are forgotten. The stream that grew is forgotten last: only when it
 * alone is over the budget.
 */
export class ResumeBudget {
  readonly #perSessionBytes: number;
  readonly #totalBytes: number;
  readonly #limits: LimitCounters | undefined;
  /** Every stream holding bytes, oldest first. */
  readonly #logs = new Set<StreamLog>();
  #total = 0;

  constructor(options: { perSessionBytes: number; totalBytes: number; limits?: LimitCounters | undefined }) {
    this.#perSessionBytes = options.perSessionBytes;
    this.#totalBytes = options.totalBytes;
    this.#limits = options.limits;
  }

  /** Bytes kept by all streams. */
  get bytes(): number {
    return this.#total;
  }

  grew(log: StreamLog, bytes: number): void {
    this.#total += bytes;
    this.#logs.add(log);
    const owner = log.owner;
    // A session's bytes are summed only when the stream that grew could have taken it past its budget.
    if (owner && log.bytes > 0 && this.#perSessionBytes < this.#total) {
      let sessionBytes = 0;
      for (const other of owner.streams.values()) sessionBytes += other.bytes;
      for (const other of [...owner.streams.values()]) {
        if (sessionBytes <= this.#perSessionBytes) break;
        if (other === log) continue;
        sessionBytes -= other.bytes;
        this.#evict(other, 'maxResumeBytesPerSession');
      }
      if (sessionBytes > this.#perSessionBytes) this.#evict(log, 'maxResumeBytesPerSession');
    }
    if (this.#total <= this.#totalBytes) return;
    for (const other of [...this.#logs]) {
      if (this.#total <= this.#totalBytes) break;
      if (other !== log) this.#evict(other, 'maxResumeBytes');
    }
    if (this.#total > this.#totalBytes) this.#evict(log, 'maxResumeBytes');
  }

  shrank(bytes: number): void {
    this.#total -= bytes;
  }

  remove(log: StreamLog): void {
    this.#logs.delete(log);
  }

  #evict(log: StreamLog, limit: 'maxResumeBytesPerSession' | 'maxResumeBytes'): void {
    const bytes = log.bytes;
    log.forget();
    this.#limits?.hit('resume_log_bytes', {}, `an SSE stream kept for resumption was forgotten to stay within listen.${limit}; it can no longer be resumed`, { bytes });
  }
}

/** Splits a `Last-Event-ID` into its stream and sequence number. */
export function parseEventId(value: string): { stream: string; seq: number } | undefined {
  const match = /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(value);
  if (!match) return undefined;
  return { stream: match[1]!, seq: Number(match[2]) };
}
