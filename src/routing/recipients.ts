/**
 * Who hears a notification a server sent outside any call (security invariant 3, "callers are
 * isolated"): list changes go to every session that shows the server (each re-lists through its own
 * policy filter); a resource update only to the sessions subscribed to that URI on that server (and, on
 * a per-principal session, of that principal); anything else only to the callers of the principal it
 * was attributed to (upstream/attribution.ts) — or to nobody, counted. Nothing else is ever broadcast.
 */
import type { JsonRpcNotification } from '../protocol/jsonrpc.ts';
import type { Recipient } from '../upstream/types.ts';
import type { CallerDirectory } from './callers.ts';
import type { SubscriptionRegistry } from './subscriptions.ts';

/** The only notifications every session that shows a server hears. */
export const BROADCAST_NOTIFICATIONS: ReadonlySet<string> = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
]);

/** Every session that shows the server, or these callers (legacy session ids), or nobody. */
export type Audience = 'everyone' | readonly string[] | undefined;

export interface RecipientsDeps {
  callers: CallerDirectory;
  subscriptions: SubscriptionRegistry;
  /** A notification attributed to nobody, or to a principal with no session to receive it. */
  onUnattributed: (server: string) => void;
}

export function createRecipients(deps: RecipientsDeps): (server: string, notification: JsonRpcNotification, to: Recipient | undefined) => Audience {
  const { callers, subscriptions, onUnattributed } = deps;
  return function recipientsOf(server, notification, to) {
    if (BROADCAST_NOTIFICATIONS.has(notification.method)) return 'everyone';
    if (notification.method === 'notifications/resources/updated') {
      const uri = notification.params?.uri;
      if (typeof uri !== 'string') return undefined;
      const subscribed = subscriptions.subscribers(server, uri, to?.principal ?? '');
      return subscribed.length > 0 ? subscribed : undefined;
    }
    if (!to) {
      onUnattributed(server);
      return undefined;
    }
    const targets = to.caller !== undefined ? (callers.is(to.caller, to.principal) ? [to.caller] : []) : callers.of(to.principal);
    if (targets.length > 0) return targets;
    onUnattributed(server);
    return undefined;
  };
}
