/**
 * Red team J, F6: a record's `argsHash` was a plain SHA-256 of the canonical arguments, so whoever held
 * the record (a reader of the trail, a sink's copy) could confirm a guessed low-entropy value — hash
 * all 10,000 PINs and compare — even with `auditArguments: hash`, which keeps the arguments themselves
 * out of the record. Now it is an HMAC-SHA-256 under the deployment's key in the data dir (never in a
 * record), and the record says so (`argsHashScheme`).
 *
 * One real gateway (HTTP front) in front of the modern fixture (official v2 SDK); the attack is run on
 * the records as the store holds them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalJson } from '../../src/audit/canonical.ts';
import { argsKeyPath } from '../../src/audit/args-hash.ts';
import { sha256Hex } from '../../src/audit/record.ts';
import { argsHashIn, auditTrail } from '../helpers/audit.ts';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { modernRequest } from '../helpers/sessions.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';

/** A four-digit PIN, chosen at run time. */
const PIN = String(1000 + (process.pid % 9000));
const pins = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, '0'));

describe('audit argsHash: a guessed argument cannot be confirmed from the record', () => {
  let modern: ModernServer;
  let gw: TestGateway;
  let dataDir: string;

  before(async () => {
    modern = await startModernServer();
    dataDir = mkdtempSync(join(tmpdir(), 'pc-args-hash-'));
    gw = await startSecureGateway({
      dataDir,
      servers: { bank: { url: modern.url, auditArguments: 'hash' } },
      policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['bank'], tools: ['echo'] }] },
    });
    const answer = await modernRequest(`${gw.url}/mcp/bank`, 'tools/call', { name: 'echo', arguments: { text: PIN } });
    assert.ok(modern.bodies().some((b) => b.includes(`"text":"${PIN}"`)), `the call ran: ${JSON.stringify(answer.body)}`);
  });
  after(async () => {
    await gw?.close();
    await modern?.close();
  });

  const recordsOfTheCall = () => auditTrail(dataDir).filter((r) => r.target === 'echo' && r.argsHash !== undefined);

  it('holds no hash that a guess over every PIN confirms', () => {
    const records = recordsOfTheCall();
    assert.ok(records.length >= 2, 'the intent and the outcome are recorded');
    const hashes = new Set(records.map((r) => r.argsHash));
    const confirmed = pins.filter((pin) => hashes.has(sha256Hex(canonicalJson({ text: pin }))));
    assert.deepEqual(confirmed, [], 'no PIN is confirmed by hashing it');
    for (const record of records) {
      assert.equal(record.args, undefined, 'auditArguments: hash keeps the arguments out');
      assert.ok(!JSON.stringify(record).includes(PIN), 'nor the PIN anywhere else');
      assert.equal(record.argsHashScheme, 'hmac-sha256', 'the record says how its hash was made');
    }
  });

  it('keeps the key in the data dir, never in a record', () => {
    const key = readFileSync(argsKeyPath(dataDir), 'utf8').trim();
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    const files = readdirSync(dataDir, { withFileTypes: true }).filter((f) => f.isFile() && f.name.startsWith('audit'));
    assert.ok(files.some((f) => f.name === 'audit.db'));
    const stored = files.map((f) => readFileSync(join(dataDir, f.name)).toString('latin1')).join('\n');
    assert.ok(!stored.includes(key), 'the key is not in the audit store');
    assert.ok(!JSON.stringify(auditTrail(dataDir)).includes(key));
  });

  it('still binds the call for whoever holds the key: the hash of the arguments as sent, the same in every record of the call', () => {
    const hashes = new Set(recordsOfTheCall().map((r) => r.argsHash));
    assert.deepEqual([...hashes], [argsHashIn(dataDir, { text: PIN })]);
  });

  // The chain hashes whatever fields a record has: records from before the field (plain SHA-256, no
  // argsHashScheme) verify as they did (test/audit/*), and these verify alongside.
  it('verifies with portcullis audit verify', async () => {
    const file = join(dataDir, 'portcullis.yaml');
    writeFileSync(file, `dataDir: ${JSON.stringify(dataDir)}\nservers: {}\n`);
    const verified = await runCli(['audit', 'verify', '-c', file]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });
});
