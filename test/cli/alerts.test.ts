/**
 * `portcullis alerts list` as a person reads it: each alert on its lines (the listing's own line
 * breaks), and what a caller chose — an agent name with a CR, an ANSI escape or a bidi override —
 * shown escaped, so it can neither rewrite the screen nor pass for another line.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AlertStore } from '../../src/monitor/alert.ts';
import { runCli } from '../helpers/gateway.ts';

describe('portcullis alerts list', () => {
  it('prints each alert on its own lines, with caller-chosen names escaped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-alerts-cli-'));
    mkdirSync(dataDir, { recursive: true });
    new AlertStore(join(dataDir, 'alerts.jsonl')).append({
      id: 'al_test0000001',
      kind: 'denials',
      severity: 'medium',
      principal: { subject: 'key:0123', agent: 'mallory\r\u001b[2Kallowed\u202e' },
      server: 'files',
      tool: 'read_text_file',
      window: { from: '2026-12-07T06:00:00.000Z', to: '2026-12-07T06:01:00.000Z' },
      evidence: { instance: 'gw', seqs: [1, 2, 3] },
      at: '2026-12-07T06:01:00.000Z',
      summary: '3 policy refusals within 60s (last: PC_POLICY_GUARD)',
      response: { action: 'kill-agent', target: 'agent "mallory"', until: '2026-12-07T06:02:00.000Z' },
    });
    const listed = await runCli(['alerts', 'list', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.split('\n'), [
      '2026-12-07T06:01:00.000Z  al_test0000001  medium   denials            mallory\\r\\e[2Kallowed\\u{202e} (key:0123) files.read_text_file',
      '    3 policy refusals within 60s (last: PC_POLICY_GUARD)',
      '    evidence: audit gw seq 1,2,3',
      '    contained: agent "mallory" stopped until 2026-12-07T06:02:00.000Z',
      '',
    ]);
  });
});
