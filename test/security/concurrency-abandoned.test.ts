/**
 * A call's concurrency slot must stay taken for as long as the server may still be working on it. Red
 * team K2: it was released as soon as the gateway stopped waiting (the client cancelled, the call timed
 * out). Red team L1: it was then released on a clock — the server's `timeoutMs` after the gateway gave up
 * — while servers (every one built on the MCP SDK) never answer a request they were told is cancelled and
 * may go on working: cancel-and-restart ran 6 operations at once on a server capped at 1. The slot is now
 * held until the server answers that request or the connection it was sent on closes (the child exits,
 * the server is restarted); a server that never answers keeps its cap shut (fail closed), which the
 * refusal says (`data.unanswered`). server-everything's long-running operation ignores cancellation;
 * asserted on its side: while the cancelled or timed-out operation may still run, no other call reached it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { dataDirWithKeys, openLegacySession, type LegacySession } from '../helpers/sessions.ts';

/** The recording wrapper in front of the server whose log is `log` (its command line names the log). */
function wrapperPid(log: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('recording-wrapper.ts')) && argv.includes(log)) return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  throw new Error(`no server process for ${log}`);
}

describe('security: a cancelled or timed-out call keeps its concurrency slot until the server answers it (red team K2, L1)', () => {
  let gw: TestGateway;
  const logs: Record<string, string> = {};
  let alice: Record<string, LegacySession>;
  // The gateway gives up after 1 s; the operations last 2 s. Before the fix the slot was free again 1 s
  // after the gateway gave up; the attack below keeps asking for 4 s, twice the operation's length.
  const TIMEOUT_MS = 1000;
  const ATTACK_MS = 4000;

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

  /** Cancel-and-restart for ATTACK_MS: every new call is refused, and says why. */
  async function attack(server: string): Promise<void> {
    const until = Date.now() + ATTACK_MS;
    for (let n = 0; Date.now() < until; n++) {
      const again = await slow(server, 2, `${server}-again-${n}`);
      assert.equal(again.error?.data?.code, 'PC_CONCURRENCY_LIMITED', `attempt ${n}: ${JSON.stringify(again)}`);
      assert.equal(again.error?.data?.unanswered, 1, 'the refusal says a call the server never answered holds the slot');
      await sleep(200);
    }
    assert.equal(calls(server, 'trigger-long-running-operation').length, 1, 'no second operation was ever started upstream');
  }

  /** The operator's way out: the server's process ends (a restart); its calls end with it and the cap opens. */
  async function restartFrees(server: string): Promise<void> {
    process.kill(wrapperPid(logs[server]!), 'SIGKILL');
    const afterwards = await waitFor(async () => {
      const r = await echo(server, 'after the restart');
      return r.error?.data?.code === 'PC_CONCURRENCY_LIMITED' || r.error?.data?.code === 'PC_UPSTREAM_CRASHED' || r.error?.data?.code === 'PC_UPSTREAM_UNAVAILABLE' ? undefined : r;
    }, 20_000, 'the slot to be released by the restart');
    assert.equal(afterwards.error, undefined, JSON.stringify(afterwards));
    assert.equal(calls(server, 'echo').length, 1, 'the echo reached the restarted server');
  }

  it('client cancels: the slot stays taken past any grace period, until the server is restarted', async () => {
    const first = slow('cancelled', 2, 'slow-1');
    await waitFor(() => calls('cancelled', 'trigger-long-running-operation').length === 1 || undefined, 10_000, 'the slow call upstream');
    await alice.cancelled!.notify('notifications/cancelled', { requestId: 'slow-1', reason: 'restart' });
    assert.equal((await first).error?.data?.code, 'PC_REQUEST_CANCELLED', 'the client is told the call was cancelled');
    const during = await echo('cancelled', 'while the cancelled call may run');
    assert.equal(during.error?.data?.code, 'PC_CONCURRENCY_LIMITED', JSON.stringify(during));
    await attack('cancelled');
    assert.deepEqual(calls('cancelled', 'echo'), [], 'the echo never reached the server');
    await restartFrees('cancelled');
  });

  it('the gateway times out: the slot stays taken past the server timeout, until the server is restarted', async () => {
    const first = await slow('hasty', 2, 'slow-timeout');
    assert.equal(first.error?.data?.code, 'PC_UPSTREAM_TIMEOUT', JSON.stringify(first));
    await attack('hasty');
    await restartFrees('hasty');
  });
});
