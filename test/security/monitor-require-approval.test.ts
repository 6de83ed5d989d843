/**
 * The monitor's `require-approval` response (docs/monitor.md) against an attacker, through the real
 * gateway and a real recorded stdio server: once probing (a burst of denied calls) fires the detector,
 * every later call of that agent — even one the policy allows — waits for a human's out-of-band
 * approval and reaches the server only after `portcullis approvals grant`, once; a denied tool stays
 * denied; another agent is untouched; the hold survives a restart; when `for` runs out, calls run again
 * without approval.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, modernSession, recordedServer } from '../helpers/security.ts';

const ECHO_ONLY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };
const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const texts = (log: string): unknown[] => forwarded(log).filter((m) => m.method === 'tools/call').map((m) => (m.params?.arguments as { text?: string }).text);

describe('monitor: require-approval holds a suspicious agent for a human', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('after the detector fires, the agent\'s calls run only once granted; others carry on; the hold survives a restart and lifts after `for`', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'pc-mon-hold-')), 'received.jsonl');
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-mon-hold-data-'));
    let offset = 0;
    const clock = { now: () => new Date(Date.now() + offset) };
    const document = {
      dataDir,
      servers: { gov: recordedServer(log) },
      policy: ECHO_ONLY,
      approvals: { waitMs: 0 },
      monitor: { learningPeriod: '1d', detectors: { denials: { count: 3, window: '1m', action: 'require-approval', for: '10m' } }, sinks: [{ type: 'log' }] },
    };
    let gw: TestGateway = await startGateway(document, undefined, clock);
    closers.push(() => gw.close());
    const attacker = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'mallory');
    const bystander = await legacySession(`${gw.url}/mcp/gov`, '2025-06-18', 'alice-bot');
    assert.equal(codeOf(await attacker.send(call(1, 'echo', { text: 'before' }))), undefined, 'allowed before the detector fires');
    for (let i = 0; i < 3; i++) assert.equal(codeOf(await attacker.send(call(i + 2, 'delete_record', { id: `r${i}` }))), 'PC_POLICY_DENIED');

    // The very next allowed call waits for a human; nothing of it reaches the server — in either era.
    const held = await attacker.send(call(10, 'echo', { text: 'held' }));
    assert.equal(codeOf(held), 'PC_APPROVAL_PENDING');
    const id = (held.json as { error: { data: { approvalId: string } } }).error.data.approvalId;
    const modern = await modernSession(`${gw.url}/mcp`).send({ ...call(11, 'gov__echo'), params: { name: 'gov__echo', arguments: { text: 'modern' }, _meta: { 'io.modelcontextprotocol/clientInfo': { name: 'mallory', version: '1' } } } });
    assert.equal(codeOf(modern), 'PC_APPROVAL_PENDING');
    // A deny still denies (no approval is asked for it).
    assert.equal(codeOf(await attacker.send(call(12, 'delete_record', { id: 'x' }))), 'PC_POLICY_DENIED');
    // Another agent is not touched.
    assert.equal(codeOf(await bystander.send(call(13, 'echo', { text: 'bystander' }))), undefined);
    assert.deepEqual(texts(log), ['before', 'bystander']);

    // The alert names the response; the audit record of the held call names the hold.
    const [line] = gw.gateway.monitor!.alerts.list();
    assert.equal(line?.alert.response?.action, 'require-approval');
    assert.equal(line.alert.response?.target, 'agent "mallory" of local callers');
    const pending = auditRecords(gw).find((r) => r.code === 'PC_APPROVAL_PENDING' && r.principal.agent === 'mallory');
    assert.ok(pending && JSON.stringify(pending).includes('monitor:require-approval'), JSON.stringify(pending));
    assert.ok(JSON.stringify(pending).includes(line.alert.id), 'the refusal names the alert');

    // The agent cannot decide in band, and it cannot name itself as approver.
    const self = await runCli(['approvals', 'grant', id, '--by', 'mallory', '--data-dir', dataDir]);
    assert.equal(self.code, 1);
    assert.deepEqual(texts(log), ['before', 'bystander']);

    // A restart keeps the hold (it lives in killswitch.json, with its `until`).
    const file = JSON.parse(readFileSync(join(dataDir, 'killswitch.json'), 'utf8')) as { switches: Array<{ effect?: string; until?: string }> };
    assert.ok(file.switches.some((s) => s.effect === 'approve' && s.until !== undefined));
    await gw.close();
    gw = await startGateway(document, undefined, clock);
    const again = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'mallory');
    assert.equal(codeOf(await again.send(call(20, 'echo', { text: 'held' }))), 'PC_APPROVAL_PENDING', 'still held after the restart');

    // A human grants exactly that call: it runs once; the next needs its own approval.
    const grant = await runCli(['approvals', 'grant', id, '--by', 'security-officer', '--data-dir', dataDir]);
    assert.equal(grant.code, 0, grant.stderr);
    assert.deepEqual(texts(log), ['before', 'bystander'], 'a grant alone runs nothing');
    assert.equal(codeOf(await again.send(call(21, 'echo', { text: 'held' }))), undefined);
    assert.deepEqual(texts(log), ['before', 'bystander', 'held']);
    assert.equal(codeOf(await again.send(call(22, 'echo', { text: 'held' }))), 'PC_APPROVAL_PENDING', 'the grant was used once');
    assert.deepEqual(texts(log), ['before', 'bystander', 'held']);
    await waitFor(() => auditRecords(gw).some((r) => r.approval?.id === id && r.approval.event === 'used'), 5000, 'the used grant in the audit trail');

    // `for` runs out (the clock moves past `until`): calls run again without approval.
    offset = 11 * 60_000;
    assert.equal(codeOf(await again.send(call(23, 'echo', { text: 'after' }))), undefined);
    assert.deepEqual(texts(log), ['before', 'bystander', 'held', 'after']);
  });

  it('a hold never weakens a kill on the same agent, and `unkill --agent` lifts a hold', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'pc-mon-hold-')), 'received.jsonl');
    const gw = await startGateway({
      servers: { gov: recordedServer(log) },
      policy: ECHO_ONLY,
      approvals: { waitMs: 0 },
      monitor: { learningPeriod: '1d', detectors: { denials: { count: 2, window: '1m', action: 'require-approval', for: '10m' } }, sinks: [{ type: 'log' }] },
    });
    closers.push(() => gw.close());
    const dataDir = gw.gateway.config.dataDir!;
    const attacker = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'mallory');
    // An operator's kill on the agent, then the monitor's hold on the same agent: the kill stays.
    assert.equal((await runCli(['kill', '--agent', 'mallory', '--reason', 'incident', '--data-dir', dataDir])).code, 0);
    gw.gateway.kill.add({ agent: 'mallory', exact: true }, 'monitor hold', 'portcullis-monitor', new Date(Date.now() + 600_000).toISOString(), 'approve');
    assert.equal(codeOf(await attacker.send(call(1, 'echo', { text: 'x' }))), 'PC_KILL_SWITCH', 'the hold did not replace the kill');
    assert.deepEqual(gw.gateway.kill.list().map((s) => s.effect ?? 'stop'), ['stop']);
    assert.equal((await runCli(['unkill', '--agent', 'mallory', '--data-dir', dataDir])).code, 0);
    // The detector sets a hold; `status` shows it; `unkill --agent` lifts it.
    for (let i = 0; i < 2; i++) assert.equal(codeOf(await attacker.send(call(i + 2, 'delete_record', { id: `r${i}` }))), 'PC_POLICY_DENIED');
    assert.equal(codeOf(await attacker.send(call(6, 'echo', { text: 'held' }))), 'PC_APPROVAL_PENDING');
    const status = await runCli(['status', '--data-dir', dataDir]);
    assert.match(status.stdout, /APPROVAL {2}agent "mallory"/);
    assert.equal((await runCli(['unkill', '--agent', 'mallory', '--data-dir', dataDir])).code, 0);
    assert.equal(codeOf(await attacker.send(call(7, 'echo', { text: 'lifted' }))), undefined);
    assert.deepEqual(texts(log), ['lifted']);
  });
});
