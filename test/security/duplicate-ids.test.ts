/**
 * Two requests under one JSON-RPC id (red team K4): a 2025-03-26 batch with two members `id: 201` was
 * answered twice under that id (one refusal, one result) and its allowed member forwarded — the client
 * cannot tell which answer is which, nor what a cancellation of that id stops. Ambiguous input is refused,
 * not resolved: such a batch is refused whole (PC_PROTOCOL_AMBIGUOUS) before any member runs, and so is a
 * request whose id is still in flight on the same legacy session or stdio connection (answered under id
 * null, so the call in flight keeps the only answer under its id). Asserted on the recorded servers' side.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, MAIN, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { recordedServer as recordedOf } from '../helpers/recorded.ts';
import { codeOf, forwarded, legacySession, recordedServer } from '../helpers/security.ts';

describe('security: one id, two requests', () => {
  let gw: TestGateway;
  let dir: string;
  let govLog: string;
  let slowLog: string;
  let slowServer: Record<string, unknown>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-dup-ids-'));
    govLog = join(dir, 'gov.log');
    slowLog = join(dir, 'slow.log');
    slowServer = recordedOf(slowLog, EVERYTHING, ['stdio']);
    gw = await startGateway({
      servers: { gov: recordedServer(govLog), slow: slowServer },
      policy: {
        rules: [
          { name: 'gov-echo', effect: 'allow', servers: ['gov'], tools: ['echo'] },
          { name: 'slow-all', effect: 'allow', servers: ['slow'] },
        ],
      },
    });
  });
  after(async () => gw?.close());

  const toolCalls = (log: string) => forwarded(log).filter((m) => m.method === 'tools/call');
  const echo = (id: unknown, text: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

  it('refuses a batch with two requests under one id whole; the server receives none of it', async () => {
    const session = await legacySession(`${gw.url}/mcp/gov`, '2025-03-26');
    // Control: distinct ids go through, both members reach the server.
    const fine = await session.send([echo(101, 'one'), echo(102, 'two')]);
    assert.ok(Array.isArray(fine.json) && fine.json.length === 2, JSON.stringify(fine.json));
    assert.equal(toolCalls(govLog).length, 2);
    for (const [a, b] of [[201, 201], [202, '202'], ['x', 'x']]) {
      const answer = await session.send([echo(a, 'denied-or-not'), { jsonrpc: '2.0', id: b, method: 'tools/call', params: { name: 'delete_record', arguments: { id: 'r1' } } }]);
      assert.equal(codeOf(answer), 'PC_PROTOCOL_AMBIGUOUS', JSON.stringify(answer.json));
      assert.equal(answer.json.id, null, 'one refusal, under no member\'s id');
    }
    assert.equal(toolCalls(govLog).length, 2, 'no member of a refused batch reached the server');
  });

  it('refuses a second request under an id in flight on a legacy session; the first is answered alone', async () => {
    const session = await legacySession(`${gw.url}/mcp/slow`);
    const first = session.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 10, steps: 1 } } });
    await waitFor(() => toolCalls(slowLog).length === 1 || undefined, 10_000, 'the slow call upstream');
    const second = await session.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: 'same id' } } });
    assert.equal(codeOf(second), 'PC_PROTOCOL_AMBIGUOUS', JSON.stringify(second.json));
    assert.equal(second.json.id, null);
    const answered = await first;
    assert.equal(answered.json.id, 9);
    assert.match(JSON.stringify(answered.json.result), /Long running operation completed/);
    assert.deepEqual(toolCalls(slowLog).map((m) => m.params?.name), ['trigger-long-running-operation'], 'the echo never reached the server');
  });

  it('refuses a second request under an id in flight on the stdio front', async () => {
    const config = join(dir, 'stdio.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(join(dir, 'stdio-data'))}\npolicy: { rules: [{ name: all, effect: allow, servers: [slow] }] }\nservers:\n  slow: ${JSON.stringify(slowServer)}\n`);
    const before = toolCalls(slowLog).length;
    const child = spawn(process.execPath, [MAIN, 'stdio', '-c', config, '--server', 'slow'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const lines: any[] = [];
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      for (let at = buffer.indexOf('\n'); at !== -1; at = buffer.indexOf('\n')) {
        lines.push(JSON.parse(buffer.slice(0, at)));
        buffer = buffer.slice(at + 1);
      }
    });
    const send = (message: unknown) => child.stdin!.write(`${JSON.stringify(message)}\n`);
    try {
      send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'dup', version: '1' } } });
      await waitFor(() => lines.find((m) => m.id === 0), 20_000, 'initialize');
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      // Long enough that the first call is still in flight when the second arrives on a loaded machine.
      send({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 10, steps: 1 } } });
      await waitFor(() => toolCalls(slowLog).length === before + 1 || undefined, 20_000, 'the slow call upstream');
      send({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'echo', arguments: { message: 'same id' } } });
      const refused = await waitFor(() => lines.find((m) => m.id === null), 10_000, 'the refusal');
      assert.equal(refused.error?.data?.code, 'PC_PROTOCOL_AMBIGUOUS', JSON.stringify(refused));
      const answered = await waitFor(() => lines.find((m) => m.id === 'a'), 30_000, 'the first answer');
      assert.match(JSON.stringify(answered.result), /Long running operation completed/);
      assert.equal(lines.filter((m) => m.id === 'a').length, 1, 'one answer under the id');
      assert.deepEqual(toolCalls(slowLog).slice(before).map((m) => m.params?.name), ['trigger-long-running-operation'], 'the echo never reached the server');
    } finally {
      const exited = child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    }
  });
});
