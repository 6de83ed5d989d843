/**
 * Issue 11 item 4 — what is judged is what is sent. For every governed method, decoys are put in every
 * other field (and in extra fields the spec does not define): the decision is taken on the field the
 * spec defines for the method, the server receives exactly the judged target and nothing the gateway
 * did not judge, and the audit record names what the server received.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, everyEndpoint, forwarded, legacySession, recordedServer, type RawSession } from '../helpers/security.ts';

const POLICY = {
  rules: [
    { name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] },
    { name: 'public-prompts', effect: 'allow', servers: ['gov'], prompts: ['public_*'] },
    { name: 'public-resources', effect: 'allow', servers: ['gov'], resources: ['mem://public/*'] },
  ],
};

/** Fields a decoy may hide in: every target field of every governed method, and some the spec never defined. */
const decoys = (secretName: string) => ({
  name: secretName,
  uri: 'mem://secret/keys',
  ref: { type: 'ref/prompt', name: 'secret_prompt' },
  taskId: 'someone-elses-task',
  tool: 'delete_record',
  target: 'delete_record',
  resource: 'mem://secret/keys',
  method: 'tools/call',
});

describe('what is judged is what is sent', () => {
  let gw: TestGateway;
  let log: string;
  let sessions: Record<string, RawSession> = {};

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-judged-')), 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: POLICY });
    sessions = await everyEndpoint(gw.url, 'gov');
  });
  after(async () => gw?.close());

  /** Sends one message and returns what reached the server for it (params without `_meta`) and its audit record. */
  async function through(session: RawSession, method: string, params: Record<string, unknown>) {
    const before = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const answer = await session.send({ jsonrpc: '2.0', id: 1, method, params });
    const arrived = forwarded(log)
      .slice(before)
      .map((m) => {
        const { _meta: _drop, ...rest } = m.params ?? {};
        return { method: m.method, params: rest };
      });
    const record = auditRecords(gw).slice(trail).find((r) => r.method === method);
    return { answer, arrived, record };
  }

  it('resources/read: judged by uri (not by a decoy name), and only the uri travels', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      const secret = await through(session, 'resources/read', { uri: 'mem://secret/keys', name: 'mem://public/readme' });
      assert.equal(codeOf(secret.answer), 'PC_POLICY_DENIED', `${label}: the issue's attack is judged by uri`);
      assert.deepEqual(secret.arrived, [], label);
      assert.equal(secret.record?.target, 'mem://secret/keys', 'recorded as the secret it is');
      assert.equal(secret.record?.decision, 'denied');

      const decoyed = await through(session, 'resources/read', { ...decoys('mem://secret/keys'), uri: 'mem://public/readme' });
      assert.match(JSON.stringify(decoyed.answer.json.result), /public text/, label);
      assert.deepEqual(decoyed.arrived, [{ method: 'resources/read', params: { uri: 'mem://public/readme' } }], label);
      assert.equal(decoyed.record?.target, 'mem://public/readme');
    }
  });

  it('tools/call: judged by name; the server gets the judged name and arguments only', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      const name = label.endsWith('/mcp') ? 'gov__echo' : 'echo';
      const result = await through(session, 'tools/call', { ...decoys('delete_record'), name, arguments: { text: 'hi' } });
      assert.match(JSON.stringify(result.answer.json.result), /echo: hi/, label);
      assert.deepEqual(result.arrived, [{ method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }], label);
      assert.equal(result.record?.target, 'echo');

      const denied = await through(session, 'tools/call', { ...decoys('echo'), name: label.endsWith('/mcp') ? 'gov__delete_record' : 'delete_record', arguments: { id: '1' } });
      assert.equal(codeOf(denied.answer), 'PC_POLICY_DENIED', label);
      assert.deepEqual(denied.arrived, [], label);
      assert.equal(denied.record?.target, 'delete_record');
    }
  });

  it("fields of the client's revision that the server's revision does not define never travel (a 2026-07-28 retry to a legacy server)", async () => {
    // The upstream is a legacy stdio session: inputResponses means nothing to it, no rule judges it, and a
    // gateway answer ("approval") replayed on a call that needs none must not leak. (A requestState the
    // gateway did not give is refused before anything travels: request-state-handles.test.ts.)
    const retry = { inputResponses: { cmd: 'rm', approval: { action: 'accept', content: { approve: true } } } };
    for (const [label, session] of Object.entries(sessions)) {
      const prefix = label.endsWith('/mcp') ? 'gov__' : '';
      const call = await through(session, 'tools/call', { ...retry, name: `${prefix}echo`, arguments: { text: 'hi' } });
      assert.match(JSON.stringify(call.answer.json.result), /echo: hi/, label);
      assert.deepEqual(call.arrived.filter((m) => m.method === 'tools/call'), [{ method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }], label);
      const prompt = await through(session, 'prompts/get', { ...retry, name: `${prefix}public_prompt`, arguments: { topic: 't' } });
      assert.deepEqual(prompt.arrived.filter((m) => m.method === 'prompts/get'), [{ method: 'prompts/get', params: { name: 'public_prompt', arguments: { topic: 't' } } }], label);
    }
  });

  it('prompts/get: judged by name; decoys do not travel', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      const prefix = label.endsWith('/mcp') ? 'gov__' : '';
      const result = await through(session, 'prompts/get', { ...decoys('secret_prompt'), name: `${prefix}public_prompt`, arguments: { topic: 't' } });
      assert.match(JSON.stringify(result.answer.json.result), /prompt public_prompt/, label);
      assert.deepEqual(result.arrived, [{ method: 'prompts/get', params: { name: 'public_prompt', arguments: { topic: 't' } } }], label);
      const denied = await through(session, 'prompts/get', { ...decoys('public_prompt'), name: `${prefix}secret_prompt` });
      assert.equal(codeOf(denied.answer), 'PC_POLICY_DENIED', label);
      assert.deepEqual(denied.arrived, [], label);
    }
  });

  it('completion/complete: judged by ref; the ref forwarded is rebuilt from what was judged', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      const prefix = label.endsWith('/mcp') ? 'gov__' : '';
      const ref = { type: 'ref/prompt', name: `${prefix}public_prompt`, uri: 'mem://secret/keys', title: 'x', id: 'secret_prompt' };
      const result = await through(session, 'completion/complete', { ...decoys('secret_prompt'), ref, argument: { name: 'topic', value: 'a' } });
      assert.deepEqual(result.answer.json.result.completion.values, ['alpha', 'beta'], label);
      assert.deepEqual(result.arrived, [{ method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'public_prompt' }, argument: { name: 'topic', value: 'a' } } }], label);
      const template = await through(session, 'completion/complete', { ...decoys('public_prompt'), ref: { type: 'ref/resource', uri: 'mem://secret/vault/{id}', name: `${prefix}public_prompt` }, argument: { name: 'id', value: '' } });
      assert.equal(codeOf(template.answer), 'PC_ROUTE_UNKNOWN_RESOURCE', label);
      assert.deepEqual(template.arrived, [], label);
    }
  });

  it('resources/subscribe and unsubscribe: judged by uri; only the uri travels', async () => {
    for (const label of ['legacy /mcp/gov', 'legacy /mcp']) {
      const session = sessions[label]!;
      const denied = await through(session, 'resources/subscribe', { uri: 'mem://secret/keys', name: 'mem://public/readme' });
      assert.equal(codeOf(denied.answer), 'PC_POLICY_DENIED', label);
      assert.deepEqual(denied.arrived, [], label);
      const subscribed = await through(session, 'resources/subscribe', { ...decoys('mem://secret/keys'), uri: 'mem://public/readme' });
      assert.deepEqual(subscribed.answer.json.result, {}, label);
      const unsubscribed = await through(session, 'resources/unsubscribe', { ...decoys('mem://secret/keys'), uri: 'mem://public/readme' });
      assert.deepEqual(unsubscribed.answer.json.result, {}, label);
      // The shared upstream session sees one subscription per URI: the first subscriber and the last
      // unsubscriber travel, and only with the uri.
      for (const m of [...subscribed.arrived, ...unsubscribed.arrived]) assert.deepEqual(m.params, { uri: 'mem://public/readme' }, label);
    }
  });

  it('tasks/*: judged as the caller\'s own task and its tool; only the task id travels', async () => {
    const session = sessions['legacy /mcp/gov']!;
    const started = await through(session, 'tools/call', { name: 'echo', arguments: { text: 'later' }, task: { ttl: 60_000 } });
    const taskId = started.answer.json.result.task.taskId as string;
    assert.deepEqual(started.arrived, [{ method: 'tools/call', params: { name: 'echo', arguments: { text: 'later' }, task: { ttl: 60_000 } } }]);
    for (const method of ['tasks/get', 'tasks/result']) {
      const result = await through(session, method, { ...decoys('delete_record'), taskId });
      assert.equal(result.answer.json.error, undefined, `${method}: ${JSON.stringify(result.answer.json)}`);
      assert.deepEqual(result.arrived, [{ method, params: { taskId } }]);
      assert.equal(result.record?.target, 'echo', 'recorded as the tool the task runs');
    }
    const list = await through(session, 'tasks/list', { ...decoys('delete_record') });
    assert.deepEqual(list.answer.json.result.tasks.map((t: { taskId: string }) => t.taskId), [taskId]);
    assert.deepEqual(list.arrived, [{ method: 'tasks/list', params: {} }]);
    // Another caller (another agent; identity is off, so the agent is the declared client name) asking
    // for the same id finds nothing, and nothing reaches the server.
    const other = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'other-agent');
    const foreign = await through(other, 'tasks/result', { taskId });
    assert.equal(codeOf(foreign.answer), 'PC_TASK_UNKNOWN');
    assert.deepEqual(foreign.arrived, []);
    const unknown = await through(other, 'tasks/get', { taskId: 'task-999', name: 'echo' });
    assert.equal(codeOf(unknown.answer), 'PC_TASK_UNKNOWN');
    assert.deepEqual(unknown.arrived, []);
  });
});
