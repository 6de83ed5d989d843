/**
 * Calls in flight under the kill switch. A switch stops every message received after it was written
 * (the `killSwitch` stage); a call already forwarded must be stopped too, or a long destructive or
 * exfiltrating call started before an incident runs to its end and its result is delivered after the
 * kill. Every call the gateway is working on is tracked with an abort controller of its own; when the
 * switches change (the file looked at every POLL_MS while calls are in flight, and at once after a
 * switch this process sets), every tracked call a switch now covers is aborted with PC_KILL_SWITCH:
 * upstream it is cancelled (`notifications/cancelled` on legacy sessions, the request closed on modern
 * ones), its later progress is dropped, the caller is answered PC_KILL_SWITCH and the audit record
 * says so.
 */
import { GatewayError } from '../errors.ts';
import type { MessageContext, Outcome } from '../pipeline/context.ts';
import type { KillSwitchStore } from './store.ts';

/** How often the switches are looked at while calls are in flight. */
const POLL_MS = 200;

/** The abort reason of a call the kill switch stopped in flight, if that is why `signal` aborted. */
export function killedInFlight(signal: AbortSignal): GatewayError | undefined {
  return signal.aborted && signal.reason instanceof GatewayError && signal.reason.code === 'PC_KILL_SWITCH' ? signal.reason : undefined;
}

/** `work`, or the kill switch's refusal as soon as the call is stopped in flight (whichever comes first). */
export function untilKilled(signal: AbortSignal, work: Promise<Outcome>): Promise<Outcome> {
  const early = killedInFlight(signal);
  if (early) {
    work.catch(() => undefined);
    return Promise.resolve({ error: early });
  }
  if (signal.aborted) return work;
  return new Promise<Outcome>((resolve, reject) => {
    const onAbort = (): void => {
      const killed = killedInFlight(signal);
      if (killed) resolve({ error: killed });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (outcome) => {
        signal.removeEventListener('abort', onAbort);
        const killed = killedInFlight(signal);
        resolve(killed ? { error: killed } : outcome);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export class InFlightCalls {
  readonly #store: KillSwitchStore;
  readonly #covered: (ctx: MessageContext) => GatewayError | undefined;
  readonly #calls = new Map<MessageContext, AbortController>();
  #seen: number;
  #timer: NodeJS.Timeout | undefined;

  /** `covered`: the kill-switch stage, which says whether a switch in force covers a call. */
  constructor(store: KillSwitchStore, covered: (ctx: MessageContext) => GatewayError | undefined) {
    this.#store = store;
    this.#covered = covered;
    this.#seen = store.version;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Tracks a call until the returned function is called; `stop` aborts its signal. */
  track(ctx: MessageContext, stop: AbortController): () => void {
    this.#calls.set(ctx, stop);
    this.#timer ??= setInterval(() => this.#tick(), POLL_MS).unref();
    return () => void this.#calls.delete(ctx);
  }

  /**
   * The poll: sweeps while calls are in flight, and stops at its first tick without any (rather than
   * when the last call ends: one call at a time would otherwise set up and clear a timer per call).
   */
  #tick(): void {
    if (this.#calls.size > 0) return this.sweep();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Looks at the switches; when they changed, stops every call in flight a switch now covers. */
  sweep(): void {
    try {
      this.#store.refresh();
    } catch {
      // An unreadable file stops every new call (store.ts); the calls in flight are judged below.
    }
    if (this.#store.version === this.#seen) return;
    this.#seen = this.#store.version;
    for (const [ctx, stop] of this.#calls) {
      if (stop.signal.aborted) continue;
      const refusal = this.#covered(ctx);
      if (!refusal) continue;
      stop.abort(new GatewayError('PC_KILL_SWITCH', `stopped in flight: ${refusal.message}`, refusal.data as Record<string, unknown> | undefined));
    }
  }
}
