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
  REMOVED_IN_MODERN,
  SUPPORTED_VERSIONS,
} from '../protocol/versions.ts';
import type { ClientLink, Endpoint } from '../pipeline/context.ts';
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
    if (modernVersion !== undefined && modernVersion !== MODERN_VERSION) {
      write(
        errorResponse(
          request.id,
          new GatewayError('PC_PROTOCOL_UNSUPPORTED_VERSION', `Unsupported protocol version "${String(modernVersion)}"`, {
            supported: [...SUPPORTED_VERSIONS],
            requested: modernVersion,
          }),
          'none',
        ),
      );
      return;
    }
    const modern = modernVersion === MODERN_VERSION;
    if (!modern && request.method === 'initialize') {
      const params = request.params ?? {};
      const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : '';
      const negotiated = isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
      try {
        const description = await gateway.describe(endpoint);
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
        write(errorResponse(request.id, error, 'none'));
      }
      return;
    }
    if (modern && REMOVED_IN_MODERN.has(request.method)) {
      write(errorResponse(request.id, new GatewayError('PC_PROTOCOL_METHOD_NOT_FOUND', `Method not found: "${request.method}" does not exist in ${MODERN_VERSION}`), 'none'));
      return;
    }
    if (!modern && !session) {
      write(errorResponse(request.id, new GatewayError('PC_PROTOCOL_NOT_INITIALIZED', 'send initialize first (or use protocol version 2026-07-28 _meta)'), 'none'));
      return;
    }
    const current = session;
    const tracked = !modern && current ? current.track(request.id) : undefined;
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

  function onLine(line: string): void {
    let message: JsonRpcMessage;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        throw new GatewayError('PC_PROTOCOL_PARSE_ERROR', `line is not valid JSON: ${(error as Error).message}`);
      }
      if (Array.isArray(parsed)) throw new GatewayError('PC_PROTOCOL_BATCH_NOT_ALLOWED', 'JSON-RPC batches are not accepted on the stdio front');
      message = assertMessage(parsed, 'message');
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      write(errorResponse(null, error, 'none'));
      return;
    }
    if (isResponse(message)) {
      session?.answer(message);
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/initialized' && session) session.initialized = true;
      if (message.method === 'notifications/cancelled') session?.cancel(message.params?.requestId);
      return;
    }
    if (isRequest(message as JsonRpcMessage)) {
      const request = message as unknown as JsonRpcRequest;
      onRequest(request).catch((error: unknown) => {
        logger.error({ err: error }, 'stdio front failure');
        write(errorResponse(request.id, new GatewayError('PC_INTERNAL', 'internal error'), 'none'));
      });
    }
  }

  return new Promise((resolve) => {
    let buffer = '';
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      buffer += chunk;
      let at: number;
      while ((at = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, at).trim();
        buffer = buffer.slice(at + 1);
        if (line !== '') onLine(line);
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
