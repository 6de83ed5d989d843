/**
 * Rate limits (token buckets: `burst` tokens, refilled at the sustained rate) per principal (the user:
 * issuer and subject, whichever agent acts for them), agent,
 * tool or server, and a cap on calls in flight per server. A call takes one token from every bucket
 * that applies, or none at all: a refusal by one limit does not drain the others. State is in memory,
 * per gateway process; a reload keeps the buckets of every limit whose definition did not change (a
 * comment edit, or a new rule elsewhere, does not refill them), and starts changed or new limits full.
 */
import type { Principal } from '../auth/principal.ts';
import { agentKey, subjectKey } from '../auth/principal.ts';
import { anyGlob } from '../util/glob.ts';
import type { PolicyConfig } from '../policy/schema.ts';

const PERIOD_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

interface Limit {
  name: string;
  per: 'principal' | 'agent' | 'tool' | 'server';
  server: (s: string) => boolean;
  tool: (t: string) => boolean;
  /** Tokens per ms, and the bucket size. */
  refill: number;
  burst: number;
  rate: string;
  /** Everything that decides the limit's buckets: a limit with the same definition keeps them across a reload. */
  definition: string;
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface LimitRefusal {
  limit: string;
  rate: string;
  retryAfterMs: number;
}

/**
 * Bucket count past which a new bucket first drops those idle long enough to be full again, then the
 * least recently used down to nine tenths. Subjects can come from the caller (a local client's
 * declared agent name, a tool name), so without the second step a flood of distinct subjects on a slow
 * limit would grow the table without end and make every new bucket scan it. A subject that keeps
 * calling keeps its bucket; one dropped early starts full again when it returns: at worst one extra
 * burst for a subject that was quiet while tens of thousands of others were new.
 */
export const MAX_BUCKETS = 50_000;

export class RateLimiter {
  readonly #limits: readonly Limit[];
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  /** `previous`: the limiter this one replaces (a reload); buckets of unchanged limits carry over. */
  constructor(limits: PolicyConfig['limits'], now: () => number = () => performance.now(), previous?: RateLimiter) {
    this.#now = now;
    this.#limits = limits.map((l) => {
      const [count, unit] = l.rate.split('/') as [string, keyof typeof PERIOD_MS];
      const perPeriod = Number(count);
      return {
        name: l.name,
        per: l.per,
        server: anyGlob(l.servers),
        tool: anyGlob(l.tools),
        refill: perPeriod / PERIOD_MS[unit],
        burst: l.burst ?? Math.max(1, Math.floor(perPeriod)),
        rate: l.rate,
        definition: JSON.stringify([l.per, l.servers, l.tools, l.rate, l.burst ?? null]),
      };
    });
    if (previous) this.#inherit(previous);
  }

  #inherit(previous: RateLimiter): void {
    const kept = new Set<string>();
    for (const limit of this.#limits) {
      const before = previous.#limits.find((l) => l.name === limit.name);
      if (before?.definition === limit.definition) kept.add(limit.name);
    }
    if (kept.size === 0) return;
    for (const [key, bucket] of previous.#buckets) {
      if (kept.has(key.slice(0, key.indexOf('\u0000')))) this.#buckets.set(key, { ...bucket });
    }
  }

  get size(): number {
    return this.#limits.length;
  }

  /** Takes a token for this call from every applicable bucket, or returns why not (taking nothing). */
  take(principal: Principal, server: string, tool: string): LimitRefusal | undefined {
    if (this.#limits.length === 0) return undefined;
    const now = this.#now();
    const applicable: { bucket: Bucket; limit: Limit }[] = [];
    for (const limit of this.#limits) {
      if (!limit.server(server) || !limit.tool(tool)) continue;
      const subject = limit.per === 'principal' ? subjectKey(principal) : limit.per === 'agent' ? agentKey(principal) : limit.per === 'tool' ? `${server}\u0000${tool}` : server;
      const key = `${limit.name}\u0000${subject}`;
      let bucket = this.#buckets.get(key);
      if (!bucket) {
        if (this.#buckets.size >= MAX_BUCKETS) this.#sweep(now);
        bucket = { tokens: limit.burst, at: now };
        this.#buckets.set(key, bucket);
      }
      bucket.tokens = Math.min(limit.burst, bucket.tokens + (now - bucket.at) * limit.refill);
      bucket.at = now;
      if (bucket.tokens < 1) return { limit: limit.name, rate: limit.rate, retryAfterMs: Math.ceil((1 - bucket.tokens) / limit.refill) };
      applicable.push({ bucket, limit });
    }
    for (const { bucket } of applicable) bucket.tokens -= 1;
    return undefined;
  }

  /** Buckets held now (bounded by MAX_BUCKETS). */
  get buckets(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const limit = this.#limits.find((l) => key.startsWith(`${l.name}\u0000`));
      if (!limit || bucket.tokens + (now - bucket.at) * limit.refill >= limit.burst) this.#buckets.delete(key);
    }
    const excess = this.#buckets.size - Math.floor(MAX_BUCKETS * 0.9);
    if (excess <= 0) return;
    const used = Float64Array.from(this.#buckets.values(), (bucket) => bucket.at).sort();
    const before = used[excess - 1]!;
    for (const [key, bucket] of this.#buckets) if (bucket.at <= before) this.#buckets.delete(key);
  }
}

/** Calls in flight per server, capped. */
export class ConcurrencyLimiter {
  #caps: Readonly<Record<string, number>>;
  readonly #inFlight = new Map<string, number>();
  /** Of those, calls the gateway gave up on that the server has not answered yet (red team L1). */
  readonly #unanswered = new Map<string, number>();

  constructor(caps: Readonly<Record<string, number>>) {
    this.#caps = caps;
  }

  /** A release function, or undefined when the server is at its cap. */
  acquire(server: string): (() => void) | undefined | 'unlimited' {
    const cap = this.#caps[server];
    if (cap === undefined) return 'unlimited';
    const current = this.#inFlight.get(server) ?? 0;
    if (current >= cap) return undefined;
    this.#inFlight.set(server, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight.set(server, (this.#inFlight.get(server) ?? 1) - 1);
    };
  }

  /**
   * A slot for work already under way upstream (a task its call created): taken even past the cap — the
   * server runs it whatever we say — so that new calls wait for it. undefined when the server has no cap.
   */
  hold(server: string): (() => void) | undefined {
    if (this.#caps[server] === undefined) return undefined;
    this.#inFlight.set(server, (this.#inFlight.get(server) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight.set(server, (this.#inFlight.get(server) ?? 1) - 1);
    };
  }

  /** New caps (policy reload); calls in flight keep counting against them. */
  setCaps(caps: Readonly<Record<string, number>>): void {
    this.#caps = caps;
  }

  cap(server: string): number | undefined {
    return this.#caps[server];
  }

  /** Counts a held slot as given up on by the gateway and not answered by the server, and uncounts it. */
  unanswered(server: string): { add(): void; remove(): void } {
    return {
      add: () => this.#unanswered.set(server, (this.#unanswered.get(server) ?? 0) + 1),
      remove: () => {
        const left = (this.#unanswered.get(server) ?? 1) - 1;
        if (left > 0) this.#unanswered.set(server, left);
        else this.#unanswered.delete(server);
      },
    };
  }

  unansweredCount(server: string): number {
    return this.#unanswered.get(server) ?? 0;
  }
}
