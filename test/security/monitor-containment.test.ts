/**
 * The monitor against an attacker, through the real gateway, a real recorded stdio server and both
 * protocol eras: a burst of probing (denied calls) raises a signed webhook alert and a kill switch on
 * the agent, and from the next message on nothing of that agent reaches the server — while another
 * agent carries on; `unkill` lifts it. A volume spike contained with kill-tool stops that tool for
 * everyone and nothing else.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { runCli, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, modernSession, recordedServer } from '../helpers/security.ts';
import { startReceiver, verifySignature } from '../monitor/webhook-receiver.ts';

const KEY = 'monitor-test-webhook-key-0123456789abcdef';
const secrets = processSecretSource({ ...process.env, PC_TEST_HOOK_KEY: KEY });
const ECHO_ONLY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };
const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('monitor: detection and containment through the gateway', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function setup(detectors: Record<string, unknown>): Promise<{ gw: TestGateway; log: string; receiver: Awaited<ReturnType<typeof startReceiver>> }> {
    const receiver = await startReceiver(KEY);
    closers.push(() => receiver.close());
    const log = join(mkdtempSync(join(tmpdir(), 'pc-mon-rec-')), 'received.jsonl');
    const gw = await startGateway(
      {
        servers: { gov: recordedServer(log) },
        policy: ECHO_ONLY,
        monitor: { learningPeriod: '1d', detectors, sinks: [{ type: 'webhook', url: receiver.url, secret: 'env:PC_TEST_HOOK_KEY' }, { type: 'otlp', url: receiver.url.replace('/hook', '/otel'), headers: { 'x-tenant': 'env:PC_TEST_HOOK_KEY' } }, { type: 'log' }] },
      },
      secrets,
    );
    closers.push(() => gw.close());
    return { gw, log, receiver };
  }

  it('probing (a burst of denied calls) kills the agent: its next calls never reach the server, in either era', async () => {
    const { gw, log, receiver } = await setup({ denials: { count: 5, window: '1m', action: 'kill-agent', for: '15m' } });
    const attacker = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'mallory');
    const bystander = await legacySession(`${gw.url}/mcp/gov`, '2025-06-18', 'alice-bot');
    for (let i = 0; i < 5; i++) assert.equal(codeOf(await attacker.send(call(i + 1, 'delete_record', { id: `r${i}` }))), 'PC_POLICY_DENIED');
    // The very next call — a permitted tool — is stopped, and so is the same agent name in the modern era.
    assert.equal(codeOf(await attacker.send(call(10, 'echo', { text: 'after the kill' }))), 'PC_KILL_SWITCH');
    const modern = await modernSession(`${gw.url}/mcp`).send({ ...call(11, 'gov__echo', { text: 'modern' }), params: { name: 'gov__echo', arguments: { text: 'modern' }, _meta: { 'io.modelcontextprotocol/clientInfo': { name: 'mallory', version: '1' } } } });
    assert.equal(codeOf(modern), 'PC_KILL_SWITCH');
    // Another agent is not touched.
    const ok = await bystander.send(call(12, 'echo', { text: 'bystander' }));
    assert.equal(codeOf(ok), undefined);
    // On the server's side: the bystander's call only.
    const calls = forwarded(log).filter((m) => m.method === 'tools/call');
    assert.deepEqual(calls.map((m) => (m.params?.arguments as { text?: string }).text), ['bystander']);
    // In the audit trail: the refusals of the contained agent.
    const killed = auditRecords(gw).filter((r) => r.code === 'PC_KILL_SWITCH');
    assert.equal(killed.length, 2);
    assert.ok(killed.every((r) => r.principal.agent === 'mallory'));
    // The alert: stored, signed on the webhook, naming the evidence and the containment.
    const [line] = gw.gateway.monitor!.alerts.list();
    assert.equal(line?.alert.kind, 'denials');
    assert.equal(line.alert.principal.agent, 'mallory');
    assert.equal(line.alert.response?.target, 'agent "mallory" of local callers');
    const denied = auditRecords(gw).filter((r) => r.code === 'PC_POLICY_DENIED').map((r) => r.seq);
    assert.deepEqual(line.alert.evidence.seqs, denied);
    const delivery = await waitFor(() => receiver.deliveries.find((d) => d.body.id !== undefined), 10_000, 'the webhook delivery');
    assert.equal(delivery.verified, true);
    // The OTLP copy: one log record, the alert as its body, kind and agent as attributes.
    const otlp = await waitFor(() => receiver.deliveries.find((d) => d.body.resourceLogs !== undefined), 10_000, 'the OTLP delivery');
    assert.equal(otlp.path, '/otel/v1/logs');
    assert.equal(otlp.headers['x-tenant'], KEY);
    const logRecord = otlp.body.resourceLogs[0].scopeLogs[0].logRecords[0];
    assert.equal(JSON.parse(logRecord.body.stringValue).id, line.alert.id);
    const attrs = Object.fromEntries(logRecord.attributes.map((a: { key: string; value: { stringValue: string } }) => [a.key, a.value.stringValue]));
    assert.equal(attrs['portcullis.alert.kind'], 'denials');
    assert.equal(attrs['portcullis.agent'], 'mallory');
    assert.equal(delivery.body.id, line.alert.id);
    assert.equal(verifySignature('another-key-of-the-same-length-000000000', delivery.raw, delivery.signature), false);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^portcullis_monitor_alerts_total\{kind="denials"\} 1$/m);
    // The kill switch names the alert; `unkill` lifts it and the agent works again.
    assert.ok(gw.gateway.kill.list().some((s) => s.reason.includes(line.alert.id) && s.by === 'portcullis-monitor' && s.until !== undefined));
    const dataDir = gw.gateway.config.dataDir!;
    const unkill = await runCli(['unkill', '--agent', 'mallory', '--data-dir', dataDir]);
    assert.equal(unkill.code, 0, unkill.stderr);
    assert.equal(codeOf(await attacker.send(call(13, 'echo', { text: 'lifted' }))), undefined);
    // The alert is listed and can be acknowledged from the CLI.
    const listed = await runCli(['alerts', 'list', '--json', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(JSON.parse(listed.stdout.trim().split('\n')[0]!).id, line.alert.id);
    assert.equal((await runCli(['alerts', 'ack', line.alert.id, '--by', 'oncall', '--data-dir', dataDir])).code, 0);
    assert.equal((await runCli(['alerts', 'ack', 'al_doesnotexist', '--data-dir', dataDir])).code, 1);
    const open = await runCli(['alerts', 'list', '--open', '--json', '--data-dir', dataDir]);
    assert.equal(open.stdout, '');
  });

  it('a volume spike on one tool with kill-tool stops that tool for every agent, and nothing else', async () => {
    const { gw, log, receiver } = await setup({ volume: { min: '10/m', factor: 2, warmup: 1, perTool: true, action: 'kill-tool', for: '5m' }, denials: { enabled: false } });
    const agent = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'spiky');
    let stoppedAt = -1;
    for (let i = 0; i < 40 && stoppedAt < 0; i++) {
      const answer = await agent.send(call(i + 1, 'echo', { text: `n${i}` }));
      if (codeOf(answer) === 'PC_KILL_SWITCH') stoppedAt = i;
    }
    // Without a baseline the bar is min × factor = 20 calls a minute: the 21st call raises the alert and the 22nd is stopped.
    assert.equal(stoppedAt, 21);
    const received = forwarded(log).filter((m) => m.method === 'tools/call');
    assert.equal(received.length, 21);
    const other = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'other');
    assert.equal(codeOf(await other.send(call(100, 'echo', { text: 'x' }))), 'PC_KILL_SWITCH');
    assert.equal(codeOf(await other.send(call(101, 'delete_record', { id: 'x' }))), 'PC_POLICY_DENIED', 'other tools are still judged by the policy, not stopped');
    assert.equal(forwarded(log).filter((m) => m.method === 'tools/call').length, 21);
    const kinds = gw.gateway.monitor!.alerts.list().map((l) => l.alert.kind);
    assert.ok(kinds.includes('tool-volume'), kinds.join());
    await waitFor(() => receiver.deliveries.length >= 1 || undefined, 10_000, 'the webhook delivery');
  });
});
