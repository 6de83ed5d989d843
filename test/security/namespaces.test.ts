/**
 * No name is claimed twice on the aggregated endpoint: prefixes that can clash are a configuration
 * error at start and in `config check` (naming both servers), so are pinned names two servers expose,
 * and a clash learnt at runtime refuses the name on both servers (PC_ROUTE_AMBIGUOUS) — never
 * first-wins — with nothing forwarded and the refusal recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.ts';
import { EVERYTHING, legacyClient, modernClient, runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer, TOOLS_SERVER } from '../helpers/recorded.ts';

const server = (extra: Record<string, unknown> = {}) => ({ command: 'node', ...extra });

describe('names on /mcp', () => {
  it('refuses prefixes that can clash, naming both servers', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>?][] = [
      [{ a: server({ namespace: false }), b: server({ namespace: false }) }],
      [{ a: server({ namespace: 'x' }), b: server({ namespace: 'x' }) }],
      [{ x: server(), b: server({ namespace: 'x' }) }],
      [{ a: server(), b: server({ namespace: 'a__b' }) }],
      [{ a: server({ namespace: 'a-' }), b: server({ namespace: 'a' }) }, { separator: '-' }],
    ];
    for (const [servers, routing] of cases) {
      const loaded = validateConfig({ servers, ...(routing ? { routing } : {}) });
      assert.equal(loaded.ok, false, JSON.stringify(servers));
      if (!loaded.ok) {
        const [names] = [Object.keys(servers)];
        assert.ok(loaded.problems.some((p) => names.every((n) => p.message.includes(`"${n}"`))), loaded.problems.map((p) => p.message).join('\n'));
      }
    }
    for (const servers of [{ a: server({ namespace: false }), b: server() }, { a: server(), b: server({ namespace: 'bb' }) }, { ab: server(), a: server() }]) {
      assert.equal(validateConfig({ servers }).ok, true, JSON.stringify(servers));
    }
    const dir = mkdtempSync(join(tmpdir(), 'pc-ns-'));
    const file = join(dir, 'portcullis.yaml');
    writeFileSync(file, `dataDir: ${JSON.stringify(dir)}\nservers:\n  a: { command: node, namespace: false }\n  b: { command: node, namespace: false }\n`);
    const check = await runCli(['config', 'check', '-c', file]);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /servers "a" and "b"/);
    const serve = await runCli(['serve', '-c', file, '--port', '0']);
    assert.equal(serve.code, 2, 'the gateway does not start');
    assert.match(serve.stderr, /servers "a" and "b"/);
  });

  describe('a clash learnt at runtime', () => {
    let gw: TestGateway;
    let everythingLog: string;
    let toolsLog: string;

    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pc-ns-runtime-'));
      everythingLog = join(dir, 'everything.log');
      toolsLog = join(dir, 'tools.log');
      // "ev" exposes ev__echo; the bare server lists a tool literally named ev__echo (and one of its own).
      gw = await startSecureGateway({
        servers: {
          everything: { ...recordedServer(everythingLog, EVERYTHING, ['stdio']), namespace: 'ev' },
          bare: { ...recordedServer(toolsLog, TOOLS_SERVER, [JSON.stringify([{ name: 'ev__echo', inputSchema: { type: 'object' } }, { name: 'own', inputSchema: { type: 'object' } }])]), namespace: false },
        },
        // The policy allows the clashing name on both servers: the refusal is the clash's, not the policy's.
        policy: {
          rules: [
            { name: 'ev-echo', effect: 'allow', servers: ['everything'], tools: ['echo', 'get-sum'] },
            { name: 'bare-tools', effect: 'allow', servers: ['bare'], tools: ['ev__echo', 'own'] },
          ],
        },
      });
    });
    after(async () => gw?.close());

    it('refuses the name on both servers, in both eras, and records it; other names still work', async () => {
      const legacy = await legacyClient(`${gw.url}/mcp`);
      const modern = await modernClient(`${gw.url}/mcp`);
      try {
        for (const client of [legacy, modern]) {
          const names = (await client.listTools()).tools.map((t) => t.name);
          assert.ok(!names.includes('ev__echo'), 'the clashing name is listed for neither server');
          assert.ok(names.includes('own') && names.includes('ev__get-sum'), 'other names are unaffected');
          await assert.rejects(client.callTool({ name: 'ev__echo', arguments: { message: 'hi' } }), (e: { data?: { code?: string; servers?: string[] } }) => {
            assert.equal(e.data?.code, 'PC_ROUTE_AMBIGUOUS');
            assert.deepEqual([...(e.data?.servers ?? [])].sort(), ['bare', 'everything']);
            return true;
          });
        }
        await legacy.callTool({ name: 'own', arguments: {} });
        const direct = await legacyClient(`${gw.url}/mcp/everything`);
        await direct.callTool({ name: 'echo', arguments: { message: 'direct' } });
        await direct.close();
      } finally {
        await legacy.close();
        await modern.close();
      }
      assert.deepEqual(callsReceived(toolsLog).map((c) => c.name), ['own']);
      assert.deepEqual(callsReceived(everythingLog).map((c) => c.arguments.message), ['direct'], 'only the unambiguous call through /mcp/everything');
      const refused = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_ROUTE_AMBIGUOUS');
      assert.equal(refused.length, 2, 'both refusals are recorded');
    });
  });
});
