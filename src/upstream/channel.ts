/**
 * A bidirectional JSON-RPC message pipe to one upstream. Its shape is the official SDK's `Transport`,
 * so the SDK's HTTP and SSE client transports plug in unchanged beside our own stdio channel.
 */
import type { JsonRpcId, JsonRpcMessage } from '../protocol/jsonrpc.ts';

/** What a channel knows about where a message came from. */
export interface ChannelMessageExtra {
  /** The request whose response stream carried the message (legacy Streamable HTTP), if any. */
  relatedRequestId?: JsonRpcId | undefined;
}

export interface MessageChannel {
  start(): Promise<void>;
  send(message: JsonRpcMessage): Promise<void>;
  close(): Promise<void>;
  onmessage?: ((message: JsonRpcMessage, extra?: ChannelMessageExtra) => void) | undefined;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  /**
   * A message from the server was over the size limit and dropped unread; `requestId` when the bytes
   * read show whose answer it was (so that call fails at once instead of timing out).
   */
  onoversize?: ((info: { requestId: JsonRpcId | undefined; where: string }) => void) | undefined;
  /**
   * The server sent what MCP does not carry (`MalformedAnswer`) — a JSON-RPC batch (an array) in an SSE event — and it was
   * dropped; `requestId` names a call it answered (or whose stream it came on), which fails at once.
   */
  onmalformed?: ((info: MalformedAnswer) => void) | undefined;
  /** Streamable HTTP transports must send the negotiated version on every request after init. */
  setProtocolVersion?: (version: string) => void;
}

/**
 * Why an answer was dropped unread: `batch`, a JSON-RPC batch (an array), which MCP does not carry;
 * `refused`, a message the gateway refused before parsing it (nested too deep).
 */
export type MalformedReason = 'batch' | 'refused';

/** A dropped answer: whose call it answered, why (`reason`), and how to say it (`what`, for messages). */
export interface MalformedAnswer {
  requestId: JsonRpcId;
  reason: MalformedReason;
  what: string;
}
