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
import { addressUnit, MAX_ADDRESSES } from '../../src/monitor/detectors.ts';
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

function rig(config: Record<string, any> = {}, dir = mkdtempSync(join(tmpdir(), 'pc-mon-')), clock = { ms: T0 }): Rig {
  // Off-hours is tested on its own; elsewhere the fake clock's hours would trip it.
  const detectors = { offHours: { enabled: false }, ...(config.detectors as object | undefined) };
  const { allDetectors, ...rest } = config;
  const parsed = monitorSchema.parse({ sinks: [], ...rest, detectors: allDetectors ? config.detectors : detectors });
  const kill = new KillSwitchStore(join(dir, 'killswitch.json'), { key: { kind: 'file', path: join(dir, 'pins.key') }, now: () => clock.ms });
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

  it('a steady workload of several agents and tools (10,000 calls over working days) raises no alert after learning', () => {
    const r = rig({ learningPeriod: '1d', allDetectors: true, detectors: { offHours: { timeZone: 'UTC' } } });
    const agents = ['a1', 'a2', 'a3', 'a4'];
    const tools = ['read', 'list', 'search'];
    // 09:00-17:00 every day, each agent 0-3 calls a minute (mostly reads of a few dozen distinct files).
    let n = 0;
    for (let day = 0; n < 10_000; day++) {
      for (let minute = 0; minute < 8 * 60 && n < 10_000; minute++) {
        r.clock.ms = T0 + day * DAY + minute * 60_000;
        for (const [i, agent] of agents.entries()) {
          const calls = (minute * 7 + i * 3 + day) % 4;
          for (let c = 0; c < calls && n < 10_000; c++, n++) r.call({ principal: { subject: 'u', agent }, target: tools[(c + i + minute) % 3], argsHash: `h${(c * 13 + minute) % 40}` });
        }
      }
    }
    assert.ok(r.clock.ms > T0 + 2 * DAY, 'the workload runs past the learning period');
    assert.equal(r.alerts.length, 0);

    // Then scripted misbehaviour, each raised by the record that crosses the line (synchronously:
    // before that call's answer leaves the gateway).
    const day = T0 + 5 * DAY;
    const expect = (kind: string) => assert.ok(r.alerts.some((a) => a.kind === kind), kind);
    r.clock.ms = day + 60 * 60_000; // 10:00, a usual hour
    for (let c = 0; c < 80; c++) r.call({ principal: { subject: 'u', agent: 'a1' }, target: 'read', argsHash: `h${c % 40}` });
    expect('volume');
    for (let c = 0; c < 20; c++) r.call({ principal: { subject: 'u', agent: 'a2' }, target: 'delete', decision: 'denied', code: 'PC_POLICY_DENIED' });
    expect('denials');
    r.clock.ms = day - 6 * 3_600_000; // 03:00, never worked
    r.call({ principal: { subject: 'u', agent: 'a3' }, target: 'read' });
    expect('off-hours');
    r.clock.ms = day + 2 * 3_600_000;
    r.call({ principal: { subject: 'u', agent: 'a4' }, session: 'x', target: 'read', labels: ['private'] });
    r.call({ principal: { subject: 'u', agent: 'a4' }, session: 'x', target: 'search', labels: ['egress'] });
    expect('toxic-flow');
    assert.deepEqual(kinds(r.alerts), ['volume', 'tool-volume', 'denials', 'off-hours', 'toxic-flow']);
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

  it('a slow ramp without an absolute ceiling is not caught (the documented gap); one spike does not raise the bar', () => {
    const r = rig({ learningPeriod: '1s', detectors: { volume: { min: '10/m', factor: 3, halfLife: '5m', warmup: 5, perTool: false }, firstUse: { enabled: false } } });
    let m = 0;
    const at = (minute: number, calls: number) => {
      r.clock.ms = T0 + minute * 60_000;
      for (let c = 0; c < calls; c++) r.call();
    };
    for (; m < 10; m++) at(m, 10);
    let rate = 10;
    for (; m < 40; m++) at(m, (rate = Math.ceil(rate * 1.1)));
    assert.ok(rate > 170, `reached ${rate}/min`);
    assert.equal(r.alerts.length, 0);
    // A single spike is caught, and it enters the baseline clipped: the same spike a minute later is caught again (after the cooldown).
    const spike = rig({ learningPeriod: '1s', cooldown: '1m', detectors: { volume: { min: '10/m', factor: 3, halfLife: '5m', warmup: 5, perTool: false }, firstUse: { enabled: false } } });
    for (let i = 0; i < 10; i++) {
      spike.clock.ms = T0 + i * 60_000;
      for (let c = 0; c < 10; c++) spike.call();
    }
    for (let i = 10; i < 12; i++) {
      spike.clock.ms = T0 + i * 60_000;
      for (let c = 0; c < 200; c++) spike.call();
    }
    assert.deepEqual(kinds(spike.alerts), ['volume', 'volume']);
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
    const stop = r.kill.stops('files', 'read', { agent: 'ag*' });
    assert.ok(stop && stop.reason.includes(alert.id));
    // The name is matched exactly: an agent named with glob characters stops only itself.
    assert.equal(r.kill.stops('files', 'read', { agent: 'agent-b' }), undefined);
    r.clock.ms += 10 * 60_000 + 1;
    assert.equal(r.kill.stops('files', 'read', { agent: 'ag*' }), undefined);
    assert.deepEqual(r.kill.list(), []);
  });

  it('kill-tool stops the tool the alert names; an alert without a tool says why nothing was stopped', () => {
    const r = rig({ detectors: { validation: { count: 2, action: 'kill-tool' }, unknownTargets: { count: 2, action: 'kill-tool' } } });
    r.call({ decision: 'denied', code: 'PC_ARGS_INVALID', target: 'write' });
    r.call({ decision: 'denied', code: 'PC_ARGS_INVALID', target: 'write' });
    assert.equal(r.alerts[0]!.response?.target, 'tool "files.write"');
    assert.ok(r.kill.stops('files', 'write', { agent: 'someone-else' }));
    assert.equal(r.kill.stops('files', 'read', { agent: 'bot' }), undefined);
    r.call({ decision: 'denied', code: 'PC_ROUTE_UNKNOWN_METHOD', method: 'x/y', target: undefined });
    r.call({ decision: 'denied', code: 'PC_ROUTE_UNKNOWN_METHOD', method: 'x/y', target: undefined });
    assert.match(r.alerts[1]!.response?.skipped ?? '', /no single tool/);
  });

  it('keeps what it learned across a restart (state file 0600), and survives a corrupt state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-mon-'));
    const clock = { ms: T0 };
    const a = rig({ learningPeriod: '1d' }, dir, clock);
    a.call({ target: 'read' });
    await a.monitor.close();
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

  it('off-hours: outside configured windows from the first call; learned hours after the learning period', () => {
    const windows = rig({ detectors: { offHours: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '08:00-18:00' }], timeZone: 'Europe/Paris' } } });
    windows.call(); // Monday 10:00 in Paris
    assert.equal(windows.alerts.length, 0);
    windows.clock.ms = Date.parse('2026-03-02T17:30:00Z'); // 18:30 in Paris
    windows.call();
    assert.deepEqual(kinds(windows.alerts), ['off-hours']);
    assert.match(windows.alerts[0]!.summary, /mon 18:30 Europe\/Paris/);

    const learned = rig({ learningPeriod: '2d', detectors: { offHours: {} } });
    for (let day = 0; day < 3; day++) {
      for (let h = 9; h < 17; h++) {
        learned.clock.ms = T0 + day * DAY + (h - 9) * 3_600_000;
        for (let c = 0; c < 5; c++) learned.call();
      }
    }
    assert.equal(learned.alerts.length, 0);
    learned.clock.ms = T0 + 3 * DAY + 17 * 3_600_000; // 02:00 UTC, never worked
    learned.call();
    assert.deepEqual(kinds(learned.alerts), ['off-hours']);
  });

  it('off-hours: a zone without offset (UTC, read without Intl) judges the clock as Intl does', () => {
    const windows = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '08:00-18:00' }];
    // Africa/Abidjan has been UTC+0 since 1912 and is read through Intl; UTC and Etc/UTC are not.
    const rigs = ['UTC', 'Etc/UTC', 'Africa/Abidjan'].map((timeZone) => rig({ detectors: { offHours: { windows, timeZone } } }));
    const times = ['2026-03-02T07:59:00Z', '2026-03-02T08:00:00Z', '2026-03-02T17:59:00Z', '2026-03-02T18:00:00Z', '2026-03-07T12:00:00Z', '2026-03-08T23:59:00Z', '2026-03-09T00:00:00Z'];
    for (const r of rigs) {
      for (const at of times) {
        r.clock.ms = Date.parse(at);
        r.call();
      }
    }
    const seen = rigs.map((r) => r.alerts.map((a) => a.summary.replace(/ (?:Etc\/UTC|UTC|Africa\/Abidjan)\b/, ' ZONE')));
    assert.equal(seen[0]!.length, 4, seen[0]!.join('\n'));
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[2], seen[0]);
  });

  it('scope elevation: a scope the principal never held, after the learning period', () => {
    const r = rig({ learningPeriod: '1h' });
    r.call({ scopes: ['mcp', 'files:read'] });
    r.clock.ms += 2 * 3_600_000;
    r.call({ scopes: ['mcp', 'files:read'] });
    assert.equal(r.alerts.length, 0);
    r.call({ scopes: ['mcp', 'files:read', 'files:write'] });
    assert.deepEqual(kinds(r.alerts), ['scope-elevation']);
    assert.match(r.alerts[0]!.summary, /files:write/);
  });

  it('supply chain and data-loss prevention findings raise their alerts', () => {
    const r = rig();
    r.call({ decision: 'denied', code: 'PC_SUPPLY_QUARANTINED', target: 'changed_tool' });
    r.call({ decision: 'denied', code: 'PC_DLP_EXFILTRATION', target: 'send', dlp: [{ type: 'secret', rule: 'github-pat', count: 1, path: 'args.body', action: 'block' }] });
    assert.deepEqual(kinds(r.alerts), ['supply-chain', 'dlp']);
    assert.equal(r.alerts[1]!.severity, 'high');
  });

  it('toxic flow: private then egress in one session or principal; untrusted alone is not enough; other principals are apart', () => {
    const r = rig();
    r.call({ session: 's1', target: 'fetch', labels: ['untrusted', 'egress'] });
    assert.equal(r.alerts.length, 0, 'egress without private data read is not a toxic flow');
    r.call({ session: 's1', target: 'read_mail', labels: ['private'] });
    r.call({ session: 's2', principal: { subject: 'bob', agent: 'bot' }, target: 'post', labels: ['egress'] });
    assert.equal(r.alerts.length, 0, 'another principal read nothing private');
    r.call({ session: 's1', target: 'post', labels: ['egress'] });
    assert.deepEqual(kinds(r.alerts), ['toxic-flow']);
    // A fresh session of the same principal does not leave the private read behind.
    r.call({ session: 's3', target: 'upload', labels: ['egress'] });
    assert.deepEqual(kinds(r.alerts), ['toxic-flow', 'toxic-flow']);
    assert.equal(r.alerts[0]!.severity, 'critical', 'private + untrusted + egress: the trifecta');
    assert.deepEqual(r.alerts[0]!.evidence.seqs, [1, 2, 4]);
    // Without a session (modern era) the principal carries the labels for the window only.
    const m = rig({ detectors: { toxicFlow: { window: '10m' } } });
    m.call({ target: 'read_mail', labels: ['private'] });
    m.clock.ms += 11 * 60_000;
    m.call({ target: 'post', labels: ['egress'] });
    assert.equal(m.alerts.length, 0);
    m.call({ target: 'read_mail', labels: ['private'] });
    m.call({ target: 'post', labels: ['egress'] });
    assert.deepEqual(kinds(m.alerts), ['toxic-flow']);
    assert.equal(m.alerts[0]!.severity, 'high');
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

describe('monitor options (fake clock)', () => {
  it('each detector reports the severity configured for it, and a disabled one reports nothing', () => {
    const r = rig({
      learningPeriod: '1s',
      detectors: {
        firstUse: { severity: 'low' },
        denials: { severity: 'high', count: 1 },
        validation: { severity: 'low', count: 1 },
        unknownTargets: { severity: 'low', count: 1 },
        distinctResources: { severity: 'low', count: 2 },
        dlp: { severity: 'low' },
        toxicFlow: { severity: 'low' },
        supplyChain: { enabled: false, action: 'alert', for: '1m', severity: 'low' },
      },
    });
    r.clock.ms += 2000;
    r.call({ target: 'read', argsHash: 'a' });
    r.call({ target: 'read', argsHash: 'b' });
    r.call({ decision: 'denied', code: 'PC_POLICY_DENIED' });
    r.call({ decision: 'denied', code: 'PC_ARGS_INVALID' });
    r.call({ decision: 'denied', code: 'PC_ROUTE_UNKNOWN_TOOL', target: 'nope' });
    r.call({ decision: 'denied', code: 'PC_DLP_EXFILTRATION', dlp: [{ type: 'secret', rule: 'r', count: 1, path: 'a', action: 'block' }] });
    r.call({ decision: 'denied', code: 'PC_SUPPLY_QUARANTINED', target: 'pulled' });
    r.call({ session: 's', target: 'mail', labels: ['private'] });
    r.call({ session: 's', target: 'post', labels: ['egress'] });
    const severity = Object.fromEntries(r.alerts.map((a) => [a.kind, a.severity]));
    assert.deepEqual(severity, { 'first-use-server': 'low', 'first-use-tool': 'low', 'distinct-resources': 'low', denials: 'high', validation: 'low', 'unknown-targets': 'low', dlp: 'low', 'toxic-flow': 'low' });
  });

  it('credential refusals are counted per client address (IPv6 per /64), each alert names its address, and the addresses kept are bounded', () => {
    const r = rig({ learningPeriod: '1s', detectors: { authFailures: { count: 3, window: '1m' } } });
    const refused = (address: string | undefined, code = 'PC_AUTH_INVALID_TOKEN') => r.call({ principal: { subject: 'anonymous', agent: 'unknown' }, method: '(authentication)', server: undefined, target: undefined, decision: 'denied', code, ...(address ? { address } : {}) });
    // Two from each of four IPv4 addresses: below the bar for each, though 8 in all.
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '::ffff:10.0.0.4']) {
      refused(a);
      refused(a);
    }
    assert.equal(r.alerts.length, 0);
    refused('10.0.0.4'); // the third from 10.0.0.4 (the first two came IPv4-mapped)
    assert.deepEqual(r.alerts.map((a) => [a.kind, a.address]), [['auth-failures', '10.0.0.4']]);
    assert.match(r.alerts[0]!.summary, /from 10\.0\.0\.4/);
    // Rotating through one IPv6 /64 is one address; another /64 is counted apart.
    refused('2001:db8:1:2::1');
    refused('2001:db8:1:2:ffff::7', 'PC_AUTH_AMBIGUOUS_CREDENTIALS');
    refused('2001:db8:9:2::1');
    refused('2001:0db8:0001:0002:0000:0000:0000:0003');
    assert.deepEqual(r.alerts.map((a) => a.address), ['10.0.0.4', '2001:db8:1:2::/64']);
    // Without an address (a front that records none), refusals are counted for the principal as before.
    for (let i = 0; i < 3; i++) refused(undefined);
    assert.equal(r.alerts.length, 3);
    assert.equal(r.alerts[2]!.address, undefined);
    // The same address alerts again only after the cooldown; another address is not held back by it.
    for (let i = 0; i < 3; i++) refused('10.0.0.4');
    for (let i = 0; i < 3; i++) refused('10.0.0.5');
    assert.deepEqual(r.alerts.map((a) => a.address), ['10.0.0.4', '2001:db8:1:2::/64', undefined, '10.0.0.5']);
    // A flood over many addresses keeps at most MAX_ADDRESSES windows: the oldest are forgotten
    // (10.0.0.9's two refusals before the flood no longer count towards its third).
    refused('10.0.0.9');
    refused('10.0.0.9');
    for (let i = 0; i < MAX_ADDRESSES; i++) refused(`172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
    refused('10.0.0.9');
    assert.equal(r.alerts.length, 4);
    assert.equal(addressUnit('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressUnit('::1'), '0:0:0:0::/64');
    assert.equal(addressUnit('192.0.2.1'), '192.0.2.1');
  });

  it('step-up and credential bursts count within their own window; scope elevation can contain for its own time', () => {
    const r = rig({
      learningPeriod: '1s',
      detectors: {
        stepUp: { count: 2, window: '10s', for: '1m', severity: 'critical' },
        authFailures: { count: 2, window: '10s', for: '1m', severity: 'low' },
        scopeElevation: { enabled: true, action: 'kill-agent', for: '5m', severity: 'medium' },
      },
    });
    r.clock.ms += 2000;
    r.call({ decision: 'denied', code: 'PC_AUTH_INSUFFICIENT_SCOPE' });
    r.clock.ms += 20_000;
    r.call({ decision: 'denied', code: 'PC_AUTH_INSUFFICIENT_SCOPE' });
    assert.equal(r.alerts.length, 0, '20 s apart is not within 10 s');
    r.clock.ms += 5_000;
    r.call({ decision: 'denied', code: 'PC_AUTH_INSUFFICIENT_SCOPE' });
    assert.deepEqual(r.alerts.map((a) => [a.kind, a.severity]), [['step-up', 'critical']]);
    const anonymous = { principal: { subject: 'anonymous', agent: 'unknown' }, method: '(authentication)', server: undefined, target: undefined, decision: 'denied', code: 'PC_AUTH_INVALID_TOKEN' } as const;
    r.call(anonymous);
    r.call(anonymous);
    assert.deepEqual(r.alerts.at(-1)?.kind, 'auth-failures');
    assert.equal(r.alerts.at(-1)?.severity, 'low');
    r.call({ scopes: ['mcp'] });
    r.clock.ms += 1000;
    r.call({ scopes: ['mcp', 'admin'] });
    const elevated = r.alerts.at(-1)!;
    assert.equal(elevated.kind, 'scope-elevation');
    assert.equal(elevated.severity, 'medium');
    assert.equal(elevated.response?.until, new Date(r.clock.ms + 5 * 60_000).toISOString());
    assert.ok(r.kill.stops('files', 'read', { agent: 'bot' }));
  });

  it('deviations: a bar of mean + 2σ catches a minute that mean + 4σ lets through', () => {
    const run = (deviations: number) => {
      const r = rig({ learningPeriod: '1s', detectors: { volume: { min: '12/m', factor: 1.5, deviations, halfLife: '10m', warmup: 30, perTool: false, severity: 'critical' }, firstUse: { enabled: false } } });
      for (let m = 0; m < 60; m++) {
        r.clock.ms = T0 + m * 60_000;
        for (let c = 0; c < (m % 2 === 0 ? 5 : 15); c++) r.call();
      }
      r.clock.ms = T0 + 60 * 60_000;
      for (let c = 0; c < 25; c++) r.call();
      return r.alerts;
    };
    const strict = run(2);
    assert.deepEqual(strict.map((a) => [a.kind, a.severity]), [['volume', 'critical']]);
    assert.equal(run(4).length, 0);
  });

  it('minShare: an hour holding less than the configured share of calls is off-hours', () => {
    const r = rig({ learningPeriod: '1d', detectors: { offHours: { minShare: 0.2, severity: 'high' } } });
    for (let c = 0; c < 90; c++) r.call(); // 09:00
    r.clock.ms = T0 + 3_600_000; // 10:00
    for (let c = 0; c < 10; c++) r.call();
    r.clock.ms = T0 + 2 * DAY + 3_600_000; // 10:00, after learning: 10 % of the calls, under 20 %
    r.call();
    assert.deepEqual(r.alerts.map((a) => [a.kind, a.severity]), [['off-hours', 'high']]);
  });
});

