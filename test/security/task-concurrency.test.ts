/**
 * A task-augmented call ends as soon as the server has accepted the task, but the work runs on: before,
 * its concurrency slot was released with the call, so a caller could start any number of long tasks on
 * a server whose `policy.concurrency` cap is 1. A running task now holds a slot until the server reports
 * it finished (tasks/get, tasks/result, a status notification) or its ownership ends. Asserted on the
 * server's side: the calls refused while the task ran never reached server-everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditTrail } from '../helpers/audit.ts';
import { EVERYTHING, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { dataDirWithKeys, openLegacySession, type LegacySession } from '../helpers/sessions.ts';

describe('security: running tasks count against the server\'s concurrency cap', () => {
  let gw: TestGateway;
  let dataDir: string;
  let log: string;
  let alice: LegacySession;

  before(async () => {
    let keys: Record<string, string>;
    ({ dataDir, keys } = dataDirWithKeys(['alice']));
    const everything = recordedServer(EVERYTHING, ['stdio']);
    log = everything.log;
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: { everything: everything.server },
      policy: { rules: [{ name: 'alice-all', effect: 'allow', principal: { agents: ['alice'] } }], concurrency: { everything: 1 } },
    });
    alice = await openLegacySession(`${gw.url}/mcp/everything`, { headers: { authorization: `Bearer ${keys.alice}` }, name: 'alice' });
  });
  after(async () => {
    await alice?.close();
    await gw?.close();
  });

  const research = (topic: string) => alice.request('tools/call', { name: 'simulate-research-query', arguments: { topic }, task: { ttl: 60_000 } });
  const calls = (name: string) => received(log).filter((m) => m.method === 'tools/call' && m.params?.name === name);

  it('refuses new calls and tasks while a task runs, and admits them once it finished', async () => {
    const first = await research('first topic');
    const taskId = first.result?.task?.taskId as string;
    assert.equal(typeof taskId, 'string', JSON.stringify(first));

    // The research takes about four seconds upstream: its task holds the only slot meanwhile.
    const second = await research('second topic');
    assert.equal(second.error?.data?.code, 'PC_CONCURRENCY_LIMITED', JSON.stringify(second));
    const echo = await alice.request('tools/call', { name: 'echo', arguments: { message: 'while the task runs' } });
    assert.equal(echo.error?.data?.code, 'PC_CONCURRENCY_LIMITED', JSON.stringify(echo));
    assert.equal(calls('simulate-research-query').length, 1, 'the second task was never started upstream');
    assert.deepEqual(calls('echo'), [], 'the echo never reached the server');
    assert.ok(auditTrail(dataDir).some((r) => r.code === 'PC_CONCURRENCY_LIMITED' && r.target === 'simulate-research-query'), 'the refusal is recorded');

    // Reading the task's status is no new work: it passes, and its terminal status frees the slot.
    await waitFor(async () => {
      const status = await alice.request('tasks/get', { taskId });
      return status.result?.status === 'completed' || undefined;
    }, 20_000, 'the task to complete');
    const after = await alice.request('tools/call', { name: 'echo', arguments: { message: 'after the task' } });
    assert.equal(after.error, undefined, JSON.stringify(after));
    assert.equal(calls('echo').length, 1);
  });

  it('a kill switch cancels a running task upstream and forgets it: its result is never delivered, its slot is free', async () => {
    const created = await research('killed topic');
    const taskId = created.result?.task?.taskId as string;
    assert.equal(typeof taskId, 'string', JSON.stringify(created));
    gw.gateway.kill.add({ agent: 'alice', exact: true }, 'incident', 'test');
    try {
      await waitFor(() => received(log).some((m) => m.method === 'tasks/cancel' && m.params?.taskId === taskId) || undefined, 5000, 'tasks/cancel upstream');
      const during = await alice.request('tasks/result', { taskId });
      assert.equal(during.error?.data?.code, 'PC_KILL_SWITCH', JSON.stringify(during));
    } finally {
      gw.gateway.kill.remove({ agent: 'alice', exact: true });
    }
    for (const method of ['tasks/result', 'tasks/get']) {
      const after = await alice.request(method, { taskId });
      assert.equal(after.error?.data?.code, 'PC_TASK_UNKNOWN', `${method} after the switch is lifted: ${JSON.stringify(after)}`);
    }
    assert.deepEqual(received(log).filter((m) => (m.method === 'tasks/result' || m.method === 'tasks/get') && m.params?.taskId === taskId), [], 'nothing asked the server for the killed task');
    assert.doesNotMatch(JSON.stringify(alice.received.filter((m) => m.result !== undefined)), /killed topic.*report|Research Report: killed topic/, 'no result of the killed task reached the client');
    const echo = await alice.request('tools/call', { name: 'echo', arguments: { message: 'after the kill' } });
    assert.equal(echo.error, undefined, `the killed task's slot is free: ${JSON.stringify(echo)}`);
  });
});
