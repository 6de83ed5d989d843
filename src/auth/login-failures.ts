/**
 * Failed sign-ins of the embedded authorization server, counted two ways within a window: per
 * (address, user name) — a guesser at one address is stopped after a few tries — and per user name from
 * any address — a guesser spread over many addresses is stopped too (at the price that someone can lock
 * a user out for the window; that is the trade every lockout makes).
 *
 * Memory is bounded without forgetting a lockout: when a table is full, the oldest entries that are not
 * locked go first; when every entry is locked, a new source is not counted (it is not locked either, but
 * the per-user count still counts it). A flood of failures with junk user names therefore cannot push a
 * locked user out of the table and unlock it.
 */

export interface LoginFailureLimits {
  /** Failures per (address, user) before a lockout. */
  perSource: number;
  /** Failures per user, from any address, before a lockout. */
  perUser: number;
  windowMs: number;
  /** Entries per table at most. */
  maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 100_000;

/** One table of counts with a bounded size that never evicts a locked entry. */
class FailureTable {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #max: number;
  readonly #now: () => number;
  // Map keeps insertion order; an entry is re-inserted when it starts a new window, so the first
  // entries are the oldest.
  readonly #entries = new Map<string, { count: number; since: number }>();

  constructor(limit: number, windowMs: number, max: number, now: () => number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#max = max;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  lockedFor(key: string): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    const left = entry.since + this.#windowMs - this.#now();
    if (left <= 0) {
      this.#entries.delete(key);
      return 0;
    }
    return entry.count >= this.#limit ? left : 0;
  }

  fail(key: string): void {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry && entry.since + this.#windowMs > now) {
      entry.count += 1;
      return;
    }
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max && !this.#evictOne(now)) return;
    this.#entries.set(key, { count: 1, since: now });
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops the oldest entry that is expired or not locked; false when every entry is a live lockout. */
  #evictOne(now: number): boolean {
    for (const [key, entry] of this.#entries) {
      if (entry.since + this.#windowMs <= now || entry.count < this.#limit) {
        this.#entries.delete(key);
        return true;
      }
    }
    return false;
  }
}

export class LoginFailures {
  readonly #sources: FailureTable;
  readonly #users: FailureTable;

  constructor(limits: LoginFailureLimits, now: () => number = Date.now) {
    const max = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#sources = new FailureTable(limits.perSource, limits.windowMs, max, now);
    this.#users = new FailureTable(limits.perUser, limits.windowMs, max, now);
  }

  /** Entries held (both tables), for tests of the bound. */
  get size(): number {
    return this.#sources.size + this.#users.size;
  }

  /** Milliseconds this address may not try this user (0: it may try). */
  lockedFor(address: string, username: string): number {
    return Math.max(this.#sources.lockedFor(sourceKey(address, username)), this.#users.lockedFor(username));
  }

  fail(address: string, username: string): void {
    this.#sources.fail(sourceKey(address, username));
    this.#users.fail(username);
  }

  /** A successful sign-in clears its own address's count; the per-user count runs out with its window. */
  succeed(address: string, username: string): void {
    this.#sources.forget(sourceKey(address, username));
  }
}

const sourceKey = (address: string, username: string): string => `${address}\u0000${username}`;
