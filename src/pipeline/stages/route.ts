/**
 * The `route` stage: decides where a request goes. On `/mcp/<server>` everything goes to that server
 * unchanged (custom methods included); on `/mcp` namespaced names and resource URIs are mapped back to
 * their server, and list requests become an aggregated listing. Methods the gateway answers itself
 * (`ping`, `server/discover`) are routed locally.
 */
import { GatewayError } from '../../errors.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import { SUPPORTED_VERSIONS, META_SERVER_INFO } from '../../protocol/versions.ts';
import { LIST_KIND_BY_METHOD, type Catalog } from '../../routing/catalog.ts';
import type { Upstream } from '../../upstream/types.ts';
import type { Endpoint, MessageContext, Route } from '../context.ts';
import { resumeRoute, STATE_PREFIX, type InputBridge } from '../input-bridge.ts';

export interface Description {
  capabilities: JsonObject;
  serverInfo: JsonObject;
  instructions: string | undefined;
}

export interface RouteOptions {
  upstreams: ReadonlyMap<string, Upstream>;
  catalog: Catalog;
  bridge: InputBridge;
  describe: (endpoint: Endpoint) => Promise<Description>;
  timeoutMsFor: (server: string | undefined) => number;
}

export function createRoute(options: RouteOptions): (ctx: MessageContext) => Promise<GatewayError | undefined> {
  const { upstreams, catalog, bridge, describe, timeoutMsFor } = options;

  const discover = (endpoint: Endpoint) => async (): Promise<JsonObject> => {
    const d = await describe(endpoint);
    const result: JsonObject = {
      supportedVersions: [...SUPPORTED_VERSIONS],
      capabilities: d.capabilities,
      _meta: { [META_SERVER_INFO]: d.serverInfo },
    };
    if (d.instructions) result.instructions = d.instructions;
    return result;
  };

  async function resolveAggregate(ctx: MessageContext): Promise<Route | GatewayError> {
    const { method } = ctx.request;
    const params = ctx.request.params;
    const timeoutMs = timeoutMsFor(undefined);
    const list = LIST_KIND_BY_METHOD.get(method);
    if (list) {
      const cursor = params?.cursor;
      if (cursor !== undefined && typeof cursor !== 'string') {
        return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `params.cursor must be a string (got ${typeof cursor})`);
      }
      return { kind: 'aggregate-list', list, cursor };
    }
    if (method === 'tools/call' || method === 'prompts/get') {
      const kind = method === 'tools/call' ? 'tools' : 'prompts';
      const name = params?.name;
      if (typeof name !== 'string') return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `params.name must be a string naming the ${kind === 'tools' ? 'tool' : 'prompt'}`);
      const found = await catalog.resolveName(kind, name, timeoutMs);
      if (!found) {
        return new GatewayError(kind === 'tools' ? 'PC_ROUTE_UNKNOWN_TOOL' : 'PC_ROUTE_UNKNOWN_PROMPT', `Unknown ${kind === 'tools' ? 'tool' : 'prompt'}: "${name}" (see ${method === 'tools/call' ? 'tools/list' : 'prompts/list'})`, {
          name,
        });
      }
      return { kind: 'upstream', server: found.server, method, params: { ...params, name: found.name }, name: found.name };
    }
    if (method === 'resources/read' || method === 'resources/subscribe' || method === 'resources/unsubscribe') {
      const uri = params?.uri;
      if (typeof uri !== 'string') return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', 'params.uri must be a string');
      const server = await catalog.resolveUri(uri, timeoutMs);
      return { kind: 'upstream', server, method, params, name: uri };
    }
    if (method === 'completion/complete') {
      const ref = isObject(params?.ref) ? params.ref : undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
        const found = await catalog.resolveName('prompts', ref.name, timeoutMs);
        if (!found) return new GatewayError('PC_ROUTE_UNKNOWN_PROMPT', `Unknown prompt: "${ref.name}"`, { name: ref.name });
        return { kind: 'upstream', server: found.server, method, params: { ...params, ref: { ...ref, name: found.name } }, name: undefined };
      }
      if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
        const server = (await catalog.resolveTemplate(ref.uri, timeoutMs)) ?? (await catalog.resolveUri(ref.uri, timeoutMs));
        return { kind: 'upstream', server, method, params, name: undefined };
      }
      return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', 'params.ref must be {type:"ref/prompt", name} or {type:"ref/resource", uri}');
    }
    if (method === 'logging/setLevel') return { kind: 'broadcast', method, params };
    return new GatewayError('PC_PROTOCOL_METHOD_NOT_FOUND', `Method not found: "${method}" is not served on the aggregated endpoint /mcp`, { method });
  }

  return async function route(ctx) {
    const { method } = ctx.request;
    const params = ctx.request.params;
    let resolved: Route | GatewayError;
    if (method === 'ping') resolved = { kind: 'local', answer: () => ({}) };
    else if (method === 'server/discover') resolved = { kind: 'local', answer: discover(ctx.endpoint) };
    else if (ctx.endpoint.kind === 'server') {
      const server = ctx.endpoint.server;
      if (!upstreams.has(server)) return new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${server}"`);
      const name = typeof params?.name === 'string' ? params.name : typeof params?.uri === 'string' ? params.uri : undefined;
      resolved = { kind: 'upstream', server, method, params, name };
    } else {
      try {
        resolved = await resolveAggregate(ctx);
      } catch (error) {
        if (error instanceof GatewayError) return error;
        throw error;
      }
    }
    if (resolved instanceof GatewayError) return resolved;

    // A retry carrying our own requestState resumes a parked call (era translation) — only the caller
    // that started it, with the same call; any other requestState belongs to the server and travels
    // with the request untouched.
    const state = params?.requestState;
    if (typeof state === 'string' && state.startsWith(STATE_PREFIX)) resolved = resumeRoute(bridge, ctx, resolved, state);
    if (resolved instanceof GatewayError) return resolved;
    ctx.route = resolved;
    return undefined;
  };
}
