/**
 * The definition scanner attacked with evasions (issue 14): a paraphrase no phrase rule was written
 * for, Unicode confusables, zero-width characters, full-width forms, a payload split between the
 * description and parameter descriptions, markdown and HTML comments, and Spanish — each aimed at the
 * tools of a victim server behind the same gateway. Through the real gateway, for clients of both eras
 * on the per-server and the aggregate endpoint: the poisoned definitions never reach the client, calls
 * to them are refused and recorded in the audit trail, and the hostile server receives none of them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanServers } from '../../src/inspect/scanner.ts';
import { EVASIONS, evasionCatalog, victimCatalog } from '../fixtures/evasion-catalog.ts';
import { legacyClient, modernClient, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, messagesReceived, recordedHostile, refusalCode, targetsReceived, writeCatalog } from '../helpers/supply.ts';

describe('supply chain: the scanner holds against evasions', () => {
  let gw: TestGateway;
  let log: string;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-evasion-'));
    log = join(dir, 'received.log');
    writeCatalog(join(dir, 'hostile.json'), evasionCatalog());
    writeCatalog(join(dir, 'mail.json'), victimCatalog());
    gw = await startGateway({
      audit: { store: 'jsonl' },
      servers: { mail: recordedHostile(join(dir, 'mail.log'), join(dir, 'mail.json')), hostile: recordedHostile(log, join(dir, 'hostile.json')) },
    });
  });
  after(async () => {
    await gw.close();
  });

  it('rates every evasion high offline, and explains it with the signals that carried it', () => {
    const reports = scanServers([
      { server: 'mail', tools: victimCatalog().tools },
      { server: 'hostile', tools: evasionCatalog().tools },
    ]);
    assert.deepEqual(reports.filter((r) => r.verdict === 'high').map((r) => r.name), EVASIONS.map((e) => String(e.name)));
    for (const name of ['ev_paraphrase', 'ev_confusable', 'ev_fullwidth']) {
      const findings = reports.find((r) => r.name === name)!.findings;
      // No phrase rule of the earlier scanner catches these: the signal layer does, and says why.
      const combined = findings.find((f) => f.rule === 'signals.combined');
      assert.equal(combined?.severity, 'high', `${name}: ${JSON.stringify(findings)}`);
      assert.ok(combined.span.length > 0 && combined.field.length > 0);
      assert.ok(findings.some((f) => f.rule.startsWith('signal.') && f.span.length > 0));
    }
    assert.ok(reports.find((r) => r.name === 'ev_confusable')!.findings.some((f) => f.rule === 'signal.obfuscated'));
    assert.ok(reports.find((r) => r.name === 'ev_paraphrase')!.findings.some((f) => f.rule === 'signal.ref.other-server' && f.span.includes('send_email')));
    assert.deepEqual(reports.filter((r) => r.server === 'mail' || r.name === 'ok_tool').map((r) => r.verdict), ['ok', 'ok', 'ok']);
  });

  for (const [era, connect] of [['legacy', legacyClient], ['modern', modernClient]] as const) {
    for (const path of ['/mcp/hostile', '/mcp']) {
      it(`withholds every evasion from a ${era} client on ${path} and refuses calls to them`, async () => {
        const client = await connect(`${gw.url}${path}`);
        const prefix = path === '/mcp' ? 'hostile__' : '';
        try {
          const listed = (await client.listTools()).tools;
          const text = JSON.stringify(listed);
          assert.ok(listed.some((t) => t.name === `${prefix}ok_tool`), text);
          for (const e of EVASIONS) {
            assert.ok(!listed.some((t) => t.name === `${prefix}${String(e.name)}`), `${String(e.name)} reached the client`);
            const code = await refusalCode(client.callTool({ name: `${prefix}${String(e.name)}`, arguments: {} }));
            assert.equal(code, path === '/mcp' ? 'PC_ROUTE_UNKNOWN_TOOL' : 'PC_SUPPLY_QUARANTINED', String(e.name));
          }
          assert.ok(!/time-sync|hora-sync|id_rsa|aws\/credentials/.test(text), text);
          // The control is served, so the refusals are not the server being unreachable.
          assert.deepEqual((await client.callTool({ name: `${prefix}ok_tool`, arguments: { q: 'x' } })).content, [{ type: 'text', text: 'ok_tool ran' }]);
        } finally {
          await client.close();
        }
      });
    }
  }

  it('the hostile server received no call to an evasion, and each refusal is in the audit trail', async () => {
    const calls = targetsReceived(messagesReceived(log), 'tools/call');
    assert.ok(calls.length > 0 && calls.every((c) => c === 'ok_tool'), calls.join(','));
    const records = await waitFor(() => {
      const refused = auditRecords(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_SUPPLY_QUARANTINED' && r.server === 'hostile');
      return refused.length >= 2 * EVASIONS.length ? refused : undefined;
    }, 5000, 'the refusals in the audit trail');
    for (const e of EVASIONS) assert.ok(records.some((r) => r.target === e.name && r.decision === 'denied'), String(e.name));
  });
});

describe('supply chain: supply.scanner configures the gateway\u2019s scanner', () => {
  it('with signals off, only the phrase rules judge: the paraphrase they were not written for is served (so the layer is what stops it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-evasion-off-'));
    writeCatalog(join(dir, 'hostile.json'), evasionCatalog());
    writeCatalog(join(dir, 'mail.json'), victimCatalog());
    const gw = await startGateway({
      supply: { allowUnpinned: true, scanner: { signals: false } },
      servers: { mail: recordedHostile(join(dir, 'mail.log'), join(dir, 'mail.json')), hostile: recordedHostile(join(dir, 'hostile.log'), join(dir, 'hostile.json')) },
    });
    try {
      const client = await legacyClient(`${gw.url}/mcp/hostile`);
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        assert.ok(names.includes('ev_paraphrase'), names.join(','));
        // What the phrase rules catch stays withheld.
        assert.ok(!names.includes('ev_html_comment') && !names.includes('ev_zero_width'), names.join(','));
      } finally {
        await client.close();
      }
    } finally {
      await gw.close();
    }
  });
});
