/**
 * Server notifications sent outside any call: a list change invalidates the catalog's copy of that
 * list; then the notification goes to the downstream sessions that should hear of it
 * (routing/recipients.ts), or is dropped and counted when no caller can be found. Every one is
 * inspected (DLP, src/dlp/client-guard.ts `screenNotification`) here, once, before any front sees it:
 * the fronts (HTTP GET streams, `subscriptions/listen`, stdio) only ever get what passed.
 */
import type { Logger } from 'pino';
import type { ChangeEvent } from '../gateway.ts';
import { screenNotification } from '../dlp/client-guard.ts';
import { MaskBook, type Dlp } from '../dlp/engine.ts';
import type { Catalog, ListKind } from '../routing/catalog.ts';
import type { createRecipients } from '../routing/recipients.ts';
import type { Upstream } from '../upstream/types.ts';

const LIST_CHANGED: ReadonlyMap<string, ListKind> = new Map([
  ['notifications/tools/list_changed', 'tools'],
  ['notifications/prompts/list_changed', 'prompts'],
  ['notifications/resources/list_changed', 'resources'],
]);

/** Subscribes to every upstream's events; returns how a front listens to the changes. */
export function wireChangeEvents(
  upstreams: ReadonlyMap<string, Upstream>,
  catalog: Catalog,
  recipientsOf: ReturnType<typeof createRecipients>,
  dlp: Dlp,
  logger: Logger,
): (listener: (event: ChangeEvent) => void) => () => void {
  const listeners = new Set<(event: ChangeEvent) => void>();
  for (const upstream of upstreams.values()) {
    upstream.onEvent((notification, to) => {
      const list = LIST_CHANGED.get(notification.method);
      if (list) catalog.invalidate(upstream.name, list);
      const audience = recipientsOf(upstream.name, notification, to);
      if (audience === undefined) return;
      const screened = screenNotification(dlp, notification, { server: upstream.name, tool: undefined }, new MaskBook());
      // No call record to hold them: findings go to the log (type, rule, path; never the value).
      if (screened.findings.length > 0) logger.warn({ server: upstream.name, dlp: screened.findings }, 'dlp findings in a server notification sent outside a call');
      if ('dropped' in screened) {
        logger.warn({ server: upstream.name }, `a server notification was dropped: ${screened.dropped}`);
        return;
      }
      const screenedNotification = screened.notification;
      const event: ChangeEvent = audience === 'everyone' ? { server: upstream.name, notification: screenedNotification } : { server: upstream.name, notification: screenedNotification, to: audience };
      for (const listener of listeners) listener(event);
    });
  }
  return function onChange(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
}
