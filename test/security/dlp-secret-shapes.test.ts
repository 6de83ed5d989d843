/**
 * One detection for the audit trail and for what clients receive: each shape the audit trail once
 * masked on a list of its own (a Slack user token, `sk-ant-`/`sk-proj-` keys, a bare private key
 * header, credentials in an https URL, …) is DLP's too. A real upstream returning one gets it masked
 * on the client's side; an agent sending one to an open-world tool is refused and the server never
 * receives it; the audit store holds none of them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';
import { secretShapes } from '../helpers/secrets.ts';

const SHAPES = new URL('../fixtures/shapes-server.ts', import.meta.url).pathname;
const shapes = secretShapes();

const leaks = (payload: unknown, secret: string): boolean => {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return text.includes(secret) || text.includes(JSON.stringify(secret).slice(1, -1));
};

describe('secret shapes: DLP finds every shape the audit trail masks', () => {
  let gw: TestGateway;
  let dataDir: string;
  let log: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-shapes-'));
    log = join(dataDir, 'received.jsonl');
    gw = await startSecureGateway({ dataDir, servers: { shapes: recordedServer(log, SHAPES) }, policy: { rules: [{ name: 'shapes', effect: 'allow', servers: ['shapes'] }] } });
  });
  after(async () => {
    await gw.close();
  });

  it('masks each shape in a real upstream result on the client side (content and structuredContent)', async () => {
    const client = await legacyClient(`${gw.url}/mcp/shapes`);
    try {
      for (const [name, { secret }] of Object.entries(shapes)) {
        const result = await client.callTool({ name: 'show', arguments: { shape: name } });
        assert.ok(!leaks(result, secret), `${name} reached the client`);
        assert.match(JSON.stringify(result), /\[REDACTED:[a-z0-9-]+#1\]/, name);
      }
    } finally {
      await client.close();
    }
    // The server did send each one: what was masked was there to mask.
    assert.equal(callsReceived(log).filter((c) => c.name === 'show').length, Object.keys(shapes).length);
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`refuses each shape in the arguments of an open-world tool (${era} client); the server receives none`, async () => {
      const client = (era === 'legacy' ? await legacyClient(`${gw.url}/mcp/shapes`) : await modernClient(`${gw.url}/mcp/shapes`)) as Client;
      try {
        for (const [name, { text }] of Object.entries(shapes)) {
          await assert.rejects(client.callTool({ name: 'send', arguments: { to: 'someone@example.org', body: { note: `as agreed: ${text}` } } }), (e: { data?: { code?: string } }) => {
            assert.equal(e.data?.code, 'PC_DLP_EXFILTRATION', name);
            return true;
          });
        }
      } finally {
        await client.close();
      }
      const sent = callsReceived(log).filter((c) => c.name === 'send');
      assert.deepEqual(sent, [], 'no send call reached the server');
    });
  }

  it('keeps every shape out of the audit store, and records each refusal', () => {
    const stored = readFileSync(join(dataDir, 'audit.db')).toString('latin1');
    for (const [name, { secret }] of Object.entries(shapes)) assert.ok(!leaks(stored, secret), `${name} in the audit store`);
    const refusals = auditTrail(dataDir).filter((r) => r.code === 'PC_DLP_EXFILTRATION');
    assert.equal(refusals.length, 2 * Object.keys(shapes).length);
  });
});
