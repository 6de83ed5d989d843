/**
 * Secrets in what a server lists (tools, prompts, resources, resource templates): a description that
 * carries a key, a resource URI with a token in it, a template with a presigned query. The supply-chain
 * review (src/supply) judges definitions for poisoning, not for credentials, and the listing goes to
 * the model like any result — so each listed item goes through DLP after the review, under the results
 * actions for its server: a secret (or personal data, or a pattern) is masked where the action is
 * `mask` (a masked name or URI can no longer be called or read: the item stays visible but unusable),
 * and an item holding one whose action is `block` is left out of the listing, with a log line saying
 * why. Injected instructions are the review's to judge (quarantine), not this screen's.
 */
import type { Logger } from 'pino';
import type { JsonObject } from '../protocol/jsonrpc.ts';
import type { ListKind } from '../routing/catalog.ts';
import type { Dlp } from './engine.ts';

export type ListingScreen = (server: string, kind: ListKind, items: JsonObject[]) => JsonObject[];

export function createListingScreen(dlp: Dlp, logger: Logger): ListingScreen {
  return function screenListing(server, kind, items) {
    let out: JsonObject[] | undefined;
    items.forEach((item, i) => {
      const inspected = dlp.inspect(item, { server, tool: kind === 'tools' && typeof item.name === 'string' ? item.name : undefined, direction: 'listing' });
      if ('refusal' in inspected) {
        logger.warn({ server, kind, index: i, findings: inspected.findings }, `a listed item was left out: ${inspected.refusal.message}`);
        out ??= items.slice(0, i);
        return;
      }
      if (inspected.changed || out) (out ??= items.slice(0, i)).push(inspected.value);
    });
    return out ?? items;
  };
}
