/**
 * The monitor's detectors on a synthetic decision stream with a fake clock: what each one raises, that
 * a steady workload raises nothing, that state survives a restart, and that containment writes a
 * kill switch that lifts itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { AuditRecord } from '../../src/audit/record.ts';
import { KillSwitchStore } from '../../src/killswitch/store.ts';
import { Monitor } from '../../src/monitor/monitor.ts';
import { monitorSchema } from '../../src/monitor/schema.ts';
import type { Alert } from '../../src/monitor/alert.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z'); // a Monday, 09:00 UTC
const DAY = 86_400_000;
const silent = pino({ level: 'silent' });

interface Rig {
  monitor: Monitor;
  clock: { ms: number };
  kill: KillSwitchStore;
  dir: string;
  alerts: Alert[];
  call(partial?: Partial<AuditRecord>): void;
}

function rig(config: Record<string, unknown> = {}, dir = mkdtempSync(join(tmpdir(), 'pc-mon-')), clock = { ms: T0 }): Rig {
  const parsed = monitorSchema.parse({ sinks: [], ...config });
  const kill = new KillSwitchStore(join(dir, 'killswitch.json'), () => clock.ms);
  const alerts: Alert[] = [];
  const sink = { name: 'test', dropped: 0, push: (a: Alert) => void alerts.push(a), close: async () => undefined };
  const monitor = new Monitor(parsed, { dataDir: dir, logger: silent, kill, sinks: [sink], now: () => new Date(clock.ms), saveEveryMs: 0 });
  let seq = 0;
  return {
    monitor,
    clock,
    kill,
    dir,
    alerts,
    call(partial = {}) {
      seq += 1;
      const record: AuditRecord = {
        v: 1,
        instance: 'test',
        seq,
        gatewayId: 'g',
        time: new Date(clock.ms).toISOString(),
        requestId: seq,
        correlationId: `c${seq}`,
        principal: { subject: 'alice', agent: 'bot' },
        endpoint: '/mcp',
        server: 'files',
        method: 'tools/call',
        target: 'read',
        argsHash: `h${seq % 5}`,
        scopes: [],
        decision: 'allowed',
        latencyMs: 1,
        prevHash: '',
        hash: '',
        ...partial,
      } as AuditRecord;
      monitor.push(record);
    },
  };
}

const kinds = (alerts: Alert[]) => alerts.map((a) => a.kind);

describe('monitor detectors (fake clock)', () => {
  it('learns first uses silently during the learning period, then alerts on a new tool and a new server', () => {
    const r = rig({ learningPeriod: '1d' });
    r.call({ target: 'read' });
    r.call({ server: 'mail', target: 'send' });
    assert.equal(r.alerts.length, 0);
    r.clock.ms += DAY + 1;
    r.call({ target: 'read' });
    assert.equal(r.alerts.length, 0);
    r.call({ target: 'delete' });
    assert.deepEqual(kinds(r.alerts), ['first-use-tool']);
    assert.equal(r.alerts[0]!.tool, 'delete');
    assert.deepEqual(r.alerts[0]!.evidence, { instance: 'test', seqs: [4] });
    r.call({ server: 'shell', target: 'exec' });
    assert.deepEqual(kinds(r.alerts), ['first-use-tool', 'first-use-server', 'first-use-tool']);
    // A refused call is not a use: nothing is learned from it (or alerted as first use).
    r.call({ target: 'wipe', decision: 'denied', code: 'PC_POLICY_DENIED' });
    assert.equal(r.alerts.length, 3);
  });

  it('a steady workload of several agents and tools raises nothing but first uses', () => {
    const r = rig({ learningPeriod: '1h' });
    const agents = ['a1', 'a2', 'a3', 'a4'];
    const tools = ['read', 'list', 'search'];
    // 10,000 calls over ~2 days: each agent ~10-20 calls a minute, 09:00-18:00.
    let n = 0;
    for (let minute = 0; n < 10_000; minute++) {
      r.clock.ms = T0 + minute * 60_000;
      for (const [i, agent] of agents.entries()) {
        const calls = 10 + ((minute * 7 + i * 3) % 11);
        for (let c = 0; c < calls && n < 10_000; c++, n++) r.call({ principal: { subject: 'u', agent }, target: tools[(c + i) % 3], argsHash: `h${(c * 13 + minute) % 40}` });
      }
    }
    assert.equal(r.alerts.length, 0);
  });

  it('alerts when an agent far exceeds its own baseline, not on its normal rate', () => {
    const r = rig({ learningPeriod: '1s', detectors: { volume: { min: '20/m', warmup: 10, perTool: false } } });
    for (let minute = 0; minute < 60; minute++) {
      r.clock.ms = T0 + minute * 60_000;
      for (let c = 0; c < 10; c++) r.call();
    }
    assert.equal(r.alerts.length, 0);
    r.clock.ms = T0 + 60 * 60_000;
    for (let c = 0; c < 60; c++) r.call();
    assert.deepEqual(kinds(r.alerts), ['volume']);
    assert.match(r.alerts[0]!.summary, /usual 10\.0\/min/);
  });

  it('a burst of denials, validation failures and unknown tools each raise their alert once per cooldown', () => {
    const r = rig({ detectors: { denials: { count: 5 }, validation: { count: 3 }, unknownTargets: { count: 3 } } });
    for (let i = 0; i < 12; i++) r.call({ decision: 'denied', code: 'PC_POLICY_DENIED' });
    for (let i = 0; i < 3; i++) r.call({ decision: 'denied', code: 'PC_ARGS_INVALID' });
    for (let i = 0; i < 3; i++) r.call({ decision: 'denied', code: 'PC_ROUTE_UNKNOWN_TOOL', target: `guess${i}` });
    assert.deepEqual(kinds(r.alerts).sort(), ['denials', 'unknown-targets', 'validation']);
    assert.equal(r.alerts.find((a) => a.kind === 'denials')!.evidence.seqs.length, 5);
  });

  it('a slow trickle of denials (below count per window) is not a burst', () => {
    const r = rig({ detectors: { denials: { count: 5, window: '1m' } } });
    for (let i = 0; i < 50; i++) {
      r.clock.ms += 20_000;
      r.call({ decision: 'denied', code: 'PC_POLICY_DENIED' });
    }
    assert.equal(r.alerts.length, 0);
  });

  it('many distinct resources read in a minute raise distinct-resources', () => {
    const r = rig({ detectors: { distinctResources: { count: 20 } } });
    for (let i = 0; i < 19; i++) r.call({ method: 'resources/read', target: `file:///data/${i}`, argsHash: undefined });
    assert.equal(r.alerts.length, 0);
    r.call({ method: 'resources/read', target: 'file:///data/19', argsHash: undefined });
    assert.deepEqual(kinds(r.alerts), ['distinct-resources']);
  });

  it('kill-agent sets an exact kill switch naming the alert, which lifts itself after `for`', () => {
    const r = rig({ detectors: { denials: { count: 3, action: 'kill-agent', for: '10m' } } });
    for (let i = 0; i < 3; i++) r.call({ principal: { subject: 'mallory', agent: 'ag*' }, decision: 'denied', code: 'PC_POLICY_DENIED' });
    const alert = r.alerts[0]!;
    assert.equal(alert.response?.action, 'kill-agent');
    assert.equal(alert.response?.skipped, undefined);
    const stop = r.kill.stops('files', 'read', 'ag*');
    assert.ok(stop && stop.reason.includes(alert.id));
    // The name is matched exactly: an agent named with glob characters stops only itself.
    assert.equal(r.kill.stops('files', 'read', 'agent-b'), undefined);
    r.clock.ms += 10 * 60_000 + 1;
    assert.equal(r.kill.stops('files', 'read', 'ag*'), undefined);
    assert.deepEqual(r.kill.list(), []);
  });

  it('kill-tool stops the tool the alert names; an alert without a tool says why nothing was stopped', () => {
    const r = rig({ detectors: { validation: { count: 2, action: 'kill-tool' }, unknownTargets: { count: 2, action: 'kill-tool' } } });
    r.call({ decision: 'denied', code: 'PC_ARGS_INVALID', target: 'write' });
    r.call({ decision: 'denied', code: 'PC_ARGS_INVALID', target: 'write' });
    assert.equal(r.alerts[0]!.response?.target, 'tool "files.write"');
    assert.ok(r.kill.stops('files', 'write', 'someone-else'));
    assert.equal(r.kill.stops('files', 'read', 'bot'), undefined);
    r.call({ decision: 'denied', code: 'PC_ROUTE_UNKNOWN_METHOD', method: 'x/y', target: undefined });
    r.call({ decision: 'denied', code: 'PC_ROUTE_UNKNOWN_METHOD', method: 'x/y', target: undefined });
    assert.match(r.alerts[1]!.response?.skipped ?? '', /no single tool/);
  });

  it('keeps what it learned across a restart (state file 0600), and survives a corrupt state file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-mon-'));
    const clock = { ms: T0 };
    const a = rig({ learningPeriod: '1d' }, dir, clock);
    a.call({ target: 'read' });
    void a.monitor.close();
    assert.equal(statSync(join(dir, 'monitor-state.json')).mode & 0o777, 0o600);
    clock.ms += 2 * DAY;
    const b = rig({ learningPeriod: '1d' }, dir, clock);
    b.call({ target: 'read' });
    assert.equal(b.alerts.length, 0, 'read was learned before the restart; the learning period did not restart');
    b.call({ target: 'write' });
    assert.deepEqual(kinds(b.alerts), ['first-use-tool']);
    writeFileSync(join(dir, 'monitor-state.json'), '{not json');
    const c = rig({ learningPeriod: '1d' }, dir, clock);
    assert.equal(c.monitor.state.size, 0);
    assert.ok(readFileSync(join(dir, 'monitor-state.json'), 'utf8').startsWith('{"v":1'));
  });

  it('tracks at most maxPrincipals principals', () => {
    const r = rig({ maxPrincipals: 10 });
    for (let i = 0; i < 50; i++) r.call({ principal: { subject: 's', agent: `a${i}` } });
    assert.equal(r.monitor.state.size, 10);
    assert.equal(r.monitor.state.evicted, 40);
  });

  it('acknowledges alerts in the alert file', () => {
    const r = rig({ detectors: { denials: { count: 1 } } });
    r.call({ decision: 'denied', code: 'PC_POLICY_DENIED' });
    const id = r.alerts[0]!.id;
    assert.equal(r.monitor.alerts.ack(id, 'oncall'), true);
    assert.equal(r.monitor.alerts.ack('al_nope', 'oncall'), false);
    const lines = r.monitor.alerts.list();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.acked?.by, 'oncall');
  });
});
