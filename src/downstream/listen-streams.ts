/**
 * The open `subscriptions/listen` streams of modern (2026-07-28) clients, bounded like legacy sessions:
 * `listen.maxListenStreamsPerPrincipal` per principal (identity off: every caller is one principal) and
 * `listen.maxListenStreams` in all. A new stream past a cap ends the oldest one of that principal, then
 * of all — the flood's own before anyone else's — and its client reconnects and lists again, as after
 * any cut stream. Nothing a client sends can make the gateway hold more.
 */
import type { LimitCounters } from '../limits/counters.ts';
import type { ModernListener } from './front-context.ts';
import { ofLargest } from './session.ts';

export interface ListenCaps {
  maxListenStreams: number;
  maxListenStreamsPerPrincipal: number;
  limits?: LimitCounters | undefined;
}

export class ListenStreams implements Iterable<ModernListener> {
  /** Oldest first (insertion order). */
  readonly #all = new Set<ModernListener>();
  readonly #byOwner = new Map<string, Set<ModernListener>>();
  readonly #caps: ListenCaps;

  constructor(caps: ListenCaps) {
    this.#caps = caps;
  }

  get size(): number {
    return this.#all.size;
  }

  [Symbol.iterator](): Iterator<ModernListener> {
    return this.#all.values();
  }

  /**
   * Adds a stream, first ending the oldest of its user's (issuer and subject: a user's several OAuth
   * clients are one user) when a cap is reached — at the total cap too; only a user who holds none
   * ends the oldest of whoever holds the most.
   */
  add(listener: ModernListener): void {
    const { maxListenStreams, maxListenStreamsPerPrincipal, limits } = this.#caps;
    const mine = this.#byOwner.get(listener.user);
    if (mine && mine.size >= maxListenStreamsPerPrincipal) {
      this.#end(mine.values().next().value!);
      limits?.hit('listen_streams_per_principal', {}, `a principal opened more than listen.maxListenStreamsPerPrincipal (${maxListenStreamsPerPrincipal}) subscriptions/listen streams; its oldest one was ended`);
    }
    if (this.#all.size >= maxListenStreams) {
      // Oldest first: the set keeps insertion order; among the biggest holders, the oldest of all.
      const candidates = new Set(mine && mine.size > 0 ? mine : ofLargest(this.#byOwner.values()));
      const oldest = [...this.#all].find((l) => candidates.has(l));
      if (oldest) this.#end(oldest);
      limits?.hit('listen_streams_total', {}, `more than listen.maxListenStreams (${maxListenStreams}) subscriptions/listen streams were open; the oldest one was ended`);
    }
    this.#all.add(listener);
    let set = this.#byOwner.get(listener.user);
    if (!set) this.#byOwner.set(listener.user, (set = new Set()));
    set.add(listener);
  }

  delete(listener: ModernListener): void {
    if (!this.#all.delete(listener)) return;
    const set = this.#byOwner.get(listener.user);
    set?.delete(listener);
    if (set?.size === 0) this.#byOwner.delete(listener.user);
  }

  /** Ends every stream. */
  close(): void {
    for (const listener of [...this.#all]) this.#end(listener);
  }

  #end(listener: ModernListener): void {
    this.delete(listener);
    listener.writer.end();
  }
}
