/**
 * The `supplyCheck` stage: a call may use only what the server listed and the supply-chain guard
 * reviewed. A tool or prompt must be in the server's reviewed listing; a resource URI must be listed or
 * match a listed, reviewed template; a completion must refer to a listed prompt or template. What the
 * guard quarantined is refused with `PC_SUPPLY_QUARANTINED`; what the server never listed (a server
 * can serve items it does not list, and they would reach the model unreviewed) with the code an
 * unknown name gets on `/mcp`, `PC_ROUTE_UNKNOWN_TOOL` / `_PROMPT` / `_RESOURCE`; and everything
 * pinned with `PC_SUPPLY_PINS_INVALID` while the pins file is untrusted.
 * The listing is fetched (and reviewed) first if it has not been yet: a client may call without listing.
 */
import type { Logger } from 'pino';
import { GatewayError, refusalOf } from '../../errors.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import { matchesTemplate, type Catalog, type ListKind } from '../../routing/catalog.ts';
import type { ReviewKind, SupplyGuard } from '../../supply/guard.ts';
import type { MessageContext, Route } from '../context.ts';
import { then, type Maybe } from '../../util/maybe.ts';

export interface SupplyCheckOptions {
  supply: SupplyGuard;
  catalog: Catalog;
  timeoutMsFor: (server: string | undefined) => number;
  logger: Logger;
}

/** What a call uses that a listing must have shown. */
type Target =
  | { kind: 'tools' | 'prompts'; name: unknown }
  | { kind: 'resource'; uri: unknown }
  /** completion/complete with ref/resource: a template (or a listed resource). */
  | { kind: 'template-ref'; uri: unknown };

function targetOf(route: Extract<Route, { kind: 'upstream' }>): Target | undefined {
  const params = route.params;
  switch (route.method) {
    case 'tools/call':
      return { kind: 'tools', name: params?.name };
    case 'prompts/get':
      return { kind: 'prompts', name: params?.name };
    case 'resources/read':
    case 'resources/subscribe':
      return { kind: 'resource', uri: params?.uri };
    case 'completion/complete': {
      const ref = isObject(params?.ref) ? params.ref : undefined;
      if (ref?.type === 'ref/prompt') return { kind: 'prompts', name: ref.name };
      if (ref?.type === 'ref/resource') return { kind: 'template-ref', uri: ref.uri };
      return undefined;
    }
    default:
      return undefined;
  }
}

const NOUN: Readonly<Record<Target['kind'], string>> = { tools: 'tool', prompts: 'prompt', resource: 'resource', 'template-ref': 'resource template' };

export function createSupplyCheck(options: SupplyCheckOptions): (ctx: MessageContext) => Maybe<GatewayError | undefined> {
  const { supply, catalog, timeoutMsFor, logger } = options;

  /** The reviewed listing: at once when cached, else once fetched; a GatewayError when it cannot be had. */
  function listed(server: string, kind: ListKind): Maybe<JsonObject[] | GatewayError> {
    try {
      const items = catalog.listNow(server, kind, timeoutMsFor(server));
      return items instanceof Promise ? items.catch(refusalOf) : items;
    } catch (error) {
      return refusalOf(error);
    }
  }

  /** Whether the target is in the reviewed listings; a GatewayError when they cannot be had (fail closed). */
  function isListed(ctx: MessageContext, server: string, target: Target): Maybe<boolean | GatewayError> {
    if ('name' in target) {
      return then(listed(server, target.kind), (items) => {
        if (items instanceof GatewayError) return items;
        const found = items.find((i) => i.name === target.name);
        // The definition is needed again by authorize and validateArgs: found once, here.
        if (found && target.kind === 'tools') ctx.tool ??= found;
        return found !== undefined;
      });
    }
    const uri = target.uri;
    if (typeof uri !== 'string') return false;
    return then(listed(server, 'resourceTemplates'), (templates) => {
      if (templates instanceof GatewayError) return templates;
      if (target.kind === 'template-ref' && templates.some((t) => t.uriTemplate === uri)) return true;
      if (target.kind === 'resource' && templates.some((t) => typeof t.uriTemplate === 'string' && matchesTemplate(t.uriTemplate, uri))) return true;
      return then(listed(server, 'resources'), (resources) => (resources instanceof GatewayError ? resources : resources.some((r) => r.uri === uri)));
    });
  }

  return function supplyCheck(ctx) {
    const route = ctx.route;
    if (route?.kind !== 'upstream') return undefined;
    const target = targetOf(route);
    if (!target) return undefined;
    const server = route.server;
    const mode = supply.mode(server);
    if (mode === 'allow') return undefined;
    return then(isListed(ctx, server, target), (found) => judge(route, server, mode, target, found));
  };

  function judge(route: Extract<Route, { kind: 'upstream' }>, server: string, mode: ReturnType<SupplyGuard['mode']>, target: Target, found: boolean | GatewayError): GatewayError | undefined {
    if (found instanceof GatewayError) return found;
    const name = 'name' in target ? target.name : target.uri;
    const quarantineKind: ReviewKind | undefined = target.kind === 'tools' || target.kind === 'prompts' ? target.kind : target.kind === 'resource' ? 'resources' : undefined;
    // Asked before the listing's answer: the guard's latest review of this definition (any listing,
    // any endpoint) outranks a listing cached before it, so a definition held a moment ago is refused
    // even by a call that raced the catalog's refresh.
    const reason = quarantineKind && typeof name === 'string' && mode === 'quarantine' ? supply.quarantined(server, quarantineKind, name) : undefined;
    if (found && reason === undefined) return undefined;
    const shown = typeof name === 'string' ? name : JSON.stringify(name ?? null);
    // What the spec's errors carry: the name, or the URI (SEP-2164: a resource not found names its uri).
    const about = 'name' in target ? { server, name: shown } : { server, uri: shown };
    const what = `${NOUN[target.kind]} "${shown}" of server "${server}"`;
    const pinsProblem = target.kind === 'resource' ? undefined : supply.pinsProblem();
    if (pinsProblem !== undefined && mode === 'quarantine') {
      return new GatewayError('PC_SUPPLY_PINS_INVALID', `${what} cannot be served: the pins file failed its integrity check; an admin can check it with \`portcullis pin verify\``, { server });
    }
    if (reason !== undefined) {
      return new GatewayError('PC_SUPPLY_QUARANTINED', `${what} is quarantined: ${reason}; an admin can review it with \`portcullis pin diff ${server}\``, about);
    }
    if (mode === 'warn') {
      logger.warn({ alert: 'supply-chain', server, method: route.method, name: shown }, 'call to something the server never listed (warn mode: forwarded)');
      return undefined;
    }
    return notListed(target.kind, server, shown);
  }
}

/**
 * The refusal for what the server never listed. Authorize answers a completion for a prompt or template
 * the policy hides from the caller with the same refusal, so that hidden and missing read the same.
 */
export function notListed(kind: Target['kind'], server: string, shown: string): GatewayError {
  // The same codes as an unknown name on /mcp (and -32602, as the spec answers an unknown tool, prompt or resource).
  const code = kind === 'tools' ? 'PC_ROUTE_UNKNOWN_TOOL' : kind === 'prompts' ? 'PC_ROUTE_UNKNOWN_PROMPT' : 'PC_ROUTE_UNKNOWN_RESOURCE';
  const listing = kind === 'tools' ? 'tools/list' : kind === 'prompts' ? 'prompts/list' : 'resources/list or resources/templates/list';
  // What the spec's errors carry: the name, or the URI (SEP-2164: a resource not found names its uri).
  const about = kind === 'tools' || kind === 'prompts' ? { server, name: shown } : { server, uri: shown };
  return new GatewayError(code, `${NOUN[kind]} "${shown}" of server "${server}" was never listed by the server, so it was never reviewed; only what ${listing} shows can be used`, about);
}
