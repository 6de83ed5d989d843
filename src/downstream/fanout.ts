/**
 * Server notifications sent outside any call, to downstream clients: legacy sessions get them on their
 * GET stream (resource updates only for URIs the session subscribed to; a notification addressed to
 * some callers only to those sessions), modern clients on their `subscriptions/listen` stream when they
 * asked for that kind of change. Nothing else is ever written to every stream.
 */
import type { ChangeEvent } from '../gateway.ts';
import { META_SUBSCRIPTION_ID } from '../protocol/versions.ts';
import { BROADCAST_NOTIFICATIONS } from '../routing/recipients.ts';
import { endpointShows, type ModernListener } from './front-context.ts';
import type { SessionStore } from './session.ts';

const LISTEN_FILTER_KEY: Readonly<Record<string, string>> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

export function createChangeFanout(sessions: SessionStore, modernStreams: Iterable<ModernListener>): (event: ChangeEvent) => void {
  return function fanOut({ server, notification, to }) {
    // Addressed notifications go to their sessions only; unaddressed ones only if they are everyone's.
    if (!to && !BROADCAST_NOTIFICATIONS.has(notification.method)) return;
    const targets = to ? to.map((id) => sessions.get(id)).filter((s) => s !== undefined) : sessions.all();
    for (const session of targets) {
      if (!endpointShows(session.endpoint, server) || !session.stream) continue;
      if (notification.method === 'notifications/resources/updated') {
        const uri = notification.params?.uri;
        if (typeof uri !== 'string' || !session.subscriptions.has(uri)) continue;
      }
      session.stream.send(notification);
    }
    const key = LISTEN_FILTER_KEY[notification.method];
    if (!key || to) return;
    for (const listener of modernStreams) {
      if (!endpointShows(listener.endpoint, server) || listener.filter[key] !== true) continue;
      listener.writer.send({
        jsonrpc: '2.0',
        method: notification.method,
        params: { ...notification.params, _meta: { [META_SUBSCRIPTION_ID]: listener.id } },
      });
    }
  };
}
