/**
 * The `forward` stage: sends the routed request to its server and shapes the answer for the client's
 * era. Era translation lives here: the modern envelope is stripped for legacy servers; a legacy server's
 * mid-call requests become `input_required` results for modern clients (via the input bridge); a modern
 * server's `input_required` results become real requests to legacy clients. Task ownership is enforced
 * here, right before the server: a `tasks/*` request names only the caller's own tasks, a task a call
 * creates becomes the caller's, and `tasks/list` shows the caller's own (routing/tasks.ts).
 */
import { withPlainVersion } from '../../routing/describe.ts';
import { storableText } from '../../audit/storable.ts';
import { principalKey } from '../../auth/principal.ts';
import { ERROR_MAP, GatewayError } from '../../errors.ts';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import { headersForCall, paramHeaders } from '../../protocol/param-headers.ts';
import { paramsForServer } from '../../protocol/methods.ts';
import { META_SERVER_INFO, MODERN_ENVELOPE_KEYS } from '../../protocol/versions.ts';
import { LIST_KIND_BY_METHOD, type Catalog, type ListKind } from '../../routing/catalog.ts';
import type { CursorBook } from '../../routing/cursors.ts';
import { stateBinding, type RequestStateBook } from '../../routing/request-states.ts';
import type { Subscribed, SubscriptionRegistry } from '../../routing/subscriptions.ts';
import { checkTaskRequest, ownTaskResult, takesTaskCalls, type TaskRegistry } from '../../routing/tasks.ts';
import type { ReviewKind, SupplyGuard } from '../../supply/guard.ts';
import type { ListingScreen } from '../../dlp/listing.ts';
import type { ServerInfoScreen } from '../../dlp/instructions.ts';
import { LIST_TARGET } from './governed.ts';
import { ServerRequestRefused, type CallOptions, type ServerRequest, type Upstream, type UpstreamReply } from '../../upstream/types.ts';
import type { ClientLink, MessageContext, Outcome, Route } from '../context.ts';
import { bindingFor, BridgedCall, cancelParked, type InputBridge, type ParkedCall } from '../input-bridge.ts';

export interface ForwardOptions {
  upstreams: ReadonlyMap<string, Upstream>;
  catalog: Catalog;
  bridge: InputBridge;
  pageSize: number;
  timeoutMsFor: (server: string | undefined) => number;
  subscriptions: SubscriptionRegistry;
  supply: SupplyGuard;
  /** Secrets in listed items masked (src/dlp/listing.ts), after the review. */
  screenListing: ListingScreen;
  /** The serverInfo stamped on a modern result, screened like initialize's (src/dlp/instructions.ts). */
  screenServerInfo: ServerInfoScreen;
  tasks: TaskRegistry;
  /** Where the list cursors a server gives a caller are noted (the only ones the caller may send back). */
  cursors: CursorBook;
  /** Where a modern server's requestState is kept while the client holds the gateway's handle for it. */
  states: RequestStateBook;
  /**
   * Which upstream session state such as subscriptions lives in for `principal` on `server`: '' for a
   * shared session, the principal for a per-principal one.
   */
  sessionScope: (server: string, principal: string) => string;
}

/** Errors after which the server may still be working on the request: the gateway only stopped waiting. */
const ABANDONED: ReadonlySet<string> = new Set(['PC_REQUEST_CANCELLED', 'PC_UPSTREAM_TIMEOUT', 'PC_KILL_SWITCH']);

const REVIEWED_LISTS: Readonly<Record<string, ReviewKind>> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};

/** Rounds of `input_required` a legacy client is walked through before the gateway gives up. */
const MAX_INPUT_ROUNDS = 8;

const CAPABILITY_FOR: Readonly<Record<string, string>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * Whether a server→client request may reach the client; undefined when it may, else why not. Only the
 * methods the spec defines server→client pass (sampling/createMessage, elicitation/create, roots/list,
 * each only to a client that declared its capability; ping needs none): a server must not drive any
 * other method (tools/call, resources/read, a custom one) at a client that may itself serve them.
 */
export function missingCapability(capabilities: JsonObject, request: ServerRequest): string | undefined {
  if (request.method === 'ping') return undefined;
  const needed = CAPABILITY_FOR[request.method];
  if (!needed) return `${JSON.stringify(storableText(request.method, 128))} is not a request a server may send a client (only ${Object.keys(CAPABILITY_FOR).join(', ')} and ping)`;
  const declared = capabilities[needed];
  if (!isObject(declared)) return `the client did not declare the "${needed}" capability`;
  if (request.method === 'elicitation/create' && request.params?.mode === 'url' && !isObject(declared.url)) {
    return 'the client did not declare URL-mode elicitation';
  }
  return undefined;
}

function stripModernEnvelope(params: JsonObject | undefined): JsonObject | undefined {
  if (!params || !isObject(params._meta)) return params;
  const meta: JsonObject = {};
  for (const [key, value] of Object.entries(params._meta)) if (!MODERN_ENVELOPE_KEYS.includes(key)) meta[key] = value;
  const { _meta: _drop, ...rest } = params;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}

/**
 * `Mcp-Param-*` headers for a modern server: only those the gateway derives from the tool's schema and
 * the arguments it forwards. A client's header that no declared parameter backs is dropped, never
 * relayed: a router in front of the server must not act on a value the gateway did not judge.
 */
function upstreamParamHeaders(ctx: MessageContext, params: JsonObject | undefined): Record<string, string> | undefined {
  const derived = ctx.tool && isObject(params?.arguments) ? headersForCall(paramHeaders(ctx.tool.inputSchema), params.arguments) : {};
  return Object.keys(derived).length > 0 ? derived : undefined;
}

function toOutcome(reply: UpstreamReply): Outcome {
  return 'error' in reply ? { upstreamError: reply.error } : { result: reply.result };
}

function failed(error: unknown): Outcome {
  if (error instanceof GatewayError) return { error };
  throw error;
}

/** Adds what the modern era requires of a result, and removes it for legacy clients. */
export function shapeForEra(result: JsonObject, client: ClientLink, method: string): JsonObject {
  if (client.era === 'modern') {
    const shaped: JsonObject = { ...result };
    shaped.resultType ??= 'complete';
    // Caching hints are required on list, discover and read results (spec 2026-07-28 SEP-2549).
    if (method.endsWith('/list') || method === 'server/discover' || method === 'resources/read') {
      shaped.ttlMs ??= 0;
      shaped.cacheScope ??= 'private';
    }
    return shaped;
  }
  if (!('resultType' in result) && !('ttlMs' in result) && !('cacheScope' in result)) return result;
  const { resultType: _r, ttlMs: _t, cacheScope: _c, ...rest } = result;
  return rest;
}

export function createForward(options: ForwardOptions): (ctx: MessageContext) => Promise<Outcome> {
  const { upstreams, catalog, bridge, pageSize, timeoutMsFor, subscriptions, supply, screenListing, screenServerInfo, tasks, cursors, states, sessionScope } = options;

  /** Why a server→client request may not reach this call's client (noted on the call's audit record), or undefined. */
  function refusedServerRequest(ctx: MessageContext, request: ServerRequest): string | undefined {
    const missing = missingCapability(ctx.client.capabilities, request);
    if (missing) {
      const refused = (ctx.refusedServerRequests ??= []);
      if (refused.length < 16) refused.push(`${request.method}: ${missing}`);
    }
    return missing;
  }

  function relayToClient(ctx: MessageContext) {
    const client = ctx.client;
    return async (request: ServerRequest): Promise<JsonObject> => {
      const missing = refusedServerRequest(ctx, request);
      if (missing) throw new ServerRequestRefused(-32601, `${storableText(request.method, 128)} refused: ${missing}`);
      if (!client.request) throw new ServerRequestRefused(-32601, `${request.method} cannot reach this client`);
      const answer = await client.request(request.method, request.params);
      // An answer is client data bound for this call's server: judged by the toxic-flow rule as it is now.
      const toxic = ctx.judgeEgress?.();
      if (toxic) {
        (ctx.refusedServerRequests ??= []).push(`${request.method}: the client's answer was withheld: ${toxic.message}`);
        throw new ServerRequestRefused(ERROR_MAP.PC_POLICY_TOXIC_FLOW.rpcCode, `the client's answer to ${request.method} was withheld by the gateway: ${toxic.message}`);
      }
      return answer;
    };
  }

  async function aggregateList(ctx: MessageContext, list: ListKind, cursor: string | undefined): Promise<Outcome> {
    let offset = 0;
    if (cursor !== undefined) {
      const decoded = decodeCursor(cursor);
      if (decoded === undefined) return { error: new GatewayError('PC_PROTOCOL_INVALID_PARAMS', 'params.cursor is not a cursor this gateway issued') };
      offset = decoded;
    }
    const filter = ctx.listFilter;
    const kind = LIST_TARGET[ctx.request.method];
    const items = await catalog.aggregate(list, timeoutMsFor(undefined), filter && kind ? (server, item) => filter(server, kind, item) : undefined);
    const page = items.slice(offset, offset + pageSize);
    const result: JsonObject = { [list]: page };
    if (offset + pageSize < items.length) result.nextCursor = encodeCursor(offset + pageSize);
    return { result };
  }

  async function drive(ctx: MessageContext, call: BridgedCall): Promise<Outcome> {
    for (let round = 1; ; round++) {
      const step = await call.next();
      if (step.kind === 'done') {
        call.detach();
        return toOutcome(step.reply);
      }
      if (step.kind === 'failed') {
        call.detach();
        return failed(step.error);
      }
      const missing = refusedServerRequest(ctx, step.input.request);
      if (missing) {
        step.input.reject(new ServerRequestRefused(-32601, `${storableText(step.input.request.method, 128)} refused: ${missing}`));
        continue;
      }
      const parked: ParkedCall = { call, input: step.input, key: `input-${round}` };
      const requestState = bridge.park(parked);
      if (requestState instanceof GatewayError) {
        // The server hears only that its question will not be answered, not why.
        cancelParked(parked, 'the client cannot be asked now');
        call.detach();
        return { error: requestState };
      }
      // The call goes on upstream while the client answers: it keeps its concurrency slot until it ends.
      call.holdUntilEnd(ctx.release);
      ctx.release = undefined;
      const key = parked.key;
      return {
        result: {
          resultType: 'input_required',
          inputRequests: { [key]: { method: step.input.request.method, params: step.input.request.params ?? {} } },
          requestState,
        },
      };
    }
  }

  async function callUpstream(ctx: MessageContext, route: Extract<Route, { kind: 'upstream' }>): Promise<Outcome> {
    const server = upstreams.get(route.server);
    if (!server) return { error: new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${route.server}"`) };
    const principal = principalKey(ctx.principal);
    const timeoutMs = timeoutMsFor(route.server);
    const upstream = await server.connectorFor(ctx.client.era, timeoutMs);
    const info = await upstream.ready(timeoutMs);
    if (route.method === 'tools/call' && route.params?.task !== undefined && !takesTaskCalls(info.era, info.capabilities)) {
      // A server that declared no task support gets the plain call (and the record says so).
      const { task: _dropped, ...rest } = route.params;
      ctx.route = route = { ...route, params: rest };
    }
    const refused = checkTaskRequest(tasks, { era: info.era, server: route.server, method: route.method, params: route.params, principal, clientCapabilities: ctx.client.capabilities });
    if (refused) return { error: refused };
    // Rebuilt for the server's own revision: what a client's revision adds does not reach a server of another.
    const params = paramsForServer(info.protocolVersion, route.method, info.era === 'legacy' ? stripModernEnvelope(route.params) : route.params);
    const owning = { server: route.server, method: route.method, tool: route.name, principal, caller: ctx.client.key, who: ctx.principal };
    const base = {
      timeoutMs,
      caller: ctx.client.key,
      principal,
      // Ownership of a task this call creates is noted as the answer arrives, before the server's next message.
      onResult: route.method === 'tools/call' ? (result: JsonObject) => void ownTaskResult(tasks, owning, result) : undefined,
      clientCapabilities: ctx.client.capabilities,
      clientInfo: ctx.client.info,
      headers: info.era === 'modern' ? upstreamParamHeaders(ctx, route.params) : undefined,
    };

    // The call's concurrency slot stays taken until the server answers each request, even one the
    // gateway stopped waiting for (cancelled, timed out, stopped), or its connection closes (K2, L1).
    const held = (options: CallOptions, send: (options: CallOptions) => Promise<UpstreamReply>): Promise<UpstreamReply> => {
      const answered = ctx.holdSlot?.();
      if (!answered) return send(options);
      return send({ ...options, onAnswered: answered }).then(
        (reply) => {
          answered();
          return reply;
        },
        (error: unknown) => {
          if (!(error instanceof GatewayError && ABANDONED.has(error.code))) answered();
          throw error;
        },
      );
    };

    if (ctx.client.era === 'modern' && info.era === 'legacy') {
      const call = new BridgedCall(bindingFor(principal, route), route.params);
      call.attach(ctx.client, ctx.signal);
      call.begin((hooks) => held({ ...base, ...hooks }, (options) => upstream.request(route.method, params, options)));
      return drive(ctx, call);
    }

    const callOptions = {
      ...base,
      signal: ctx.signal,
      // Nothing more of a call that was stopped (a kill switch in flight, or the client's cancel).
      onNotification: (n: Parameters<ClientLink['notify']>[0]) => (ctx.signal.aborted ? undefined : ctx.client.notify(n)),
      onServerRequest: relayToClient(ctx),
    };
    let reply = await held(callOptions, (options) => upstream.request(route.method, params, options));
    if (ctx.client.era === 'legacy' && info.era === 'modern') {
      for (let round = 0; 'result' in reply && reply.result.resultType === 'input_required'; round++) {
        if (round >= MAX_INPUT_ROUNDS) {
          return { error: new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${route.server}" asked for input more than ${MAX_INPUT_ROUNDS} times`) };
        }
        const requests = isObject(reply.result.inputRequests) ? reply.result.inputRequests : {};
        const responses: JsonObject = {};
        for (const [key, raw] of Object.entries(requests)) {
          if (!isObject(raw) || typeof raw.method !== 'string') continue;
          const request: ServerRequest = { method: raw.method, params: isObject(raw.params) ? raw.params : undefined };
          const missing = refusedServerRequest(ctx, request);
          if (missing) return { error: new GatewayError('PC_PROTOCOL_MISSING_CAPABILITY', `server "${route.server}" asked for ${storableText(request.method, 128)}, but ${missing}`) };
          responses[key] = await relayToClient(ctx)(request);
        }
        const retry: JsonObject = { ...params, inputResponses: responses };
        if (reply.result.requestState !== undefined) retry.requestState = reply.result.requestState;
        reply = await held(callOptions, (options) => upstream.request(route.method, retry, options));
      }
    }
    if (ctx.client.era === 'modern' && info.era === 'modern' && 'result' in reply && reply.result.resultType === 'input_required' && reply.result.requestState !== undefined) {
      // The server's state stays here; the client gets a handle of the gateway's own (routing/request-states.ts).
      const handle = states.issue(stateBinding(principal, route.server, route.method, ctx.request.params), reply.result.requestState);
      if (handle instanceof GatewayError) return { error: handle };
      return { result: { ...reply.result, requestState: handle } };
    }
    return toOutcome(reply);
  }

  /**
   * A result's own claim of who the server is (`_meta` serverInfo, which 2026-07-28 servers SHOULD put
   * on every result) is text a client shows: it is replaced by the description the supply-chain guard
   * reviewed and DLP screened, the same one `server/discover` answers with.
   */
  function restampServerInfo(outcome: Outcome, server: string): Outcome {
    if (!('result' in outcome) || !isObject(outcome.result._meta) || !(META_SERVER_INFO in outcome.result._meta)) return outcome;
    const info = upstreams.get(server)?.info();
    const serverInfo = info ? withPlainVersion(screenServerInfo(server, supply.reviewDescription(server, { instructions: info.instructions, serverInfo: info.serverInfo }).serverInfo)) : { name: server, version: 'unknown' };
    return { result: { ...outcome.result, _meta: { ...outcome.result._meta, [META_SERVER_INFO]: serverInfo } } };
  }

  /** A retry with the client's answer: the parked call goes on, for this request now. */
  function resume(ctx: MessageContext, { parked, inputResponses }: { parked: ParkedCall; inputResponses: JsonObject }): Promise<Outcome> {
    parked.resumed = true;
    parked.call.attach(ctx.client, ctx.signal);
    const answer = inputResponses[parked.key];
    if (isObject(answer)) parked.input.resolve(answer);
    else parked.input.reject(new ServerRequestRefused(-32602, `the client sent no inputResponses["${parked.key}"]`));
    return drive(ctx, parked.call);
  }

  async function broadcast(ctx: MessageContext, route: Extract<Route, { kind: 'broadcast' }>): Promise<Outcome> {
    // Only legacy-era requests are broadcast (logging/setLevel); servers reached only in the modern era
    // have no such method and are skipped, and so are the servers the kill switch or the policy took
    // out of `route.servers`. Made for the caller: a per-principal server sets the level of the
    // caller's own session.
    await Promise.all(
      route.servers.map(async (name) => {
        const server = upstreams.get(name);
        if (!server || server.state() !== 'ready') return;
        const timeoutMs = timeoutMsFor(server.name);
        const upstream = await server.connectorFor('legacy', timeoutMs).catch(() => undefined);
        if (upstream?.info()?.era !== 'legacy') return;
        await upstream.request(route.method, route.params, { timeoutMs, caller: ctx.client.key, principal: principalKey(ctx.principal) }).catch(() => undefined);
      }),
    );
    return { result: {} };
  }

  /** Records a subscribe; a cancelled one (its session ended meanwhile) holds nothing, since clientGone has already released the session's. */
  function subscribeOnce(ctx: MessageContext, server: string, uri: string, scope: string): Subscribed {
    if (ctx.signal.aborted) return new GatewayError('PC_REQUEST_CANCELLED', `resources/subscribe to server "${server}" was cancelled: the client's session ended`, { server });
    return subscriptions.add(server, uri, ctx.client.key, scope);
  }

  return async function forward(ctx) {
    const route = ctx.route;
    if (!route) return { error: new GatewayError('PC_INTERNAL', 'forward reached without a route') };
    let outcome: Outcome;
    try {
      switch (route.kind) {
        case 'local':
          outcome = { result: await route.answer() };
          break;
        case 'aggregate-list':
          outcome = await aggregateList(ctx, route.list, route.cursor);
          break;
        case 'broadcast':
          outcome = await broadcast(ctx, route);
          break;
        case 'upstream': {
          // Shared upstream sessions see one subscriber per URI: only the first subscribe and the
          // last unsubscribe travel; the others are answered here.
          const uri = route.params?.uri;
          const scope = sessionScope(route.server, principalKey(ctx.principal));
          const subscribed = route.method === 'resources/subscribe' && typeof uri === 'string' && !route.resume ? subscribeOnce(ctx, route.server, uri, scope) : undefined;
          if (route.resume) {
            outcome = restampServerInfo(await resume(ctx, route.resume), route.server);
          } else if (subscribed instanceof GatewayError) {
            // Over routing.subscriptions, or cancelled: refused here, so the server never sees it.
            outcome = { error: subscribed };
          } else if (subscribed === 'held') {
            outcome = { result: {} };
          } else if (route.method === 'resources/unsubscribe' && typeof uri === 'string' && !subscriptions.remove(route.server, uri, ctx.client.key, scope)) {
            outcome = { result: {} };
          } else {
            outcome = restampServerInfo(await callUpstream(ctx, route), route.server);
            // The server's cursor stays here; the client gets the gateway's own (routing/cursors.ts).
            if (route.target.kind === 'list' && 'result' in outcome && typeof outcome.result.nextCursor === 'string') {
              outcome = { result: { ...outcome.result, nextCursor: cursors.issue(route.server, principalKey(ctx.principal), outcome.result.nextCursor) } };
            }
            // A page listed straight from one server passes the same supply-chain review, secret screen and policy filter.
            const list = REVIEWED_LISTS[route.method];
            const key = LIST_KIND_BY_METHOD.get(route.method);
            if (key && 'result' in outcome && Array.isArray(outcome.result[key])) {
              const page = (outcome.result[key] as unknown[]).filter(isObject);
              // One page, no cursor in or out: the server's whole listing.
              const whole = route.params?.cursor === undefined && outcome.result.nextCursor === undefined;
              let items = list ? supply.review(route.server, list, page, whole) : page;
              // What /mcp and the call path judge by must not lag behind what this listing showed.
              catalog.noteListed(route.server, key, page, whole);
              items = screenListing(route.server, key, items);
              const filter = ctx.listFilter;
              const kind = LIST_TARGET[route.method];
              if (filter && kind) items = items.filter((item) => filter(route.server, kind, item));
              // Rebuilt from the reviewed items alone: text a server puts beside them (the result's own
              // `_meta`, keys the spec does not define) is reviewed by nothing, so it is not relayed. Kept:
              // the cursor (the gateway issued it above) and the serverInfo the gateway stamped after review.
              const rebuilt: JsonObject = { [key]: items };
              if (typeof outcome.result.nextCursor === 'string') rebuilt.nextCursor = outcome.result.nextCursor;
              const stamped = isObject(outcome.result._meta) ? outcome.result._meta[META_SERVER_INFO] : undefined;
              if (stamped !== undefined) rebuilt._meta = { [META_SERVER_INFO]: stamped };
              outcome = { result: rebuilt };
            }
            if (route.method === 'resources/subscribe' && typeof uri === 'string' && !('result' in outcome)) subscriptions.remove(route.server, uri, ctx.client.key, scope);
          }
          if ('result' in outcome) {
            const owned = ownTaskResult(tasks, { server: route.server, method: route.method, tool: route.name, principal: principalKey(ctx.principal), caller: ctx.client.key, taskId: route.params?.taskId, who: ctx.principal }, outcome.result);
            outcome = owned instanceof GatewayError ? { error: owned } : { result: owned };
          }
          break;
        }
      }
    } catch (error) {
      if (error instanceof ServerRequestRefused) return { error: new GatewayError('PC_PROTOCOL_MISSING_CAPABILITY', error.message) };
      return failed(error);
    }
    if ('result' in outcome) outcome = { result: shapeForEra(outcome.result, ctx.client, ctx.request.method) };
    return outcome;
  };
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isObject(parsed) && Number.isInteger(parsed.o) && (parsed.o as number) >= 0) return parsed.o as number;
  } catch {
    return undefined;
  }
  return undefined;
}
