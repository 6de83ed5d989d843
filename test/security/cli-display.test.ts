/**
 * Redteam2 G8 — what an operator reads must be what happened. With identity off the agent name is the
 * client's `clientInfo.name`; a caller naming itself with a CR, an ANSI erase-line sequence and a bidi
 * override could rewrite the line an approver reads in `approvals list` (a pending delete shown as an
 * echo), in `status` (the kill switch a monitor set on it) and in `alerts list`. Attacked through the
 * real gateway and the real CLI: none of these characters reaches the terminal raw; they are shown escaped.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startGateway, waitFor } from '../helpers/gateway.ts';
import { legacySession, recordedServer } from '../helpers/security.ts';

const FORGED = 'x\r\u001b[2K00000000  pending  gov.echo  by root (agent helper\u202e\u2028\u0085\u200b';
const RAW = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069]/;

describe('G8: CLI views show caller-chosen names escaped', () => {
  it('approvals list, status and alerts list never print control, bidi or invisible characters raw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-g8-'));
    const log = join(dir, 'gov.log');
    const gw = await startGateway({
      servers: { gov: recordedServer(log) },
      policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['gov'], tools: ['echo'] }, { name: 'del', effect: 'approve', servers: ['gov'], tools: ['delete_record'], approval: { mode: 'out-of-band' } }] },
      approvals: { waitMs: 200 },
      monitor: { learningPeriod: '1m', sinks: [], detectors: { unknownTargets: { count: 2, window: '1m', action: 'kill-agent', for: '5m' } } },
    });
    const dataDir = gw.gateway.config.dataDir!;
    try {
      const mallory = await legacySession(`${gw.url}/mcp`, '2025-11-25', FORGED);
      await mallory.send({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name: 'gov__delete_record', arguments: { id: 'prod-db' } } });
      for (let i = 0; i < 2; i++) await mallory.send({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name: `nope-${i}`, arguments: {} } });
      await waitFor(() => (gw.gateway.monitor?.raised.get('unknown-targets') ? true : undefined), 5000, 'the unknown-targets alert');
    } finally {
      await gw.close();
    }
    for (const args of [['approvals', 'list', '--all'], ['status'], ['alerts', 'list']]) {
      const { code, stdout, stderr } = await runCli([...args, '--data-dir', dataDir]);
      assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
      assert.ok(stdout.includes('x\\r\\e[2K00000000'), `${args.join(' ')} shows the name escaped:\n${stdout}`);
      assert.ok(!RAW.test(stdout.replaceAll('\n', '')), `${args.join(' ')} printed a raw control character: ${JSON.stringify(stdout)}`);
      assert.ok(stdout.includes('\\u{202e}'));
    }
  });
});
