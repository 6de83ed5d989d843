/**
 * The stdio front: a local client (Claude Desktop, Cursor, Claude Code) launches
 * `portcullis stdio -c file [--server NAME]` as its MCP command and talks newline-delimited JSON-RPC
 * on stdin/stdout. Logs go to stderr only; stdout carries protocol messages and nothing else.
 *
 * Both eras: `initialize` opens the (single) legacy session of the process; a request whose `_meta`
 * names protocol version 2026-07-28 is served statelessly, as on HTTP.
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import {
  assertMessage,
  assertFiniteNumbers,
  assertJsonDepth,
  assertNoDuplicateKeys,
  decodeUtf8,
  isNotification,
  isObject,
  isRequest,
  isResponse,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
} from '../protocol/jsonrpc.ts';
import {
  isLegacyVersion,
  LATEST_LEGACY_VERSION,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_PROTOCOL_VERSION,
  MODERN_VERSION,
  SUPPORTED_VERSIONS,
} from '../protocol/versions.ts';
import type { ClientLink, Endpoint } from '../pipeline/context.ts';
import { checkNotification, checkParams, clientMethod } from '../protocol/methods.ts';
import { idOf } from './http-io.ts';
import { BROADCAST_NOTIFICATIONS } from '../routing/recipients.ts';
import { errorResponse, toResponse } from './reply.ts';
import { DownstreamSession } from './session.ts';

export interface StdioFrontOptions {
  gateway: Gateway;
  endpoint: Endpoint;
  input: Readable;
  output: Writable;
  logger: Logger;
}

export function runStdioFront(options: StdioFrontOptions): Promise<void> {
  const { gateway, endpoint, input, output, logger } = options;
  let session: DownstreamSession | undefined;
  const write = (message: JsonRpcMessage): void => {
    output.write(`${JSON.stringify(message)}\n`);
  };
  const sink = { send: write };

  const unsubscribe = gateway.onChange(({ server, notification, to }) => {
    if (!session?.initialized) return;
    if (endpoint.kind === 'server' && endpoint.server !== server) return;
    // Addressed to other callers, or not everyone's to hear: not this client's (invariant 3).
    if (to ? !to.includes(session.id) : !BROADCAST_NOTIFICATIONS.has(notification.method)) return;
    if (notification.method === 'notifications/resources/updated') {
      const uri = notification.params?.uri;
      if (typeof uri !== 'string' || !session.subscriptions.has(uri)) return;
    }
    write(notification);
  });

  async function onRequest(request: JsonRpcRequest): Promise<void> {
    const meta = isObject(request.params?._meta) ? request.params._meta : {};
    const modernVersion = meta[META_PROTOCOL_VERSION];
    // Every refusal here, before the pipeline, is recorded (bounded) like the pipeline's own (invariant 5).
    if (modernVersion !== undefined && modernVersion !== MODERN_VERSION) {
      const unsupported = new GatewayError('PC_PROTOCOL_UNSUPPORTED_VERSION', `Unsupported protocol version "${String(modernVersion)}"`, {
        supported: [...SUPPORTED_VERSIONS],
        requested: modernVersion,
      });
      return refuse(unsupported, request.id, request.method);
    }
    const modern = modernVersion === MODERN_VERSION;
    if (!modern && request.method === 'initialize') {
      const invalid = checkParams(clientMethod(LATEST_LEGACY_VERSION, 'initialize')!, LATEST_LEGACY_VERSION, request.params);
      if (invalid) return refuse(invalid, request.id, 'initialize');
      const params = request.params ?? {};
      const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : '';
      const negotiated = isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
      try {
        const description = await gateway.describe(endpoint, { clientName: isObject(params.clientInfo) ? params.clientInfo.name : undefined });
        session?.close();
        session = new DownstreamSession({
          id: 'stdio',
          endpoint,
          protocolVersion: negotiated,
          capabilities: isObject(params.capabilities) ? params.capabilities : {},
          clientInfo: isObject(params.clientInfo) ? params.clientInfo : undefined,
          nowMs: Date.now(),
        });
        const result: JsonObject = { protocolVersion: negotiated, capabilities: description.capabilities, serverInfo: description.serverInfo };
        if (description.instructions) result.instructions = description.instructions;
        write({ jsonrpc: '2.0', id: request.id, result });
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        return refuse(error, request.id, 'initialize');
      }
      return;
    }
    // Methods the modern version removed are refused (and recorded) by the route stage, like every
    // other method the negotiated version does not define.
    if (!modern && !session) return refuse(new GatewayError('PC_PROTOCOL_NOT_INITIALIZED', 'send initialize first (or use protocol version 2026-07-28 _meta)'), request.id, request.method);
    const current = session;
    const tracked = !modern && current ? current.track(request.id) : undefined;
    if (tracked instanceof GatewayError) return refuse(tracked, null, request.method);
    const client: ClientLink = modern
      ? {
          key: `stdio-modern:${String(request.id)}`,
          era: 'modern',
          protocolVersion: MODERN_VERSION,
          capabilities: isObject(meta[META_CLIENT_CAPABILITIES]) ? (meta[META_CLIENT_CAPABILITIES] as JsonObject) : {},
          info: isObject(meta[META_CLIENT_INFO]) ? (meta[META_CLIENT_INFO] as JsonObject) : undefined,
          notify: write,
          request: undefined,
        }
      : {
          key: 'stdio',
          era: 'legacy',
          protocolVersion: current!.protocolVersion,
          capabilities: current!.capabilities,
          info: current!.clientInfo,
          notify: write,
          request: (method, params) => current!.requestClient(sink, method, params),
        };
    try {
      const outcome = await gateway.handle({ endpoint, request, client, signal: tracked?.signal ?? new AbortController().signal });
      if ('result' in outcome && current && typeof request.params?.uri === 'string') {
        if (request.method === 'resources/subscribe') current.subscriptions.add(request.params.uri);
        if (request.method === 'resources/unsubscribe') current.subscriptions.delete(request.params.uri);
      }
      if ('error' in outcome) logger.info({ correlationId: outcome.correlationId, method: request.method, code: outcome.error.code }, outcome.error.message);
      write(toResponse(request.id, outcome, outcome.correlationId));
    } finally {
      tracked?.release();
    }
  }

  /** Answers a refusal decided before the pipeline, after recording it (bounded). */
  async function refuse(error: GatewayError, id: JsonRpcRequest['id'] | null, method = '(message)'): Promise<void> {
    await gateway.recordRefusal(endpoint, error, method).catch(() => false);
    write(errorResponse(id, error, 'none'));
  }

  /** Ids of the requests in flight (String(id): 1 and "1" are one id to a client matching answers by text). */
  const inFlight = new Set<string>();

  function onLine(bytes: Buffer): void {
    let message: JsonRpcMessage;
    let parsed: unknown;
    try {
      // JSON white space only: String.prototype.trim would also strip a byte-order mark (U+FEFF),
      // which JSON does not allow and the HTTP front refuses.
      const line = decodeUtf8(bytes, 'line').replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '') return;
      assertJsonDepth(line, 'line');
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        throw new GatewayError('PC_PROTOCOL_PARSE_ERROR', `line is not valid JSON: ${(error as Error).message}`);
      }
      // Checked once the id can be read, so that the refusal answers the request it refuses.
      assertNoDuplicateKeys(line, 'line');
      assertFiniteNumbers(line, parsed, 'line');
      if (Array.isArray(parsed)) throw new GatewayError('PC_PROTOCOL_BATCH_NOT_ALLOWED', 'JSON-RPC batches are not accepted on the stdio front');
      message = assertMessage(parsed, 'message');
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      void refuse(error, idOf(parsed), isObject(parsed) && typeof parsed.method === 'string' ? parsed.method : undefined);
      return;
    }
    if (isResponse(message)) {
      session?.answer(message);
      return;
    }
    if (isNotification(message)) {
      // Client notifications end here (none is forwarded); one the version does not define is recorded.
      const meta = isObject(message.params?._meta) ? message.params._meta : {};
      const revision = meta[META_PROTOCOL_VERSION] === MODERN_VERSION ? MODERN_VERSION : (session?.protocolVersion ?? LATEST_LEGACY_VERSION);
      const refused = checkNotification(revision, message);
      if (refused) {
        void gateway.recordRefusal(endpoint, refused, message.method).catch(() => false);
        return;
      }
      if (message.method === 'notifications/initialized' && session) session.initialized = true;
      if (message.method === 'notifications/cancelled') session?.cancel(message.params?.requestId);
      return;
    }
    if (isRequest(message as JsonRpcMessage)) {
      const request = message as unknown as JsonRpcRequest;
      // Answers are matched by id alone on this one pipe: a second request under an id still in flight
      // would get an answer the client cannot tell from the first's (red team K4). It is refused, under
      // id null, so the request in flight keeps the only answer under its id.
      const key = String(request.id);
      if (inFlight.has(key)) {
        void refuse(new GatewayError('PC_PROTOCOL_AMBIGUOUS', `request id ${JSON.stringify(request.id)} is already in flight on this connection; give each request its own id`), null, request.method);
        return;
      }
      inFlight.add(key);
      onRequest(request)
        .catch((error: unknown) => {
          logger.error({ err: error }, 'stdio front failure');
          write(errorResponse(request.id, new GatewayError('PC_INTERNAL', 'internal error'), 'none'));
        })
        .finally(() => inFlight.delete(key));
    }
  }

  return new Promise((resolve) => {
    // Lines are split as bytes and each decoded strictly: a chunk boundary inside a multi-byte
    // character must not become a replacement character, and invalid UTF-8 is refused, not repaired.
    let buffer = Buffer.alloc(0);
    input.on('data', (chunk: Buffer | string) => {
      buffer = Buffer.concat([buffer, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk]);
      let at: number;
      while ((at = buffer.indexOf(0x0a)) !== -1) {
        const line = buffer.subarray(0, at);
        buffer = buffer.subarray(at + 1);
        onLine(line);
      }
    });
    input.on('end', () => {
      unsubscribe();
      session?.close();
      if (session) gateway.clientGone(session.id);
      resolve();
    });
  });
}
