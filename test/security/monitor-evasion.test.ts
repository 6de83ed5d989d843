/**
 * An attacker who knows the monitor is there, through the real gateway and a recorded server, on a
 * fake clock (the gateway's `now`): what it can and cannot evade (docs/monitor.md, "What is detected
 * and what is not").
 * - A slow ramp raises the baseline with it and passes the relative test; the absolute ceiling `max`
 *   still catches it, and the kill it triggers stops the next call on the server's side.
 * - Spreading a spike over several tools stays under each tool's baseline but not the agent's.
 * - What an agent does during the learning period becomes usual (not a first use later), but the
 *   burst detectors apply from the first minute.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { codeOf, forwarded, legacySession, recordedServer, type RawSession } from '../helpers/security.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const BOTH = { rules: [{ name: 'both', effect: 'allow', servers: ['gov'], tools: ['echo', 'delete_record'] }] };
let id = 0;
const call = (name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name, arguments: args } });

describe('monitor: an attacker trying to evade', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.close();
  });

  async function start(monitor: Record<string, unknown>, policy: Record<string, unknown> = BOTH): Promise<{ gw: TestGateway; log: string; clock: { ms: number } }> {
    const clock = { ms: T0 };
    const log = join(mkdtempSync(join(tmpdir(), 'pc-mon-ev-')), 'received.jsonl');
    const gw = await startGateway({ servers: { gov: recordedServer(log) }, policy, monitor: { sinks: [], ...monitor } }, undefined, { now: () => new Date(clock.ms) });
    gateways.push(gw);
    return { gw, log, clock };
  }
  const kinds = (gw: TestGateway) => gw.gateway.monitor!.alerts.list().map((l) => l.alert.kind);
  async function minute(session: RawSession, clock: { ms: number }, index: number, calls: number, tools = ['echo']): Promise<string[]> {
    clock.ms = T0 + index * 60_000;
    const codes: string[] = [];
    for (let c = 0; c < calls; c++) codes.push(codeOf(await session.send(call(tools[c % tools.length]!, { text: `m${index}c${c}`, id: `m${index}c${c}` }))) ?? 'ok');
    return codes;
  }

  it('a slow ramp passes the relative test but not the absolute ceiling, and the kill stops the next call', async () => {
    const { gw, log, clock } = await start({
      learningPeriod: '1s',
      detectors: { volume: { min: '10/m', factor: 3, halfLife: '5m', warmup: 5, max: '60/m', perTool: false, action: 'kill-agent', for: '1h' }, firstUse: { enabled: false }, offHours: { enabled: false }, distinctResources: { enabled: false } },
    });
    const attacker = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'ramp');
    let m = 0;
    for (; m < 10; m++) await minute(attacker, clock, m, 10);
    // +25 % a minute: each minute stays under 3 × a baseline that keeps following it.
    let rate = 10;
    let stopped: number | undefined;
    for (; m < 30 && stopped === undefined; m++) {
      rate = Math.ceil(rate * 1.25);
      const codes = await minute(attacker, clock, m, Math.min(rate, 62));
      const at = codes.indexOf('PC_KILL_SWITCH');
      if (at >= 0) stopped = rate;
      if (codes.includes('PC_KILL_SWITCH')) assert.equal(codes.slice(at).every((c) => c === 'PC_KILL_SWITCH'), true);
    }
    const alerts = gw.gateway.monitor!.alerts.list().map((l) => l.alert);
    assert.deepEqual(alerts.map((a) => a.kind), ['volume']);
    // Caught only by the ceiling: the relative bar had risen above 60 by then.
    assert.match(alerts[0]!.summary, /alert above 60\)/);
    assert.ok(stopped !== undefined && stopped > 60);
    // On the server's side: 61 calls of the last minute at most (the 61st raised the alert), none after.
    const lastMinute = forwarded(log).filter((x) => x.method === 'tools/call' && String((x.params?.arguments as { text: string }).text).startsWith(`m${m - 1}c`));
    assert.equal(lastMinute.length, 61);
  });

  it('a spike spread over two tools stays under each tool\'s baseline but not the agent\'s', async () => {
    const { gw, clock } = await start({
      learningPeriod: '1s',
      detectors: { volume: { min: '10/m', factor: 3, warmup: 5, perTool: true }, firstUse: { enabled: false }, offHours: { enabled: false }, distinctResources: { enabled: false } },
    });
    const agent = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'spread');
    let m = 0;
    // Usual: 10 a minute, all on echo.
    for (; m < 8; m++) await minute(agent, clock, m, 10, ['echo']);
    assert.deepEqual(kinds(gw), []);
    // 28 on echo (under 3 × its 10) and 28 on a tool with no baseline yet (under min × factor = 30):
    // no tool is abnormal, but 56 in all is over 3 × the agent's 10.
    await minute(agent, clock, m, 56, ['echo', 'delete_record']);
    assert.deepEqual(kinds(gw), ['volume']);
  });

  it('what is done during the learning period is usual afterwards, but probing is caught from the first minute', async () => {
    const { gw, clock } = await start(
      { learningPeriod: '1h', detectors: { denials: { count: 5 }, offHours: { enabled: false } } },
      { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] },
    );
    const early = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'early');
    await early.send(call('echo', { text: 'learned' }));
    for (let i = 0; i < 5; i++) assert.equal(codeOf(await early.send(call('delete_record', { id: String(i) }))), 'PC_POLICY_DENIED');
    assert.deepEqual(kinds(gw), ['denials'], 'a burst is caught while learning');
    clock.ms = T0 + 2 * 3_600_000;
    await early.send(call('echo', { text: 'after learning' }));
    assert.deepEqual(kinds(gw), ['denials'], 'a tool first used while learning is not a first use afterwards');
    const late = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'late');
    await late.send(call('echo', { text: 'new agent' }));
    assert.deepEqual(kinds(gw).sort(), ['denials', 'first-use-server', 'first-use-tool'], 'a new agent after the learning period is judged');
  });
});
