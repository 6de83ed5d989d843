/**
 * JSON-RPC 2.0 message shapes as the gateway handles them: plain objects whose unknown fields pass
 * through untouched. Only the fields the gateway routes on are typed.
 */
import { GatewayError } from '../errors.ts';
import { findDuplicateKey } from './duplicate-keys.ts';

export type JsonRpcId = string | number;
export type JsonObject = Record<string, unknown>;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: JsonObject;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  id?: never;
  method: string;
  params?: JsonObject;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: JsonObject;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: { code: number; message: string; data?: unknown };
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isRequest(message: JsonRpcMessage): message is JsonRpcRequest {
  return 'method' in message && 'id' in message;
}

export function isNotification(message: JsonRpcMessage): message is JsonRpcNotification {
  return 'method' in message && !('id' in message);
}

export function isResponse(message: JsonRpcMessage): message is JsonRpcResponse {
  return !('method' in message) && ('result' in message || 'error' in message);
}

export function isFailure(message: JsonRpcResponse): message is JsonRpcFailure {
  return 'error' in message;
}

const MEMBERS: ReadonlySet<string> = new Set(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);

/**
 * Checks one decoded value is a JSON-RPC 2.0 message and says precisely what is wrong when it is not.
 * `where` names the position for batch members (`[2]`).
 */
export function assertMessage(value: unknown, where = 'body'): JsonRpcMessage {
  const fail = (what: string): never => {
    throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', `${where}: ${what}`);
  };
  if (!isObject(value)) return fail('must be a JSON-RPC 2.0 object');
  if (value.jsonrpc !== '2.0') fail('"jsonrpc" must be "2.0"');
  const hasId = 'id' in value;
  if (hasId && typeof value.id !== 'string' && typeof value.id !== 'number' && value.id !== null) {
    fail('"id" must be a string or a number');
  }
  // One message is one thing: a request or notification, or a response — never both, and with no
  // member JSON-RPC 2.0 does not define (§4, §5), which a peer could read as something else.
  const extra = Object.keys(value).filter((key) => !MEMBERS.has(key));
  if (extra.length > 0) fail(`unknown member${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')}; a JSON-RPC 2.0 message has only jsonrpc, id, method, params, result, error`);
  if ('method' in value && ('result' in value || 'error' in value)) fail('a message cannot carry both "method" and "result"/"error"');
  if ('result' in value && 'error' in value) fail('a response cannot carry both "result" and "error"');
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method.length === 0) fail('"method" must be a non-empty string');
    if (hasId && value.id === null) fail('a request "id" must not be null');
    if ('params' in value && value.params !== undefined && !isObject(value.params)) fail('"params" must be an object');
    return value as unknown as JsonRpcMessage;
  }
  if ('result' in value || 'error' in value) {
    if (!hasId) fail('a response needs an "id"');
    if ('error' in value && (!isObject(value.error) || typeof value.error.code !== 'number')) {
      fail('"error" must be an object with a numeric "code"');
    }
    return value as unknown as JsonRpcMessage;
  }
  return fail('is neither a request, a notification nor a response (no "method", "result" or "error")');
}

/**
 * Parses a body or a line; malformed JSON is a -32700 that names the parser's complaint, and a key
 * repeated in one object is refused as ambiguous (parsers disagree on which occurrence wins).
 */
export function parseJson(text: string, what = 'body'): unknown {
  assertJsonDepth(text, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatewayError('PC_PROTOCOL_PARSE_ERROR', `${what} is not valid JSON: ${(error as Error).message}`);
  }
  assertNoDuplicateKeys(text, what);
  assertFiniteNumbers(text, value, what);
  return value;
}

/**
 * Objects and arrays nested deeper than this are refused before parsing. MCP messages nest a few
 * levels (a JSON Schema a few dozen at most); a hostile one nested 100,000 deep costs seconds to parse
 * and would overflow the stack of every recursive walk after it (DLP, audit hashing, conditions).
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Refuses a JSON text whose objects and arrays nest deeper than MAX_JSON_DEPTH: one linear pass, run
 * before JSON.parse, so a deep body costs no more than reading it. Brackets inside strings do not count.
 */
export function assertJsonDepth(text: string, what = 'body'): void {
  if (text.length <= MAX_JSON_DEPTH) return; // too short to nest that deep
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string: the closing quote is the next one not preceded by an odd run of backslashes.
      for (;;) {
        const end = text.indexOf('"', i + 1);
        if (end === -1) return; // unterminated: JSON.parse refuses it
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c /* \ */) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new GatewayError('PC_PROTOCOL_PARSE_ERROR', `${what} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} levels are accepted`);
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
}

/** Only a number written with a three-digit exponent or 309 digits can overflow a double (the cheap test first). */
const MAY_OVERFLOW = /[eE][+-]?\d{3}|\d{309}/;

function nonFiniteAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nonFiniteAt(value[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (isObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      const found = nonFiniteAt(inner, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Refuses a JSON text (already parsed) holding a number a double cannot hold (`1e400` parses to
 * Infinity): no rule can compare it, JSON cannot write it again (it would travel as `null`), and the
 * audit record could not hash it. A typed -32602 naming the place, like any invalid parameter.
 */
export function assertFiniteNumbers(text: string, value: unknown, what = 'body'): void {
  if (!MAY_OVERFLOW.test(text)) return;
  const where = nonFiniteAt(value, what === 'body' || what === 'line' ? '' : what);
  if (where === undefined) return;
  const place = where.replace(/^(\[\d+\])?\./, '') || what;
  throw new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `${place} is a number outside what JSON numbers can carry (it overflows to infinity); send a finite number (at most about 1.8e308), or a string`, { where: place });
}

/** Refuses a JSON text (already parsed) in which one object carries a key twice. */
export function assertNoDuplicateKeys(text: string, what = 'body'): void {
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw new GatewayError('PC_PROTOCOL_AMBIGUOUS', `${what}: the key "${duplicate}" appears twice in one object; send each key once`);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes bytes that must be UTF-8 (RFC 8259 §8.1). Invalid sequences are refused, never replaced by
 * U+FFFD: a replaced byte is a value nobody sent, which could turn two different names into one.
 * A byte-order mark is kept, so JSON.parse refuses it.
 */
export function decodeUtf8(bytes: Uint8Array, what = 'body'): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new GatewayError('PC_PROTOCOL_PARSE_ERROR', `${what} is not valid UTF-8; MCP messages are UTF-8 JSON`);
  }
}

export function success(id: JsonRpcId, result: JsonObject): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

export function failure(id: JsonRpcId | null, error: JsonRpcFailure['error']): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error };
}
