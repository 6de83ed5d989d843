/**
 * A call's concurrency slot must stay taken for as long as the server may still be working on it. Red
 * team K2: it was released as soon as the gateway stopped waiting (the client cancelled, the call timed
 * out). Red team L1: it was then released on a clock — the server's `timeoutMs` after the gateway gave up
 * — while servers (every one built on the MCP SDK) never answer a request they were told is cancelled and
 * may go on working: cancel-and-restart ran 6 operations at once on a server capped at 1. Now a call
 * holding a slot is not cancelled upstream: the client is answered at once, the server runs the operation
 * to its end, and its answer frees the slot (telling the server would shut the cap for every caller until
 * a restart). server-everything's long-running operation, asserted on its side: no cancellation reached
 * it, and while the given-up operation ran no other call did; after its answer the cap opens again.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { dataDirWithKeys, openLegacySession, type LegacySession } from '../helpers/sessions.ts';

describe('security: a cancelled or timed-out call keeps its concurrency slot until the server answers it, and the cap opens again then (red team K2, L1)', () => {
  let gw: TestGateway;
  const logs: Record<string, string> = {};
  let alice: Record<string, LegacySession>;
  // The gateway gives up after 1 s; the operations last 3 s. Before K2 the slot was free at once, before L1
  // 1 s after the gateway gave up; the attack below asks until the operation's end is near.
  const TIMEOUT_MS = 1000;
  const OPERATION_S = 3;

  before(async () => {
    const { dataDir, keys } = dataDirWithKeys(['alice']);
    const cancelled = recordedServer(EVERYTHING, ['stdio'], { timeoutMs: TIMEOUT_MS });
    const hasty = recordedServer(EVERYTHING, ['stdio'], { timeoutMs: TIMEOUT_MS });
    logs.cancelled = cancelled.log;
    logs.hasty = hasty.log;
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: { cancelled: cancelled.server, hasty: hasty.server },
      policy: { rules: [{ name: 'alice-all', effect: 'allow', principal: { agents: ['alice'] } }], concurrency: { cancelled: 1, hasty: 1 } },
    });
    alice = {};
    for (const server of ['cancelled', 'hasty']) alice[server] = await openLegacySession(`${gw.url}/mcp/${server}`, { headers: { authorization: `Bearer ${keys.alice}` }, name: 'alice' });
  });
  after(async () => {
    for (const session of Object.values(alice ?? {})) await session.close();
    await gw?.close();
  });

  const calls = (server: string, name: string) => received(logs[server]!).filter((m) => m.method === 'tools/call' && m.params?.name === name);
  const slow = (server: string, seconds: number, id: string) => alice[server]!.request('tools/call', { name: 'trigger-long-running-operation', arguments: { duration: seconds, steps: 1 } }, id);
  const echo = (server: string, message: string) => alice[server]!.request('tools/call', { name: 'echo', arguments: { message } });

  /** Cancel-and-restart while the given-up operation may still run (until 1.5 s after it started): every new call is refused, and says why. */
  async function attack(server: string, startedAt: number): Promise<void> {
    for (let n = 0; Date.now() < startedAt + OPERATION_S * 1000 - 1500; n++) {
      const again = await slow(server, OPERATION_S, `${server}-again-${n}`);
      assert.equal(again.error?.data?.code, 'PC_CONCURRENCY_LIMITED', `attempt ${n}: ${JSON.stringify(again)}`);
      assert.equal(again.error?.data?.unanswered, 1, 'the refusal says a call the server has not answered holds the slot');
      await sleep(150);
    }
    assert.equal(calls(server, 'trigger-long-running-operation').length, 1, 'no second operation was started upstream while the first ran');
    assert.deepEqual(received(logs[server]!).filter((m) => m.method === 'notifications/cancelled'), [], 'the server was not told to stop (it would never answer)');
  }

  /** The server's answer to the given-up call frees the slot: no restart needed. */
  async function answerFrees(server: string): Promise<void> {
    const afterwards = await waitFor(async () => {
      const r = await echo(server, 'after the answer');
      return r.error?.data?.code === 'PC_CONCURRENCY_LIMITED' ? undefined : r;
    }, 20_000, 'the slot to be released by the server\'s answer');
    assert.equal(afterwards.error, undefined, JSON.stringify(afterwards));
    assert.equal(calls(server, 'echo').length, 1, 'the echo reached the server');
  }

  it('client cancels: the slot stays taken while the server works, and its answer frees it', async () => {
    const first = slow('cancelled', OPERATION_S, 'slow-1');
    await waitFor(() => calls('cancelled', 'trigger-long-running-operation').length === 1 || undefined, 10_000, 'the slow call upstream');
    const startedAt = Date.now();
    await alice.cancelled!.notify('notifications/cancelled', { requestId: 'slow-1', reason: 'restart' });
    assert.equal((await first).error?.data?.code, 'PC_REQUEST_CANCELLED', 'the client is told the call was cancelled');
    const during = await echo('cancelled', 'while the cancelled call may run');
    assert.equal(during.error?.data?.code, 'PC_CONCURRENCY_LIMITED', JSON.stringify(during));
    await attack('cancelled', startedAt);
    assert.deepEqual(calls('cancelled', 'echo'), [], 'the echo never reached the server while the operation ran');
    await answerFrees('cancelled');
  });

  it('the gateway times out: the slot stays taken past the server timeout while the server works, and its answer frees it', async () => {
    const startedAt = Date.now();
    const first = await slow('hasty', OPERATION_S, 'slow-timeout');
    assert.equal(first.error?.data?.code, 'PC_UPSTREAM_TIMEOUT', JSON.stringify(first));
    await attack('hasty', startedAt);
    await answerFrees('hasty');
  });
});
