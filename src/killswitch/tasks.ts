/**
 * Tasks under the kill switch. A task-augmented call is over once the server accepted the task, so
 * stopping calls in flight (in-flight.ts) does not reach it: the work goes on upstream, and its owner
 * could fetch the result once the switch is lifted. When the switches change (looked at every POLL_MS
 * while any task is tracked), every task a switch now covers — by its server, the tool that created
 * it, its caller's agent or subject — is cancelled upstream (`tasks/cancel`, spec 2025-11-25 tasks
 * §Cancellation; best effort, the answer is not awaited) and forgotten: unknown to everyone from then
 * on, its owner included, so no result of it is ever delivered. Fetching a task's result while a switch
 * covers it is refused by the kill-switch stage like any task follow-up.
 */
import type { TaskEntry, TaskRegistry } from '../routing/tasks.ts';
import type { KillSwitchStore } from './store.ts';

const POLL_MS = 250;

export interface TaskStopper {
  /** Looks at the switches now; cancels and forgets the tasks they cover if they changed. */
  sweep(): void;
  close(): void;
}

export function createTaskStopper(options: { store: KillSwitchStore; tasks: TaskRegistry; cancel: (task: TaskEntry) => void; pollMs?: number }): TaskStopper {
  const { store, tasks, cancel } = options;
  let seen = store.version;
  function sweep(): void {
    if (tasks.size === 0) {
      seen = store.version;
      return;
    }
    try {
      store.refresh();
    } catch {
      // An unreadable file stops every new call (store.ts); the tasks are judged below on what is known.
    }
    if (store.version === seen) return;
    seen = store.version;
    for (const task of [...tasks.live()]) {
      if (!store.stops(task.server, task.tool, task.who ?? { agent: '' }, false)) continue;
      tasks.forget(task.server, task.taskId);
      cancel(task);
    }
  }
  const timer = setInterval(sweep, options.pollMs ?? POLL_MS).unref();
  return {
    sweep,
    close: () => clearInterval(timer),
  };
}
