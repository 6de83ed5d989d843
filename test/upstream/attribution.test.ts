import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskRegistry } from '../../src/routing/tasks.ts';
import { Attributor, RELATED_TASK_META, type AttributableCall } from '../../src/upstream/attribution.ts';

const call = (id: number, principal: string | undefined, extra: Partial<AttributableCall> = {}): AttributableCall => ({
  id,
  caller: `${principal ?? 'gateway'}-session`,
  principal,
  taskId: undefined,
  paused: 0,
  ...extra,
});

function setup(owner?: string) {
  const tasks = new TaskRegistry({ maxPerPrincipal: 10, maxTotal: 10, maxTtlMs: 60_000 });
  tasks.record({ server: 's', taskId: 'alice-task', principal: 'alice', caller: 'alice-session', tool: 't', ttlMs: 60_000 });
  return { tasks, attributor: new Attributor<AttributableCall>({ server: 's', tasks, owner }) };
}
const related = (taskId: string) => ({ _meta: { [RELATED_TASK_META]: { taskId } } });

describe('attribution of server→client traffic on a shared session', () => {
  it('relays a mid-call request to the one principal in flight, and refuses it with two (or none)', () => {
    const { attributor } = setup();
    const alice = call(1, 'alice');
    assert.equal(attributor.forRequest('sampling/createMessage', {}, [alice, call(2, undefined)], undefined).kind, 'call', 'the gateway\'s own calls do not count');
    assert.equal(attributor.forRequest('sampling/createMessage', {}, [alice, call(3, 'bob')], undefined).kind, 'none');
    assert.equal(attributor.forRequest('sampling/createMessage', {}, [], undefined).kind, 'none');
    const parked = call(4, 'alice', { paused: 1 });
    const fresh = call(5, 'alice');
    assert.deepEqual(attributor.forRequest('elicitation/create', {}, [fresh, parked], undefined), { kind: 'call', call: fresh }, 'a parked call of the same principal does not make it ambiguous');
  });

  it('follows the transport: what came on a request\'s stream is that request\'s, even with others in flight', () => {
    const { attributor } = setup();
    const bob = call(7, 'bob');
    assert.deepEqual(attributor.forRequest('sampling/createMessage', {}, [call(6, 'alice'), bob], 7), { kind: 'call', call: bob });
    assert.equal(attributor.forNotification('notifications/message', {}, [bob], 99).kind, 'none', 'a stream whose call is over names nobody');
  });

  it('gives what names a task to the task\'s owner, and nothing that names an unknown task', () => {
    const { attributor } = setup();
    const bob = call(1, 'bob');
    assert.equal(attributor.forRequest('elicitation/create', related('alice-task'), [bob], undefined).kind, 'none', 'alice has no call in flight: not bob\'s');
    const aliceResult = call(2, 'alice', { taskId: 'alice-task' });
    assert.deepEqual(attributor.forRequest('elicitation/create', related('alice-task'), [bob, call(3, 'alice'), aliceResult], undefined), { kind: 'call', call: aliceResult });
    assert.equal(attributor.forRequest('elicitation/create', related('alice-task'), [bob, call(3, 'alice')], undefined).kind, 'none', 'not into an unrelated call of alice\'s while bob\'s may have caused it');
    const aliceOnly = call(4, 'alice');
    assert.deepEqual(attributor.forRequest('elicitation/create', related('alice-task'), [aliceOnly], undefined), { kind: 'call', call: aliceOnly });
    assert.deepEqual(attributor.forNotification('notifications/tasks/status', { taskId: 'alice-task' }, [bob], undefined), {
      kind: 'recipient',
      to: { principal: 'alice', caller: 'alice-session' },
    });
    assert.equal(attributor.forNotification('notifications/tasks/status', { taskId: 'nobody' }, [bob], undefined).kind, 'none');
    assert.equal(attributor.forNotification('notifications/x', related('nobody'), [bob], undefined).kind, 'none');
  });

  it('routes an elicitation completion to whom the elicitation went, once', () => {
    const { attributor } = setup();
    attributor.rememberElicitation('e1', { principal: 'alice', caller: 'alice-session' });
    const bob = call(1, 'bob');
    assert.deepEqual(attributor.forNotification('notifications/elicitation/complete', { elicitationId: 'e1' }, [bob], undefined), {
      kind: 'recipient',
      to: { principal: 'alice', caller: 'alice-session' },
    });
    assert.equal(attributor.forNotification('notifications/elicitation/complete', { elicitationId: 'e1' }, [bob], undefined).kind, 'none');
  });

  it('gives log lines to the only principal a session served, to nobody once a second one used it, and starts over on a new session', () => {
    const { attributor } = setup();
    assert.equal(attributor.forNotification('notifications/message', {}, [], undefined).kind, 'none');
    attributor.served('alice');
    attributor.served(undefined);
    assert.deepEqual(attributor.forNotification('notifications/message', {}, [], undefined), { kind: 'recipient', to: { principal: 'alice' } });
    attributor.served('bob');
    assert.equal(attributor.forNotification('notifications/message', {}, [call(1, 'alice')], undefined).kind, 'none');
    attributor.reset();
    attributor.served('bob');
    assert.deepEqual(attributor.forNotification('notifications/x-custom', {}, [], undefined), { kind: 'recipient', to: { principal: 'bob' } });
  });

  it('on a per-principal session, everything is the owner\'s', () => {
    const { attributor } = setup('carol');
    assert.deepEqual(attributor.forNotification('notifications/message', {}, [], undefined), { kind: 'recipient', to: { principal: 'carol' } });
    const carol = call(1, 'carol');
    assert.deepEqual(attributor.forNotification('notifications/message', {}, [carol], undefined), { kind: 'call', call: carol });
  });
});
