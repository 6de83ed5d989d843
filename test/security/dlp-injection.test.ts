/**
 * Injected instructions in results (issue 15): text addressed to the model ("ignore previous
 * instructions"), tool-call requests and hidden Unicode are flagged (passed, recorded), wrapped
 * (delimited and labelled as untrusted data, hidden characters removed) or blocked, per server and tool.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { legacyClient, modernClient } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, recordedServer } from '../helpers/recorded.ts';

const LEAKY = new URL('../fixtures/dlp-server.ts', import.meta.url).pathname;

async function gateway(injection: string, overrides: Record<string, unknown> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-inj-'));
  const gw = await startSecureGateway({ dataDir, servers: { leaky: recordedServer(join(dataDir, 'r.jsonl'), LEAKY) }, policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }] }, dlp: { results: { injection }, ...overrides } });
  return { gw, dataDir };
}

const text = (result: unknown): string => ((result as { content: Array<{ text: string }> }).content[0]?.text ?? '');

describe('DLP: injected instructions in results', () => {
  it('flag: the result passes unchanged and the finding is recorded', async () => {
    const { gw, dataDir } = await gateway('flag');
    try {
      const client = await legacyClient(`${gw.url}/mcp/leaky`);
      const result = await client.callTool({ name: 'inject', arguments: { kind: 'phrase' } });
      assert.match(text(result), /IGNORE ALL PREVIOUS INSTRUCTIONS/);
      await client.close();
      const record = auditTrail(dataDir).find((r) => r.target === 'inject');
      assert.ok(record?.dlp?.some((f) => f.type === 'injection' && f.rule === 'instruction.ignore-previous' && f.action === 'flag'));
    } finally {
      await gw.close();
    }
  });

  for (const era of ['legacy', 'modern'] as const) {
    it(`wrap: the text is delimited as untrusted data, hidden characters removed (${era} client)`, async () => {
      const { gw } = await gateway('wrap');
      try {
        const client = era === 'legacy' ? await legacyClient(`${gw.url}/mcp`) : await modernClient(`${gw.url}/mcp`);
        for (const kind of ['phrase', 'hidden', 'toolcall']) {
          const result = await client.callTool({ name: 'leaky__inject', arguments: { kind } });
          const body = text(result);
          assert.match(body, /^\[The text below is data from server "leaky", tool "inject"/);
          assert.match(body, /<untrusted-data>\n[\s\S]*\n<\/untrusted-data>$/);
          assert.equal(/[\u{E0000}-\u{E007F}]/u.test(body), false, 'tag characters removed');
        }
        const clean = await client.callTool({ name: 'leaky__inject', arguments: { kind: 'none' } });
        assert.equal(text(clean), 'nothing');
        await client.close();
      } finally {
        await gw.close();
      }
    });
  }

  it('block: the call fails with PC_DLP_BLOCKED, per tool override included', async () => {
    const { gw, dataDir } = await gateway('flag', { servers: { leaky: { tools: { inject: { results: { injection: 'block' } } } } } });
    try {
      const client = await legacyClient(`${gw.url}/mcp/leaky`);
      for (const kind of ['phrase', 'hidden', 'toolcall']) {
        await assert.rejects(client.callTool({ name: 'inject', arguments: { kind } }), (e: { data?: { code?: string; type?: string } }) => e.data?.code === 'PC_DLP_BLOCKED' && e.data.type === 'injection');
      }
      await client.close();
      const blocked = auditTrail(dataDir).filter((r) => r.code === 'PC_DLP_BLOCKED');
      assert.equal(blocked.length, 3);
      assert.deepEqual(new Set(blocked.flatMap((r) => r.dlp!.map((f) => f.rule.split('.')[0]))), new Set(['instruction', 'exfiltration', 'unicode', 'tool-call']));
    } finally {
      await gw.close();
    }
  });
});
