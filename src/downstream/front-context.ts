/**
 * What the era handlers of the HTTP front share: the gateway, the sessions and listen streams the front
 * holds, who the authenticated caller of a request is, and the step-up check that runs before a call.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.ts';
import type { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import type { JsonObject, JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Endpoint } from '../pipeline/context.ts';
import type { ListenStreams } from './listen-streams.ts';
import type { ResponseWriter, SlowClientGuard } from './response-writer.ts';
import type { SessionStore } from './session.ts';
import type { ResumeBudget } from './stream-log.ts';

/** A modern client's `subscriptions/listen` stream. */
export interface ModernListener {
  endpoint: Endpoint;
  /** The principal that opened it ('' with identity off). */
  owner: string;
  /** Its user (issuer and subject, '' with identity off), for listen.maxListenStreamsPerPrincipal. */
  user: string;
  filter: JsonObject;
  id: JsonRpcRequest['id'];
  writer: ResponseWriter;
}

export interface FrontContext {
  readonly gateway: Gateway;
  readonly logger: Logger;
  readonly sessions: SessionStore;
  readonly modernStreams: ListenStreams;
  /** The bytes resumable legacy streams may keep (listen.maxResumeBytes…). */
  readonly resume: ResumeBudget;
  /** The slow-reader limit for an SSE response: 'drop' on a call's stream, 'close' on a notification stream. */
  streamGuard(mode: SlowClientGuard['mode']): SlowClientGuard;
  /** The verified caller of a request (identity on), else undefined. */
  principalOf(req: IncomingMessage): Principal | undefined;
  /** The key a legacy session is bound to: the principal that opened it. */
  ownerOf(req: IncomingMessage): string | undefined;
  /** The user of a request (issuer and subject, whatever client acts for them): what per-principal caps count. */
  userOf(req: IncomingMessage): string | undefined;
  /**
   * Step-up (RFC 6750 §3.1): the refusal for a tools/call whose tool needs scopes the token lacks, with
   * the challenge header already set on `res`; undefined when every request may go on.
   */
  stepUp(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, requests: readonly JsonRpcRequest[]): Promise<GatewayError | undefined>;
  /**
   * Answers a refusal decided before the request became a pipeline message (malformed or ambiguous
   * input, a header that disagrees with the body), after recording it (bounded, see recordRefusal).
   */
  refuse(res: ServerResponse, endpoint: Endpoint, error: GatewayError, era?: 'modern' | 'legacy', id?: JsonRpcRequest['id'] | null, method?: string, req?: IncomingMessage): Promise<void>;
  logDecision(request: JsonRpcRequest, error: GatewayError, correlationId: string): void;
  /**
   * Watches a long-lived notification stream (legacy GET, `subscriptions/listen`) opened by `req`: the
   * kill switch and the credential it was opened with are judged again before each message and every
   * second, and the stream is closed (and the closing recorded) when either refuses it
   * (stream-watch.ts). The refusal when the stream may not open at all (nothing is watched then).
   */
  watchStream(req: IncomingMessage, endpoint: Endpoint, writer: ResponseWriter, caller: { agent: string; subject?: string }, what: string): GatewayError | undefined;
}

/** Whether a client on `endpoint` sees what `server` announces. */
export function endpointShows(endpoint: Endpoint, server: string): boolean {
  return endpoint.kind === 'aggregate' || endpoint.server === server;
}
