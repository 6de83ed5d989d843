/**
 * Red team L5: `completion/complete` for a prompt whose argument has a path guard carried the argument's
 * value (`argument.value`) and the other arguments (`context.arguments`) to the server unjudged, while
 * `prompts/get` with the same value was refused: a path-completing server lists the directory the prefix
 * names. A completion now carries a prompt's arguments only if the same rules and guards would let
 * `prompts/get` carry them, and a resource template's variables only if the resources/read of the URI
 * they expand it to would be allowed. Real server-everything (its `completable-prompt` and its dynamic
 * text template), asserted on its side.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { aliceOnEverything } from '../helpers/alice-everything.ts';
import { received } from '../helpers/recorder.ts';
import { type LegacySession } from '../helpers/sessions.ts';

/** server-everything's text template: `${TEXT}/{resourceId}`, whose resourceId it completes. */
const TEXT = 'demo://resource/dynamic/text';

describe('security: a completion of a guarded prompt argument is judged like prompts/get (red team L5)', () => {
  let gw: TestGateway;
  let log: string;
  let alice: LegacySession;
  const root = mkdtempSync(join(tmpdir(), 'pc-l5-root-'));

  before(async () => {
    ({ gw, log, alice } = await aliceOnEverything({
      rules: [
        { name: 'department-in-root', effect: 'allow', principal: { agents: ['alice'] }, prompts: ['completable-prompt'], guards: { paths: { args: ['department'], roots: [root] } } },
        { name: 'dynamic-text', effect: 'allow', principal: { agents: ['alice'] }, resources: [`${TEXT}/*`] },
        { name: 'no-secret-text', effect: 'deny', resources: [`${TEXT}/secret*`] },
      ],
    }));
  });
  after(async () => {
    await alice?.close();
    await gw?.close();
  });

  const completions = () => received(log).filter((m) => m.method === 'completion/complete');
  const complete = (argument: Record<string, unknown>, context?: Record<string, unknown>) =>
    alice.request('completion/complete', { ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument, ...(context ? { context: { arguments: context } } : {}) });

  it('prompts/get with a department outside the root is refused (the guard the completion must share)', async () => {
    const answer = await alice.request('prompts/get', { name: 'completable-prompt', arguments: { department: '/etc/passwd', name: 'x' } });
    assert.equal(answer.error?.data?.code, 'PC_POLICY_GUARD', JSON.stringify(answer));
    assert.deepEqual(received(log).filter((m) => m.method === 'prompts/get'), []);
  });

  it('the value being completed is judged by the guard', async () => {
    const answer = await complete({ name: 'department', value: '/etc/pas' });
    assert.equal(answer.error?.data?.code, 'PC_POLICY_GUARD', JSON.stringify(answer));
    assert.deepEqual(completions(), [], 'the value never reached the server');
  });

  it('the context arguments are judged by the guard', async () => {
    const answer = await complete({ name: 'name', value: 'A' }, { department: '/etc/shadow' });
    assert.equal(answer.error?.data?.code, 'PC_POLICY_GUARD', JSON.stringify(answer));
    assert.deepEqual(completions(), [], 'the context never reached the server');
  });

  it('values the guard allows are completed by the server', async () => {
    const inside = await complete({ name: 'department', value: join(root, 'Eng') });
    assert.equal(inside.error, undefined, JSON.stringify(inside));
    const other = await complete({ name: 'name', value: 'A' }, { department: join(root, 'Engineering') });
    assert.equal(other.error, undefined, JSON.stringify(other));
    assert.equal(completions().length, 2);
  });

  it('a template variable is judged as the resources/read of the URI it makes', async () => {
    const templateCompletions = () => completions().filter((m) => (m.params?.ref as { type?: string } | undefined)?.type === 'ref/resource');
    const read = await alice.request('resources/read', { uri: `${TEXT}/secret1` });
    assert.equal(read.error?.data?.code, 'PC_POLICY_DENIED', JSON.stringify(read));
    const denied = await alice.request('completion/complete', { ref: { type: 'ref/resource', uri: `${TEXT}/{resourceId}` }, argument: { name: 'resourceId', value: 'secret' } });
    assert.equal(denied.error?.data?.code, 'PC_POLICY_DENIED', JSON.stringify(denied));
    assert.deepEqual(templateCompletions(), [], 'the value never reached the server');
    const allowed = await alice.request('completion/complete', { ref: { type: 'ref/resource', uri: `${TEXT}/{resourceId}` }, argument: { name: 'resourceId', value: '1' } });
    assert.equal(allowed.error, undefined, JSON.stringify(allowed));
    assert.equal(templateCompletions().length, 1);
  });
});
