/**
 * Invariant 3, tasks (spec 2025-11-25 tasks §Security Considerations): a task is reachable only by the
 * principal whose call created it. Two API keys share one upstream session per server: alice's tasks are
 * unknown to bob — listing, reading, fetching the result and cancelling alike — nothing of his attempts
 * reaches the server, and the audit trail has each refusal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditTrail } from '../helpers/audit.ts';
import { EVERYTHING, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { dataDirWithKeys, openLegacySession, type LegacySession } from '../helpers/sessions.ts';

const LEAKY = new URL('../fixtures/leaky-server.ts', import.meta.url).pathname;
const TASK_BY_ID = ['tasks/get', 'tasks/result', 'tasks/cancel'];

describe('task isolation between callers on a shared upstream session', () => {
  let gw: TestGateway;
  let dataDir: string;
  let keys: Record<string, string>;
  let leakyLog: string;
  let everythingLog: string;
  let alice: LegacySession;
  let bob: LegacySession;
  let aliceEverything: LegacySession;
  let bobEverything: LegacySession;

  before(async () => {
    ({ dataDir, keys } = dataDirWithKeys(['alice', 'bob']));
    const leaky = recordedServer(LEAKY);
    const everything = recordedServer(EVERYTHING, ['stdio']);
    leakyLog = leaky.log;
    everythingLog = everything.log;
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      listen: { port: 0, metrics: 'loopback' },
      routing: { tasks: { maxPerPrincipal: 3 } },
      servers: { leaky: leaky.server, everything: everything.server },
      policy: {
        rules: [
          { name: 'alice-all', effect: 'allow', principal: { agents: ['alice'] } },
          { name: 'bob-some', effect: 'allow', principal: { agents: ['bob'] }, tools: ['echo', 'start_job'] },
        ],
      },
    });
    const as = (who: string) => ({ headers: { authorization: `Bearer ${keys[who]}` }, name: who });
    alice = await openLegacySession(`${gw.url}/mcp/leaky`, as('alice'));
    bob = await openLegacySession(`${gw.url}/mcp/leaky`, as('bob'));
    aliceEverything = await openLegacySession(`${gw.url}/mcp/everything`, as('alice'));
    bobEverything = await openLegacySession(`${gw.url}/mcp/everything`, as('bob'));
  });
  after(async () => {
    await Promise.all([alice, bob, aliceEverything, bobEverything].map((s) => s?.close()));
    await gw.close();
  });

  const startJob = (session: LegacySession, args: Record<string, unknown>) =>
    session.request('tools/call', { name: 'start_job', arguments: args, task: { ttl: 60_000 } });

  it('keeps alice\'s task (guessable id) unknown to bob for list, get, result and cancel; none of it reaches the server', async () => {
    const created = await startJob(alice, { secret: 'alice-secret' });
    const aliceTask = created.result.task.taskId as string;
    assert.equal(aliceTask, 'task-1', 'the fixture hands out guessable ids: isolation cannot rest on secrecy');
    const bobTask = (await startJob(bob, { secret: 'bob-secret' })).result.task.taskId as string;

    const bobList = await bob.request('tasks/list', {});
    assert.deepEqual(bobList.result.tasks.map((t: { taskId: string }) => t.taskId), [bobTask], 'bob lists his own task only');
    const aliceList = await alice.request('tasks/list', {});
    assert.deepEqual(aliceList.result.tasks.map((t: { taskId: string }) => t.taskId), [aliceTask]);

    const before = received(leakyLog).length;
    for (const method of TASK_BY_ID) {
      const refused = await bob.request(method, { taskId: aliceTask });
      assert.equal(refused.error?.code, -32602, method);
      assert.equal(refused.error.data.code, 'PC_TASK_UNKNOWN', method);
    }
    const nonexistent = await bob.request('tasks/get', { taskId: 'task-999' });
    assert.equal(nonexistent.error.data.code, 'PC_TASK_UNKNOWN', 'another\'s task and no task look the same');
    assert.deepEqual(
      received(leakyLog).slice(before).filter((m) => TASK_BY_ID.includes(m.method)),
      [],
      'none of bob\'s task requests reached the server',
    );

    const report = await alice.request('tasks/result', { taskId: aliceTask });
    assert.match(JSON.stringify(report.result.content), /report alice-secret/);
    const own = await bob.request('tasks/result', { taskId: bobTask });
    assert.match(JSON.stringify(own.result.content), /report bob-secret/);

    // Each task's status notification goes to its owner only. Bob's own status was sent after alice's
    // on the same pipe: once he has it, a leak of hers would have arrived before it.
    await bob.until((m) => m.method === 'notifications/tasks/status' && m.params?.taskId === bobTask && m.params.status === 'completed', 'bob\'s task status');
    await alice.until((m) => m.method === 'notifications/tasks/status' && m.params?.taskId === aliceTask && m.params.status === 'completed', 'alice\'s task status');
    assert.doesNotMatch(JSON.stringify(bob.received), /alice-secret/);
    assert.doesNotMatch(JSON.stringify(alice.received), /bob-secret/);

    // Decisions only: a forwarded call's write-ahead intent record precedes its outcome.
    const refusals = auditTrail(dataDir).filter((r) => r.principal.agent === 'bob' && TASK_BY_ID.includes(r.method) && r.decision !== 'intent');
    assert.deepEqual(
      refusals.map((r) => [r.method, r.decision, r.code]),
      [...TASK_BY_ID.map((m) => [m, 'denied', 'PC_TASK_UNKNOWN']), ['tasks/get', 'denied', 'PC_TASK_UNKNOWN'], ['tasks/result', 'allowed', undefined]],
    );
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^portcullis_task_unknown_total [4-9]\d*$/m);
  });

  it('gives bob nothing when the server hands him an id alice owns, and bounds the tasks one principal holds', async () => {
    const reused = await startJob(bob, { secret: 'bob-again', reuse: 'task-1' });
    assert.equal(reused.error?.data?.code, 'PC_UPSTREAM_PROTOCOL', 'a task id that is someone else\'s is not relayed');
    assert.equal((await bob.request('tasks/get', { taskId: 'task-1' })).error.data.code, 'PC_TASK_UNKNOWN');

    // bob holds one task (routing.tasks.maxPerPrincipal: 3): two more fit, the third is refused before the server.
    await startJob(bob, { secret: 'b2' });
    await startJob(bob, { secret: 'b3' });
    const calls = () => received(leakyLog).filter((m) => m.method === 'tools/call' && m.params?.name === 'start_job').length;
    const before = calls();
    const refused = await startJob(bob, { secret: 'b4' });
    assert.equal(refused.error?.data?.code, 'PC_TASK_LIMIT');
    assert.equal(calls(), before, 'the refused task was never created upstream');
    assert.ok(auditTrail(dataDir).some((r) => r.principal.agent === 'bob' && r.code === 'PC_TASK_LIMIT' && r.decision === 'denied'));
    // alice's bound is her own: bob's full quota does not stop her.
    assert.equal(typeof (await startJob(alice, { secret: 'a2' })).result?.task?.taskId, 'string');
  });

  it('isolates server-everything\'s own tasks (simulate-research-query) the same way', async () => {
    const created = await aliceEverything.request('tools/call', { name: 'simulate-research-query', arguments: { topic: 'alice-topic' }, task: { ttl: 60_000 } });
    const taskId = created.result.task.taskId as string;
    const list = await bobEverything.request('tasks/list', {});
    assert.ok(!JSON.stringify(list).includes(taskId), 'bob\'s list does not show alice\'s task');
    for (const method of TASK_BY_ID) {
      assert.equal((await bobEverything.request(method, { taskId })).error?.data?.code, 'PC_TASK_UNKNOWN', method);
    }
    const report = await aliceEverything.request('tasks/result', { taskId });
    assert.match(JSON.stringify(report.result), /alice-topic/);
    const upstreamSaw = received(everythingLog).filter((m) => TASK_BY_ID.includes(m.method) && m.params?.taskId === taskId);
    assert.deepEqual(upstreamSaw.map((m) => m.method), ['tasks/result'], 'only alice\'s own tasks/result reached server-everything');
    assert.doesNotMatch(JSON.stringify(bobEverything.received), /alice-topic/);
    await waitFor(() => auditTrail(dataDir).filter((r) => r.principal.agent === 'bob' && r.server === 'everything' && r.code === 'PC_TASK_UNKNOWN').length === 3 || undefined, 5000, 'bob\'s refusals in the trail');
  });
});
