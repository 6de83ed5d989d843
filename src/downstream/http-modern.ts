/**
 * The modern era (2026-07-28) on the HTTP front: stateless, one message per POST, headers that must
 * equal the body (-32020), removed methods answered 404, `subscriptions/listen` as a long-lived stream,
 * and a closed response stream as the client's cancellation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, httpStatusFor, httpStatusForRpcCode } from '../errors.ts';
import { assertHeadersMatchBody } from '../protocol/headers.ts';
import {
  assertMessage,
  isNotification,
  isObject,
  isResponse,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from '../protocol/jsonrpc.ts';
import { checkNotification, checkParams, clientMethod } from '../protocol/methods.ts';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_SUBSCRIPTION_ID, MODERN_VERSION } from '../protocol/versions.ts';
import type { ClientLink, Endpoint } from '../pipeline/context.ts';
import type { FrontContext, ModernListener } from './front-context.ts';
import { accepts, header, idOf, reject, taskHeader } from './http-io.ts';
import { toResponse } from './reply.ts';
import { ResponseWriter } from './response-writer.ts';

export interface ModernFront {
  post(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, body: unknown): Promise<void>;
}

/** The change kinds a `subscriptions/listen` request may ask for. */
const LISTEN_KINDS = ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const;

export function createModernFront(front: FrontContext): ModernFront {
  const { gateway } = front;

  function listen(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, request: JsonRpcRequest, writer: ResponseWriter, signal: AbortSignal, owner: string, user: string): Promise<void> | undefined {
    const requested = isObject(request.params?.notifications) ? request.params.notifications : {};
    // Resource subscriptions are not offered on this stream yet; the acknowledgement says what is.
    const filter: JsonObject = {};
    for (const key of LISTEN_KINDS) if (requested[key] === true) filter[key] = true;
    const listener: ModernListener = { endpoint, owner, user, filter, id: request.id, writer };
    const clientInfo = isObject(request.params?._meta) ? request.params._meta[META_CLIENT_INFO] : undefined;
    const name = isObject(clientInfo) ? clientInfo.name : undefined;
    const caller = front.principalOf(req) ?? { agent: gateway.config.identity?.localAgent ?? (typeof name === 'string' ? name : 'local') };
    const refused = front.watchStream(req, endpoint, writer, caller, request.method);
    if (refused) return front.refuse(res, endpoint, refused, 'modern', request.id, request.method, req);
    writer.stream();
    writer.send({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: filter, _meta: { [META_SUBSCRIPTION_ID]: request.id } },
    });
    front.modernStreams.add(listener);
    signal.addEventListener('abort', () => {
      front.modernStreams.delete(listener);
      writer.end();
    });
  }

  return {
    async post(req, res, endpoint, body) {
      if (Array.isArray(body)) {
        return front.refuse(res, endpoint, new GatewayError('PC_PROTOCOL_BATCH_NOT_ALLOWED', `JSON-RPC batches are not allowed in protocol version ${MODERN_VERSION}`), 'modern');
      }
      let message: JsonRpcMessage;
      try {
        message = assertMessage(body);
        if (isResponse(message)) throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', `clients must not send responses in protocol version ${MODERN_VERSION}`);
        assertHeadersMatchBody(
          { protocolVersion: MODERN_VERSION, method: header(req, 'mcp-method'), name: header(req, 'mcp-name') },
          message as JsonRpcRequest | JsonRpcNotification,
        );
      } catch (error) {
        if (error instanceof GatewayError) return front.refuse(res, endpoint, error, 'modern', idOf(body), isObject(body) && typeof body.method === 'string' ? body.method : undefined);
        throw error;
      }
      if (isNotification(message)) {
        // Client notifications end here (none is forwarded); one the version does not define is recorded.
        const refused = checkNotification(MODERN_VERSION, message);
        if (refused) await gateway.recordRefusal(endpoint, refused, message.method).catch(() => false);
        res.writeHead(202).end();
        return;
      }
      // Methods this version removed (ping, initialize, logging/setLevel, subscribe) are refused by the
      // route stage like every other method the version does not define, and recorded there.
      const request = message as JsonRpcRequest;
      const meta = isObject(request.params?._meta) ? request.params._meta : {};
      const capabilities = isObject(meta[META_CLIENT_CAPABILITIES]) ? (meta[META_CLIENT_CAPABILITIES] as JsonObject) : {};
      const writer = new ResponseWriter(res, accepts(req, 'text/event-stream'), {}, undefined, front.streamGuard(request.method === 'subscriptions/listen' ? 'close' : 'drop'));
      const abort = new AbortController();
      // In the modern era a closed response stream is the client's cancellation.
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      if (request.method === 'subscriptions/listen') {
        const invalid = checkParams(clientMethod(MODERN_VERSION, request.method)!, MODERN_VERSION, request.params);
        if (invalid) return front.refuse(res, endpoint, invalid, 'modern', request.id, request.method);
        return listen(req, res, endpoint, request, writer, abort.signal, front.ownerOf(req) ?? '', front.userOf(req) ?? '');
      }
      const stepUp = await front.stepUp(req, res, endpoint, [request]);
      if (stepUp) return reject(res, stepUp, 'modern', request.id);
      const client: ClientLink = {
        key: `modern:${String(request.id)}:${Math.random().toString(36).slice(2)}`,
        era: 'modern',
        protocolVersion: MODERN_VERSION,
        capabilities,
        info: isObject(meta[META_CLIENT_INFO]) ? (meta[META_CLIENT_INFO] as JsonObject) : undefined,
        notify: (n) => writer.send(n),
        request: undefined,
      };
      const paramHeaders: Record<string, string> = {};
      const headers = req.headers;
      for (const name in headers) {
        const value = headers[name];
        if (name.startsWith('mcp-param-') && typeof value === 'string') paramHeaders[name] = value;
      }
      const outcome = await gateway.handle({ endpoint, request, client, signal: abort.signal, paramHeaders, task: taskHeader(req), principal: front.principalOf(req) });
      if ('error' in outcome) {
        front.logDecision(request, outcome.error, outcome.correlationId);
        return writer.finish(toResponse(request.id, outcome, outcome.correlationId), httpStatusFor(outcome.error, 'modern'));
      }
      if ('upstreamError' in outcome) {
        return writer.finish(toResponse(request.id, outcome, outcome.correlationId), httpStatusForRpcCode(outcome.upstreamError.code, 'modern'));
      }
      writer.finish(toResponse(request.id, outcome, outcome.correlationId));
    },
  };
}
