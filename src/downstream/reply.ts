/**
 * Turning a pipeline outcome into the JSON-RPC response a client receives. Upstream errors are relayed
 * unchanged; gateway decisions go through the one error map.
 */
import { toJsonRpcError, type GatewayError } from '../errors.ts';
import { failure, success, type JsonRpcId, type JsonRpcResponse } from '../protocol/jsonrpc.ts';
import type { Outcome } from '../pipeline/context.ts';

export function toResponse(id: JsonRpcId, outcome: Outcome, correlationId: string): JsonRpcResponse {
  if ('result' in outcome) return success(id, outcome.result);
  if ('upstreamError' in outcome) return failure(id, outcome.upstreamError);
  return failure(id, toJsonRpcError(outcome.error, correlationId));
}

export function errorResponse(id: JsonRpcId | null, error: GatewayError, correlationId: string): JsonRpcResponse {
  return failure(id, toJsonRpcError(error, correlationId));
}
