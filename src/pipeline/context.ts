/**
 * The per-message context: everything a stage may read or add for one request. Nothing per-request
 * lives anywhere else; stages receive the clock, stores and randomness through their factories.
 */
import type { GatewayError } from '../errors.ts';
import type { JsonObject, JsonRpcNotification, JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Era } from '../protocol/versions.ts';
import type { ListKind } from '../routing/catalog.ts';
import type { ParkedCall } from './input-bridge.ts';
import type { Principal } from '../auth/principal.ts';
import type { Decision, TargetKind } from '../policy/policy.ts';
import type { DlpFinding, MaskBook } from '../dlp/engine.ts';
import type { ApprovalNote } from '../audit/record.ts';

/** `/mcp` (all servers, namespaced) or `/mcp/<server>` (one server, unchanged). */
export type Endpoint = { kind: 'aggregate' } | { kind: 'server'; server: string };

/** The downstream client as the pipeline can reach it while answering one request. */
export interface ClientLink {
  /** Identifies the caller to upstream attribution: a session id, or one modern request. */
  readonly key: string;
  readonly era: Era;
  readonly protocolVersion: string;
  readonly capabilities: JsonObject;
  readonly info: JsonObject | undefined;
  /** Sends a notification tied to the current request (progress, log message). */
  notify(notification: JsonRpcNotification): void;
  /** Sends a request to the client and awaits the answer; undefined in the modern era (no server→client requests). */
  readonly request: ((method: string, params: JsonObject | undefined) => Promise<JsonObject>) | undefined;
}

/**
 * What the policy decides on for a request bound for a server (DESIGN.md invariant 1): a tool, prompt,
 * resource URI or custom method (`via` marks a request governed as the prompt/template a completion
 * names, or as the tool a task runs), a list (filtered item by item), or the server itself.
 */
export type GovernedTarget =
  | { kind: TargetKind; name: string; via?: 'completion' | 'task' }
  | { kind: 'list' | 'server' };

export type Route =
  | { kind: 'local'; answer: () => JsonObject | Promise<JsonObject> }
  | {
      kind: 'upstream';
      server: string;
      method: string;
      /** Exactly what is forwarded: rebuilt from the judged values (never the client's object spread). */
      params: JsonObject | undefined;
      /** The judged target's name (tool or prompt name, resource URI, method), for rules and the record. */
      name: string | undefined;
      target: GovernedTarget;
      /** A retry that resumes a parked call (era translation) instead of starting one; see input-bridge.ts. */
      resume?: { parked: ParkedCall; inputResponses: JsonObject } | undefined;
    }
  | { kind: 'aggregate-list'; list: ListKind; cursor: string | undefined }
  /** `servers`: where it goes; the kill switch and the policy remove the servers it may not reach. */
  | { kind: 'broadcast'; method: string; params: JsonObject | undefined; servers: string[] };

export interface MessageContext {
  readonly correlationId: string;
  readonly receivedAtMs: number;
  /** `performance.now()` when the request entered the pipeline, for latency. */
  readonly startedAt: number;
  readonly endpoint: Endpoint;
  readonly request: JsonRpcRequest;
  readonly client: ClientLink;
  /** Aborts when the client cancels or goes away. */
  readonly signal: AbortSignal;
  /** `Mcp-Param-*` headers of a modern HTTP request (lower-case names); undefined on other fronts. */
  readonly paramHeaders: Readonly<Record<string, string>> | undefined;
  /** Who is asking (set by authenticate; a local principal when no identity is configured). */
  readonly principal: Principal;
  /** The task label the agent declared (`_meta` "dev.portcullis/task" or the Portcullis-Task header). */
  readonly task: string | undefined;
  route?: Route;
  /** The routed tool's definition as the server lists it, when a stage needed it. */
  tool?: JsonObject;
  /** The policy's decision on this call, for the audit record. */
  decision?: Decision & { monitored?: boolean };
  /** Set by authorize on list requests: whether an item may be shown to this caller. */
  listFilter?: (server: string, kind: TargetKind, item: JsonObject) => boolean;
  /** What data-loss prevention found in this request, its result and its server→client traffic (for the audit record). */
  dlp?: DlpFinding[];
  /** Toxic-flow labels of the called tool (`private`, `untrusted`, `egress`), when the monitor tracks flows (for the audit record). */
  /** Server→client requests of this call the gateway refused (method and why), for its audit record. */
  refusedServerRequests?: string[];
  /**
   * On an egress call under toxicFlow enforce: block — the toxic-flow refusal if the caller's flows
   * read private data by now; forward asks it before handing the server a client's answer.
   */
  judgeEgress?: () => GatewayError | undefined;
  labels?: string[];
  /** The client's network address (the socket's remote address), where the front records it (refusals at the HTTP front). */
  address?: string;
  /** Mask numbering shared by the result and the server→client traffic of this call. */
  maskBook?: MaskBook;
  /**
   * Mask numbering of what goes the other way, to the server: the client's answers to its requests. Never
   * the book of what the server sent — a number shared between the two would tell the server which of
   * its own values the client's answer equals (red team J, F8).
   */
  answerMaskBook?: MaskBook;
  /** The human approval this call ran under, was refused by, or waits for (for the audit record). */
  approval?: ApprovalNote;
  /** Run when the request is over, whatever happened (releases a concurrency slot); add with `onRequestEnd`. */
  release?: (() => void) | undefined;
  /**
   * Keeps the call's concurrency slot past the end of the request until the server is done with one
   * upstream request of it (red team K2: a cancelled or timed-out call goes on on the server): call the
   * returned function when the server has answered or the connection the request went on is gone. No
   * clock releases it (red team L1). Set by the rateLimit stage when the call holds a slot.
   */
  holdSlot?: (() => () => void) | undefined;
}

/** Adds `fn` to what runs when the request is over, after what is already there. */
export function onRequestEnd(ctx: MessageContext, fn: () => void): void {
  const before = ctx.release;
  ctx.release = before
    ? () => {
        try {
          before();
        } finally {
          fn();
        }
      }
    : fn;
}

/** The answer to one request: a result, the server's own error relayed, or a gateway decision. */
export type Outcome =
  | { result: JsonObject }
  | { upstreamError: { code: number; message: string; data?: unknown } }
  | { error: GatewayError };
