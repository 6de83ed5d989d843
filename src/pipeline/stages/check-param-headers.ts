/**
 * The `checkParamHeaders` stage: for `tools/call`, finds the routed tool's definition and, when the
 * client sent its request over modern HTTP, checks every `Mcp-Param-*` header against the argument it
 * mirrors (spec 2026-07-28 streamable-http §Server Validation: 400 + -32020 on any mismatch, a missing
 * header for a present value, or invalid Base64). The definition stays on the context for the stages
 * after it (and for `forward`, which writes the headers for modern servers).
 *
 * Not checked: tools the server does not list (the server answers those itself), and requests from
 * fronts that carry no headers (legacy HTTP, stdio), where nothing can disagree with the body.
 */
import { GatewayError, refusalOf } from '../../errors.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import { checkParamHeaders, paramHeaders } from '../../protocol/param-headers.ts';
import type { Catalog } from '../../routing/catalog.ts';
import type { Upstream } from '../../upstream/types.ts';
import type { MessageContext } from '../context.ts';
import type { Maybe } from '../../util/maybe.ts';

export interface CheckParamHeadersOptions {
  upstreams: ReadonlyMap<string, Upstream>;
  catalog: Catalog;
  timeoutMsFor: (server: string | undefined) => number;
}

export function createCheckParamHeaders(options: CheckParamHeadersOptions): (ctx: MessageContext) => Maybe<GatewayError | undefined> {
  const { upstreams, catalog, timeoutMsFor } = options;
  return function checkHeaders(ctx) {
    const route = ctx.route;
    if (route?.kind !== 'upstream' || route.method !== 'tools/call' || route.name === undefined) return undefined;
    const modernServer = upstreams.get(route.server)?.info()?.era === 'modern';
    if (ctx.paramHeaders === undefined && !modernServer) return undefined;
    let tools: Maybe<JsonObject[]>;
    try {
      // Fail closed: headers that cannot be checked are not trusted.
      tools = catalog.listNow(route.server, 'tools', timeoutMsFor(route.server));
    } catch (error) {
      return refusalOf(error);
    }
    return tools instanceof Promise ? tools.then((t) => check(ctx, t), refusalOf) : check(ctx, tools);
  };

  function check(ctx: MessageContext, tools: JsonObject[]): GatewayError | undefined {
    const route = ctx.route as Extract<MessageContext['route'], { kind: 'upstream' }>;
    const tool = tools.find((t) => t.name === route.name);
    if (!tool) return undefined;
    ctx.tool = tool;
    if (ctx.paramHeaders === undefined) return undefined;
    const args = isObject(route.params?.arguments) ? route.params.arguments : {};
    const problem = checkParamHeaders(paramHeaders(tool.inputSchema), args, ctx.paramHeaders);
    return problem ? new GatewayError('PC_PROTOCOL_HEADER_MISMATCH', problem) : undefined;
  }
}
