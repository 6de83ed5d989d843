/**
 * Issue 17 "An alert … is an audit record": an alert the monitor raises is also a record of the
 * tamper-evident trail (`decision: alert`, in the same hash chain as the records it is about), written
 * before the call that raised it is answered. It names the kind, severity, the evidence seqs, the
 * principal and server/tool, never an argument value; `audit query --decision alert` shows it, `audit
 * verify` still passes, editing it is detected, and the monitor never judges its own alert records
 * (no alert about alerts). alerts.jsonl and `alerts ack` keep working.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, recordedServer } from '../helpers/security.ts';

const CANARY = 'CANARY-argument-value-7f3e';
const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('monitor: every alert is a record of the audit trail', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.close();
  });

  it('a burst of denials leaves a chained alert record naming its evidence, queryable and verifiable', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'pc-mon-trail-')), 'received.jsonl');
    const gw = await startGateway({
      servers: { gov: recordedServer(log) },
      policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] },
      // Every detector that could judge an alert record is on with the lowest bar it accepts.
      monitor: { learningPeriod: '1d', detectors: { denials: { count: 3, window: '1m', action: 'kill-agent', for: '15m' }, unknownTargets: { count: 2 }, validation: { count: 2 } }, sinks: [] },
    });
    gateways.push(gw);
    const dataDir = gw.gateway.config.dataDir!;
    const attacker = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'mallory');
    for (let i = 0; i < 3; i++) assert.equal(codeOf(await attacker.send(call(i + 1, 'delete_record', { id: `${CANARY}-${i}` }))), 'PC_POLICY_DENIED');

    // In the trail as soon as the call that crossed the line is answered (no waiting).
    const records = auditRecords(gw);
    const alerts = records.filter((r) => r.decision === 'alert');
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    const record = alerts[0]!;
    const denied = records.filter((r) => r.code === 'PC_POLICY_DENIED');
    assert.equal(denied.length, 3);
    assert.equal(record.code, 'denials');
    assert.equal(record.alert?.kind, 'denials');
    assert.equal(record.alert?.severity, 'medium');
    assert.deepEqual(record.alert?.evidence.seqs, denied.map((r) => r.seq));
    assert.equal(record.alert?.evidence.instance, record.instance);
    assert.equal(record.principal.agent, 'mallory');
    assert.equal(record.server, 'gov');
    assert.equal(record.target, 'delete_record');
    assert.equal(record.alert?.response?.action, 'kill-agent');
    assert.equal(record.alert?.response?.target, 'agent "mallory" of local callers');
    // Chained right after the record that made it fire, sharing its correlation id.
    const cause = denied[2]!;
    assert.equal(record.seq, cause.seq + 1);
    assert.equal(record.prevHash, cause.hash);
    assert.equal(record.correlationId, cause.correlationId);
    assert.ok(!JSON.stringify(record).includes(CANARY), 'no argument value in the alert record');
    assert.equal(record.args, undefined);
    assert.equal(record.argsHash, undefined);

    // The same alert in alerts.jsonl; acknowledging it still works.
    const [line] = gw.gateway.monitor!.alerts.list();
    assert.equal(line?.alert.id, record.alert?.id);
    assert.equal((await runCli(['alerts', 'ack', line!.alert.id, '--by', 'oncall', '--data-dir', dataDir])).code, 0);
    assert.equal(gw.gateway.monitor!.alerts.list()[0]?.acked?.by, 'oncall');

    // The killed agent's next calls: refused, recorded, nothing reaches the server; still only one
    // alert record (the monitor did not judge its own alert, nor the refusals into an alert about it).
    for (let i = 0; i < 3; i++) assert.equal(codeOf(await attacker.send(call(10 + i, 'echo', { text: CANARY }))), 'PC_KILL_SWITCH');
    assert.deepEqual(forwarded(log).filter((m) => m.method === 'tools/call'), []);
    assert.equal(auditRecords(gw).filter((r) => r.decision === 'alert').length, 1);
    assert.deepEqual(gw.gateway.monitor!.alerts.list().map((l) => l.alert.kind), ['denials']);

    const config = join(dataDir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\nservers: {}\n`);
    const query = await runCli(['audit', 'query', '-c', config, '--decision', 'alert', '--json']);
    assert.equal(query.code, 0, query.stderr);
    const queried = query.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; decision: string; alert?: { id: string } });
    assert.deepEqual(queried.map((r) => [r.seq, r.decision, r.alert?.id]), [[record.seq, 'alert', record.alert?.id]]);
    const text = await runCli(['audit', 'query', '-c', config, '--decision', 'alert']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /alert\s+mallory\s+\(alert\) gov delete_record\s+\[denials\]/);
    const verified = await runCli(['audit', 'verify', '-c', config]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    // Tampering with the alert (lowering its severity) is detected like any other edit.
    await gw.close();
    gateways.pop();
    const db = new DatabaseSync(join(dataDir, 'audit.db'));
    try {
      const edited = { ...record, alert: { ...record.alert!, severity: 'low' } };
      db.prepare('UPDATE audit_records SET record = ? WHERE seq = ? AND instance = ?').run(JSON.stringify(edited), record.seq, record.instance);
    } finally {
      db.close();
    }
    const broken = await runCli(['audit', 'verify', '-c', config]);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stdout + broken.stderr, new RegExp(`\\b${record.seq}\\b`));
  });
});
