/**
 * Resource subscriptions on shared upstream sessions. Many clients reach a server through one
 * gateway session, so the server sees one subscriber: the gateway subscribes upstream for the first
 * client interested in a URI and unsubscribes only when the last one leaves (or its session ends) —
 * otherwise one client's `resources/unsubscribe` would silence updates for every other client.
 */
export class SubscriptionRegistry {
  readonly #subscribers = new Map<string, Set<string>>();

  /** Records the subscription; true when it is the first for this server and URI (forward it upstream). */
  add(server: string, uri: string, client: string): boolean {
    const key = `${server}\0${uri}`;
    let set = this.#subscribers.get(key);
    const first = !set || set.size === 0;
    if (!set) {
      set = new Set();
      this.#subscribers.set(key, set);
    }
    set.add(client);
    return first;
  }

  /** Drops the subscription; true when no client is left (forward the unsubscribe upstream). */
  remove(server: string, uri: string, client: string): boolean {
    const key = `${server}\0${uri}`;
    const set = this.#subscribers.get(key);
    if (!set) return true;
    set.delete(client);
    if (set.size > 0) return false;
    this.#subscribers.delete(key);
    return true;
  }

  /** A client went away: the subscriptions that now have nobody left, to unsubscribe upstream. */
  removeClient(client: string): Array<{ server: string; uri: string }> {
    const orphaned: Array<{ server: string; uri: string }> = [];
    for (const [key, set] of this.#subscribers) {
      if (!set.delete(client) || set.size > 0) continue;
      this.#subscribers.delete(key);
      const [server, uri] = key.split('\0') as [string, string];
      orphaned.push({ server, uri });
    }
    return orphaned;
  }
}
