/**
 * The `rateLimit` stage: the caller's, agent's, tool's and server's token buckets, then a slot among
 * the server's calls in flight (released when the request is over and the server has answered it — a
 * cancelled or timed-out call goes on on the server, within a grace period: SlotHold — or when a parked
 * call ends). Only
 * calls that everything before allowed are counted. A retry resuming a parked call takes tokens like any
 * request but no second slot: the parked call still holds its own. A task a call created holds a slot
 * of its own until it finishes (routing/tasks.ts). Refusals carry `retryAfterMs`.
 */
import { GatewayError } from '../../errors.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import { onRequestEnd, type MessageContext } from '../context.ts';
import type { TaskRegistry } from '../../routing/tasks.ts';
import { governedCall } from './governed.ts';

export function createRateLimit(runtime: PolicyRuntime, tasks?: Pick<TaskRegistry, 'purgeExpired'>): (ctx: MessageContext) => GatewayError | undefined {
  return function rateLimit(ctx) {
    const call = governedCall(ctx);
    if (!call) return undefined;
    const refused = runtime.current.limiter.take(ctx.principal, call.server, call.name);
    if (refused) {
      return new GatewayError('PC_RATE_LIMITED', `rate limit "${refused.limit}" (${refused.rate}) reached; retry in ${refused.retryAfterMs} ms`, {
        limit: refused.limit,
        retryAfterMs: refused.retryAfterMs,
      });
    }
    if (ctx.route?.kind === 'upstream' && ctx.route.resume) return undefined;
    let slot = runtime.concurrency.acquire(call.server);
    if (slot === undefined && tasks) {
      // Running tasks hold slots until they finish or their ownership expires: let expired ones go first.
      tasks.purgeExpired();
      slot = runtime.concurrency.acquire(call.server);
    }
    if (slot === undefined) {
      const cap = runtime.concurrency.cap(call.server);
      return new GatewayError('PC_CONCURRENCY_LIMITED', `server "${call.server}" already has ${cap} calls or running tasks in flight (policy.concurrency); retry shortly`, { limit: cap, retryAfterMs: 100 });
    }
    if (slot !== 'unlimited') {
      const held = new SlotHold(slot);
      ctx.holdSlot = (graceMs) => held.hold(graceMs);
      onRequestEnd(ctx, () => held.end());
    }
    return undefined;
  };
}

/**
 * A call's concurrency slot, released when the request is over and the server is done with every
 * upstream request of it (red team K2). MCP cancellation is advisory: a server told `notifications/
 * cancelled` (the client cancelled, the gateway timed out, the kill switch stopped the call) may go on
 * working, so the slot stays taken until its answer arrives — at most the longest grace period asked
 * for (the server's `timeoutMs`) after the request ended, so a server that never answers cannot hold
 * its cap shut for good.
 */
class SlotHold {
  readonly #release: () => void;
  #holds = 0;
  #graceMs = 0;
  #ended = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(release: () => void) {
    this.#release = release;
  }

  hold(graceMs: number): () => void {
    this.#holds += 1;
    this.#graceMs = Math.max(this.#graceMs, graceMs);
    let answered = false;
    return () => {
      if (answered) return;
      answered = true;
      this.#holds -= 1;
      this.#settle();
    };
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#holds > 0) {
      this.#timer = setTimeout(() => this.#release(), this.#graceMs);
      this.#timer.unref();
    }
    this.#settle();
  }

  #settle(): void {
    if (!this.#ended || this.#holds > 0) return;
    clearTimeout(this.#timer);
    this.#release();
  }
}
