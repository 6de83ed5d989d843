/**
 * Redteam-b B2: the alert cooldown dedupes notifications, never containment. An agent is contained for
 * probing (a burst of denied calls); the operator lifts the kill early (`unkill`, the usual answer to a
 * suspected false positive) or the hold lapses; the agent repeats the very same probing within the
 * cooldown. It is contained again from the next message on — no second alert is written (the cooldown
 * still dedupes the notification) — and nothing of it reaches the server. Asserted on the server's side
 * (the recorded calls), in the kill switch store and the audit trail.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, recordedServer } from '../helpers/security.ts';

const ECHO_ONLY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };
const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('monitor: the cooldown never suppresses containment (redteam-b B2)', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function setup(action: 'kill-agent' | 'require-approval'): Promise<{ gw: TestGateway; log: string }> {
    const log = join(mkdtempSync(join(tmpdir(), 'pc-mon-cool-')), 'received.jsonl');
    const gw = await startGateway({
      servers: { gov: recordedServer(log) },
      policy: ECHO_ONLY,
      monitor: { learningPeriod: '1d', cooldown: '1h', detectors: { denials: { count: 3, window: '1m', action, for: '15m' } } },
      // A held call waits this long for a human before it is answered pending.
      approvals: { waitMs: 200 },
    });
    closers.push(() => gw.close());
    return { gw, log };
  }

  for (const action of ['kill-agent', 'require-approval'] as const) {
    it(`${action}: after an early unkill, the same probing within the cooldown contains the agent again`, async () => {
      const { gw, log } = await setup(action);
      const dataDir = gw.gateway.config.dataDir!;
      const attacker = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'mallory');
      let id = 1;
      for (let i = 0; i < 3; i++) assert.equal(codeOf(await attacker.send(call(id++, 'delete_record', { id: `a${i}` }))), 'PC_POLICY_DENIED');
      const stopped = action === 'kill-agent' ? 'PC_KILL_SWITCH' : 'PC_APPROVAL_PENDING';
      assert.equal(codeOf(await attacker.send(call(id++, 'echo', { text: 'contained 1' }))), stopped);
      const unkill = await runCli(['unkill', '--agent', 'mallory', '--data-dir', dataDir]);
      assert.equal(unkill.code, 0, unkill.stderr);
      gw.gateway.kill.refresh();
      assert.equal(gw.gateway.kill.list().length, 0, 'the operator lifted it');
      // The same behaviour again, well within the hour-long cooldown: the window still holds the earlier
      // refusals, so one more crosses the threshold again.
      assert.equal(codeOf(await attacker.send(call(id++, 'delete_record', { id: 'b0' }))), 'PC_POLICY_DENIED');
      assert.equal(codeOf(await attacker.send(call(id++, 'echo', { text: 'contained 2' }))), stopped, 'contained again from the next message on');
      const switches = gw.gateway.kill.list();
      assert.equal(switches.length, 1);
      assert.equal(switches[0]!.by, 'portcullis-monitor');
      // The agent of the issuer the alert judged (here the local callers, issuer '').
      assert.deepEqual(switches[0]!.target, { agent: 'mallory', exact: true, issuer: '' });
      // The notification is still deduplicated: one alert, the repeat counted on it.
      assert.deepEqual(gw.gateway.monitor!.alerts.list().map((l) => l.alert.kind), ['denials']);
      assert.ok(switches[0]!.reason.includes(gw.gateway.monitor!.alerts.list()[0]!.alert.id), 'the new switch names the alert it repeats');
      assert.deepEqual(forwarded(log).filter((m) => m.method === 'tools/call'), [], 'nothing of the contained agent reached the server');
      assert.equal(auditRecords(gw).filter((r) => r.code === stopped && r.principal.agent === 'mallory').length, 2);
    });
  }
});
