/**
 * Sliding windows for burst detectors, bounded by construction: a burst window holds at most `count`
 * events (the alert fires at `count`), a distinct window at most `count` distinct keys.
 */

export interface Seen {
  at: number;
  seq: number;
}

/** Events in the last `windowMs`; `add` says whether `count` of them are now in the window. */
export class BurstWindow {
  readonly #events: Seen[] = [];

  add(at: number, seq: number, count: number, windowMs: number): boolean {
    const events = this.#events;
    events.push({ at, seq });
    while (events.length > count || (events.length > 0 && events[0]!.at <= at - windowMs)) events.shift();
    return events.length >= count;
  }

  /** The audit positions of the events in the window (the evidence). */
  evidence(): number[] {
    return this.#events.map((e) => e.seq);
  }

  get since(): number {
    return this.#events[0]?.at ?? 0;
  }
}

/** Distinct keys seen in the last `windowMs`. */
export class DistinctWindow {
  readonly #keys = new Map<string, Seen>();

  add(key: string, at: number, seq: number, count: number, windowMs: number): boolean {
    const keys = this.#keys;
    const seen = keys.get(key);
    if (seen) {
      seen.at = at;
      seen.seq = seq;
    } else keys.set(key, { at, seq });
    if (keys.size < count) return false;
    // Only at `count` is the window pruned (so it never holds more than `count` keys), then judged.
    for (const [k, s] of keys) if (s.at <= at - windowMs) keys.delete(k);
    if (keys.size < count) return false;
    while (keys.size > count) keys.delete(keys.keys().next().value as string);
    return true;
  }

  evidence(): number[] {
    return [...this.#keys.values()].map((e) => e.seq);
  }

  get since(): number {
    let since = Number.POSITIVE_INFINITY;
    for (const seen of this.#keys.values()) since = Math.min(since, seen.at);
    return Number.isFinite(since) ? since : 0;
  }
}
