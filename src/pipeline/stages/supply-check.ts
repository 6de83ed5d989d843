/**
 * The `supplyCheck` stage: refuses calls to a tool or prompt the supply-chain guard quarantined. The
 * server's definitions are reviewed first if they have not been yet (a client may call without listing).
 */
import { GatewayError } from '../../errors.ts';
import type { Catalog } from '../../routing/catalog.ts';
import type { SupplyGuard } from '../../supply/guard.ts';
import type { MessageContext } from '../context.ts';

export interface SupplyCheckOptions {
  supply: SupplyGuard;
  catalog: Catalog;
  timeoutMsFor: (server: string | undefined) => number;
}

export function createSupplyCheck(options: SupplyCheckOptions): (ctx: MessageContext) => Promise<GatewayError | undefined> {
  const { supply, catalog, timeoutMsFor } = options;
  return async function supplyCheck(ctx) {
    const route = ctx.route;
    if (route?.kind !== 'upstream' || route.name === undefined) return undefined;
    const kind = route.method === 'tools/call' ? 'tools' : route.method === 'prompts/get' ? 'prompts' : undefined;
    if (!kind) return undefined;
    const items = await catalog.list(route.server, kind, timeoutMsFor(route.server)).catch(() => undefined);
    // The definition is needed again by authorize and validateArgs: found once, here.
    if (kind === 'tools' && items) ctx.tool ??= items.find((t) => t.name === route.name);
    const reason = supply.quarantined(route.server, kind, route.name);
    if (!reason) return undefined;
    return new GatewayError('PC_SUPPLY_QUARANTINED', `${kind === 'tools' ? 'tool' : 'prompt'} "${route.name}" of server "${route.server}" is quarantined: ${reason}; an admin can review it with \`portcullis pin diff ${route.server}\``, {
      server: route.server,
      name: route.name,
    });
  };
}
