/**
 * Whose is it? Attribution of server→client traffic on an upstream session that several downstream
 * callers share (spec invariant "callers are isolated": anything a server sends back reaches only the
 * caller it belongs to; what cannot be attributed is dropped and counted, never broadcast).
 *
 * A shared legacy session carries every caller's calls, so a message the server sends on its own says
 * nothing on the wire about whom it is for. It is attributed only by a fact, in this order:
 *
 * 1. the transport: a message that arrived on the response stream of one request (legacy Streamable
 *    HTTP) belongs to that request's caller;
 * 2. a task it names (`_meta["io.modelcontextprotocol/related-task"].taskId`, or the `taskId` of
 *    `notifications/tasks/status`) belongs to the task's owner (`TaskOwnership`); a request naming a
 *    task goes to the owner's call that follows it (`tasks/result`), or to the owner's call when no
 *    other principal has one in flight, else it is refused (clients cannot name others' tasks: see
 *    `checkTaskRequest`);
 * 3. `notifications/elicitation/complete` belongs to the caller its URL elicitation was relayed to;
 * 4. a server→client *request* (sampling, elicitation, roots) belongs to the one principal with calls
 *    in flight: the spec has such requests made while serving a client request ("SHOULD relate to the
 *    originating client request", spec 2025-11-25 `basic/transports` §Sending Messages to the Server;
 *    the 2026-07-28 revision makes it structural). With several principals in flight it is refused;
 * 5. anything else (log messages, custom notifications) belongs to the session's only principal — the
 *    one a per-principal session was opened for, or the only principal a shared session has served
 *    since it connected. A session that has served two principals cannot say whose a log line is.
 *
 * Progress is attributed by the rewritten progress token before any of this (see legacy-session.ts).
 * What is not attributed is not relayed: notifications are dropped, requests refused, both counted.
 */
import { isObject, type JsonObject, type JsonRpcId } from '../protocol/jsonrpc.ts';
import type { TaskOwnership } from '../routing/tasks.ts';
import type { Recipient } from './types.ts';

/** `_meta` key associating a message with a task (spec 2025-11-25 tasks §Associating Task-Related Messages). */
export const RELATED_TASK_META = 'io.modelcontextprotocol/related-task';

/**
 * Notifications that are not one caller's: list changes (everyone re-lists through their own policy
 * filter) and resource updates (only sessions subscribed to the URI get them). Everything else a
 * server sends outside a call must name its recipient.
 */
export const UNTARGETED_NOTIFICATIONS: ReadonlySet<string> = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
]);

/** What attribution needs to know of a call in flight. */
export interface AttributableCall {
  readonly id: number;
  readonly caller: string;
  /** Undefined for the gateway's own calls, which never receive server→client traffic. */
  readonly principal: string | undefined;
  /** The task a `tasks/*` call names, if any. */
  readonly taskId: string | undefined;
  /** Server→client requests of this call waiting for the client's answer. */
  readonly paused: number;
}

export type Attribution<C> = { kind: 'call'; call: C } | { kind: 'recipient'; to: Recipient } | { kind: 'none'; why: string };

export interface AttributorOptions {
  server: string;
  /** The principal a per-principal session belongs to: everything on it is theirs. */
  owner?: string | undefined;
  tasks?: TaskOwnership | undefined;
}

/** How many URL elicitations' completions the attributor remembers at most (oldest forgotten first). */
const MAX_ELICITATIONS = 1024;
const SEVERAL = Symbol('several principals');

/** The task a message names, if any. */
export function relatedTaskId(method: string, params: JsonObject | undefined): string | undefined {
  const meta = isObject(params?._meta) ? params._meta : undefined;
  const related = meta && isObject(meta[RELATED_TASK_META]) ? (meta[RELATED_TASK_META] as JsonObject) : undefined;
  if (typeof related?.taskId === 'string') return related.taskId;
  if (method === 'notifications/tasks/status' && typeof params?.taskId === 'string') return params.taskId;
  return undefined;
}

export class Attributor<C extends AttributableCall> {
  readonly #options: AttributorOptions;
  /** The only principal served since the session connected, or SEVERAL. */
  #solo: string | typeof SEVERAL | undefined;
  readonly #elicitations = new Map<string, Recipient>();

  constructor(options: AttributorOptions) {
    this.#options = options;
    this.#solo = options.owner;
  }

  /** The principal a per-principal session belongs to. */
  get owner(): string | undefined {
    return this.#options.owner;
  }

  /** A new upstream session: nothing it says can belong to callers of the one before. */
  reset(): void {
    this.#solo = this.#options.owner;
    this.#elicitations.clear();
  }

  /** A call is being sent for `principal`. */
  served(principal: string | undefined): void {
    if (principal === undefined || this.#solo === principal) return;
    this.#solo = this.#solo === undefined ? principal : SEVERAL;
  }

  /** A URL elicitation relayed to `to`: its completion notification goes there too. */
  rememberElicitation(elicitationId: string, to: Recipient): void {
    this.#elicitations.delete(elicitationId);
    this.#elicitations.set(elicitationId, to);
    if (this.#elicitations.size > MAX_ELICITATIONS) {
      const oldest = this.#elicitations.keys().next().value;
      if (oldest !== undefined) this.#elicitations.delete(oldest);
    }
  }

  /** Whose a server→client request is. */
  forRequest(method: string, params: JsonObject | undefined, calls: Iterable<C>, relatedRequestId: JsonRpcId | undefined): Attribution<C> {
    const inFlight = [...calls].filter((c) => c.principal !== undefined);
    const byTransport = this.#byTransport(inFlight, relatedRequestId);
    if (byTransport) return byTransport;
    const principals = new Set(inFlight.map((c) => c.principal));
    const taskId = relatedTaskId(method, params);
    if (taskId !== undefined) {
      // A question naming a task goes to the owner's call that follows that task (tasks/result), or to
      // the owner when no one else has a call in flight; never into an unrelated call of the owner
      // while another principal's call may be the one that caused it.
      const owned = this.#byTask(taskId, inFlight);
      if (owned.kind !== 'call') return owned.kind === 'recipient' ? { kind: 'none', why: 'the owner of the task it names has no call in flight to carry it' } : owned;
      if (owned.call.taskId === taskId || principals.size === 1) return owned;
      return { kind: 'none', why: 'it names a task whose owner has no call following it, while other callers have calls in flight' };
    }
    if (principals.size === 0) return { kind: 'none', why: 'no client call is in flight to relay it to' };
    if (principals.size > 1) return { kind: 'none', why: `it cannot be attributed to one caller (${principals.size} callers have calls in flight on a shared upstream session)` };
    return { kind: 'call', call: latest(inFlight)! };
  }

  /** Whose a notification is (progress aside). */
  forNotification(method: string, params: JsonObject | undefined, calls: Iterable<C>, relatedRequestId: JsonRpcId | undefined): Attribution<C> {
    const inFlight = [...calls].filter((c) => c.principal !== undefined);
    const byTransport = this.#byTransport(inFlight, relatedRequestId);
    if (byTransport) return byTransport;
    if (method === 'notifications/tasks/status' && typeof params?.taskId === 'string') this.#options.tasks?.noteStatus(this.#options.server, params.taskId, params.status);
    if (method === 'notifications/elicitation/complete') {
      const id = params?.elicitationId;
      const to = typeof id === 'string' ? this.#elicitations.get(id) : undefined;
      if (!to) return { kind: 'none', why: 'it completes an elicitation no caller here was sent' };
      this.#elicitations.delete(id as string);
      const call = latest(inFlight.filter((c) => c.caller === to.caller));
      return call ? { kind: 'call', call } : { kind: 'recipient', to };
    }
    const taskId = relatedTaskId(method, params);
    if (taskId !== undefined) return this.#byTask(taskId, inFlight);
    const solo = this.#solo;
    if (solo === undefined) return { kind: 'none', why: 'no caller has used this upstream session yet' };
    if (solo === SEVERAL) return { kind: 'none', why: 'the upstream session is shared by several callers and the message names none of them' };
    const call = latest(inFlight.filter((c) => c.principal === solo));
    return call ? { kind: 'call', call } : { kind: 'recipient', to: { principal: solo } };
  }

  #byTransport(inFlight: readonly C[], relatedRequestId: JsonRpcId | undefined): Attribution<C> | undefined {
    if (relatedRequestId === undefined || relatedRequestId === null) return undefined;
    const call = inFlight.find((c) => c.id === relatedRequestId);
    return call ? { kind: 'call', call } : { kind: 'none', why: 'it came on the stream of a call no client is waiting for' };
  }

  #byTask(taskId: string, inFlight: readonly C[]): Attribution<C> {
    const entry = this.#options.tasks?.owner(this.#options.server, taskId);
    if (!entry) return { kind: 'none', why: 'it names a task no caller here owns' };
    const mine = inFlight.filter((c) => c.principal === entry.principal);
    const call = latest(mine.filter((c) => c.taskId === taskId)) ?? latest(mine);
    return call ? { kind: 'call', call } : { kind: 'recipient', to: { principal: entry.principal, caller: entry.caller } };
  }
}

/** The most recent call not blocked on a client's answer, else the most recent one. */
function latest<C extends AttributableCall>(calls: readonly C[]): C | undefined {
  let best: C | undefined;
  for (const call of calls) {
    if (!best) best = call;
    else if ((call.paused === 0) !== (best.paused === 0)) best = call.paused === 0 ? call : best;
    else if (call.id > best.id) best = call;
  }
  return best;
}
