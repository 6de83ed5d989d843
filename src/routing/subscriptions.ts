/**
 * Resource subscriptions on shared upstream sessions. Many clients reach a server through one
 * gateway session, so the server sees one subscriber: the gateway subscribes upstream for the first
 * client interested in a URI and unsubscribes only when the last one leaves (or its session ends) —
 * otherwise one client's `resources/unsubscribe` would silence updates for every other client.
 * `scope` names the upstream session within a server: '' for the shared one, a principal for a
 * per-principal session (whose subscriptions are that principal's alone).
 *
 * Bounded (`routing.subscriptions`): a client may hold `maxPerSession` subscriptions and the gateway
 * `maxTotal`; a subscribe beyond is refused before it reaches the server. Subscribing again to a URI
 * already held costs nothing; an unsubscribe, or the end of the session, frees the slot.
 */
import { GatewayError } from '../errors.ts';
import type { LimitCounters } from '../limits/counters.ts';

interface Subscription {
  readonly server: string;
  readonly scope: string;
  readonly uri: string;
  readonly clients: Set<string>;
}

export interface SubscriptionLimits {
  maxPerSession: number;
  maxTotal: number;
}

/** What `add` decided: forward the subscribe upstream ('first'), answer it here ('held'), or refuse it. */
export type Subscribed = 'first' | 'held' | GatewayError;

export class SubscriptionRegistry {
  readonly #subscriptions = new Map<string, Subscription>();
  /** The keys of each client's subscriptions: the cap is counted here, and a client's end is O(its own). */
  readonly #byClient = new Map<string, Set<string>>();
  /** (client, subscription) pairs held, for maxTotal. */
  #held = 0;
  readonly #limits: SubscriptionLimits;
  readonly #counters: LimitCounters | undefined;

  constructor(limits: SubscriptionLimits = { maxPerSession: 256, maxTotal: 65_536 }, counters?: LimitCounters) {
    this.#limits = limits;
    this.#counters = counters;
  }

  /** (client, subscription) pairs held. */
  get size(): number {
    return this.#held;
  }

  /** Records the subscription unless a bound refuses it; 'first' when it is the first for this server, scope and URI (forward it upstream). */
  add(server: string, uri: string, client: string, scope = ''): Subscribed {
    const key = JSON.stringify([server, scope, uri]);
    const mine = this.#byClient.get(client);
    if (mine?.has(key)) return 'held';
    const { maxPerSession, maxTotal } = this.#limits;
    if ((mine?.size ?? 0) >= maxPerSession) {
      this.#counters?.hit('subscriptions', { server }, `a session asked for more than routing.subscriptions.maxPerSession (${maxPerSession}) resource subscriptions; refused`);
      return new GatewayError('PC_SUBSCRIPTION_LIMIT', `this session already holds ${maxPerSession} resource subscriptions, the most routing.subscriptions.maxPerSession allows; unsubscribe from one first`, { limit: maxPerSession });
    }
    if (this.#held >= maxTotal) {
      this.#counters?.hit('subscriptions', { server }, `more than routing.subscriptions.maxTotal (${maxTotal}) resource subscriptions were asked for; refused`);
      return new GatewayError('PC_SUBSCRIPTION_LIMIT', `the gateway already holds ${maxTotal} resource subscriptions, the most routing.subscriptions.maxTotal allows; retry later`, { limit: maxTotal, retryAfterMs: 1000 });
    }
    let entry = this.#subscriptions.get(key);
    const first = !entry || entry.clients.size === 0;
    if (!entry) {
      entry = { server, scope, uri, clients: new Set() };
      this.#subscriptions.set(key, entry);
    }
    entry.clients.add(client);
    if (mine) mine.add(key);
    else this.#byClient.set(client, new Set([key]));
    this.#held += 1;
    return first ? 'first' : 'held';
  }

  /** Drops the subscription; true when no client is left (forward the unsubscribe upstream). */
  remove(server: string, uri: string, client: string, scope = ''): boolean {
    const key = JSON.stringify([server, scope, uri]);
    const entry = this.#subscriptions.get(key);
    if (!entry) return true;
    if (entry.clients.delete(client)) this.#forget(client, key);
    if (entry.clients.size > 0) return false;
    this.#subscriptions.delete(key);
    return true;
  }

  /** The clients subscribed to `uri` on `server` (in `scope`). */
  subscribers(server: string, uri: string, scope = ''): string[] {
    return [...(this.#subscriptions.get(JSON.stringify([server, scope, uri]))?.clients ?? [])];
  }

  /** A client went away: the subscriptions that now have nobody left, to unsubscribe upstream. */
  removeClient(client: string): Array<{ server: string; uri: string; scope: string }> {
    const orphaned: Array<{ server: string; uri: string; scope: string }> = [];
    const mine = this.#byClient.get(client);
    if (!mine) return orphaned;
    this.#byClient.delete(client);
    this.#held -= mine.size;
    for (const key of mine) {
      const entry = this.#subscriptions.get(key);
      if (!entry || !entry.clients.delete(client) || entry.clients.size > 0) continue;
      this.#subscriptions.delete(key);
      orphaned.push({ server: entry.server, uri: entry.uri, scope: entry.scope });
    }
    return orphaned;
  }

  #forget(client: string, key: string): void {
    const mine = this.#byClient.get(client);
    if (!mine?.delete(key)) return;
    this.#held -= 1;
    if (mine.size === 0) this.#byClient.delete(client);
  }
}
