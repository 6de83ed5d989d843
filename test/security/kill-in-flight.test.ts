/**
 * The kill switch stops calls already in flight (red team F3). A long call to server-everything
 * (`trigger-long-running-operation`, with progress) is running when `portcullis kill` is written from
 * another process: the caller is answered PC_KILL_SWITCH at once (not when the server finishes), the
 * server receives `notifications/cancelled` for exactly that request, no progress reaches the caller
 * after the kill, and the audit trail records the call as stopped by the kill switch. A call the switch
 * does not cover (another server) runs to its end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, legacyClient, modernClient, runCli, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, received, recordedServer } from '../helpers/recorded.ts';

const LONG = { duration: 30, steps: 30 };
const TOOLS = ['trigger-long-running-operation', 'echo'];

describe('kill switch: calls in flight', () => {
  let gw: TestGateway;
  let config: string;
  let killedLog: string;
  let otherLog: string;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-kill-inflight-'));
    killedLog = join(dir, 'killed.log');
    otherLog = join(dir, 'other.log');
    gw = await startSecureGateway({
      servers: { every: recordedServer(killedLog, EVERYTHING), other: recordedServer(otherLog, EVERYTHING) },
      policy: {
        rules: [
          { name: 'long-ops', effect: 'allow', servers: ['every', 'other'], tools: TOOLS },
          { name: 'every-resources', effect: 'allow', servers: ['every'], resources: ['demo://*'] },
        ],
      },
    });
    config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nservers: { every: { command: node }, other: { command: node } }\n`);
  });
  after(async () => {
    await runCli(['unkill', '--all', '-c', config]).catch(() => undefined);
    await gw?.close();
  });

  /** The id of the tools/call number `n` (0-based) the server behind `log` received, once it has. */
  const callId = (log: string, n: number) => waitFor(() => received(log, 'tools/call')[n]?.id, 10_000, 'the call to reach the server');

  it('a switch does not keep the caller from stopping work: resources/unsubscribe passes it and reaches the server', async () => {
    const client = await legacyClient(`${gw.url}/mcp/every`, { name: 'subscriber' });
    const uri = 'demo://resource/static/document/architecture.md';
    try {
      await client.subscribeResource({ uri });
      const killed = await runCli(['kill', '--server', 'every', '--reason', 'incident 8', '-c', config]);
      assert.equal(killed.code, 0, killed.stderr);
      await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'stopped' } }), (error: { data?: { code?: string } }) => error.data?.code === 'PC_KILL_SWITCH');
      await client.unsubscribeResource({ uri });
    } finally {
      await runCli(['unkill', '--server', 'every', '-c', config]);
      await client.close();
    }
    assert.ok(received(killedLog, 'resources/unsubscribe').some((m) => m.params?.uri === uri), 'the server dropped the subscription');
    assert.ok(!received(killedLog, 'tools/call').some((m) => (m.params?.arguments as { message?: string } | undefined)?.message === 'stopped'), 'the stopped call did not reach it');
  });

  for (const [era, target] of [['legacy', ['--server', 'every']], ['modern', ['--agent', 'kill-me']]] as const) {
    it(`${era} era, kill ${target.join(' ')}: answered PC_KILL_SWITCH at once, cancelled upstream, no progress after, recorded`, async () => {
      const connect = era === 'legacy' ? legacyClient : modernClient;
      const client = await connect(`${gw.url}/mcp`, { name: 'kill-me' });
      const bystander = await legacyClient(`${gw.url}/mcp/other`, { name: 'bystander' });
      const progress: number[] = [];
      let killedAt = 0;
      try {
        const before = received(killedLog, 'tools/call').length;
        const started = Date.now();
        const running = client
          .callTool({ name: 'every__trigger-long-running-operation', arguments: LONG }, undefined, { onprogress: () => progress.push(Date.now()), timeout: 60_000 } as never)
          .then(() => ({ code: 'completed' as string | undefined, at: Date.now() }), (error: { data?: { code?: string }; code?: unknown }) => ({ code: error.data?.code ?? String(error.code), at: Date.now() }));
        const other = bystander.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 3, steps: 3 } }, undefined, { timeout: 60_000 });
        const id = await callId(killedLog, before);
        await new Promise((resolve) => setTimeout(resolve, 1500)); // the operation is under way
        const killed = await runCli(['kill', ...target, '--reason', 'incident 7', '-c', config]);
        assert.equal(killed.code, 0, killed.stderr);
        killedAt = Date.now();
        const answer = await running;
        assert.equal(answer.code, 'PC_KILL_SWITCH', JSON.stringify(answer));
        assert.ok(answer.at - started < LONG.duration * 1000 - 5000, `answered ${answer.at - started} ms after the start, long before the server would have finished`);
        assert.ok(answer.at - killedAt < 2000, `answered ${answer.at - killedAt} ms after the kill command returned`);
        const cancelled = await waitFor(() => received(killedLog, 'notifications/cancelled').find((m) => m.params?.requestId === id), 5000, 'notifications/cancelled upstream');
        assert.match(String(cancelled.params?.reason), /kill switch/);
        // The bystander's server is not covered: its call completes.
        const done = await other;
        assert.match(JSON.stringify(done.content), /completed/i);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(progress.filter((t) => t > answer.at).length, 0, 'no progress of the stopped call reached the caller after its answer');
      } finally {
        await runCli(['unkill', ...target, '-c', config]);
        await client.close();
        await bystander.close();
      }
      assert.ok(killedAt > 0);
      const records = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.server === 'every' && r.target === 'trigger-long-running-operation');
      const outcome = records.at(-1)!;
      assert.equal(outcome.decision, 'denied', JSON.stringify(outcome));
      assert.equal(outcome.code, 'PC_KILL_SWITCH');
      assert.match(String(outcome.reason), /stopped in flight/);
      assert.ok(records.some((r) => r.decision === 'intent' && r.correlationId === outcome.correlationId), 'the write-ahead intent of the same call is on record');
    });
  }
});
