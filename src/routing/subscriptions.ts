/**
 * Resource subscriptions on shared upstream sessions. Many clients reach a server through one
 * gateway session, so the server sees one subscriber: the gateway subscribes upstream for the first
 * client interested in a URI and unsubscribes only when the last one leaves (or its session ends) —
 * otherwise one client's `resources/unsubscribe` would silence updates for every other client.
 * `scope` names the upstream session within a server: '' for the shared one, a principal for a
 * per-principal session (whose subscriptions are that principal's alone).
 */
interface Subscription {
  readonly server: string;
  readonly scope: string;
  readonly uri: string;
  readonly clients: Set<string>;
}

export class SubscriptionRegistry {
  readonly #subscriptions = new Map<string, Subscription>();

  /** Records the subscription; true when it is the first for this server, scope and URI (forward it upstream). */
  add(server: string, uri: string, client: string, scope = ''): boolean {
    const key = JSON.stringify([server, scope, uri]);
    let entry = this.#subscriptions.get(key);
    const first = !entry || entry.clients.size === 0;
    if (!entry) {
      entry = { server, scope, uri, clients: new Set() };
      this.#subscriptions.set(key, entry);
    }
    entry.clients.add(client);
    return first;
  }

  /** Drops the subscription; true when no client is left (forward the unsubscribe upstream). */
  remove(server: string, uri: string, client: string, scope = ''): boolean {
    const key = JSON.stringify([server, scope, uri]);
    const entry = this.#subscriptions.get(key);
    if (!entry) return true;
    entry.clients.delete(client);
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
    for (const [key, entry] of this.#subscriptions) {
      if (!entry.clients.delete(client) || entry.clients.size > 0) continue;
      this.#subscriptions.delete(key);
      orphaned.push({ server: entry.server, uri: entry.uri, scope: entry.scope });
    }
    return orphaned;
  }
}
