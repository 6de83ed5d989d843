/**
 * The `route` stage: decides whether a request may go anywhere, where, and with which governed target.
 *
 * 1. The method must be a client→server method of the negotiated protocol version, with params valid
 *    against that version's schema (src/protocol/methods.ts): anything else is refused here —
 *    `PC_ROUTE_UNKNOWN_METHOD` for names the version does not define for this direction (case or
 *    Unicode variants, server→client methods, other revisions' methods), -32602 for bad params. A name
 *    no MCP revision defines is a custom method: only on `/mcp/<server>`, and only when a rule names it
 *    (`methods:`, decided by authorize). Params holding a value the server could read otherwise than
 *    the gateway judges it (a NUL, a lone surrogate, a `__proto__` key, a number JSON cannot hold) are
 *    refused with `PC_ARGS_INVALID` (validate/unambiguous-values.ts).
 * 2. The target comes from the field the spec defines for the method (`name`, `uri`, `ref`, `taskId`),
 *    and the params forwarded are rebuilt from the judged values and the fields the version defines:
 *    what the server receives is what was judged (DESIGN.md invariant 2).
 * 3. On `/mcp` namespaced names and resource URIs are mapped back to their server; list requests
 *    become an aggregated listing; `logging/setLevel` goes to every server the caller may use. On
 *    `/mcp/<server>` a list carries only a cursor that server gave this caller (routing/cursors.ts).
 *    A modern retry's `requestState` is only one the gateway gave (routing/request-states.ts).
 * Methods the gateway answers itself (`ping`, `server/discover`) are routed locally.
 */
import { GatewayError, refusalOf } from '../../errors.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import { canonicalParams, checkParams, clientMethod, isSpecMethod, type MethodSpec } from '../../protocol/methods.ts';
import { checkResourceUri } from '../../protocol/resource-uri.ts';
import { SUPPORTED_VERSIONS, META_SERVER_INFO } from '../../protocol/versions.ts';
import { principalKey, type Principal } from '../../auth/principal.ts';
import { LIST_KIND_BY_METHOD, type Catalog } from '../../routing/catalog.ts';
import type { CursorBook } from '../../routing/cursors.ts';
import type { Describe } from '../../routing/describe.ts';
import { HANDLE_PREFIX, stateBinding, type RequestStateBook } from '../../routing/request-states.ts';
import { APPROVAL_STATE_PREFIX } from '../../approvals/in-band.ts';
import { judgedTask, unknownTask, type TaskRegistry } from '../../routing/tasks.ts';
import type { Upstream } from '../../upstream/types.ts';
import type { Endpoint, MessageContext, Route } from '../context.ts';
import { resumeRoute, STATE_PREFIX, type InputBridge } from '../input-bridge.ts';
import { then, type Maybe } from '../../util/maybe.ts';
import { checkUnambiguousValues } from '../../validate/unambiguous-values.ts';

export interface Description {
  capabilities: JsonObject;
  serverInfo: JsonObject;
  instructions: string | undefined;
}

export interface RouteOptions {
  upstreams: ReadonlyMap<string, Upstream>;
  catalog: Catalog;
  bridge: InputBridge;
  /** Who owns which task (routing/tasks.ts): a task follow-up is governed as its owner's tool. */
  tasks: TaskRegistry;
  /** The list cursors servers gave each caller: the only cursors a list may carry (routing/cursors.ts). */
  cursors: CursorBook;
  /** The requestStates modern servers gave each caller: a retry may carry only their handles (routing/request-states.ts). */
  states: RequestStateBook;
  describe: Describe;
  timeoutMsFor: (server: string | undefined) => number;
}

type Upstreamed = Extract<Route, { kind: 'upstream' }>;

export function createRoute(options: RouteOptions): (ctx: MessageContext) => Maybe<GatewayError | undefined> {
  const { upstreams, catalog, bridge, tasks, cursors, states, describe, timeoutMsFor } = options;

  const discover = (endpoint: Endpoint, caller: Principal) => async (): Promise<JsonObject> => {
    const d = await describe(endpoint, caller);
    const result: JsonObject = {
      supportedVersions: [...SUPPORTED_VERSIONS],
      capabilities: d.capabilities,
      _meta: { [META_SERVER_INFO]: d.serverInfo },
    };
    if (d.instructions) result.instructions = d.instructions;
    return result;
  };

  /** A name no revision defines: a custom method, forwarded untouched only where a rule names it. */
  function custom(ctx: MessageContext): Route | GatewayError {
    const { method } = ctx.request;
    const shown = JSON.stringify(method);
    if (isSpecMethod(method) || ctx.endpoint.kind !== 'server') {
      const why = isSpecMethod(method)
        ? `${shown} is not a client→server method of protocol version ${ctx.client.protocolVersion}`
        : `${shown} is not an MCP method; custom methods are served only on /mcp/<server>, when a policy rule names them (methods:)`;
      return new GatewayError('PC_ROUTE_UNKNOWN_METHOD', `Method not found: ${why}`, { method });
    }
    const unclear = checkUnambiguousValues(method, ctx.request.params);
    if (unclear) return unclear;
    return { kind: 'upstream', server: ctx.endpoint.server, method, params: ctx.request.params, name: method, target: { kind: 'method', name: method } };
  }

  function toolOrPrompt(ctx: MessageContext, spec: MethodSpec, server: string | undefined): Maybe<Upstreamed | GatewayError> {
    const { method } = ctx.request;
    const params = ctx.request.params!;
    const kind = spec.target === 'tool' ? 'tools' : 'prompts';
    const exposed = params.name as string;
    const routed = (found: { server: string; name: string } | undefined): Upstreamed | GatewayError => {
      if (!found) {
        const what = kind === 'tools' ? 'tool' : 'prompt';
        return new GatewayError(kind === 'tools' ? 'PC_ROUTE_UNKNOWN_TOOL' : 'PC_ROUTE_UNKNOWN_PROMPT', `Unknown ${what}: "${exposed}" (see ${kind}/list)`, { name: exposed });
      }
      const target = { kind: spec.target as 'tool' | 'prompt', name: found.name };
      const judged: JsonObject = { name: found.name };
      if (isObject(params.task)) judged.task = judgedTask(params.task, tasks.maxTtlMs);
      return { kind: 'upstream', server: found.server, method, params: canonicalParams(spec, params, judged), name: found.name, target };
    };
    return server !== undefined ? routed({ server, name: exposed }) : then(catalog.resolveNameNow(kind, exposed, timeoutMsFor(undefined)), routed);
  }

  function completion(ctx: MessageContext, spec: MethodSpec, server: string | undefined): Maybe<Upstreamed | GatewayError> {
    const params = ctx.request.params!;
    const ref = params.ref as JsonObject;
    const timeoutMs = timeoutMsFor(undefined);
    if (ref.type === 'ref/prompt') {
      const exposed = ref.name as string;
      const routed = (found: { server: string; name: string } | undefined): Upstreamed | GatewayError => {
        if (!found) return new GatewayError('PC_ROUTE_UNKNOWN_PROMPT', `Unknown prompt: "${exposed}" (see prompts/list)`, { name: exposed });
        // The reference is rebuilt from what was judged (a display `title` is not needed to complete).
        const judged: JsonObject = { type: 'ref/prompt', name: found.name };
        return { kind: 'upstream', server: found.server, method: spec.method, params: canonicalParams(spec, params, { ref: judged }), name: found.name, target: { kind: 'prompt', name: found.name, via: 'completion' } };
      };
      return server !== undefined ? routed({ server, name: exposed }) : then(catalog.resolveNameNow('prompts', exposed, timeoutMs), routed);
    }
    const uri = ref.uri as string;
    const routed = (owner: string): Upstreamed => ({ kind: 'upstream', server: owner, method: spec.method, params: canonicalParams(spec, params, { ref: { type: 'ref/resource', uri } }), name: uri, target: { kind: 'resource', name: uri, via: 'completion' } });
    if (server !== undefined) return routed(server);
    return (async () => routed((await catalog.resolveTemplate(uri, timeoutMs)) ?? (await catalog.resolveUri(uri, timeoutMs))))();
  }

  function resolve(ctx: MessageContext, spec: MethodSpec): Maybe<Route | GatewayError> {
    const { method } = ctx.request;
    const params = ctx.request.params;
    const server = ctx.endpoint.kind === 'server' ? ctx.endpoint.server : undefined;
    switch (spec.target) {
      case 'local':
        if (method === 'ping') return { kind: 'local', answer: () => ({}) };
        if (method === 'server/discover') return { kind: 'local', answer: discover(ctx.endpoint, ctx.principal) };
        return new GatewayError('PC_PROTOCOL_INVALID_REQUEST', `${method} is handled by the transport once per connection, not as a call`, { method });
      case 'tool':
      case 'prompt':
        return toolOrPrompt(ctx, spec, server);
      case 'resource': {
        const uri = params!.uri as string;
        // Judged only in canonical form, so the rules, the listing check and the server read one URI.
        const unclear = checkResourceUri(uri);
        if (unclear) return unclear;
        const routed = (owner: string): Route => ({ kind: 'upstream', server: owner, method, params: canonicalParams(spec, params, { uri }), name: uri, target: { kind: 'resource', name: uri } });
        return server !== undefined ? routed(server) : catalog.resolveUri(uri, timeoutMsFor(undefined)).then(routed);
      }
      case 'completion':
        return completion(ctx, spec, server);
      case 'task': {
        // Governed as the caller's own task and the tool that started it (routing/tasks.ts owns who
        // owns what); another principal's id, an expired one and one that never existed read the same.
        const taskId = params!.taskId as string;
        const principal = principalKey(ctx.principal);
        const candidates = server !== undefined ? [server] : [...upstreams.keys()];
        const found = candidates.map((s) => tasks.lookup(s, taskId, principal)).find((entry) => entry !== undefined);
        if (!found) {
          tasks.unknownLookups += 1;
          return unknownTask(taskId);
        }
        return { kind: 'upstream', server: found.server, method, params: canonicalParams(spec, params, { taskId }), name: found.tool, target: { kind: 'tool', name: found.tool, via: 'task' } };
      }
      case 'list': {
        if (server !== undefined) {
          const cursor = params?.cursor;
          // The client holds the gateway's cursor; the server gets back its own (routing/cursors.ts).
          const serverCursor = typeof cursor === 'string' ? cursors.redeem(server, principalKey(ctx.principal), cursor) : undefined;
          if (cursor !== undefined && serverCursor === undefined) {
            return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `params.cursor is not a cursor server "${server}" gave you (or it was forgotten); list again without one`, { method });
          }
          const forwarded = serverCursor === undefined ? params : { ...params, cursor: serverCursor };
          return { kind: 'upstream', server, method, params: canonicalParams(spec, forwarded), name: undefined, target: { kind: 'list' } };
        }
        const list = LIST_KIND_BY_METHOD.get(method);
        if (!list) return new GatewayError('PC_PROTOCOL_METHOD_NOT_FOUND', `Method not found: "${method}" is served only on /mcp/<server>`, { method });
        return { kind: 'aggregate-list', list, cursor: params?.cursor as string | undefined };
      }
      case 'server':
        if (server !== undefined) return { kind: 'upstream', server, method, params: canonicalParams(spec, params), name: undefined, target: { kind: 'server' } };
        return { kind: 'broadcast', method, params: canonicalParams(spec, params), servers: [...upstreams.keys()] };
    }
  }


  return function route(ctx) {
    const { method } = ctx.request;
    const params = ctx.request.params;
    if (ctx.endpoint.kind === 'server' && !upstreams.has(ctx.endpoint.server)) return new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${ctx.endpoint.server}"`);
    const spec = clientMethod(ctx.client.protocolVersion, method);
    if (!spec || spec.notification) return settle(ctx, custom(ctx));
    const invalid = checkParams(spec, ctx.client.protocolVersion, params) ?? checkUnambiguousValues(method, params);
    if (invalid) return invalid;
    let resolved: Maybe<Route | GatewayError>;
    try {
      resolved = resolve(ctx, spec);
    } catch (error) {
      return refusalOf(error);
    }
    return resolved instanceof Promise ? resolved.then((r) => settle(ctx, r), refusalOf) : settle(ctx, resolved);
  };

  /** The route with the server's own requestState in place of the handle the client sent back. */
  function restoreState(ctx: MessageContext, resolved: Upstreamed, handle: unknown): Upstreamed | GatewayError {
    if (typeof handle !== 'string' || !handle.startsWith(HANDLE_PREFIX)) {
      return new GatewayError('PC_INPUT_STATE_INVALID', 'requestState is not one this gateway gave; send back the requestState of the input_required result unchanged, or start the call again');
    }
    const held = states.redeem(handle, stateBinding(principalKey(ctx.principal), resolved.server, resolved.method, ctx.request.params));
    if (held instanceof GatewayError) return held;
    return { ...resolved, params: { ...resolved.params, requestState: held.state } };
  }

  function settle(ctx: MessageContext, resolved: Route | GatewayError): GatewayError | undefined {
    if (resolved instanceof GatewayError) return resolved;
    const params = ctx.request.params;

    // A retry carrying our own requestState resumes a parked call (era translation) — only the caller
    // that started it, with the same call. An approval's state is the approve stage's to take. Any
    // other must be a handle the gateway gave for a modern server's state (routing/request-states.ts),
    // exchanged here for the server's own: a state the client made up never reaches a server.
    const state = params?.requestState;
    if (typeof state === 'string' && state.startsWith(STATE_PREFIX)) resolved = resumeRoute(bridge, ctx, resolved, state);
    else if (state !== undefined && resolved.kind === 'upstream' && !(typeof state === 'string' && state.startsWith(APPROVAL_STATE_PREFIX))) {
      resolved = restoreState(ctx, resolved, state);
    }
    if (resolved instanceof GatewayError) return resolved;
    ctx.route = resolved;
    return undefined;
  }
}
