/**
 * Issue 17 "authentication failures per address": a refused credential at the HTTP front is recorded
 * with the client's address (the socket's remote address — never a header the client writes, such as
 * X-Forwarded-For), and a burst of them from one address raises `auth-failures` naming that address.
 * An attacker floods bad tokens from 127.0.0.2 (its socket bound there); a good client on 127.0.0.1,
 * which also mistypes its token a few times, is neither alerted on nor hindered, and its calls reach
 * the server. The alert is in the audit trail (decision `alert`) with the address.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import { startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, forwarded, recordedServer } from '../helpers/security.ts';
import { startReceiver } from '../monitor/webhook-receiver.ts';

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });

/** POSTs from a chosen local address (the client socket bound to it). */
function postFrom(localAddress: string, url: string, body: string, headers: Record<string, string>, method = 'POST'): Promise<{ status: number; sessionId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, localAddress, agent: false, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sessionId: res.headers['mcp-session-id'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('monitor: authentication failures per address', () => {
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.close();
  });

  it('a flood of bad tokens from 127.0.0.2 raises an alert naming it; a client on 127.0.0.1 is unaffected', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'pc-mon-addr-')), 'received.jsonl');
    const collector = await startReceiver('unused-key');
    after(() => collector.close());
    const gw = await startGateway({
      audit: { sinks: [{ type: 'otlp', url: collector.url.replace('/hook', '') }] },
      servers: { gov: recordedServer(log) },
      identity: { apiKeys: {} },
      policy: { rules: [{ name: 'gov', effect: 'allow', servers: ['gov'] }] },
      monitor: { learningPeriod: '1s', detectors: { authFailures: { count: 6, window: '1m', action: 'kill-agent' }, firstUse: { enabled: false } }, sinks: [] },
    });
    gateways.push(gw);
    const key = new IdentityStore(identityDbPath(gw.gateway.config.dataDir!)).createKey('good-bot', ['mcp'], new Date(Date.now() + 3_600_000)).key;
    const url = `${gw.url}/mcp/gov`;

    // The good client mistypes its key 5 times (under the bar), then works.
    for (let i = 0; i < 5; i++) assert.equal((await postFrom('127.0.0.1', url, INITIALIZE, { authorization: `Bearer pc_typo${i}_${'y'.repeat(40)}` })).status, 401);
    // The attacker floods from 127.0.0.2, claiming to be 127.0.0.1 through X-Forwarded-For (not trusted).
    for (let i = 0; i < 12; i++) {
      const answer = await postFrom('127.0.0.2', url, INITIALIZE, { authorization: `Bearer pc_guess${i}_${'x'.repeat(40)}`, 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1' });
      assert.equal(answer.status, 401);
    }

    const refusals = auditRecords(gw).filter((r) => r.code === 'PC_AUTH_INVALID_TOKEN');
    assert.deepEqual(refusals.map((r) => r.address), [...Array(5).fill('127.0.0.1'), ...Array(12).fill('127.0.0.2')], 'each refusal carries the socket address, never the forwarded one');
    const alerts = gw.gateway.monitor!.alerts.list().map((l) => l.alert).filter((a) => a.kind === 'auth-failures');
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    const [alert] = alerts;
    assert.equal(alert!.address, '127.0.0.2');
    assert.equal(alert!.evidence.seqs.length, 6);
    const bySeq = new Map(auditRecords(gw).map((r) => [r.seq, r]));
    for (const seq of alert!.evidence.seqs) assert.equal(bySeq.get(seq)?.address, '127.0.0.2', `evidence ${seq} is a refusal from 127.0.0.2`);
    assert.equal(alert!.response?.action, 'kill-agent');
    assert.ok(alert!.response?.skipped, 'no agent to contain: nothing is killed for everyone');
    assert.deepEqual(gw.gateway.kill.list(), []);
    // The alert is in the trail with the address.
    const chained = auditRecords(gw).filter((r) => r.decision === 'alert');
    assert.deepEqual(chained.map((r) => [r.code, r.address, r.alert?.id]), [['auth-failures', '127.0.0.2', alert!.id]]);

    // The SIEM gets the refusals and the alert with the address (OTLP client.address, the alert's id and severity).
    const logs = () => collector.deliveries.flatMap((d) => d.body.resourceLogs.flatMap((r: any) => r.scopeLogs.flatMap((sl: any) => sl.logRecords))) as Array<{ attributes: Array<{ key: string; value: { stringValue?: string } }> }>;
    const attr = (l: { attributes: Array<{ key: string; value: { stringValue?: string } }> }, key: string) => l.attributes.find((a) => a.key === key)?.value.stringValue;
    const shipped = await waitFor(() => logs().find((l) => attr(l, 'portcullis.decision') === 'alert'), 10_000, 'the alert record exported over OTLP');
    assert.equal(attr(shipped, 'client.address'), '127.0.0.2');
    assert.equal(attr(shipped, 'portcullis.alert.id'), alert!.id);
    assert.equal(attr(shipped, 'portcullis.alert.severity'), 'high');
    await waitFor(() => logs().filter((l) => attr(l, 'error.type') === 'PC_AUTH_INVALID_TOKEN').length >= 17 || undefined, 10_000, 'every refusal exported');
    assert.deepEqual(new Set(logs().filter((l) => attr(l, 'error.type') === 'PC_AUTH_INVALID_TOKEN').map((l) => attr(l, 'client.address'))), new Set(['127.0.0.1', '127.0.0.2']));

    // The good client on 127.0.0.1 is not hindered: its call reaches the server.
    const init = await postFrom('127.0.0.1', url, INITIALIZE, { authorization: `Bearer ${key}` });
    assert.equal(init.status, 200);
    const headers = { authorization: `Bearer ${key}`, 'mcp-session-id': init.sessionId!, 'mcp-protocol-version': '2025-11-25' };
    await postFrom('127.0.0.1', url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    const called = await postFrom('127.0.0.1', url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } }), headers);
    assert.equal(called.status, 200);
    assert.deepEqual(forwarded(log).filter((m) => m.method === 'tools/call').map((m) => m.params?.name), ['echo']);
    // A sixth mistake from 127.0.0.1 makes its own burst: the addresses are counted apart.
    assert.equal((await postFrom('127.0.0.1', url, INITIALIZE, { authorization: `Bearer pc_typo5_${'y'.repeat(40)}` })).status, 401);
    const after6 = gw.gateway.monitor!.alerts.list().map((l) => l.alert).filter((a) => a.kind === 'auth-failures');
    assert.deepEqual(after6.map((a) => a.address), ['127.0.0.2', '127.0.0.1']);
    // Guessing the approvals admin endpoint's credential is recorded with the address too, and counted with it.
    for (let i = 0; i < 6; i++) assert.equal((await postFrom('127.0.0.3', `${gw.url}/admin/approvals`, '', { authorization: `Bearer pc_admin${i}_${'z'.repeat(40)}` }, 'GET')).status, 401);
    const admin = auditRecords(gw).filter((r) => r.method === 'admin/approvals');
    assert.deepEqual(admin.map((r) => [r.code, r.address]), Array(6).fill(['PC_AUTH_INVALID_TOKEN', '127.0.0.3']));
    const after12 = gw.gateway.monitor!.alerts.list().map((l) => l.alert).filter((a) => a.kind === 'auth-failures');
    assert.deepEqual(after12.map((a) => a.address), ['127.0.0.2', '127.0.0.1', '127.0.0.3']);
  });
});
