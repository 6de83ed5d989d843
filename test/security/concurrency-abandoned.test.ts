/**
 * A call's concurrency slot was released as soon as the gateway stopped waiting for it — the client
 * cancelled (`notifications/cancelled`) or the call timed out — while the server, for which cancellation
 * is advisory, went on working (red team K2): cancel-and-restart ran any number of operations at once on
 * a server capped at 1. The slot is now kept until the server answers the abandoned request or, since
 * an SDK server never answers a request it was told is cancelled (it just keeps working), until the
 * server's `timeoutMs` has passed after the gateway stopped waiting. server-everything's long-running
 * operation ignores cancellation; asserted on its side: the calls refused meanwhile never reached it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { dataDirWithKeys, openLegacySession, type LegacySession } from '../helpers/sessions.ts';

describe('security: a cancelled or timed-out call keeps its concurrency slot while the server works on', () => {
  let gw: TestGateway;
  const logs: Record<string, string> = {};
  let alice: Record<string, LegacySession>;

  before(async () => {
    const { dataDir, keys } = dataDirWithKeys(['alice']);
    const patient = recordedServer(EVERYTHING, ['stdio'], { timeoutMs: 4000 });
    const hasty = recordedServer(EVERYTHING, ['stdio'], { timeoutMs: 1000 });
    logs.patient = patient.log;
    logs.hasty = hasty.log;
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      servers: { patient: patient.server, hasty: hasty.server },
      policy: { rules: [{ name: 'alice-all', effect: 'allow', principal: { agents: ['alice'] } }], concurrency: { patient: 1, hasty: 1 } },
    });
    alice = {};
    for (const server of ['patient', 'hasty']) alice[server] = await openLegacySession(`${gw.url}/mcp/${server}`, { headers: { authorization: `Bearer ${keys.alice}` }, name: 'alice' });
  });
  after(async () => {
    for (const session of Object.values(alice ?? {})) await session.close();
    await gw?.close();
  });

  const calls = (server: string, name: string) => received(logs[server]!).filter((m) => m.method === 'tools/call' && m.params?.name === name);
  const slow = (server: string, seconds: number, id: string) => alice[server]!.request('tools/call', { name: 'trigger-long-running-operation', arguments: { duration: seconds, steps: 1 } }, id);
  const echo = (server: string, message: string) => alice[server]!.request('tools/call', { name: 'echo', arguments: { message } });

  it('client cancels: the next call is refused until the grace period after the cancel has passed', async () => {
    const first = slow('patient', 3, 'slow-1');
    await waitFor(() => calls('patient', 'trigger-long-running-operation').length === 1 || undefined, 10_000, 'the slow call upstream');
    await alice.patient!.notify('notifications/cancelled', { requestId: 'slow-1', reason: 'restart' });
    assert.equal((await first).error?.data?.code, 'PC_REQUEST_CANCELLED', 'the client is told the call was cancelled');
    const cancelled = Date.now();

    // The server still works on it: the cap of 1 is full.
    for (const n of [1, 2, 3]) {
      const again = await slow('patient', 3, `slow-again-${n}`);
      assert.equal(again.error?.data?.code, 'PC_CONCURRENCY_LIMITED', JSON.stringify(again));
    }
    const during = await echo('patient', 'while the cancelled call runs');
    assert.equal(during.error?.data?.code, 'PC_CONCURRENCY_LIMITED', JSON.stringify(during));
    assert.equal(calls('patient', 'trigger-long-running-operation').length, 1, 'no second operation was started upstream');
    assert.deepEqual(calls('patient', 'echo'), [], 'the echo never reached the server');

    // The server never answers a cancelled request: the slot is free once its timeoutMs (4 s) has passed.
    await sleep(Math.max(0, cancelled + 4000 - Date.now()));
    const afterwards = await waitFor(async () => {
      const r = await echo('patient', 'after the grace period');
      return r.error?.data?.code === 'PC_CONCURRENCY_LIMITED' ? undefined : r;
    }, 10_000, 'the slot to be released');
    assert.equal(afterwards.error, undefined, JSON.stringify(afterwards));
    assert.equal(calls('patient', 'echo').length, 1);
  });

  it('the gateway times out: the slot stays taken until the server answers', async () => {
    const started = Date.now();
    const first = await slow('hasty', 3, 'slow-timeout');
    assert.equal(first.error?.data?.code, 'PC_UPSTREAM_TIMEOUT', JSON.stringify(first));
    const during = await slow('hasty', 3, 'slow-timeout-2');
    assert.equal(during.error?.data?.code, 'PC_CONCURRENCY_LIMITED', JSON.stringify(during));
    assert.equal(calls('hasty', 'trigger-long-running-operation').length, 1, 'no second operation was started upstream');
    await sleep(Math.max(0, started + 3500 - Date.now()));
    const afterwards = await waitFor(async () => {
      const r = await echo('hasty', 'after the timed-out call ended');
      return r.error?.data?.code === 'PC_CONCURRENCY_LIMITED' ? undefined : r;
    }, 10_000, 'the slot to be released');
    assert.equal(afterwards.error, undefined, JSON.stringify(afterwards));
  });
});
