/**
 * Red-team finding F1 — a task-augmented `tools/call` forwarded its `params.task` as sent: any members,
 * any keys, a secret or a 64 KiB blob rode to the server past argument inspection, outside the record.
 * The forwarded `task` is rebuilt to the spec's shape (2025-11-25 `TaskMetadata`: `{ ttl }`, capped at
 * `routing.tasks.maxTtlMs`), dropped for a server that declared no task support, and recorded. Asserted
 * on the server's side (the recorder), for both eras and the stdio front.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor, type TestGateway } from '../helpers/gateway.ts';
import { recording, TOOLS_SERVER } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, everyEndpoint, forwarded, recordedServer, startStdioFront, type RawSession } from '../helpers/security.ts';

const MAX_TTL_MS = 3_600_000;
const secrets = fakeSecrets();
/** What an attacker hangs on `task`: members and keys the spec does not define, secrets and bulk in both. */
const loaded = (ttl: number) => ({ ttl, note: secrets.github, [secrets.aws]: { k: secrets.pem }, blob: Buffer.alloc(48 * 1024, 'secretdata ').toString('base64') });

describe('a task-augmented call forwards exactly the task the spec defines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-task-fwd-'));
  const log = join(dir, 'gov.log');
  const plain = recording(TOOLS_SERVER, [JSON.stringify([{ name: 'echo', inputSchema: { type: 'object' } }])]);
  let gw: TestGateway;
  let sessions: Record<string, RawSession> = {};

  before(async () => {
    gw = await startSecureGateway({
      servers: { gov: recordedServer(log), plain: plain.server },
      policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov', 'plain'], tools: ['echo'] }] },
      routing: { tasks: { maxTtlMs: MAX_TTL_MS } },
    });
    sessions = await everyEndpoint(gw.url, 'gov');
  });
  after(async () => gw?.close());

  it('sends only { ttl } to a server that takes tasks, capped at routing.tasks.maxTtlMs, and records it', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      const name = label.endsWith('/mcp') ? 'gov__echo' : 'echo';
      const seen = forwarded(log).length;
      const trail = auditRecords(gw).length;
      const answer = await session.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'hi' }, task: loaded(86_400_000) } });
      assert.equal(answer.json.error, undefined, `${label}: ${JSON.stringify(answer.json)}`);
      const calls = forwarded(log).slice(seen).filter((m) => m.method === 'tools/call');
      assert.equal(calls.length, 1, label);
      assert.deepEqual(calls[0]!.params!.task, { ttl: MAX_TTL_MS }, `${label}: nothing but the capped ttl travels`);
      const wire = JSON.stringify(calls[0]);
      for (const value of [secrets.github, secrets.aws, 'secretdata', 'BEGIN RSA']) assert.equal(wire.includes(value), false, `${label}: ${value.slice(0, 8)}… reached the server`);
      const records = auditRecords(gw).slice(trail).filter((r) => r.method === 'tools/call');
      assert.ok(records.length > 0, label);
      for (const record of records) assert.deepEqual(record.taskRequest, { ttl: MAX_TTL_MS }, `${label}: the record holds what was forwarded`);
    }
  });

  it('keeps an empty task empty and refuses a negative ttl before anything reaches the server', async () => {
    const session = sessions['legacy /mcp/gov']!;
    let seen = forwarded(log).length;
    await session.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, task: { note: secrets.github } } });
    assert.deepEqual(forwarded(log).slice(seen).find((m) => m.method === 'tools/call')?.params?.task, {});
    seen = forwarded(log).length;
    const negative = await session.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, task: { ttl: -1 } } });
    assert.equal(codeOf(negative), 'PC_PROTOCOL_INVALID_PARAMS');
    assert.deepEqual(forwarded(log).slice(seen), []);
  });

  it('drops the task for a server that declared no task support', async () => {
    for (const session of [sessions['legacy /mcp']!, sessions['modern /mcp']!]) {
      const seen = plain.received().length;
      const trail = auditRecords(gw).length;
      const answer = await session.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'plain__echo', arguments: {}, task: loaded(60_000) } });
      assert.match(JSON.stringify(answer.json.result), /echo ran/);
      const calls = plain.received().slice(seen).filter((m) => m.method === 'tools/call');
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0]!.params, { name: 'echo', arguments: {} }, 'the plain call, nothing else');
      const outcome = auditRecords(gw).slice(trail).find((r) => r.method === 'tools/call' && r.decision !== 'intent');
      assert.equal(outcome?.taskRequest, undefined, 'the outcome record says no task was forwarded');
    }
  });

  it('the stdio front rebuilds the task the same way', async () => {
    const stdioLog = join(dir, 'stdio-gov.log');
    const front = startStdioFront(dir, stdioLog, join(dir, 'stdio-data'));
    try {
      front.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'stdio-raw', version: '1' } } });
      await waitFor(() => front.answers.get('init'), 30_000, 'initialize');
      front.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      front.send({ jsonrpc: '2.0', id: 'task', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' }, task: loaded(60_000) } });
      const answer = await waitFor(() => front.answers.get('task'), 30_000, 'the task call');
      assert.equal(answer.error, undefined, JSON.stringify(answer));
      const calls = forwarded(stdioLog).filter((m) => m.method === 'tools/call');
      assert.deepEqual(calls.map((m) => m.params), [{ name: 'echo', arguments: { text: 'hi' }, task: { ttl: 60_000 } }]);
    } finally {
      await front.close();
    }
  });
});
