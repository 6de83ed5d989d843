/**
 * The legacy eras (2024-11-05 … 2025-11-25) on the HTTP front: `initialize` opens a session bound to
 * the principal that opened it; later POSTs name it in `Mcp-Session-Id` (400 when missing, 404 when
 * unknown or another caller's); batches only in 2025-03-26; a GET opens the session's notification
 * stream or resumes a cut POST stream (`Last-Event-ID`); DELETE ends the session.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.ts';
import {
  assertMessage,
  isNotification,
  isObject,
  isRequest,
  isResponse,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.ts';
import { checkNotification, checkParams, clientMethod } from '../protocol/methods.ts';
import { allowsBatch, DEFAULT_LEGACY_HEADER_VERSION, isLegacyVersion, LATEST_LEGACY_VERSION, MODERN_VERSION } from '../protocol/versions.ts';
import type { Principal } from '../auth/principal.ts';
import type { ClientLink, Endpoint } from '../pipeline/context.ts';
import type { FrontContext } from './front-context.ts';
import { accepts, header, reject, taskHeader } from './http-io.ts';
import { errorResponse, toResponse } from './reply.ts';
import { ResponseWriter } from './response-writer.ts';
import { DownstreamSession } from './session.ts';
import { parseEventId, StreamLog } from './stream-log.ts';

export interface LegacyFront {
  post(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, body: unknown, version: string): Promise<void>;
  get(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): void;
  delete(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): void;
}

/** What the HTTP request says about the call besides its body. */
interface CallFacts {
  task: string | undefined;
  principal: Principal | undefined;
}

/** The method a refused body asked for, for the record (`(batch)` for several, `(request)` when none). */
function methodOf(body: unknown): string {
  if (Array.isArray(body)) return '(batch)';
  return isObject(body) && typeof body.method === 'string' ? body.method : '(request)';
}

export function createLegacyFront(front: FrontContext): LegacyFront {
  const { gateway, logger, sessions } = front;

  function sessionFor(req: IncomingMessage, endpoint: Endpoint): DownstreamSession | GatewayError {
    const id = header(req, 'mcp-session-id');
    if (!id) return new GatewayError('PC_SESSION_MISSING', 'Mcp-Session-Id header is required (send initialize first to get one)');
    const session = sessions.get(id);
    const sameEndpoint =
      session && (session.endpoint.kind === endpoint.kind && (endpoint.kind === 'aggregate' || (session.endpoint.kind === 'server' && session.endpoint.server === endpoint.server)));
    // A session belongs to the principal that opened it: another caller holding its id gets nothing.
    if (!session || !sameEndpoint || session.owner !== front.ownerOf(req)) return new GatewayError('PC_SESSION_UNKNOWN', 'Session not found (expired, deleted, or for another endpoint); initialize again');
    session.lastSeenMs = Date.now();
    return session;
  }

  async function initialize(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, body: JsonObject): Promise<void> {
    let request: JsonRpcRequest;
    try {
      const message = assertMessage(body);
      if (!isRequest(message)) throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', 'initialize must be a request (with an id)');
      request = message;
    } catch (error) {
      if (error instanceof GatewayError) return front.refuse(res, endpoint, error, 'legacy', null, 'initialize');
      throw error;
    }
    const invalid = checkParams(clientMethod(LATEST_LEGACY_VERSION, 'initialize')!, LATEST_LEGACY_VERSION, request.params);
    if (invalid) {
      await gateway.recordRefusal(endpoint, invalid, 'initialize').catch(() => false);
      return new ResponseWriter(res, false).finish(errorResponse(request.id, invalid, 'none'));
    }
    const params = request.params ?? {};
    const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : '';
    const negotiated = isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
    let description;
    try {
      description = await gateway.describe(endpoint, { principal: front.principalOf(req), clientName: isObject(params.clientInfo) ? params.clientInfo.name : undefined });
    } catch (error) {
      if (error instanceof GatewayError) return new ResponseWriter(res, false).finish(errorResponse(request.id, error, 'none'));
      throw error;
    }
    const session = new DownstreamSession({
      endpoint,
      protocolVersion: negotiated,
      capabilities: isObject(params.capabilities) ? params.capabilities : {},
      clientInfo: isObject(params.clientInfo) ? params.clientInfo : undefined,
      nowMs: Date.now(),
    });
    session.owner = front.ownerOf(req);
    session.user = front.userOf(req);
    sessions.add(session);
    const result: JsonObject = { protocolVersion: negotiated, capabilities: description.capabilities, serverInfo: description.serverInfo };
    if (description.instructions) result.instructions = description.instructions;
    logger.debug({ session: session.id.slice(0, 8), endpoint, protocolVersion: negotiated }, 'session opened');
    new ResponseWriter(res, false, { 'mcp-session-id': session.id }).finish({ jsonrpc: '2.0', id: request.id, result });
  }

  function onNotification(session: DownstreamSession, endpoint: Endpoint, notification: JsonRpcNotification): void {
    // Client notifications end here (none is forwarded); one the version does not define is recorded.
    const refused = checkNotification(session.protocolVersion, notification);
    if (refused) {
      void gateway.recordRefusal(endpoint, refused, notification.method).catch(() => false);
      return;
    }
    if (notification.method === 'notifications/initialized') session.initialized = true;
    else if (notification.method === 'notifications/cancelled') session.cancel(notification.params?.requestId);
    // Roots belong to the gateway, not to one client (see servers.<name>.roots), so a client's roots
    // change is not forwarded to a shared server session.
  }

  async function run(session: DownstreamSession, endpoint: Endpoint, request: JsonRpcRequest, writer: ResponseWriter, call: CallFacts): Promise<JsonRpcResponse> {
    const tracked = session.track(request.id);
    if (tracked instanceof GatewayError) {
      // Under id null: the request in flight keeps the only answer under its id.
      void gateway.recordRefusal(endpoint, tracked, request.method).catch(() => false);
      return errorResponse(null, tracked, 'none');
    }
    const client: ClientLink = {
      key: session.id,
      era: 'legacy',
      protocolVersion: session.protocolVersion,
      capabilities: session.capabilities,
      info: session.clientInfo,
      notify: (n) => writer.send(n),
      request: (method, params) => session.requestClient(writer.stream() ? writer : (session.stream ?? writer), method, params),
    };
    try {
      const outcome = await gateway.handle({ endpoint, request, client, signal: tracked.signal, ...call });
      if ('result' in outcome && request.method === 'resources/subscribe' && typeof request.params?.uri === 'string') session.subscriptions.add(request.params.uri);
      if ('result' in outcome && request.method === 'resources/unsubscribe' && typeof request.params?.uri === 'string') session.subscriptions.delete(request.params.uri);
      if ('error' in outcome) front.logDecision(request, outcome.error, outcome.correlationId);
      return toResponse(request.id, outcome, outcome.correlationId);
    } finally {
      tracked.release();
    }
  }

  async function post(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, body: unknown, version: string): Promise<void> {
    if (isObject(body) && body.method === 'initialize') return initialize(req, res, endpoint, body);
    const session = sessionFor(req, endpoint);
    if (session instanceof GatewayError) return front.refuse(res, endpoint, session, 'legacy', null, methodOf(body), req);
    if (version !== DEFAULT_LEGACY_HEADER_VERSION && version !== session.protocolVersion && isLegacyVersion(version)) {
      return front.refuse(
        res,
        endpoint,
        new GatewayError('PC_PROTOCOL_UNSUPPORTED_VERSION', `MCP-Protocol-Version "${version}" differs from the session's negotiated "${session.protocolVersion}"`, {
          supported: [session.protocolVersion],
          requested: version,
        }),
        'legacy',
        null,
        methodOf(body),
        req,
      );
    }
    let messages: JsonRpcMessage[];
    try {
      if (Array.isArray(body)) {
        if (!allowsBatch(session.protocolVersion)) {
          throw new GatewayError('PC_PROTOCOL_BATCH_NOT_ALLOWED', `JSON-RPC batches are not allowed in protocol version ${session.protocolVersion} (only 2025-03-26)`);
        }
        if (body.length === 0) throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', 'body: an empty batch is not a valid request');
        messages = body.map((m, i) => assertMessage(m, `body[${i}]`));
        if (messages.some((m) => isObject(m) && (m as JsonObject).method === 'initialize')) {
          throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', 'initialize must not be part of a batch');
        }
        // Two requests (or two answers) under one id: the client could not tell which answer is which,
        // nor what a cancellation of that id stops (red team K4). Refused whole, before any member runs.
        for (const [kind, members] of [['requests', messages.filter(isRequest)], ['responses', messages.filter(isResponse)]] as const) {
          const ids = members.map((m) => String((m as { id: unknown }).id));
          const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
          if (repeated !== undefined) throw new GatewayError('PC_PROTOCOL_AMBIGUOUS', `body: two ${kind} in the batch have the id ${JSON.stringify(repeated)}; give each request its own id`);
        }
      } else {
        messages = [assertMessage(body)];
      }
    } catch (error) {
      if (error instanceof GatewayError) return front.refuse(res, endpoint, error, 'legacy', null, '(request)', req);
      throw error;
    }

    const requests: JsonRpcRequest[] = [];
    for (const message of messages) {
      if (isResponse(message)) session.answer(message);
      else if (isNotification(message)) onNotification(session, endpoint, message);
      else if (isRequest(message)) requests.push(message);
    }
    if (requests.length === 0) {
      res.writeHead(202).end();
      return;
    }
    const stepUp = await front.stepUp(req, res, endpoint, requests);
    if (stepUp) return reject(res, stepUp, 'legacy', requests.length === 1 && !Array.isArray(body) ? requests[0]!.id : null);
    const sse = accepts(req, 'text/event-stream');
    // A single request from a client that accepts SSE gets a resumable stream as soon as anything is
    // streamed, as the reference SDK server does: a cut connection then loses nothing (progress,
    // sampling, the answer). An answer ready at once goes out as plain JSON (response-writer.ts).
    const openLog =
      sse && !Array.isArray(body) && requests.length === 1
        ? () => {
            const log = new StreamLog(res, front.resume);
            session.addStream(log);
            return log;
          }
        : undefined;
    const writer = new ResponseWriter(res, sse, {}, openLog, front.streamGuard('drop'));
    const call = { task: taskHeader(req), principal: front.principalOf(req) };
    if (!Array.isArray(body)) return writer.finish(await run(session, endpoint, requests[0]!, writer, call));
    writer.finish(await Promise.all(requests.map((request) => run(session, endpoint, request, writer, call))));
  }

  /** Who a stream of `session` is for, as the kill switch names callers. */
  function callerOf(req: IncomingMessage, session: DownstreamSession): { agent: string; subject?: string } {
    const principal = front.principalOf(req);
    if (principal) return principal;
    const name = session.clientInfo?.name;
    return { agent: gateway.config.identity?.localAgent ?? (typeof name === 'string' ? name : 'local') };
  }

  /** The kill switch's refusal of a GET stream for this caller and endpoint, if a switch covers them. */
  function killed(req: IncomingMessage, endpoint: Endpoint, session: DownstreamSession): GatewayError | undefined {
    gateway.kill.refreshOncePerTurn();
    const stop = gateway.kill.stops(endpoint.kind === 'server' ? endpoint.server : '', undefined, callerOf(req, session), false);
    return stop ? new GatewayError('PC_KILL_SWITCH', `stopped by the kill switch on ${stop.target}: ${stop.reason}`, { reason: stop.reason }) : undefined;
  }

  function get(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): void {
    if (header(req, 'mcp-protocol-version') === MODERN_VERSION) {
      res.setHeader('allow', 'POST');
      return void front.refuse(res, endpoint, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `GET is not part of protocol version ${MODERN_VERSION}; use subscriptions/listen`), 'modern', null, '(GET stream)', req);
    }
    if (!accepts(req, 'text/event-stream')) return void front.refuse(res, endpoint, new GatewayError('PC_HTTP_NOT_ACCEPTABLE', 'GET needs Accept: text/event-stream'), 'legacy', null, '(GET stream)', req);
    const session = sessionFor(req, endpoint);
    if (session instanceof GatewayError) return void front.refuse(res, endpoint, session, 'legacy', null, '(GET stream)', req);
    const lastEventId = header(req, 'last-event-id');
    // A resumed stream replays what a call sent: a caller a kill switch now covers gets none of it.
    const stopped = lastEventId !== undefined ? killed(req, endpoint, session) : undefined;
    if (stopped) return void front.refuse(res, endpoint, stopped, 'legacy', null, '(GET stream)', req);
    if (lastEventId !== undefined) {
      const position = parseEventId(lastEventId);
      const refused = new GatewayError('PC_HTTP_NOT_FOUND', `Last-Event-ID "${lastEventId}" names no stream this session keeps (unknown, or expired: forgotten past listen.maxResumeBytes…); open a new GET stream or repeat the request`);
      const log = position && session.streams.get(position.stream);
      if (!log) {
        // A stream this session had delivered in full is what the SDK client resumes after a call that
        // ended with an error answer: only answered, so ordinary traffic does not spend the refusal
        // budget. Every other miss — a form never issued, a stream never this session's, one forgotten
        // before it was delivered — is recorded.
        if (position && session.delivered(position.stream)) return reject(res, refused);
        return void front.refuse(res, endpoint, refused, 'legacy', null, '(GET stream)', req);
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
      log.resume(res, position.seq);
      return;
    }
    if (session.stream) return void front.refuse(res, endpoint, new GatewayError('PC_HTTP_STREAM_CONFLICT', 'this session already has a GET stream open'), 'legacy', null, '(GET stream)', req);
    const writer = new ResponseWriter(res, true, { 'mcp-session-id': session.id }, undefined, front.streamGuard('close'));
    const refused = front.watchStream(req, endpoint, writer, callerOf(req, session), '(GET stream)');
    if (refused) return void front.refuse(res, endpoint, refused, 'legacy', null, '(GET stream)', req);
    writer.stream();
    const stream = { send: (m: JsonRpcMessage) => writer.send(m), close: () => writer.end() };
    session.stream = stream;
    res.on('close', () => {
      if (session.stream === stream) session.stream = undefined;
      session.lastSeenMs = Date.now();
    });
  }

  function del(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): void {
    if (header(req, 'mcp-protocol-version') === MODERN_VERSION) {
      res.setHeader('allow', 'POST');
      return void front.refuse(res, endpoint, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `DELETE is not part of protocol version ${MODERN_VERSION}`), 'modern', null, '(DELETE session)', req);
    }
    const session = sessionFor(req, endpoint);
    if (session instanceof GatewayError) return void front.refuse(res, endpoint, session, 'legacy', null, '(DELETE session)', req);
    sessions.delete(session.id);
    res.writeHead(200).end();
  }

  return { post, get, delete: del };
}
