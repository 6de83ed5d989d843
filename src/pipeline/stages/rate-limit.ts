/**
 * The `rateLimit` stage: the caller's, agent's, tool's and server's token buckets, then a slot among
 * the server's calls in flight (released when the request is over and the server has answered it or
 * its connection closed — a cancelled or timed-out call may go on on the server: SlotHold — or when a
 * parked call ends). Only
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
      const unanswered = runtime.concurrency.unansweredCount(call.server);
      // Calls the gateway gave up on that the server never answered hold slots until it answers them or
      // is restarted (red team L1): the refusal says so, since retrying will not help then.
      const why = unanswered > 0 ? `, ${unanswered} of them given up on by the gateway (cancelled, timed out, stopped) and never answered by the server: they free their slots when it answers them or is restarted` : '';
      return new GatewayError('PC_CONCURRENCY_LIMITED', `server "${call.server}" already has ${cap} calls or running tasks in flight (policy.concurrency)${why}; retry shortly`, { limit: cap, retryAfterMs: 100, unanswered });
    }
    if (slot !== 'unlimited') {
      const held = new SlotHold(slot, runtime.concurrency.unanswered(call.server));
      ctx.holdSlot = () => held.hold();
      onRequestEnd(ctx, () => held.end());
    }
    return undefined;
  };
}

/**
 * A call's concurrency slot, released when the request is over and the server is done with every
 * upstream request of it (red team K2, L1). MCP cancellation is advisory: a server told `notifications/
 * cancelled` (the client cancelled, the gateway timed out, the kill switch stopped the call) may go on
 * working, and one built on the MCP SDK never answers such a request. So the slot is freed by events
 * only — the server's answer, or the end of the connection the request was sent on (the upstream reports
 * both: CallOptions.onAnswered) — never by a clock: a clock let cancel-and-restart run several operations
 * at once behind a cap of 1 (L1). A server that never answers keeps its cap shut until it is restarted
 * (fail closed); meanwhile the slot counts as unanswered, which refusals report.
 */
class SlotHold {
  readonly #release: () => void;
  readonly #unanswered: { add(): void; remove(): void };
  #holds = 0;
  #ended = false;
  #counted = false;

  constructor(release: () => void, unanswered: { add(): void; remove(): void }) {
    this.#release = release;
    this.#unanswered = unanswered;
  }

  hold(): () => void {
    this.#holds += 1;
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
      this.#counted = true;
      this.#unanswered.add();
    }
    this.#settle();
  }

  #settle(): void {
    if (!this.#ended || this.#holds > 0) return;
    if (this.#counted) this.#unanswered.remove();
    this.#counted = false;
    this.#release();
  }
}
