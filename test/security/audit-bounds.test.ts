/**
 * Redteam2 G2 and G5 — size of what a caller chooses. A 3.9 MB tool name (refused, nothing allowed)
 * was kept whole by the monitor (3.3 GB, then a crash in the state save) and written twice per
 * record to the trail; a 3.9 MB self-declared agent name on allowed calls did the same. Attacked
 * through the real gateway (SQLite trail, monitor on): an over-long tool name is refused at the front
 * door (-32602, naming the bound) and never reaches the server; every record stays small, a cut
 * string carries its original length and hash; the monitor's saved state stays small.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyChain } from '../../src/audit/record.ts';
import { startGateway } from '../helpers/gateway.ts';
import { auditRecords, forwarded, legacySession, recordedServer } from '../helpers/security.ts';

const POLICY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };
/** Bytes of one record's JSON, at most: a few bounded strings and the fixed fields. */
const RECORD_BOUND = 32 * 1024;
const HUGE = 1_000_000;

describe('G2/G5: caller-chosen strings are bounded in the trail and the monitor', () => {
  it('huge tool and agent names: refused early or cut, records and monitor state stay small, the chain verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-g5-'));
    const log = join(dir, 'gov.log');
    const gw = await startGateway({ servers: { gov: recordedServer(log) }, policy: POLICY, monitor: { sinks: [], detectors: { volume: { perTool: true } } } });
    const dataDir = gw.gateway.config.dataDir!;
    try {
      const attacker = await legacySession(`${gw.url}/mcp`, '2025-11-25', 'mallory');
      for (let i = 0; i < 3; i++) {
        const name = `${i}${'z'.repeat(HUGE)}`;
        const answer = await attacker.send({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name, arguments: {} } });
        assert.equal(answer.json?.error?.code, -32602, JSON.stringify(answer.json).slice(0, 300));
        assert.match(answer.json.error.message, /1024/, 'the refusal names the bound');
        assert.ok(JSON.stringify(answer.json).length < RECORD_BOUND, 'the refusal does not echo the name whole');
      }
      const longAgent = `agent-${'a'.repeat(HUGE)}`;
      const agent = await legacySession(`${gw.url}/mcp`, '2025-11-25', longAgent);
      for (let i = 0; i < 3; i++) {
        const answer = await agent.send({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name: 'gov__echo', arguments: { text: `t${i}${'b'.repeat(HUGE)}` } } });
        assert.match(answer.json?.result?.content?.[0]?.text ?? '', /^echo: t/, JSON.stringify(answer.json).slice(0, 300));
      }
      assert.equal(forwarded(log).length, 3, 'only the allowed calls reached the server');

      const trail = auditRecords(gw);
      for (const record of trail) assert.ok(JSON.stringify(record).length < RECORD_BOUND, `record ${record.seq} is ${JSON.stringify(record).length} bytes`);
      const cut = trail.find((r) => r.principal.agent.startsWith('agent-'));
      assert.ok(cut, 'the long agent\'s calls are recorded');
      assert.match(cut.principal.agent, new RegExp(`…\\[cut: ${longAgent.length} chars, sha256 [0-9a-f]{16}\\]$`));
      const allowed = trail.filter((r) => r.decision === 'allowed' && r.target === 'echo');
      assert.equal(allowed.length, 3);
      assert.equal(new Set(allowed.map((r) => r.argsHash)).size, 3, 'argsHash covers the arguments as sent');
      assert.equal((await verifyChain(trail)).broken, undefined);
    } finally {
      await gw.close();
    }
    const state = join(dataDir, 'monitor-state.json');
    assert.ok(statSync(state).size < 64 * 1024, `monitor state is ${statSync(state).size} bytes`);
    assert.ok(!readFileSync(state, 'utf8').includes('z'.repeat(5000)));
  });
});
