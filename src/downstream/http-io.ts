/**
 * Small pieces of HTTP plumbing every route of the front shares: reading headers, negotiating media
 * types, reading a size-limited body, and answering a refusal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, httpStatusFor } from '../errors.ts';
import { decodeUtf8, isObject, type JsonRpcRequest } from '../protocol/jsonrpc.ts';
import { errorResponse } from './reply.ts';

/** The first value of a request header (Node joins or lists repeated ones). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function accepts(req: IncomingMessage, type: string): boolean {
  const accept = header(req, 'accept');
  if (!accept) return true;
  const any = `${type.slice(0, type.indexOf('/'))}/*`;
  // Each media range of the list, parameters dropped: no arrays built (this runs on every POST).
  for (let start = 0; start <= accept.length; ) {
    let end = accept.indexOf(',', start);
    if (end === -1) end = accept.length;
    const semicolon = accept.indexOf(';', start);
    const media = accept.slice(start, semicolon !== -1 && semicolon < end ? semicolon : end).trim().toLowerCase();
    if (media === type || media === '*/*' || media === any) return true;
    start = end + 1;
  }
  return false;
}

/** The id of a request body, for error responses (null when there is none to echo). */
export function idOf(body: unknown): JsonRpcRequest['id'] | null {
  return isObject(body) && (typeof body.id === 'string' || typeof body.id === 'number') ? body.id : null;
}

/** Answers a refusal as JSON with the status its code maps to (or just ends a response already under way). */
export function reject(res: ServerResponse, error: GatewayError, era: 'modern' | 'legacy' = 'legacy', id: JsonRpcRequest['id'] | null = null): void {
  const body = JSON.stringify(errorResponse(id, error, 'none'));
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(httpStatusFor(error, era), { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Reads the whole body as strict UTF-8 (invalid bytes: -32700, never replacement characters), refusing
 * (413) past `maxBodyBytes` whether declared or streamed. A body already in full is returned (or
 * refused, by a throw) at once; otherwise a promise of it.
 */
export function readBody(req: IncomingMessage, maxBodyBytes: number): string | Promise<string> {
  const declared = Number(header(req, 'content-length') ?? NaN);
  const tooLarge = (): GatewayError =>
    new GatewayError('PC_HTTP_BODY_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes (listen.maxBodyBytes)`, { maxBodyBytes });
  if (Number.isFinite(declared) && declared > maxBodyBytes) throw tooLarge();
  // A body that has arrived in full (usual: a JSON-RPC message comes in the packet of its headers) is
  // waiting in the request's buffer — the parser may not have reached the message's end yet — and is
  // taken in one read, without a promise, 'data' events and listeners. The stream is then left
  // flowing, so that it still ends (and frees the request) when the parser gets there.
  if (req.readableFlowing === null && (req.complete || (Number.isFinite(declared) && declared > 0 && req.readableLength >= declared))) {
    const whole = (req.read() as Buffer | null) ?? Buffer.alloc(0);
    if (!req.complete) req.resume();
    if (whole.length > maxBodyBytes) throw tooLarge();
    return decodeUtf8(whole);
  }
  return new Promise((resolve, rejectBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.removeAllListeners('data');
        req.resume();
        rejectBody(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      try {
        resolve(decodeUtf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      } catch (error) {
        rejectBody(error);
      }
    });
    // The socket went away mid-body: the client left, or listen.requestTimeoutMs passed (Node answered 408).
    req.once('error', () =>
      rejectBody(new GatewayError('PC_HTTP_REQUEST_TIMEOUT', 'the request body did not arrive in full (the client left, or listen.requestTimeoutMs passed)')),
    );
  });
}

/** The `Portcullis-Task` header: a task label the agent declares (the `_meta` label wins). */
export function taskHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['portcullis-task'];
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

/** What a path handler that has already answered returns, where its caller expects a promise. */
export const ANSWERED: Promise<void> = Promise.resolve();
