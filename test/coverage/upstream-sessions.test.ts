/**
 * Upstream sessions: `upstreamSession: shared` (one session whoever calls), `per-principal` bounded by
 * `perPrincipal.maxSessions` (a call that would need another session while every one is busy is
 * refused, PC_UPSTREAM_SESSION_LIMIT, never given someone else's) and `perPrincipal.idleMs` (an unused
 * session is closed; the next call opens a fresh one). And the stdio front refusing a call before
 * `initialize` (PC_PROTOCOL_NOT_INITIALIZED). Judged on the server's side.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditTrail, callsReceived, received, recordedServer } from '../helpers/recorded.ts';
import { startStdioFront } from '../helpers/security.ts';
import { dataDirWithKeys } from '../helpers/sessions.ts';

const LEAKY = new URL('../fixtures/leaky-server.ts', import.meta.url).pathname;

describe('upstream sessions', () => {
  let gw: TestGateway;
  let dataDir: string;
  let keys: Record<string, string>;
  let sharedLog: string;
  let ppLog: string;
  const client = (who: string, server: string, onElicit?: () => unknown) => legacyClient(`${gw.url}/mcp/${server}`, { name: who, headers: { authorization: `Bearer ${keys[who]}` }, ...(onElicit ? { onElicit } : {}) });
  const sessions = (): number => gw.gateway.isolation().upstreamSessions.find((s) => s.server === 'pp')?.sessions ?? -1;

  before(async () => {
    ({ dataDir, keys } = dataDirWithKeys(['alice', 'bob']));
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-sessions-'));
    sharedLog = join(dir, 'shared.log');
    ppLog = join(dir, 'pp.log');
    gw = await startGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: {
        shared: recordedServer(sharedLog, LEAKY, [], { upstreamSession: 'shared' }),
        pp: recordedServer(ppLog, LEAKY, [], { upstreamSession: 'per-principal', perPrincipal: { maxSessions: 1, idleMs: 1000 } }),
      },
    });
  });
  after(async () => gw.close());

  it('shares one upstream session among principals with upstreamSession: shared', async () => {
    for (const who of ['alice', 'bob']) {
      const c = await client(who, 'shared');
      await c.callTool({ name: 'echo', arguments: { text: `shared-${who}` } });
      await c.close();
    }
    assert.deepEqual(callsReceived(sharedLog).map((c) => c.arguments.text), ['shared-alice', 'shared-bob']);
    assert.equal(received(sharedLog, 'initialize').length, 1, 'one session, opened once');
  });

  it('refuses a principal a session past perPrincipal.maxSessions while every session is busy, then serves it', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let asked!: () => void;
    const askedNow = new Promise<void>((resolve) => (asked = resolve));
    const alice = await client('alice', 'pp', async () => {
      asked();
      await released;
      return { action: 'accept', content: { answer: 'fine' } };
    });
    const bob = await client('bob', 'pp');
    try {
      const held = alice.callTool({ name: 'ask', arguments: { question: 'busy' } });
      await askedNow;
      await assert.rejects(bob.callTool({ name: 'echo', arguments: { text: 'bob-while-busy' } }), (e: { data?: { code?: string } }) => {
        assert.equal(e.data?.code, 'PC_UPSTREAM_SESSION_LIMIT');
        return true;
      });
      assert.ok(!callsReceived(ppLog).some((c) => c.arguments.text === 'bob-while-busy'), 'bob\'s call went nowhere, not into alice\'s session');
      release();
      await held;
      await bob.callTool({ name: 'echo', arguments: { text: 'bob-after' } });
      assert.ok(callsReceived(ppLog).some((c) => c.arguments.text === 'bob-after'));
      const refusal = auditTrail(dataDir).find((r) => r.code === 'PC_UPSTREAM_SESSION_LIMIT');
      assert.equal(refusal?.principal.agent, 'bob');
    } finally {
      release();
      await alice.close();
      await bob.close();
    }
  });

  it('closes a per-principal session unused for perPrincipal.idleMs; the next call opens a fresh one', async () => {
    // Bob's session from the test before (already closed if the machine was slow: idleMs is one second).
    assert.ok(sessions() <= 1);
    await waitFor(() => (sessions() === 0 ? true : undefined), 5000, 'the idle session to be closed');
    const opened = received(ppLog, 'initialize').length;
    const bob = await client('bob', 'pp');
    await bob.callTool({ name: 'echo', arguments: { text: 'bob-fresh' } });
    await bob.close();
    assert.equal(received(ppLog, 'initialize').length, opened + 1, 'a new upstream session was opened');
  });
});

describe('stdio front before initialize', () => {
  it('refuses a call sent before initialize (PC_PROTOCOL_NOT_INITIALIZED) and forwards nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-stdio-'));
    const log = join(dir, 'gov.log');
    const front = startStdioFront(dir, log, join(dir, 'data'));
    try {
      front.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'too-early' } } });
      const answer = await waitFor(() => front.answers.get(1), 30_000, 'the answer to the early call');
      assert.equal(answer.error?.data?.code, 'PC_PROTOCOL_NOT_INITIALIZED');
      front.send({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
      await waitFor(() => front.answers.get(2), 30_000, 'initialize');
      front.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      front.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'in-time' } } });
      const ok = await waitFor(() => front.answers.get(3), 30_000, 'the call after initialize');
      assert.ok(ok.result, JSON.stringify(ok));
      assert.deepEqual(callsReceived(log).map((c) => c.arguments.text), ['in-time']);
    } finally {
      await front.close();
    }
  });
});
