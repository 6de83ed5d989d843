/**
 * The one error type of the gateway, and the one map from its codes to the wire.
 *
 * A denial or rejection is a `GatewayError` *value* returned by a stage; `throw` is reserved for bugs.
 * Codes are `PC_<AREA>_<REASON>`; tests assert codes, never message text. Messages say what was wrong,
 * where, and what would be accepted — they must never contain a secret.
 */

export type GatewayErrorCode =
  | 'PC_HTTP_ORIGIN_FORBIDDEN'
  | 'PC_HTTP_HOST_FORBIDDEN'
  | 'PC_HTTP_BODY_TOO_LARGE'
  | 'PC_HTTP_UNSUPPORTED_MEDIA_TYPE'
  | 'PC_HTTP_NOT_ACCEPTABLE'
  | 'PC_HTTP_METHOD_NOT_ALLOWED'
  | 'PC_HTTP_NOT_FOUND'
  | 'PC_HTTP_STREAM_CONFLICT'
  | 'PC_HTTP_REQUEST_TIMEOUT'
  | 'PC_PROTOCOL_PARSE_ERROR'
  | 'PC_PROTOCOL_AMBIGUOUS'
  | 'PC_PROTOCOL_INVALID_REQUEST'
  | 'PC_PROTOCOL_BATCH_NOT_ALLOWED'
  | 'PC_PROTOCOL_HEADER_MISMATCH'
  | 'PC_PROTOCOL_INVALID_META'
  | 'PC_PROTOCOL_UNSUPPORTED_VERSION'
  | 'PC_PROTOCOL_METHOD_NOT_FOUND'
  | 'PC_PROTOCOL_MISSING_CAPABILITY'
  | 'PC_PROTOCOL_INVALID_PARAMS'
  | 'PC_PROTOCOL_NOT_INITIALIZED'
  | 'PC_SESSION_MISSING'
  | 'PC_SESSION_UNKNOWN'
  | 'PC_ROUTE_UNKNOWN_SERVER'
  | 'PC_ROUTE_UNKNOWN_TOOL'
  | 'PC_ROUTE_UNKNOWN_PROMPT'
  | 'PC_ROUTE_UNKNOWN_RESOURCE'
  | 'PC_ROUTE_AMBIGUOUS'
  | 'PC_ROUTE_UNKNOWN_METHOD'
  | 'PC_UPSTREAM_UNAVAILABLE'
  | 'PC_UPSTREAM_CRASHED'
  | 'PC_UPSTREAM_TIMEOUT'
  | 'PC_UPSTREAM_PROTOCOL'
  | 'PC_UPSTREAM_TOO_LARGE'
  | 'PC_REQUEST_CANCELLED'
  | 'PC_INPUT_STATE_INVALID'
  | 'PC_INPUT_PARKED_LIMIT'
  | 'PC_TASK_UNKNOWN'
  | 'PC_TASK_LIMIT'
  | 'PC_SUBSCRIPTION_LIMIT'
  | 'PC_UPSTREAM_SESSION_LIMIT'
  | 'PC_AUDIT_UNAVAILABLE'
  | 'PC_AUDIT_BUDGET'
  | 'PC_SUPPLY_QUARANTINED'
  | 'PC_SUPPLY_PINS_INVALID'
  | 'PC_SUPPLY_PIN_FAILED'
  | 'PC_AUTH_REQUIRED'
  | 'PC_AUTH_INVALID_TOKEN'
  | 'PC_AUTH_INSUFFICIENT_SCOPE'
  | 'PC_AUTH_AMBIGUOUS_CREDENTIALS'
  | 'PC_POLICY_DENIED'
  | 'PC_POLICY_GUARD'
  | 'PC_POLICY_GATEWAY_STATE'
  | 'PC_POLICY_APPROVAL_REQUIRED'
  | 'PC_POLICY_TOXIC_FLOW'
  | 'PC_ARGS_INVALID'
  | 'PC_ARGS_TOO_LARGE'
  | 'PC_ARGS_SCHEMA_UNSAFE'
  | 'PC_RATE_LIMITED'
  | 'PC_CONCURRENCY_LIMITED'
  | 'PC_KILL_SWITCH'
  | 'PC_DLP_BLOCKED'
  | 'PC_DLP_EXFILTRATION'
  | 'PC_CONFIG_INVALID'
  | 'PC_CONFIG_RUN_AS'
  | 'PC_INTERNAL'
  | 'PC_APPROVAL_PENDING'
  | 'PC_APPROVAL_DENIED'
  | 'PC_APPROVAL_DECLINED'
  | 'PC_APPROVAL_EXPIRED'
  | 'PC_APPROVAL_UNAVAILABLE'
  | 'PC_APPROVAL_LIMIT'
  | 'PC_APPROVAL_CHANGED'
  | 'PC_APPROVAL_STATE_INVALID'
  | 'PC_APPROVAL_UNKNOWN'
  | 'PC_APPROVAL_SELF'
  | 'PC_APPROVAL_NOT_APPROVER'
  | 'PC_APPROVAL_ADMIN_FORBIDDEN';

/**
 * How a code travels.
 * - `status`: the HTTP status when the rejection ends the HTTP exchange (all transport-level codes, and
 *   any code in the stateless modern era, where each request is its own exchange).
 * - `rpcCode`: the JSON-RPC error code. Gateway decisions that are not protocol errors use application
 *   codes outside -32768..-32000, as the spec asks of new codes (2026-07-28 basic/index §Error Codes).
 * - `transport`: true when the error is about the HTTP exchange itself; false when it is an answer to a
 *   well-formed request, which a legacy-era session carries in a 200 like any other JSON-RPC response.
 */
export interface WireMapping {
  readonly status: number;
  readonly rpcCode: number;
  readonly transport: boolean;
}

export const ERROR_MAP: { readonly [C in GatewayErrorCode]: WireMapping } = {
  PC_HTTP_ORIGIN_FORBIDDEN: { status: 403, rpcCode: -32600, transport: true },
  PC_HTTP_HOST_FORBIDDEN: { status: 403, rpcCode: -32600, transport: true },
  PC_HTTP_BODY_TOO_LARGE: { status: 413, rpcCode: -32600, transport: true },
  PC_HTTP_UNSUPPORTED_MEDIA_TYPE: { status: 415, rpcCode: -32600, transport: true },
  PC_HTTP_NOT_ACCEPTABLE: { status: 406, rpcCode: -32600, transport: true },
  PC_HTTP_METHOD_NOT_ALLOWED: { status: 405, rpcCode: -32600, transport: true },
  PC_HTTP_NOT_FOUND: { status: 404, rpcCode: -32600, transport: true },
  PC_HTTP_STREAM_CONFLICT: { status: 409, rpcCode: -32600, transport: true },
  // The request (headers or body) did not arrive within listen.headersTimeoutMs / requestTimeoutMs.
  PC_HTTP_REQUEST_TIMEOUT: { status: 408, rpcCode: -32600, transport: true },
  // A request that two parsers could read differently (a repeated Host, session or version header, a
  // body that is not UTF-8, duplicate JSON keys) is refused before anything reads it.
  PC_PROTOCOL_AMBIGUOUS: { status: 400, rpcCode: -32600, transport: true },
  PC_PROTOCOL_PARSE_ERROR: { status: 400, rpcCode: -32700, transport: true },
  PC_PROTOCOL_INVALID_REQUEST: { status: 400, rpcCode: -32600, transport: true },
  PC_PROTOCOL_BATCH_NOT_ALLOWED: { status: 400, rpcCode: -32600, transport: true },
  PC_PROTOCOL_HEADER_MISMATCH: { status: 400, rpcCode: -32020, transport: true },
  PC_PROTOCOL_INVALID_META: { status: 400, rpcCode: -32602, transport: true },
  PC_PROTOCOL_UNSUPPORTED_VERSION: { status: 400, rpcCode: -32022, transport: true },
  PC_PROTOCOL_METHOD_NOT_FOUND: { status: 404, rpcCode: -32601, transport: false },
  PC_PROTOCOL_MISSING_CAPABILITY: { status: 400, rpcCode: -32021, transport: false },
  PC_PROTOCOL_INVALID_PARAMS: { status: 200, rpcCode: -32602, transport: false },
  PC_PROTOCOL_NOT_INITIALIZED: { status: 400, rpcCode: -32600, transport: false },
  PC_SESSION_MISSING: { status: 400, rpcCode: -32600, transport: true },
  PC_SESSION_UNKNOWN: { status: 404, rpcCode: -32001, transport: true },
  PC_ROUTE_UNKNOWN_SERVER: { status: 404, rpcCode: -32600, transport: true },
  PC_ROUTE_UNKNOWN_TOOL: { status: 200, rpcCode: -32602, transport: false },
  PC_ROUTE_UNKNOWN_PROMPT: { status: 200, rpcCode: -32602, transport: false },
  PC_ROUTE_UNKNOWN_RESOURCE: { status: 200, rpcCode: -32602, transport: false },
  PC_ROUTE_AMBIGUOUS: { status: 200, rpcCode: -32602, transport: false },
  // Not a client→server method of the negotiated version, and no policy rule names it (`methods:`).
  PC_ROUTE_UNKNOWN_METHOD: { status: 404, rpcCode: -32601, transport: false },
  PC_UPSTREAM_UNAVAILABLE: { status: 200, rpcCode: -31002, transport: false },
  PC_UPSTREAM_CRASHED: { status: 200, rpcCode: -31003, transport: false },
  PC_UPSTREAM_TIMEOUT: { status: 200, rpcCode: -31004, transport: false },
  PC_UPSTREAM_PROTOCOL: { status: 200, rpcCode: -31005, transport: false },
  // A server's message exceeded its maxMessageBytes: the call fails, the connection is dropped.
  PC_UPSTREAM_TOO_LARGE: { status: 200, rpcCode: -31008, transport: false },
  PC_REQUEST_CANCELLED: { status: 200, rpcCode: -31006, transport: false },
  PC_INPUT_STATE_INVALID: { status: 200, rpcCode: -32602, transport: false },
  PC_INPUT_PARKED_LIMIT: { status: 200, rpcCode: -31043, transport: false },
  // A task id the caller does not own is answered as a nonexistent one is (spec 2025-11-25 tasks
  // §Error Handling: invalid or nonexistent taskId → -32602).
  PC_TASK_UNKNOWN: { status: 200, rpcCode: -32602, transport: false },
  PC_TASK_LIMIT: { status: 200, rpcCode: -31042, transport: false },
  PC_SUBSCRIPTION_LIMIT: { status: 200, rpcCode: -31046, transport: false },
  PC_UPSTREAM_SESSION_LIMIT: { status: 200, rpcCode: -31007, transport: false },
  PC_AUDIT_UNAVAILABLE: { status: 200, rpcCode: -31010, transport: false },
  // The caller's share of the audit trail (audit.budget) is spent: its calls are refused, not run unrecorded.
  PC_AUDIT_BUDGET: { status: 200, rpcCode: -31011, transport: false },
  PC_SUPPLY_QUARANTINED: { status: 200, rpcCode: -31020, transport: false },
  PC_SUPPLY_PINS_INVALID: { status: 200, rpcCode: -31022, transport: false },
  PC_SUPPLY_PIN_FAILED: { status: 200, rpcCode: -31023, transport: false },
  // RFC 6750 §3.1: a token without the scopes an operation needs is refused with 403 and a challenge
  // naming them, which MCP clients answer with a step-up authorization (spec 2025-11-25 authorization).
  PC_AUTH_REQUIRED: { status: 401, rpcCode: -31028, transport: true },
  PC_AUTH_INVALID_TOKEN: { status: 401, rpcCode: -31029, transport: true },
  PC_AUTH_INSUFFICIENT_SCOPE: { status: 403, rpcCode: -31030, transport: true },
  // RFC 9110 §5.3: Authorization is not a list; sent twice, which copy counts depends on who reads it.
  PC_AUTH_AMBIGUOUS_CREDENTIALS: { status: 400, rpcCode: -32600, transport: true },
  PC_POLICY_DENIED: { status: 200, rpcCode: -31031, transport: false },
  PC_POLICY_GUARD: { status: 200, rpcCode: -31032, transport: false },
  PC_POLICY_APPROVAL_REQUIRED: { status: 200, rpcCode: -31033, transport: false },
  // A path argument that names the gateway's own configuration, data directory or key files (src/policy/gateway-state.ts).
  PC_POLICY_GATEWAY_STATE: { status: 200, rpcCode: -31035, transport: false },
  // A tool that can send data out, called in a session that read private data (monitor.detectors.toxicFlow).
  PC_POLICY_TOXIC_FLOW: { status: 200, rpcCode: -31034, transport: false },
  PC_ARGS_INVALID: { status: 200, rpcCode: -32602, transport: false },
  PC_ARGS_TOO_LARGE: { status: 200, rpcCode: -32602, transport: false },
  // The tool's own inputSchema cannot be used (a pattern RE2 cannot run, or no schema at all): the tool is
  // withheld like a quarantined definition, so it shares the supply-chain range.
  PC_ARGS_SCHEMA_UNSAFE: { status: 200, rpcCode: -31021, transport: false },
  PC_RATE_LIMITED: { status: 200, rpcCode: -31040, transport: false },
  PC_CONCURRENCY_LIMITED: { status: 200, rpcCode: -31041, transport: false },
  PC_KILL_SWITCH: { status: 200, rpcCode: -31050, transport: false },
  // Data-loss prevention (docs/dlp.md): a result withheld for what it carries, or a call refused for
  // sending a secret-shaped value to a tool that can reach outside.
  PC_DLP_BLOCKED: { status: 200, rpcCode: -31060, transport: false },
  PC_DLP_EXFILTRATION: { status: 200, rpcCode: -31061, transport: false },
  PC_CONFIG_INVALID: { status: 500, rpcCode: -32603, transport: false },
  // A stdio server's runAs names no user here, or the gateway cannot switch to it: the gateway does not start.
  PC_CONFIG_RUN_AS: { status: 500, rpcCode: -32603, transport: false },
  PC_INTERNAL: { status: 500, rpcCode: -32603, transport: false },
  // Human approval (docs/approvals.md): answers to a call an approve rule holds, then the queue's own
  // refusals on the command line and the admin endpoint (/admin/approvals, plain HTTP, not JSON-RPC).
  PC_APPROVAL_PENDING: { status: 200, rpcCode: -31045, transport: false },
  PC_APPROVAL_DENIED: { status: 200, rpcCode: -31035, transport: false },
  PC_APPROVAL_DECLINED: { status: 200, rpcCode: -31036, transport: false },
  PC_APPROVAL_EXPIRED: { status: 200, rpcCode: -31037, transport: false },
  PC_APPROVAL_UNAVAILABLE: { status: 200, rpcCode: -31038, transport: false },
  PC_APPROVAL_LIMIT: { status: 200, rpcCode: -31039, transport: false },
  PC_APPROVAL_CHANGED: { status: 200, rpcCode: -31044, transport: false },
  PC_APPROVAL_STATE_INVALID: { status: 200, rpcCode: -32602, transport: false },
  PC_APPROVAL_UNKNOWN: { status: 404, rpcCode: -32600, transport: true },
  PC_APPROVAL_SELF: { status: 403, rpcCode: -32600, transport: true },
  PC_APPROVAL_NOT_APPROVER: { status: 403, rpcCode: -32600, transport: true },
  PC_APPROVAL_ADMIN_FORBIDDEN: { status: 403, rpcCode: -32600, transport: true },
};

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  /** Extra, secret-free facts for the client (`data` of the JSON-RPC error). */
  readonly data: Readonly<Record<string, unknown>> | undefined;

  constructor(code: GatewayErrorCode, message: string, data?: Record<string, unknown>) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.data = data;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** A GatewayError thrown by a look-up is a stage's answer (a decision); anything else is a bug and goes on up. */
export function refusalOf(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  throw error;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * The JSON-RPC error object for a gateway error. Internal errors never leak their message: the client
 * gets -32603 and the correlation id, and the detail goes to the log under the same id.
 */
export function toJsonRpcError(error: GatewayError, correlationId: string): JsonRpcErrorObject {
  const mapping = ERROR_MAP[error.code];
  if (error.code === 'PC_INTERNAL') {
    return { code: mapping.rpcCode, message: 'Internal gateway error', data: { code: error.code, correlationId } };
  }
  // Spec-reserved codes whose `data` shape is fixed (-32022 carries {supported, requested}) keep it;
  // everything else carries our stable code alongside the caller-facing facts.
  return { code: mapping.rpcCode, message: error.message, data: { code: error.code, ...error.data } };
}

/**
 * HTTP status for a server's own JSON-RPC error relayed to a modern-era client, which reads protocol
 * errors from the status too (spec 2026-07-28 streamable-http: unknown method 404, header, capability
 * and version errors 400). Legacy clients get every JSON-RPC answer in a 200.
 */
export function httpStatusForRpcCode(rpcCode: number, era: 'modern' | 'legacy'): number {
  if (era === 'legacy') return 200;
  if (rpcCode === -32601) return 404;
  if ([-32700, -32600, -32020, -32021, -32022].includes(rpcCode)) return 400;
  return 200;
}

/** HTTP status for an error: transport-level errors always; answers only in the stateless modern era. */
export function httpStatusFor(error: GatewayError, era: 'modern' | 'legacy'): number {
  const mapping = ERROR_MAP[error.code];
  if (mapping.transport || era === 'modern') return mapping.status;
  return 200;
}
