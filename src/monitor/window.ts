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
    keys.delete(key);
    keys.set(key, { at, seq });
    for (const [k, seen] of keys) {
      if (seen.at > at - windowMs && keys.size <= count) break;
      keys.delete(k);
    }
    return keys.size >= count;
  }

  evidence(): number[] {
    return [...this.#keys.values()].map((e) => e.seq);
  }

  get since(): number {
    for (const seen of this.#keys.values()) return seen.at;
    return 0;
  }
}
