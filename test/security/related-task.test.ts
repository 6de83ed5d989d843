/**
 * Red-team finding (related-task) — a caller named another principal's task in its request's
 * `_meta["io.modelcontextprotocol/related-task"]`; the server, which tags what it says during a call
 * with the task the call relates to, then had its questions and log lines routed to that task's owner.
 * Naming a task that way is a claim only its owner may make: anyone else's request is refused before it
 * reaches the server (asserted on the server's side), and recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, forwarded, legacySession, recordedServer, type RawSession } from '../helpers/security.ts';

const RELATED = 'io.modelcontextprotocol/related-task';
const relatedTo = (taskId: unknown) => ({ _meta: { [RELATED]: { taskId } } });

describe('a request may relate only to its caller\'s own task', () => {
  let gw: TestGateway;
  let log: string;
  let alice: RawSession;
  let bob: RawSession;
  let aliceTask: string;

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-related-')), 'gov.log');
    gw = await startSecureGateway({
      servers: { gov: recordedServer(log) },
      policy: {
        rules: [
          { name: 'echo', effect: 'allow', servers: ['gov'], tools: ['echo'] },
          { name: 'public', effect: 'allow', servers: ['gov'], prompts: ['public_*'], resources: ['mem://public/*'] },
        ],
      },
    });
    // Identity is off: the principals are the agents the clients declare.
    alice = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'alice');
    bob = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'bob');
    const created = await alice.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'long job' }, task: { ttl: 60_000 } } });
    aliceTask = created.json.result.task.taskId;
  });
  after(async () => gw?.close());

  it('refuses another principal\'s task, an unknown one and a malformed claim on every forwarded method; nothing reaches the server', async () => {
    const requests = [
      { method: 'tools/call', params: { name: 'echo', arguments: { text: 'from bob' } } },
      { method: 'prompts/get', params: { name: 'public_prompt', arguments: { topic: 't' } } },
      { method: 'resources/read', params: { uri: 'mem://public/readme' } },
      { method: 'resources/subscribe', params: { uri: 'mem://public/readme' } },
      { method: 'tools/list', params: {} },
    ];
    for (const { method, params } of requests) {
      for (const [claim, code] of [[aliceTask, 'PC_TASK_UNKNOWN'], ['task-999', 'PC_TASK_UNKNOWN'], [{ id: aliceTask }, 'PC_PROTOCOL_INVALID_PARAMS']] as const) {
        const seen = forwarded(log).length;
        const trail = auditRecords(gw).length;
        const answer = await bob.send({ jsonrpc: '2.0', id: 2, method, params: { ...params, ...relatedTo(claim) } });
        assert.equal(codeOf(answer), code, `${method} naming ${JSON.stringify(claim)}: ${JSON.stringify(answer.json)}`);
        assert.deepEqual(forwarded(log).slice(seen), [], `${method} naming ${JSON.stringify(claim)} reached the server`);
        assert.ok(auditRecords(gw).slice(trail).some((r) => r.method === method && r.code === code), `${method}: the refusal is recorded`);
      }
    }
  });

  it('lets the owner relate a request to her own task', async () => {
    const seen = forwarded(log).length;
    const answer = await alice.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'mine' }, ...relatedTo(aliceTask) } });
    assert.match(JSON.stringify(answer.json.result), /echo: mine/);
    const arrived = forwarded(log).slice(seen);
    assert.equal(arrived.length, 1);
    assert.deepEqual((arrived[0]!.params!._meta as Record<string, unknown>)[RELATED], { taskId: aliceTask });
  });
});
