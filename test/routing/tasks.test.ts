import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTaskRequest, ownTaskResult, TaskRegistry } from '../../src/routing/tasks.ts';

describe('task ownership registry', () => {
  const limits = { maxPerPrincipal: 2, maxTotal: 3, maxTtlMs: 10_000 };

  it('keeps a task for its ttl (capped), then forgets it for its owner too', () => {
    let now = 0;
    const registry = new TaskRegistry(limits, () => now);
    registry.record({ server: 's', taskId: 'short', principal: 'alice', caller: 'c', tool: 't', ttlMs: 1000 });
    registry.record({ server: 's', taskId: 'forever', principal: 'alice', caller: 'c', tool: 't', ttlMs: null });
    assert.equal(registry.lookup('s', 'short', 'alice')?.tool, 't');
    now = 1000;
    assert.equal(registry.lookup('s', 'short', 'alice'), undefined, 'expired with its ttl');
    assert.ok(registry.lookup('s', 'forever', 'alice'), 'an unlimited ttl is capped, not dropped');
    now = 10_000;
    assert.equal(registry.lookup('s', 'forever', 'alice'), undefined, 'capped at maxTtlMs');
    assert.equal(registry.size, 0);
  });

  it('answers another principal, another server and no task alike', () => {
    const registry = new TaskRegistry(limits);
    registry.record({ server: 's', taskId: 'x', principal: 'alice', caller: 'c', tool: 't', ttlMs: 5000 });
    const refusals = [
      checkTaskRequest(registry, 's', 'tasks/get', { taskId: 'x' }, 'bob'),
      checkTaskRequest(registry, 'other', 'tasks/result', { taskId: 'x' }, 'alice'),
      checkTaskRequest(registry, 's', 'tasks/cancel', { taskId: 'nope' }, 'alice'),
    ];
    assert.deepEqual(refusals.map((r) => r?.code), ['PC_TASK_UNKNOWN', 'PC_TASK_UNKNOWN', 'PC_TASK_UNKNOWN']);
    assert.equal(checkTaskRequest(registry, 's', 'tasks/get', { taskId: 'x' }, 'alice'), undefined);
    assert.equal(checkTaskRequest(registry, 's', 'tasks/get', { taskId: 7 }, 'alice')?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.equal(registry.unknownLookups, 3);
  });

  it('refuses a new task beyond the per-principal and total bounds, never evicting someone else\'s', () => {
    const registry = new TaskRegistry(limits);
    const make = (principal: string, taskId: string) =>
      checkTaskRequest(registry, 's', 'tools/call', { name: 't', task: {} }, principal) ??
      ownTaskResult(registry, { server: 's', method: 'tools/call', tool: 't', principal, caller: 'c' }, { task: { taskId, status: 'working', ttl: 5000 } });
    make('alice', 'a1');
    make('alice', 'a2');
    assert.equal((make('alice', 'a3') as { code?: string }).code, 'PC_TASK_LIMIT');
    make('bob', 'b1');
    assert.equal((make('carol', 'c1') as { code?: string }).code, 'PC_TASK_LIMIT', 'the total bound');
    assert.ok(registry.lookup('s', 'a1', 'alice') && registry.lookup('s', 'b1', 'bob'));
  });

  it('lets the first owner keep an id a server hands out twice, and filters task lists to the caller\'s own', () => {
    const registry = new TaskRegistry(limits);
    const call = (principal: string) => ({ server: 's', method: 'tools/call', tool: 't', principal, caller: 'c' });
    ownTaskResult(registry, call('alice'), { task: { taskId: 'same' } });
    assert.equal((ownTaskResult(registry, call('bob'), { task: { taskId: 'same' } }) as { code?: string }).code, 'PC_UPSTREAM_PROTOCOL');
    const listed = ownTaskResult(registry, { ...call('alice'), method: 'tasks/list' }, { tasks: [{ taskId: 'same' }, { taskId: 'theirs' }, 'junk'], nextCursor: 'n' });
    assert.deepEqual(listed, { tasks: [{ taskId: 'same' }], nextCursor: 'n' });
  });
});
