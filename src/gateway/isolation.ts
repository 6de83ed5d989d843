/**
 * Caller isolation, the parts the gateway holds: server→client traffic no caller could be found for
 * (counted, never broadcast), and what a client session leaves behind when it ends (its upstream
 * resource subscriptions, released).
 */
import type { IsolationStats } from '../gateway.ts';
import type { SubscriptionRegistry } from '../routing/subscriptions.ts';
import type { Upstream } from '../upstream/types.ts';

type Unattributed = IsolationStats['unattributed'][number];

/** Server→client messages dropped or refused for want of a caller, by server and kind. */
export class UnattributedCounter {
  readonly #counts = new Map<string, Unattributed>();

  count(server: string, kind: Unattributed['kind']): void {
    const key = `${server}\u0000${kind}`;
    const entry = this.#counts.get(key) ?? { server, kind, count: 0 };
    entry.count += 1;
    this.#counts.set(key, entry);
  }

  list(): Unattributed[] {
    return [...this.#counts.values()].map((e) => ({ ...e }));
  }
}

/** Unsubscribes upstream, for a client session that ended, every resource it alone had subscribed to. */
export function releaseSubscriptions(clientKey: string, subscriptions: SubscriptionRegistry, upstreams: ReadonlyMap<string, Upstream>, timeoutMsFor: (server: string) => number): void {
  for (const { server, uri, scope } of subscriptions.removeClient(clientKey)) {
    const upstream = upstreams.get(server);
    if (!upstream || upstream.state() !== 'ready') continue;
    // A per-principal subscription lives in that principal's session: unsubscribe there.
    const principal = scope === '' ? undefined : scope;
    upstream
      .connectorFor('legacy', timeoutMsFor(server))
      .then((u) => u.request('resources/unsubscribe', { uri }, { timeoutMs: timeoutMsFor(server), caller: 'portcullis:unsubscribe', principal }))
      .catch(() => undefined);
  }
}
