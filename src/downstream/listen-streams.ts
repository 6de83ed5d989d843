/**
 * The open `subscriptions/listen` streams of modern (2026-07-28) clients, bounded like legacy sessions:
 * `listen.maxListenStreamsPerPrincipal` per principal (identity off: every caller is one principal) and
 * `listen.maxListenStreams` in all. A new stream past a cap ends the oldest one of that principal, then
 * of all — the flood's own before anyone else's — and its client reconnects and lists again, as after
 * any cut stream. Nothing a client sends can make the gateway hold more.
 */
import type { LimitCounters } from '../limits/counters.ts';
import type { ModernListener } from './front-context.ts';

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

  /** Adds a stream, first ending the oldest of its principal's, then of all, when a cap is reached. */
  add(listener: ModernListener): void {
    const { maxListenStreams, maxListenStreamsPerPrincipal, limits } = this.#caps;
    const mine = this.#byOwner.get(listener.owner);
    if (mine && mine.size >= maxListenStreamsPerPrincipal) {
      this.#end(mine.values().next().value!);
      limits?.hit('listen_streams_per_principal', {}, `a principal opened more than listen.maxListenStreamsPerPrincipal (${maxListenStreamsPerPrincipal}) subscriptions/listen streams; its oldest one was ended`);
    }
    if (this.#all.size >= maxListenStreams) {
      this.#end(this.#all.values().next().value!);
      limits?.hit('listen_streams_total', {}, `more than listen.maxListenStreams (${maxListenStreams}) subscriptions/listen streams were open; the oldest one was ended`);
    }
    this.#all.add(listener);
    let set = this.#byOwner.get(listener.owner);
    if (!set) this.#byOwner.set(listener.owner, (set = new Set()));
    set.add(listener);
  }

  delete(listener: ModernListener): void {
    if (!this.#all.delete(listener)) return;
    const set = this.#byOwner.get(listener.owner);
    set?.delete(listener);
    if (set?.size === 0) this.#byOwner.delete(listener.owner);
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
