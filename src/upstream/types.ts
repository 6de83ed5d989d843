/**
 * What the pipeline sees of an upstream server, whatever its transport and era.
 */
import type { Era } from '../protocol/versions.ts';
import type { JsonObject, JsonRpcNotification } from '../protocol/jsonrpc.ts';

/** `unhealthy`: reachable, but refused for a cool-down after repeated oversized messages (health.ts). */
export type UpstreamState = 'starting' | 'ready' | 'unhealthy' | 'restarting' | 'failed' | 'closed';

export interface UpstreamInfo {
  era: Era;
  protocolVersion: string;
  capabilities: JsonObject;
  serverInfo: JsonObject;
  instructions: string | undefined;
}

/** An answer from the server: its result, or its own JSON-RPC error relayed unchanged. */
export type UpstreamReply = { result: JsonObject } | { error: { code: number; message: string; data?: unknown } };

/** A request the server sends back to the client (sampling, elicitation, roots) while a call runs. */
export interface ServerRequest {
  method: string;
  params: JsonObject | undefined;
}

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Who the call is for (downstream session or request key), to attribute server→client traffic. */
  caller: string;
  /**
   * The verified principal the call is made for (`principalKey`); absent for the gateway's own calls
   * (catalog, describe). Server→client traffic is attributed by principal, and a per-principal
   * upstream picks the session by it.
   */
  principal?: string | undefined;
  /** The caller's declared capabilities, sent upstream in the modern envelope. */
  clientCapabilities?: JsonObject | undefined;
  clientInfo?: JsonObject | undefined;
  /** Extra HTTP headers for this request (modern HTTP servers: `Mcp-Param-*`). */
  headers?: Record<string, string> | undefined;
  /** Notifications tied to this call: progress, and log messages that can be attributed to it. */
  onNotification?: ((notification: JsonRpcNotification) => void) | undefined;
  /** Server→client requests tied to this call; rejects with a JSON-RPC error object to refuse. */
  onServerRequest?: ((request: ServerRequest) => Promise<JsonObject>) | undefined;
  /**
   * The result, as it arrives and before anything the server sends after it is handled (e.g. a task's
   * owner must be known before the task's first status notification is attributed).
   */
  onResult?: ((result: JsonObject) => void) | undefined;
  /**
   * The server is done with the request: it answered, also after the gateway stopped waiting (the client
   * cancelled, the call timed out or was stopped: cancellation is advisory, the server may keep working),
   * or its connection is gone. Called at most once; an upstream that cannot tell (a modern HTTP server,
   * whose answer cannot come once the gateway closed the request's stream) never calls it for a request
   * it gave up on, and the call's concurrency slot stays taken (fail closed: src/pipeline/stages/rate-limit.ts).
   */
  onAnswered?: (() => void) | undefined;
}

/**
 * Whom a server notification belongs to when no call of theirs is in flight to carry it: a principal
 * (all of its legacy sessions that show the server) or, narrower, one downstream caller of it.
 */
export interface Recipient {
  readonly principal: string;
  readonly caller?: string | undefined;
}

/** Notifications not tied to a call; `to` is set when they belong to one principal or caller only. */
export type EventListener = (notification: JsonRpcNotification, to?: Recipient) => void;

export interface Upstream {
  readonly name: string;
  state(): UpstreamState;
  /** Resolves once the server has been reached (or rejects when it is failed for good). */
  ready(timeoutMs: number): Promise<UpstreamInfo>;
  info(): UpstreamInfo | undefined;
  request(method: string, params: JsonObject | undefined, options: CallOptions): Promise<UpstreamReply>;
  /**
   * The connector to use for a client of `era`: a server that speaks both eras is reached in the
   * client's own era (no translation, full fidelity); otherwise this connector.
   */
  connectorFor(era: Era, timeoutMs: number): Promise<Upstream>;
  notify(method: string, params: JsonObject | undefined): Promise<void>;
  /**
   * Notifications not tied to a call in flight: list_changed and resources/updated for everyone who
   * may see them, anything else only with its recipient (`to`). Returns an unsubscribe.
   */
  onEvent(listener: EventListener): () => void;
  /** Live upstream sessions (a per-principal upstream has several); undefined when not session-based. */
  sessionCount?(): number;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A refusal sent back to the server for a server→client request. */
export class ServerRequestRefused extends Error {
  readonly rpcCode: number;
  constructor(rpcCode: number, message: string) {
    super(message);
    this.rpcCode = rpcCode;
  }
}
