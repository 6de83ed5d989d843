/**
 * Long-lived streams under the kill switch and revocation. A legacy GET stream or a modern
 * `subscriptions/listen` stream is authorised once, when it opens, and then carries server→client
 * messages for as long as the client keeps it: without a second look, a switch on the agent or a
 * revoked credential (sign-out, `agent revoke`, `key revoke`, an expired token) would stop new requests
 * but not what the open stream delivers. Every such stream is watched: before each message it would
 * send, and every `SWEEP_MS` while any is open, its check runs (the kill switch for its caller and
 * server, and a synchronous re-check of the credential it was opened with); the first refusal closes it
 * and the message is not written. A client whose stream was closed for this reason reconnects, and the
 * new request is authenticated and judged like any other.
 */
import type { LimitCounters } from '../limits/counters.ts';

/** How often open streams are looked at when nothing is sent on them. */
export const SWEEP_MS = 1000;

/** Why the stream may not go on, or undefined while it may. */
export type StreamCheck = () => string | undefined;

export interface WatchedStream {
  /** Whether a message may go out now; on a refusal the stream is closed first. */
  allowed(): boolean;
  /** The stream ended: stop watching it. */
  done(): void;
}

export class StreamWatch {
  readonly #open = new Map<symbol, { check: StreamCheck; close: () => void }>();
  readonly #limits: LimitCounters | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(limits?: LimitCounters) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#open.size;
  }

  watch(check: StreamCheck, close: () => void): WatchedStream {
    const key = Symbol('stream');
    this.#open.set(key, { check, close });
    this.#timer ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    const done = (): void => {
      this.#open.delete(key);
      if (this.#open.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
    return {
      allowed: () => {
        const entry = this.#open.get(key);
        if (!entry) return false;
        return this.#judge(key, entry);
      },
      done,
    };
  }

  /** Closes every open stream whose check now refuses it. */
  sweep(): void {
    for (const [key, entry] of this.#open) this.#judge(key, entry);
  }

  #judge(key: symbol, entry: { check: StreamCheck; close: () => void }): boolean {
    let reason: string | undefined;
    try {
      reason = entry.check();
    } catch (error) {
      // A check that cannot be made fails closed.
      reason = `the stream could not be judged again: ${(error as Error).message}`;
    }
    if (reason === undefined) return true;
    this.#open.delete(key);
    this.#limits?.hit('stream_closed_revoked', {}, `an open notification stream was closed: ${reason}`);
    entry.close();
    return false;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#open.clear();
  }
}
