/**
 * Red-team finding F5 — the stdio front answered requests sent before `initialize` (and requests of an
 * unsupported protocol version) with a refusal that left no audit record, while every other refusal
 * does (invariant 5). Asserted on the server's side (nothing arrived) and on the trail (each is there).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/gateway.ts';
import { auditRecords, forwarded, startStdioFront } from '../helpers/security.ts';

describe('the stdio front records the refusals it makes before the pipeline', () => {
  it('records calls sent before initialize and requests of an unsupported version; none reaches the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-stdio-refusals-'));
    const log = join(dir, 'gov.log');
    const dataDir = join(dir, 'data');
    const front = startStdioFront(dir, log, dataDir);
    try {
      front.send({ jsonrpc: '2.0', id: 'pre-1', method: 'tools/call', params: { name: 'delete_record', arguments: { id: '1' } } });
      front.send({ jsonrpc: '2.0', id: 'pre-2', method: 'tools/call', params: { name: 'echo', arguments: { text: 'early' } } });
      front.send({ jsonrpc: '2.0', id: 'version', method: 'tools/call', params: { name: 'echo', _meta: { 'io.modelcontextprotocol/protocolVersion': '1999-01-01' } } });
      for (const id of ['pre-1', 'pre-2', 'version']) await waitFor(() => front.answers.get(id), 30_000, id);
      assert.equal(front.answers.get('pre-1').error.data.code, 'PC_PROTOCOL_NOT_INITIALIZED');
      assert.equal(front.answers.get('version').error.data.code, 'PC_PROTOCOL_UNSUPPORTED_VERSION');
      // A call after initialize shows the server was reachable all along.
      front.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'stdio-raw', version: '1' } } });
      await waitFor(() => front.answers.get('init'), 30_000, 'initialize');
      front.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      front.send({ jsonrpc: '2.0', id: 'after', method: 'tools/call', params: { name: 'echo', arguments: { text: 'after' } } });
      await waitFor(() => front.answers.get('after'), 30_000, 'the call after initialize');
    } finally {
      await front.close();
    }
    assert.deepEqual(forwarded(log).map((m) => m.params), [{ name: 'echo', arguments: { text: 'after' } }], 'only the call after initialize reached the server');
    const records = auditRecords(dataDir);
    assert.equal(records.filter((r) => r.code === 'PC_PROTOCOL_NOT_INITIALIZED' && r.method === 'tools/call' && r.decision === 'denied').length, 2, JSON.stringify(records.map((r) => [r.method, r.code])));
    assert.equal(records.filter((r) => r.code === 'PC_PROTOCOL_UNSUPPORTED_VERSION').length, 1);
  });
});
