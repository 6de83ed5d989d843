/**
 * No secret in clear in the audit trail: a value only the DLP engine recognises — an administrator
 * pattern (a canary), an exact value read from the environment, a token of a rule the audit's own
 * shapes lack — sent to a tool that cannot reach outside is let through (nothing to exfiltrate), and
 * the record of the call masks it, in its arguments, in a key, and in the target, even when the DLP
 * actions for that server are `off`. Asserted on the server's side (it received the call) and on the
 * store (the SQLite file and `audit query --json` hold no clear value anywhere).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { legacyClient, runCli } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';

const LEAKY = new URL('../fixtures/dlp-server.ts', import.meta.url).pathname;
/** Assembled at run time: no secret-shaped literal is committed. */
const spin = (n: number, alphabet: string) => Array.from({ length: n }, (_, i) => alphabet[(i * 5 + 1) % alphabet.length]).join('');
const CANARY = `CANARY-${spin(6, '0123456789')}`;
const EXACT = `internal-${spin(18, 'abcdefghijklmnopqrstuvwxyz')}`;
/** An npm token: a DLP rule (np.npm / gitleaks npm-access-token), not one of the audit's own shapes. */
const NPM = `npm_${spin(36, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;

for (const actions of ['default', 'off'] as const) {
  describe(`audit records mask what DLP detects (DLP actions ${actions})`, () => {
    it('lets the call through to a closed tool and keeps no clear value in the store', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'pc-audit-dlp-'));
      const log = join(dataDir, 'received.jsonl');
      const off = { results: { secrets: 'off', patterns: 'off' }, arguments: { secrets: 'off' } };
      const gw = await startSecureGateway(
        {
          dataDir,
          servers: { leaky: recordedServer(log, LEAKY) },
          policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }] },
          dlp: { patterns: [{ name: 'canary', regex: 'CANARY-[0-9]{6}' }, { name: 'internal', value: 'env:PC_TEST_AUDIT_EXACT' }], ...(actions === 'off' ? { servers: { leaky: off } } : {}) },
        },
        processSecretSource({ ...process.env, PC_TEST_AUDIT_EXACT: EXACT }),
      );
      try {
        const client = await legacyClient(`${gw.url}/mcp/leaky`);
        const body = { canary: `seen ${CANARY} here`, exact: EXACT, npm: `token ${NPM}`, list: [NPM], [EXACT]: 'keyed', number: 1 };
        await client.callTool({ name: 'store', arguments: { body } });
        // A made-up tool name holding a secret: refused, and its record's target masked.
        await client.callTool({ name: `store-${NPM}`, arguments: {} }).catch(() => undefined);
        await client.close();
      } finally {
        await gw.close();
      }
      const received = JSON.stringify(callsReceived(log));
      assert.equal(callsReceived(log).length, 1, 'the closed tool received the call');
      for (const value of [CANARY, EXACT, NPM]) assert.ok(received.includes(value), 'the server got the arguments as sent');

      const records = auditTrail(dataDir);
      const call = records.find((r) => r.target === 'store' && r.decision === 'allowed');
      assert.ok(call, 'the call is recorded as allowed');
      assert.ok(JSON.stringify(call.args).includes('[redacted]'), 'the redaction marker of docs/audit.md');
      assert.equal((call.args as { body: { number: number } }).body.number, 1, 'ordinary values are kept');
      assert.ok(records.some((r) => r.target === '[redacted]'), 'the made-up tool name is masked');
      const stored = ['audit.db', 'audit.db-wal'].map((f) => (existsSync(join(dataDir, f)) ? readFileSync(join(dataDir, f)).toString('latin1') : '')).join('');
      const config = join(dataDir, 'portcullis.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\nservers: {}\n`);
      const query = await runCli(['audit', 'query', '-c', config, '--json']);
      assert.equal(query.code, 0, query.stderr);
      assert.ok(query.stdout.includes('"store"'));
      for (const value of [CANARY, EXACT, NPM, EXACT.slice(9)]) {
        assert.ok(!stored.includes(value), 'the SQLite file holds no clear value');
        assert.ok(!query.stdout.includes(value), 'audit query --json holds no clear value');
        assert.ok(!JSON.stringify(records).includes(value), 'no record holds a clear value');
      }
    });
  });
}
