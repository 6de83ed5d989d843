/**
 * Task ownership: which principal created which upstream task, with which tool.
 *
 * A legacy-era server sees one client — the gateway — so it lists, answers and cancels every task made
 * through its shared session for whoever asks. The spec requires receivers to bind tasks to the
 * authorization context that created them and to treat other contexts' task ids as unknown (spec
 * 2025-11-25 `basic/utilities/tasks.mdx` §Security Considerations); behind the gateway only the gateway
 * knows those contexts, so it does the binding:
 *
 * - `record` notes the owner when a `tools/call` result creates a task (`CreateTaskResult.task.taskId`);
 *   the first owner of an id keeps it, so a server handing the same id to a second caller gives the
 *   second caller nothing.
 * - `lookup(server, taskId, principal)` is how every other stage asks "may this principal name this
 *   task, and for which tool?": undefined for an id nobody here owns, for another principal's task and
 *   for an expired one alike, so the answer cannot be used to probe for other callers' ids.
 * - `owner(server, taskId)` is for attributing server→client traffic that names a task (related-task
 *   `_meta`, `notifications/tasks/status`).
 *
 * Bounds: a principal holds at most `maxPerPrincipal` live tasks and the registry `maxTotal` (a new task
 * beyond either is refused before it is created, never by evicting someone else's); an entry lives for
 * the task's own `ttl`, capped at `maxTtlMs` (an unlimited `ttl: null` too) — after that the task is
 * unknown to everyone, its owner included (fail closed).
 *
 * Not covered: state is per gateway process (replicas do not share it, and a restart forgets every
 * task, which then is unknown to all); a task a server creates outside a `tools/call` result is never
 * owned by anyone, so nobody can reach it.
 */
import { GatewayError } from '../errors.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';

export interface TaskLimits {
  maxPerPrincipal: number;
  maxTotal: number;
  maxTtlMs: number;
}

/** One owned task. */
export interface TaskEntry {
  readonly server: string;
  readonly taskId: string;
  /** `principalKey` of the principal whose call created the task. */
  readonly principal: string;
  /** The downstream caller (legacy session id) that created it: where its notifications go. */
  readonly caller: string;
  /** The tool whose call created it (its name on the server). */
  readonly tool: string;
  readonly expiresAtMs: number;
}

/** The read side other stages consult (route, authorize, upstream attribution). */
export interface TaskOwnership {
  lookup(server: string, taskId: string, principal: string): TaskEntry | undefined;
  owner(server: string, taskId: string): TaskEntry | undefined;
}

/** Methods that name one task by `params.taskId` (spec 2025-11-25 schema: GetTask, GetTaskPayload, CancelTask). */
export const TASK_ID_METHODS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/result', 'tasks/cancel']);

const keyOf = (server: string, taskId: string): string => `${server}\u0000${taskId}`;

export class TaskRegistry implements TaskOwnership {
  readonly #limits: TaskLimits;
  readonly #now: () => number;
  readonly #entries = new Map<string, TaskEntry>();
  readonly #byPrincipal = new Map<string, Set<string>>();
  /** Lookups of ids the caller does not own (unknown or another's): a sign of probing. */
  unknownLookups = 0;

  constructor(limits: TaskLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(server: string, taskId: string, principal: string): TaskEntry | undefined {
    const entry = this.owner(server, taskId);
    return entry?.principal === principal ? entry : undefined;
  }

  owner(server: string, taskId: string): TaskEntry | undefined {
    const key = keyOf(server, taskId);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#delete(key, entry);
      return undefined;
    }
    return entry;
  }

  /** The ids of `principal`'s live tasks on `server`. */
  owned(server: string, principal: string): Set<string> {
    const ids = new Set<string>();
    for (const key of this.#byPrincipal.get(principal) ?? []) {
      const entry = this.#entries.get(key);
      if (entry && entry.server === server && this.owner(server, entry.taskId)) ids.add(entry.taskId);
    }
    return ids;
  }

  /** Whether `principal` may create another task; the refusal says which bound it reached. */
  admit(principal: string): GatewayError | undefined {
    this.#purgeExpired(principal);
    const held = this.#byPrincipal.get(principal)?.size ?? 0;
    if (held >= this.#limits.maxPerPrincipal) {
      return new GatewayError('PC_TASK_LIMIT', `you already hold ${held} live tasks (routing.tasks.maxPerPrincipal); wait for some to expire`, {
        limit: this.#limits.maxPerPrincipal,
        retryAfterMs: 1000,
      });
    }
    if (this.#entries.size >= this.#limits.maxTotal) {
      this.#purgeExpired();
      if (this.#entries.size >= this.#limits.maxTotal) {
        return new GatewayError('PC_TASK_LIMIT', `the gateway already tracks ${this.#entries.size} live tasks (routing.tasks.maxTotal); retry later`, {
          limit: this.#limits.maxTotal,
          retryAfterMs: 1000,
        });
      }
    }
    return undefined;
  }

  /**
   * Notes a task a call created. `ttlMs` is the task's own (null: unlimited), capped at `maxTtlMs`.
   * Returns false when the id already belongs to another principal (the new caller gets nothing).
   */
  record(task: { server: string; taskId: string; principal: string; caller: string; tool: string; ttlMs: number | null | undefined }): boolean {
    const key = keyOf(task.server, task.taskId);
    const existing = this.owner(task.server, task.taskId);
    if (existing) return existing.principal === task.principal;
    const ttl = typeof task.ttlMs === 'number' && task.ttlMs > 0 ? Math.min(task.ttlMs, this.#limits.maxTtlMs) : this.#limits.maxTtlMs;
    const entry: TaskEntry = { server: task.server, taskId: task.taskId, principal: task.principal, caller: task.caller, tool: task.tool, expiresAtMs: this.#now() + ttl };
    this.#entries.set(key, entry);
    let mine = this.#byPrincipal.get(task.principal);
    if (!mine) {
      mine = new Set();
      this.#byPrincipal.set(task.principal, mine);
    }
    mine.add(key);
    return true;
  }

  #delete(key: string, entry: TaskEntry): void {
    this.#entries.delete(key);
    const mine = this.#byPrincipal.get(entry.principal);
    mine?.delete(key);
    if (mine?.size === 0) this.#byPrincipal.delete(entry.principal);
  }

  #purgeExpired(principal?: string): void {
    const now = this.#now();
    const keys = principal === undefined ? [...this.#entries.keys()] : [...(this.#byPrincipal.get(principal) ?? [])];
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry && entry.expiresAtMs <= now) this.#delete(key, entry);
    }
  }
}

/** A task id the caller may not name: the same answer whether it is another's, expired or never existed. */
export function unknownTask(taskId: string): GatewayError {
  const shown = taskId.length > 80 ? `${taskId.slice(0, 80)}…` : taskId;
  return new GatewayError('PC_TASK_UNKNOWN', `Failed to retrieve task: no task "${shown}" (unknown, expired, or not yours)`);
}

/**
 * The ownership check for a request bound for `server`, before it is forwarded: a `tasks/get`,
 * `tasks/result` or `tasks/cancel` must name one of the caller's own tasks, and a task-augmented
 * `tools/call` must fit within the caller's task bound.
 */
export function checkTaskRequest(registry: TaskRegistry, server: string, method: string, params: JsonObject | undefined, principal: string): GatewayError | undefined {
  if (TASK_ID_METHODS.has(method)) {
    const taskId = params?.taskId;
    if (typeof taskId !== 'string') return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `params.taskId must be a string naming one of your tasks (${method})`);
    if (registry.lookup(server, taskId, principal)) return undefined;
    registry.unknownLookups += 1;
    return unknownTask(taskId);
  }
  if (method === 'tools/call' && params?.task !== undefined) return registry.admit(principal);
  return undefined;
}

/**
 * What a server's answer teaches the registry, and what the caller may see of it: a `tools/call` that
 * created a task makes the caller its owner; a `tasks/list` page keeps only the caller's own tasks
 * (spec: "the returned task list includes only tasks associated with the requestor's authorization
 * context"). Other results pass unchanged.
 */
export function ownTaskResult(
  registry: TaskRegistry,
  call: { server: string; method: string; tool: string | undefined; principal: string; caller: string },
  result: JsonObject,
): JsonObject | GatewayError {
  if (call.method === 'tools/call' && isObject(result.task) && typeof result.task.taskId === 'string') {
    const ttl = result.task.ttl;
    const recorded = registry.record({
      server: call.server,
      taskId: result.task.taskId,
      principal: call.principal,
      caller: call.caller,
      tool: call.tool ?? '',
      ttlMs: typeof ttl === 'number' ? ttl : null,
    });
    // The server handed out an id that is someone else's: this caller gets no handle on it.
    if (!recorded) return new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${call.server}" answered with a task id that belongs to another caller; not relayed`, { server: call.server });
    return result;
  }
  if (call.method === 'tasks/list' && Array.isArray(result.tasks)) {
    const mine = registry.owned(call.server, call.principal);
    return { ...result, tasks: result.tasks.filter((t) => isObject(t) && typeof t.taskId === 'string' && mine.has(t.taskId)) };
  }
  return result;
}
