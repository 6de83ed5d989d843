/**
 * The governed target of `tasks/*` (spec 2025-11-25 basic/utilities/tasks): a task is a tool call the
 * server runs on; following it up (`tasks/get`, `tasks/result`, `tasks/cancel`) is governed as that
 * tool, for the principal who started it. The route stage asks `lookup`; whoever sees a task created
 * (`forward`, on a task-augmented tools/call) calls `bind`.
 *
 * This is the seam between governance (which needs a target) and caller isolation (which owns who a
 * task belongs to, see issue 11 item 5): a task id that was not bound to the asking principal is
 * unknown to it, whoever created it — fail closed.
 */

export interface TaskTarget {
  server: string;
  tool: string;
}

export interface TaskTargets {
  /** Records that `owner` (a principal key) started task `taskId` on `server` by calling `tool`. */
  bind(taskId: string, owner: string, target: TaskTarget): void;
  /** The task's server and tool when `owner` started it; undefined otherwise (unknown to this caller). */
  lookup(taskId: string, owner: string): TaskTarget | undefined;
}

/** Tasks remembered at most (oldest forgotten first); a forgotten task is unknown to everyone. */
const MAX_TASKS = 10_000;

export function createTaskTargets(max = MAX_TASKS): TaskTargets {
  // Keyed by owner and id: another principal's task with the same id is simply not found.
  const tasks = new Map<string, TaskTarget>();
  const keyOf = (taskId: string, owner: string): string => `${owner}\u0000${taskId}`;
  return {
    bind(taskId, owner, target) {
      const key = keyOf(taskId, owner);
      tasks.delete(key);
      tasks.set(key, { server: target.server, tool: target.tool });
      if (tasks.size > max) tasks.delete(tasks.keys().next().value!);
    },
    lookup(taskId, owner) {
      return tasks.get(keyOf(taskId, owner));
    },
  };
}
