/**
 * Task ownership: which principal created which upstream task, with which tool.
 *
 * A legacy-era server sees one client — the gateway — so it lists, answers and cancels every task made
 * through its shared session for whoever asks. The spec requires receivers to bind tasks to the
 * authorization context that created them and to treat other contexts' task ids as unknown (spec
 * 2025-11-25 `basic/utilities/tasks.mdx` §Security Considerations); behind the gateway only the gateway
 * knows those contexts, so it does the binding:
 *
 * - `record` notes the owner when a `tools/call` result creates a task (2025-11-25: `result.task.taskId`;
 *   the 2026-07-28 tasks extension, SEP-2663: a flat `resultType: "task"` result with `taskId`); the
 *   first owner of an id keeps it, so a server handing the same id to a second caller gives the second
 *   caller nothing.
 * - `lookup(server, taskId, principal)` is how every other stage asks "may this principal name this
 *   task, and for which tool?": undefined for an id nobody here owns, for another principal's task and
 *   for an expired one alike, so the answer cannot be used to probe for other callers' ids.
 * - `owner(server, taskId)` is for attributing server→client traffic that names a task (related-task
 *   `_meta`, `notifications/tasks/status`).
 *
 * Bounds: a principal holds at most `maxPerPrincipal` live tasks and the registry `maxTotal` (a new task
 * beyond either is refused — before it is created where the caller asks for a task (2025-11-25), when
 * the server's answer creates it otherwise — never by evicting someone else's); an entry lives for
 * the task's own `ttl`, capped at `maxTtlMs` (an unlimited `ttl: null` too) — after that the task is
 * unknown to everyone, its owner included (fail closed).
 *
 * Not covered: state is per gateway process (replicas do not share it, and a restart forgets every
 * task, which then is unknown to all); a task a server creates outside a `tools/call` result is never
 * owned by anyone, so nobody can reach it.
 */
import { GatewayError } from '../errors.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import type { Era } from '../protocol/versions.ts';
import { RELATED_TASK_META } from '../upstream/attribution.ts';

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
  /** The agent and subject of that principal, as the kill switch names callers. */
  readonly who?: { readonly agent: string; readonly subject?: string } | undefined;
}

/** The read side other stages consult (route, authorize, upstream attribution). */
export interface TaskOwnership {
  lookup(server: string, taskId: string, principal: string): TaskEntry | undefined;
  owner(server: string, taskId: string): TaskEntry | undefined;
  /** The server says the task reached `status`: a terminal one ends its hold on the server's concurrency. */
  noteStatus(server: string, taskId: string, status: unknown): void;
}

/** Task statuses after which nothing runs any more (spec 2025-11-25 tasks §Task Status). */
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Takes a slot among a server's calls in flight for a task that runs on after its call; undefined: no cap. */
export type HoldSlot = (server: string) => (() => void) | undefined;

/**
 * Methods that name one task by `params.taskId`, by the era of the server: spec 2025-11-25 schema
 * (GetTask, GetTaskPayload, CancelTask) and the 2026-07-28 tasks extension (SEP-2663: tasks/get,
 * tasks/update, tasks/cancel).
 */
export const TASK_ID_METHODS: Readonly<Record<Era, ReadonlySet<string>>> = {
  legacy: new Set(['tasks/get', 'tasks/result', 'tasks/cancel']),
  modern: new Set(['tasks/get', 'tasks/update', 'tasks/cancel']),
};

/** The 2026-07-28 tasks extension's id in `capabilities.extensions` (SEP-2663). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** 2025-11-25 task methods the 2026-07-28 tasks extension removed (SEP-2663: servers answer -32601). */
const REMOVED_FOR_MODERN: ReadonlySet<string> = new Set(['tasks/result', 'tasks/list']);

const keyOf = (server: string, taskId: string): string => `${server}\u0000${taskId}`;

export class TaskRegistry implements TaskOwnership {
  readonly #limits: TaskLimits;
  readonly #now: () => number;
  readonly #entries = new Map<string, TaskEntry>();
  readonly #byPrincipal = new Map<string, Set<string>>();
  /** Lookups of ids the caller does not own (unknown or another's): a sign of probing. */
  unknownLookups = 0;
  /**
   * Concurrency slots held by tasks still running: a task-augmented call ends as soon as the server has
   * accepted the task, but the work goes on, so the task keeps counting against `policy.concurrency`
   * until the server reports it finished or its ownership ends.
   */
  readonly #running = new Map<string, () => void>();
  holdSlot: HoldSlot | undefined;

  constructor(limits: TaskLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The longest a task is owned here, and so the longest `ttl` a call may ask a server for. */
  get maxTtlMs(): number {
    return this.#limits.maxTtlMs;
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
    if (this.#entries.size >= this.#limits.maxTotal) this.#purgeExpired();
    if (this.#entries.size >= this.#limits.maxTotal) {
      return new GatewayError('PC_TASK_LIMIT', `the gateway already tracks ${this.#entries.size} live tasks (routing.tasks.maxTotal); retry later`, {
        limit: this.#limits.maxTotal,
        retryAfterMs: 1000,
      });
    }
    return undefined;
  }

  /**
   * Notes a task a call created. `ttlMs` is the task's own (null: unlimited), capped at `maxTtlMs`.
   * Recording the same owner again is a no-op; an id that is another principal's is a conflict (the new
   * caller gets nothing); beyond a bound the task is not recorded (the refusal is returned).
   */
  record(task: { server: string; taskId: string; principal: string; caller: string; tool: string; ttlMs: number | null | undefined; who?: TaskEntry['who'] }): 'recorded' | 'conflict' | GatewayError {
    const key = keyOf(task.server, task.taskId);
    const existing = this.owner(task.server, task.taskId);
    if (existing) return existing.principal === task.principal ? 'recorded' : 'conflict';
    const full = this.admit(task.principal);
    if (full) return full;
    const ttl = typeof task.ttlMs === 'number' && task.ttlMs > 0 ? Math.min(task.ttlMs, this.#limits.maxTtlMs) : this.#limits.maxTtlMs;
    const entry: TaskEntry = { server: task.server, taskId: task.taskId, principal: task.principal, caller: task.caller, tool: task.tool, expiresAtMs: this.#now() + ttl, who: task.who };
    this.#entries.set(key, entry);
    const release = this.holdSlot?.(task.server);
    if (release) this.#running.set(key, release);
    let mine = this.#byPrincipal.get(task.principal);
    if (!mine) {
      mine = new Set();
      this.#byPrincipal.set(task.principal, mine);
    }
    mine.add(key);
    return 'recorded';
  }

  /** Tasks still holding a concurrency slot. */
  get running(): number {
    return this.#running.size;
  }

  noteStatus(server: string, taskId: string, status: unknown): void {
    if (typeof status === 'string' && TERMINAL.has(status)) this.#settle(keyOf(server, taskId));
  }

  /** The tasks still running (holding a concurrency slot or not: every live entry not known finished). */
  *live(): IterableIterator<TaskEntry> {
    yield* this.#entries.values();
  }

  /** Forgets a task: unknown to everyone from now on, its concurrency slot freed. */
  forget(server: string, taskId: string): void {
    const key = keyOf(server, taskId);
    const entry = this.#entries.get(key);
    if (entry) this.#delete(key, entry);
  }

  /** Forgets every expired task (and frees the concurrency slots they held). */
  purgeExpired(): void {
    this.#purgeExpired();
  }

  #settle(key: string): void {
    const release = this.#running.get(key);
    if (!release) return;
    this.#running.delete(key);
    release();
  }

  #delete(key: string, entry: TaskEntry): void {
    this.#settle(key);
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
 * The ownership check for a request bound for `server` (reached in `era`), before it is forwarded: a
 * request naming a task — by `params.taskId` or by the related-task key of its `_meta` — must name one
 * of the caller's own, and a task-augmented `tools/call` must fit
 * within the caller's bound. Task methods the server's era removed are answered -32601 here, so they
 * never reach a server that might still serve them to anyone; a modern client that did not negotiate
 * the tasks extension gets -32021 as the server would answer (SEP-2663 gating), before ownership.
 */
export function checkTaskRequest(
  registry: TaskRegistry,
  call: { era: Era; server: string; method: string; params: JsonObject | undefined; principal: string; clientCapabilities: JsonObject },
): GatewayError | undefined {
  const { era, server, method, params, principal } = call;
  if (era === 'modern' && REMOVED_FOR_MODERN.has(method)) {
    return new GatewayError('PC_PROTOCOL_METHOD_NOT_FOUND', `Method not found: "${method}" is not part of the 2026-07-28 tasks extension (tasks/get carries the result)`, { method });
  }
  if (TASK_ID_METHODS[era].has(method)) {
    const extensions = isObject(call.clientCapabilities.extensions) ? call.clientCapabilities.extensions : {};
    if (era === 'modern' && !isObject(extensions[TASKS_EXTENSION])) {
      return new GatewayError('PC_PROTOCOL_MISSING_CAPABILITY', `${method} needs the ${TASKS_EXTENSION} extension in the client's capabilities`, {
        requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
      });
    }
    const taskId = params?.taskId;
    if (typeof taskId !== 'string') return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `params.taskId must be a string naming one of your tasks (${method})`);
    if (registry.lookup(server, taskId, principal)) return undefined;
    registry.unknownLookups += 1;
    return unknownTask(taskId);
  }
  // A client's claim that its request relates to a task (`_meta` related-task) would steer what the
  // server says about that task — its questions, its log lines — to the task's owner: it is a claim
  // only the owner may make (self-declared values only narrow, security invariant 4).
  const meta = isObject(params?._meta) ? params._meta : undefined;
  if (meta && RELATED_TASK_META in meta) {
    const related = meta[RELATED_TASK_META];
    const taskId = isObject(related) ? related.taskId : undefined;
    if (typeof taskId !== 'string') return new GatewayError('PC_PROTOCOL_INVALID_PARAMS', `params._meta["${RELATED_TASK_META}"] must be {"taskId": <one of your tasks>} (${method})`);
    if (!registry.lookup(server, taskId, principal)) {
      registry.unknownLookups += 1;
      return unknownTask(taskId);
    }
  }
  if (method === 'tools/call' && params?.task !== undefined) return registry.admit(principal);
  return undefined;
}

/**
 * Whether a server takes task-augmented `tools/call` requests: 2025-11-25 `capabilities.tasks.requests.
 * tools.call`; the 2026-07-28 tasks extension in `capabilities.extensions` (SEP-2663). Receivers MUST
 * declare it (spec 2025-11-25 schema, `TaskAugmentedRequestParams`); a call to a server that did not is
 * forwarded without its `task`.
 */
export function takesTaskCalls(era: Era, capabilities: JsonObject): boolean {
  if (era === 'modern') return isObject(capabilities.extensions) && isObject(capabilities.extensions[TASKS_EXTENSION]);
  const requests = isObject(capabilities.tasks) ? capabilities.tasks.requests : undefined;
  return isObject(requests) && isObject(requests.tools) && isObject(requests.tools.call);
}

/**
 * The `task` of a task-augmented call as it is forwarded: `{ ttl }` (TaskMetadata, spec 2025-11-25),
 * the requested lifetime capped at `maxTtlMs` — ownership ends there anyway (TaskRegistry.record).
 * `task` is already rebuilt to its declared members (protocol/methods.ts), so only the number is read.
 */
export function judgedTask(task: JsonObject, maxTtlMs: number): JsonObject {
  return typeof task.ttl === 'number' ? { ttl: Math.min(task.ttl, maxTtlMs) } : {};
}

/** The task a `tools/call` result created, in either era's shape, with its ttl. */
function createdTask(result: JsonObject): { taskId: string; ttlMs: number | null } | undefined {
  // 2025-11-25: CreateTaskResult { task: Task } with `ttl`.
  if (isObject(result.task) && typeof result.task.taskId === 'string') {
    return { taskId: result.task.taskId, ttlMs: typeof result.task.ttl === 'number' ? result.task.ttl : null };
  }
  // 2026-07-28 tasks extension (SEP-2663): a flat Result & Task with resultType "task" and `ttlMs`.
  if (result.resultType === 'task' && typeof result.taskId === 'string') {
    return { taskId: result.taskId, ttlMs: typeof result.ttlMs === 'number' ? result.ttlMs : null };
  }
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
  call: { server: string; method: string; tool: string | undefined; principal: string; caller: string; taskId?: unknown; who?: TaskEntry['who'] },
  result: JsonObject,
): JsonObject | GatewayError {
  if (call.method === 'tools/call') {
    const task = createdTask(result);
    if (!task) return result;
    const recorded = registry.record({ server: call.server, taskId: task.taskId, principal: call.principal, caller: call.caller, tool: call.tool ?? '', ttlMs: task.ttlMs, who: call.who });
    // The server handed out an id that is someone else's: this caller gets no handle on it.
    if (recorded === 'conflict') return new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${call.server}" answered with a task id that belongs to another caller; not relayed`, { server: call.server });
    return recorded === 'recorded' ? result : recorded;
  }
  if (call.method === 'tasks/get' || call.method === 'tasks/cancel') {
    // 2025-11-25 GetTaskResult/CancelTaskResult are the Task; the 2026-07-28 extension's are flat too.
    registry.noteStatus(call.server, String(call.taskId ?? ''), result.status);
    return result;
  }
  // tasks/result answers once the task is terminal (spec 2025-11-25 tasks §Result Retrieval).
  if (call.method === 'tasks/result') {
    registry.noteStatus(call.server, String(call.taskId ?? ''), 'completed');
    return result;
  }
  if (call.method === 'tasks/list' && Array.isArray(result.tasks)) {
    const mine = registry.owned(call.server, call.principal);
    return { ...result, tasks: result.tasks.filter((t) => isObject(t) && typeof t.taskId === 'string' && mine.has(t.taskId)) };
  }
  return result;
}
