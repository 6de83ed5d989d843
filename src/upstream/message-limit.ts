/**
 * The size limit on one message from a server (`servers.<name>.maxMessageBytes`, default
 * `defaults.maxMessageBytes`): a JSON body, an SSE event or a stdout line. Past it the gateway stops
 * reading — memory stays bounded whatever the server sends — fails the call with
 * `PC_UPSTREAM_TOO_LARGE` and drops the connection.
 */
import { GatewayError } from '../errors.ts';
import type { JsonRpcId } from '../protocol/jsonrpc.ts';
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
export async function readBoundedText(
  body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => unknown },
  maxBytes: number,
  declaredLength?: string | string[] | undefined,
): Promise<string> {
  const declared = Number(Array.isArray(declaredLength) ? declaredLength[0] : (declaredLength ?? NaN));
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy?.();
    throw new MessageTooLarge(maxBytes, '');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunksOf(body)) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      const head = Buffer.from((chunks[0] ?? chunk).subarray(0, 256)).toString('utf8');
      body.destroy?.();
      throw new MessageTooLarge(maxBytes, head);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? Buffer.from(chunks[0]!).toString('utf8') : Buffer.concat(chunks).toString('utf8');
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
