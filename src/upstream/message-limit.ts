/**
 * The size limit on one message from a server (`servers.<name>.maxMessageBytes`, default
 * `defaults.maxMessageBytes`): a JSON body, an SSE event or a stdout line. Past it the gateway stops
 * reading — memory stays bounded whatever the server sends — fails the call with
 * `PC_UPSTREAM_TOO_LARGE` and drops the connection.
 */
import { GatewayError } from '../errors.ts';
import type { JsonRpcId } from '../protocol/jsonrpc.ts';
import type { Readable } from 'node:stream';
import { chunksOf } from '../util/chunks.ts';

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** A body grew past the limit; reading stopped and the body was destroyed. */
export class MessageTooLarge extends Error {
  readonly maxMessageBytes: number;
  readonly head: string;
  constructor(maxMessageBytes: number, head: string) {
    super(`a message exceeds ${maxMessageBytes} bytes`);
    this.name = 'MessageTooLarge';
    this.maxMessageBytes = maxMessageBytes;
    this.head = head;
  }
}

/**
 * Reads a whole response body as UTF-8, refusing a declared `Content-Length` over the limit before
 * reading anything and a streamed one as soon as it passes the limit. The body is destroyed on refusal
 * (which closes its connection: a half-read response cannot be reused).
 */
export function readBoundedText(
  body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => unknown },
  maxBytes: number,
  declaredLength?: string | string[] | undefined,
): Promise<string> {
  const declared = Number(Array.isArray(declaredLength) ? declaredLength[0] : (declaredLength ?? NaN));
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy?.();
    return Promise.reject(new MessageTooLarge(maxBytes, ''));
  }
  if (Number.isFinite(declared) && declared <= FAST_MAX_BYTES && isNodeStream(body)) return readDeclared(body, maxBytes);
  return readStreamed(body, maxBytes);
}

async function readStreamed(body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => unknown }, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunksOf(body)) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      body.destroy?.();
      throw tooLarge(maxBytes, chunks, chunk);
    }
    chunks.push(chunk);
  }
  return utf8(chunks);
}

/** The refusal of a body that grew past the limit, with its first bytes (where its id may be read). */
function tooLarge(maxBytes: number, chunks: readonly Uint8Array[], last: Uint8Array): MessageTooLarge {
  return new MessageTooLarge(maxBytes, Buffer.from((chunks[0] ?? last).subarray(0, 256)).toString('utf8'));
}

/**
 * Bodies that declare a length up to this are read in one go as they arrive: a bounded answer cannot
 * flood the loop, so the one-chunk-per-turn reading of chunksOf (an async generator, a promise and a
 * turn of the event loop per chunk) buys nothing there and costs every ordinary JSON answer a turn.
 */
const FAST_MAX_BYTES = 256 * 1024;

/** The chunks decoded as one UTF-8 text (a single chunk without a copy). */
function utf8(chunks: readonly Uint8Array[]): string {
  if (chunks.length !== 1) return Buffer.concat(chunks).toString('utf8');
  const only = chunks[0]!;
  return Buffer.from(only.buffer, only.byteOffset, only.byteLength).toString('utf8');
}

type NodeBody = AsyncIterable<Uint8Array> & Readable;

function isNodeStream(body: AsyncIterable<Uint8Array>): body is NodeBody {
  return typeof (body as Partial<Readable>).on === 'function' && typeof (body as Partial<Readable>).off === 'function';
}

/** readBoundedText for a body of declared length: as chunksOf reads it (an end or a bare close ends it, an error fails it), without the turns. */
function readDeclared(body: NodeBody, maxBytes: number): Promise<string> {
  if (body.readableEnded) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const done = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onEnd);
    };
    const onData = (chunk: Uint8Array): void => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        done();
        body.destroy();
        reject(tooLarge(maxBytes, chunks, chunk));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(utf8(chunks));
    };
    const onError = (error: Error): void => {
      done();
      if (!body.destroyed) body.destroy();
      reject(error);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    // Destroyed without an error or an end (aborted): nothing more will come.
    body.once('close', onEnd);
  });
}

/** The refusal a call gets when its server's answer is over the limit. */
export function tooLargeError(server: string, maxMessageBytes: number, what = 'a message'): GatewayError {
  return new GatewayError(
    'PC_UPSTREAM_TOO_LARGE',
    `server "${server}" sent ${what} larger than ${maxMessageBytes} bytes (servers.${server}.maxMessageBytes); the call is failed and the connection dropped`,
    { server, maxMessageBytes },
  );
}

/**
 * The JSON-RPC id of an oversized message, from its first or last bytes, when they show it at the top
 * level: `{"jsonrpc":"2.0","id":7,…` (most writers) or `…,"jsonrpc":"2.0","id":7}` (the SDK puts the
 * id last). A server can only misattribute its own answers this way, so no more is checked.
 */
export function oversizedMessageId(head: string, tail = ''): JsonRpcId | undefined {
  const start = /^\s*(?:data:\s?)?\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d{1,15}|"[^"\\]{0,128}")\s*,/.exec(head);
  const end = /"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d{1,15}|"[^"\\]{0,128}")\s*\}\s*$/.exec(tail);
  const raw = start?.[1] ?? end?.[1];
  if (raw === undefined) return undefined;
  return raw.startsWith('"') ? raw.slice(1, -1) : Number(raw);
}

/**
 * The refusal a call gets when its server answers with a JSON-RPC batch (an array) in an SSE event:
 * batches left MCP in 2025-06-18, and the gateway inspects one message at a time, so it takes none —
 * the call fails at once rather than waiting out its timeout.
 */
export function batchRefusal(server: string, method = 'a request'): GatewayError {
  return new GatewayError(
    'PC_UPSTREAM_PROTOCOL',
    `server "${server}" answered ${method} with a JSON-RPC batch (a JSON array) in an SSE event; MCP carries one message per event since 2025-06-18, so the call is failed`,
    { server },
  );
}
