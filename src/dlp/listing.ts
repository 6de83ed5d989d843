/**
 * Secrets in what a server lists (tools, prompts, resources, resource templates): a description that
 * carries a key, a resource URI with a token in it, a template with a presigned query. The supply-chain
 * review (src/supply) judges definitions for poisoning, not for credentials, and the listing goes to
 * the model like any result — so each listed item goes through DLP after the review, under the results
 * actions for its server: a secret (or personal data, or a pattern) is masked where the action is
 * `mask` (a masked name or URI can no longer be called or read: the item stays visible but unusable),
 * and an item holding one whose action is `block` is left out of the listing, with a log line saying
 * why. Injected instructions are the review's to judge (quarantine), not this screen's; an icon whose
 * address carries data (fetch-sinks.ts) is left out, as in a server's serverInfo.
 */
import type { Logger } from 'pino';
import type { JsonObject } from '../protocol/jsonrpc.ts';
import type { ListKind } from '../routing/catalog.ts';
import type { Dlp } from './engine.ts';
import { withoutDataIcons } from './fetch-sinks.ts';

export type ListingScreen = (server: string, kind: ListKind, items: JsonObject[]) => JsonObject[];

/**
 * A listing is screened again every time the catalog fetches it — every few seconds for a server that
 * does not declare `listChanged` (src/routing/catalog.ts) — though it rarely changes. So the items of
 * the last listing of each server and kind that DLP found clean (no finding, nothing changed) are kept
 * by their JSON text, and the same item listed again is not inspected again: the same text under the
 * same server and name gets the same verdict (DLP's rules and actions are fixed while the gateway
 * runs). An item with any finding is inspected every time, as before, so its findings are counted
 * and logged each time. The kept set is replaced by each listing: it holds one listing's items.
 */
export function createListingScreen(dlp: Dlp, logger: Logger): ListingScreen {
  const cleanItems = new Map<string, Set<string>>();
  return function screenListing(server, kind, items) {
    let out: JsonObject[] | undefined;
    const key = `${server}\0${kind}`;
    const before = cleanItems.get(key);
    const clean = new Set<string>();
    items.forEach((item, i) => {
      const text = JSON.stringify(item);
      if (before?.has(text)) {
        clean.add(text);
        out?.push(item);
        return;
      }
      const inspected = dlp.inspect(item, { server, tool: kind === 'tools' && typeof item.name === 'string' ? item.name : undefined, direction: 'listing' });
      if ('refusal' in inspected) {
        logger.warn({ server, kind, index: i, findings: inspected.findings }, `a listed item was left out: ${inspected.refusal.message}`);
        out ??= items.slice(0, i);
        return;
      }
      // An icon is fetched by the client on its own (red team M, M7): one whose address carries data is left out.
      const value = withoutDataIcons(inspected.value);
      const changed = inspected.changed || value !== inspected.value;
      if (!changed && inspected.findings.length === 0) clean.add(text);
      if (changed || out) (out ??= items.slice(0, i)).push(value);
    });
    cleanItems.set(key, clean);
    return out ?? items;
  };
}
