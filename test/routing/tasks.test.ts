import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../src/protocol/jsonrpc.ts';
import { ConcurrencyLimiter } from '../../src/ratelimit/limiter.ts';
import { checkTaskRequest, ownTaskResult, TaskRegistry, TASKS_EXTENSION } from '../../src/routing/tasks.ts';

const check = (registry: TaskRegistry, era: 'legacy' | 'modern', server: string, method: string, params: JsonObject, principal: string, clientCapabilities: JsonObject = { extensions: { [TASKS_EXTENSION]: {} } }) =>
  checkTaskRequest(registry, { era, server, method, params, principal, clientCapabilities });

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
      check(registry, 'legacy', 's', 'tasks/get', { taskId: 'x' }, 'bob'),
      check(registry, 'legacy', 'other', 'tasks/result', { taskId: 'x' }, 'alice'),
      check(registry, 'legacy', 's', 'tasks/cancel', { taskId: 'nope' }, 'alice'),
    ];
    assert.deepEqual(refusals.map((r) => r?.code), ['PC_TASK_UNKNOWN', 'PC_TASK_UNKNOWN', 'PC_TASK_UNKNOWN']);
    assert.equal(check(registry, 'legacy', 's', 'tasks/get', { taskId: 'x' }, 'alice'), undefined);
    assert.equal(check(registry, 'legacy', 's', 'tasks/get', { taskId: 7 }, 'alice')?.code, 'PC_PROTOCOL_INVALID_PARAMS');
    assert.equal(registry.unknownLookups, 3);
  });

  it('knows the 2026-07-28 tasks extension: flat CreateTaskResult, tasks/update guarded, removed methods answered -32601', () => {
    const registry = new TaskRegistry(limits);
    const call = (principal: string) => ({ server: 'm', method: 'tools/call', tool: 't', principal, caller: 'c' });
    ownTaskResult(registry, call('alice'), { resultType: 'task', taskId: 'flat', status: 'working', ttlMs: 5000 });
    assert.equal(registry.lookup('m', 'flat', 'alice')?.tool, 't');
    assert.equal(check(registry, 'modern', 'm', 'tasks/update', { taskId: 'flat', inputResponses: {} }, 'bob')?.code, 'PC_TASK_UNKNOWN');
    assert.equal(check(registry, 'modern', 'm', 'tasks/update', { taskId: 'flat', inputResponses: {} }, 'alice'), undefined);
    assert.equal(check(registry, 'modern', 'm', 'tasks/get', { taskId: 'flat' }, 'alice', {})?.code, 'PC_PROTOCOL_MISSING_CAPABILITY', 'a client that did not negotiate the extension');
    for (const method of ['tasks/result', 'tasks/list']) {
      assert.equal(check(registry, 'modern', 'm', method, { taskId: 'flat' }, 'alice')?.code, 'PC_PROTOCOL_METHOD_NOT_FOUND', method);
    }
    // Server-directed creation beyond the bound: the task is not handed out.
    ownTaskResult(registry, call('alice'), { resultType: 'task', taskId: 'second' });
    assert.equal((ownTaskResult(registry, call('alice'), { resultType: 'task', taskId: 'third' }) as { code?: string }).code, 'PC_TASK_LIMIT');
    assert.equal(registry.lookup('m', 'third', 'alice'), undefined);
  });

  it('refuses a new task beyond the per-principal and total bounds, never evicting someone else\'s', () => {
    const registry = new TaskRegistry(limits);
    const make = (principal: string, taskId: string) =>
      check(registry, 'legacy', 's', 'tools/call', { name: 't', task: {} }, principal) ??
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

  it('holds a concurrency slot per running task until a terminal status or the end of its ownership', () => {
    let now = 0;
    const registry = new TaskRegistry(limits, () => now);
    const limiter = new ConcurrencyLimiter({ s: 2 });
    registry.holdSlot = (server) => limiter.hold(server);
    registry.record({ server: 's', taskId: 'a', principal: 'alice', caller: 'c', tool: 't', ttlMs: 1000 });
    registry.record({ server: 's', taskId: 'b', principal: 'alice', caller: 'c', tool: 't', ttlMs: 5000 });
    assert.equal(limiter.acquire('s'), undefined, 'two running tasks fill a cap of two');
    ownTaskResult(registry, { server: 's', method: 'tasks/get', tool: undefined, principal: 'alice', caller: 'c', taskId: 'b' }, { taskId: 'b', status: 'working' });
    assert.equal(limiter.acquire('s'), undefined, 'a working task still runs');
    ownTaskResult(registry, { server: 's', method: 'tasks/get', tool: undefined, principal: 'alice', caller: 'c', taskId: 'b' }, { taskId: 'b', status: 'completed' });
    const slot = limiter.acquire('s');
    assert.equal(typeof slot, 'function', 'a completed task frees its slot');
    (slot as () => void)();
    assert.ok(registry.lookup('s', 'b', 'alice'), 'its owner can still fetch the result');
    registry.noteStatus('s', 'b', 'completed');
    limiter.acquire('s');
    assert.equal(limiter.acquire('s'), undefined, 'a second terminal report frees nothing more');
  });

  it('frees the slot of a task whose ownership expired when the registry is purged', () => {
    let now = 0;
    const registry = new TaskRegistry(limits, () => now);
    const limiter = new ConcurrencyLimiter({ s: 1 });
    registry.holdSlot = (server) => limiter.hold(server);
    registry.record({ server: 's', taskId: 'a', principal: 'alice', caller: 'c', tool: 't', ttlMs: 1000 });
    assert.equal(limiter.acquire('s'), undefined);
    now = 1000;
    registry.purgeExpired();
    assert.equal(typeof limiter.acquire('s'), 'function');
    assert.equal(registry.running, 0);
  });
});
