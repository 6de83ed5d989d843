/**
 * JSON-RPC 2.0 message shapes as the gateway handles them: plain objects whose unknown fields pass
 * through untouched. Only the fields the gateway routes on are typed.
 */
import { GatewayError } from '../errors.ts';

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

/** Parses a body; malformed JSON is a -32700 that names the parser's complaint. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GatewayError('PC_PROTOCOL_PARSE_ERROR', `body is not valid JSON: ${(error as Error).message}`);
  }
}

export function success(id: JsonRpcId, result: JsonObject): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

export function failure(id: JsonRpcId | null, error: JsonRpcFailure['error']): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error };
}
