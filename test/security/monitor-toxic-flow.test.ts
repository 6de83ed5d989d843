/**
 * Toxic flows through the real gateway: a tool attested `private` (reads private data) and one that can
 * send data out (`egress`). With `enforce: block`, the egress call of a session that read private data
 * is refused — on the server's side it never arrives — in the legacy era (per session and per
 * principal: a fresh session does not evade it) and the modern era (per principal, within the window);
 * another agent that read nothing private is not touched; the refusal and the alert are recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, modernSession, recordedServer } from '../helpers/security.ts';

const call = (id: number, name: string, args: Record<string, unknown> = {}, agent?: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(agent ? { _meta: { 'io.modelcontextprotocol/clientInfo': { name: agent, version: '1' } } } : {}) },
});

describe('monitor: toxic flows', () => {
  let gw: TestGateway;
  let log: string;
  after(async () => gw?.close());

  it('refuses an egress call after a private read in the same session, and only there', async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-mon-tf-')), 'received.jsonl');
    gw = await startGateway({
      servers: { gov: recordedServer(log) },
      policy: {
        rules: [{ name: 'both', effect: 'allow', servers: ['gov'], tools: ['echo', 'delete_record'] }],
        tools: [
          { server: 'gov', tool: 'echo', annotations: { private: true, egress: false, untrusted: false } },
          { server: 'gov', tool: 'delete_record', annotations: { egress: true } },
        ],
      },
      monitor: { learningPeriod: '1d', detectors: { toxicFlow: { enforce: 'block' } }, sinks: [] },
    });
    const victim = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'agent-a');
    const clean = await legacySession(`${gw.url}/mcp/gov`, '2025-11-25', 'agent-b');
    // Egress first, with nothing private read: allowed.
    assert.equal(codeOf(await victim.send(call(1, 'delete_record', { id: 'before' }))), undefined);
    assert.equal(codeOf(await victim.send(call(2, 'echo', { text: 'the private mail' }))), undefined);
    const refused = await victim.send(call(3, 'delete_record', { id: 'exfiltrate' }));
    assert.equal(codeOf(refused), 'PC_POLICY_TOXIC_FLOW');
    assert.equal(refused.json.error.data.after, 'gov.echo');
    // Another agent read nothing private; a fresh session of the same agent is no way around it.
    assert.equal(codeOf(await clean.send(call(4, 'delete_record', { id: 'clean' }))), undefined);
    const fresh = await legacySession(`${gw.url}/mcp/gov`, '2025-06-18', 'agent-a');
    assert.equal(codeOf(await fresh.send(call(8, 'delete_record', { id: 'new-session-exfil' }))), 'PC_POLICY_TOXIC_FLOW');
    // Modern era (no session): the principal carries the label within the window.
    const modern = modernSession(`${gw.url}/mcp`);
    assert.equal(codeOf(await modern.send(call(5, 'gov__echo', { text: 'private' }, 'agent-m'))), undefined);
    assert.equal(codeOf(await modern.send(call(6, 'gov__delete_record', { id: 'modern-exfil' }, 'agent-m'))), 'PC_POLICY_TOXIC_FLOW');
    assert.equal(codeOf(await modern.send(call(7, 'gov__delete_record', { id: 'other-agent' }, 'agent-n'))), undefined);
    // The server's side: the refused calls never arrived.
    const ids = forwarded(log)
      .filter((m) => m.method === 'tools/call' && m.params?.name === 'delete_record')
      .map((m) => (m.params?.arguments as { id: string }).id);
    assert.deepEqual(ids, ['before', 'clean', 'other-agent']);
    // The trail: labels on the records, the refusals with their code, the alerts.
    const records = auditRecords(gw);
    assert.deepEqual(records.find((r) => r.target === 'echo')?.labels, ['private']);
    assert.equal(records.filter((r) => r.code === 'PC_POLICY_TOXIC_FLOW').length, 3);
    const alerts = gw.gateway.monitor!.alerts.list().map((l) => l.alert).filter((a) => a.kind === 'toxic-flow');
    assert.deepEqual(alerts.map((a) => a.principal.agent).sort(), ['agent-a', 'agent-m']);
    assert.ok(alerts.every((a) => a.summary.includes('(refused)')));
  });

  it('a resource or prompt read from a server that holds private data counts as a private read (red team I, L5)', async () => {
    const readLog = join(mkdtempSync(join(tmpdir(), 'pc-mon-tf-')), 'received.jsonl');
    const pubLog = join(mkdtempSync(join(tmpdir(), 'pc-mon-tf-')), 'received.jsonl');
    const reads = await startGateway({
      servers: { gov: recordedServer(readLog), pub: recordedServer(pubLog) },
      policy: {
        rules: [
          { name: 'gov', effect: 'allow', servers: ['gov'], tools: ['delete_record'], resources: ['mem://*'], prompts: ['secret_prompt'] },
          { name: 'pub', effect: 'allow', servers: ['pub'], resources: ['mem://*'] },
        ],
        tools: [
          // gov holds private data (its echo reads it), though echo itself is never called here.
          { server: 'gov', tool: 'echo', annotations: { private: true, egress: false, untrusted: false } },
          { server: 'gov', tool: 'delete_record', annotations: { egress: true } },
        ],
      },
      monitor: { learningPeriod: '1d', detectors: { toxicFlow: { enforce: 'block' } }, sinks: [] },
    });
    try {
      const read = (id: number, uri: string) => ({ jsonrpc: '2.0', id, method: 'resources/read', params: { uri } });
      const prompt = (id: number) => ({ jsonrpc: '2.0', id, method: 'prompts/get', params: { name: 'secret_prompt', arguments: { topic: 'x' } } });
      // A resource read of a server that holds nothing private leaves the egress call free.
      const clean = await legacySession(`${reads.url}/mcp/pub`, '2025-11-25', 'agent-r');
      assert.equal(codeOf(await clean.send(read(1, 'mem://secret/keys'))), undefined);
      const sameAgent = await legacySession(`${reads.url}/mcp/gov`, '2025-11-25', 'agent-r');
      assert.equal(codeOf(await sameAgent.send(call(2, 'delete_record', { id: 'after-public-read' }))), undefined);
      // The private server's resource, then the egress call: refused, in this session and a fresh one.
      const viaResource = await legacySession(`${reads.url}/mcp/gov`, '2025-11-25', 'agent-s');
      assert.equal(codeOf(await viaResource.send(read(3, 'mem://secret/keys'))), undefined);
      const refused = await viaResource.send(call(4, 'delete_record', { id: 'after-resource' }));
      assert.equal(codeOf(refused), 'PC_POLICY_TOXIC_FLOW');
      assert.equal(refused.json.error.data.after, 'gov.mem://secret/keys');
      // A prompt of the private server is a private read too (modern era: the principal carries it).
      const modern = modernSession(`${reads.url}/mcp`);
      assert.equal(codeOf(await modern.send({ ...prompt(5), params: { name: 'gov__secret_prompt', arguments: { topic: 'x' }, _meta: { 'io.modelcontextprotocol/clientInfo': { name: 'agent-p', version: '1' } } } })), undefined);
      assert.equal(codeOf(await modern.send(call(6, 'gov__delete_record', { id: 'after-prompt' }, 'agent-p'))), 'PC_POLICY_TOXIC_FLOW');
      // The server's side: only the call made after the public read arrived.
      const ids = forwarded(readLog)
        .filter((m) => m.method === 'tools/call' && m.params?.name === 'delete_record')
        .map((m) => (m.params?.arguments as { id: string }).id);
      assert.deepEqual(ids, ['after-public-read']);
      assert.ok(forwarded(readLog).some((m) => m.method === 'resources/read'), 'the private resource was read (the flow is real)');
      const records = auditRecords(reads);
      assert.deepEqual(records.find((r) => r.method === 'resources/read' && r.server === 'gov')?.labels, ['private']);
      assert.equal(records.find((r) => r.method === 'resources/read' && r.server === 'pub')?.labels, undefined);
    } finally {
      await reads.close();
    }
  });

  it('policy conditions read the session: a deny rule on session.labels / session.tools stops the call server-side', async () => {
    const ruleLog = join(mkdtempSync(join(tmpdir(), 'pc-mon-tf-')), 'received.jsonl');
    const cel = await startGateway({
      servers: { gov: recordedServer(ruleLog) },
      policy: {
        rules: [
          { name: 'both', effect: 'allow', servers: ['gov'], tools: ['echo', 'delete_record'] },
          { name: 'no-delete-after-private', effect: 'deny', servers: ['gov'], tools: ['delete_record'], when: '"private" in session.labels && "gov.echo" in session.tools && args.id != "tolerated"' },
        ],
        tools: [{ server: 'gov', tool: 'echo', annotations: { private: true, egress: false, untrusted: false } }],
      },
      monitor: { learningPeriod: '1d', detectors: { toxicFlow: { enforce: 'alert' } }, sinks: [] },
    });
    try {
      const s = await legacySession(`${cel.url}/mcp/gov`, '2025-11-25', 'agent-c');
      assert.equal(codeOf(await s.send(call(1, 'delete_record', { id: 'first' }))), undefined);
      assert.equal(codeOf(await s.send(call(2, 'echo', { text: 'private' }))), undefined);
      const denied = await s.send(call(3, 'delete_record', { id: 'after' }));
      assert.equal(codeOf(denied), 'PC_POLICY_DENIED');
      assert.equal(denied.json.error.data.rule, 'no-delete-after-private');
      const ids = forwarded(ruleLog)
        .filter((m) => m.method === 'tools/call' && m.params?.name === 'delete_record')
        .map((m) => (m.params?.arguments as { id: string }).id);
      assert.deepEqual(ids, ['first']);
      assert.ok(auditRecords(cel).some((r) => r.code === 'PC_POLICY_DENIED' && r.rule === 'no-delete-after-private'));
      // enforce: alert — the flow the rule tolerates goes through, and is alerted on, not refused.
      assert.equal(codeOf(await s.send(call(4, 'delete_record', { id: 'tolerated' }))), undefined);
      assert.equal(forwarded(ruleLog).filter((m) => m.method === 'tools/call' && m.params?.name === 'delete_record').length, 2);
      const flows = cel.gateway.monitor!.alerts.list().map((l) => l.alert).filter((a) => a.kind === 'toxic-flow');
      assert.equal(flows.length, 1);
      assert.ok(!flows[0]!.summary.includes('(refused)'));
    } finally {
      await cel.close();
    }
  });
});
