/**
 * A server that keeps sending messages over its size limit is marked unhealthy: after
 * `UNHEALTHY_AFTER` oversized messages within `WINDOW_MS`, calls to it are refused at once for
 * `COOLDOWN_MS` (`PC_UPSTREAM_UNAVAILABLE`, state `unhealthy` in /healthz) instead of each one costing
 * a read up to the limit. After the cool-down, calls go through again and the count starts afresh.
 * Only callers of that server are refused; every other server and caller is unaffected.
 */
import { GatewayError } from '../errors.ts';
import type { LimitCounters } from '../limits/counters.ts';

export const UNHEALTHY_AFTER = 3;
export const WINDOW_MS = 60_000;
export const COOLDOWN_MS = 30_000;

export class OversizeBreaker {
  readonly #server: string;
  readonly #limits: LimitCounters | undefined;
  readonly #now: () => number;
  #hits: number[] = [];
  #openUntil = 0;

  constructor(server: string, limits: LimitCounters | undefined, now: () => number = Date.now) {
    this.#server = server;
    this.#limits = limits;
    this.#now = now;
  }

  /** Whether calls are refused right now. */
  get open(): boolean {
    return this.#now() < this.#openUntil;
  }

  /** Counts one oversized message (`maxMessageBytes` for the log line); may mark the server unhealthy. */
  record(maxMessageBytes: number, where: string): void {
    const now = this.#now();
    this.#limits?.hit('upstream_message_too_large', { server: this.#server }, `server "${this.#server}" sent a message over its size limit; dropped`, {
      maxMessageBytes,
      where,
    });
    this.#hits = this.#hits.filter((at) => now - at < WINDOW_MS);
    this.#hits.push(now);
    if (this.#hits.length < UNHEALTHY_AFTER || this.open) return;
    this.#hits = [];
    this.#openUntil = now + COOLDOWN_MS;
    this.#limits?.hit('upstream_unhealthy', { server: this.#server }, `server "${this.#server}" marked unhealthy: ${UNHEALTHY_AFTER} oversized messages within ${WINDOW_MS / 1000} s; its calls are refused for ${COOLDOWN_MS / 1000} s`);
  }

  refusal(): GatewayError {
    const retryAfterMs = Math.max(0, this.#openUntil - this.#now());
    return new GatewayError(
      'PC_UPSTREAM_UNAVAILABLE',
      `server "${this.#server}" is unavailable: marked unhealthy after repeated messages over its size limit; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
      { server: this.#server, state: 'unhealthy', retryAfterMs },
    );
  }
}
