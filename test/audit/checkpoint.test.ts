/**
 * Signed checkpoints and retention: what a hash chain alone cannot show — records cut off the end,
 * a chain rewritten from some point on, forged anchors — and pruning that keeps the trail verifiable.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { CheckpointSigner, checkpointValid } from '../../src/audit/checkpoint.ts';
import { AuditLog } from '../../src/audit/log.ts';
import { argsHasher } from '../../src/audit/args-hash.ts';
import { recordHash, type AuditRecord } from '../../src/audit/record.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { verifyTrail } from '../../src/audit/verify.ts';
import { chain } from '../helpers/audit.ts';
import { runCli } from '../helpers/gateway.ts';
import { holdsBuiltInSecret } from '../../src/dlp/create.ts';

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

async function collect(store: SqliteAuditStore): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of store.all()) out.push(r);
  return out;
}

describe('signed checkpoints', () => {
  const signer = new CheckpointSigner(pem());
  const other = new CheckpointSigner(pem());

  it('signs with Ed25519 and rejects altered checkpoints and other keys', () => {
    const c = signer.sign({ instance: 'a', seq: 5, hash: 'f'.repeat(64), time: '2026-01-01T00:00:00.000Z' });
    assert.ok(checkpointValid(c, signer.publicKey()));
    assert.ok(!checkpointValid({ ...c, seq: 6 }, signer.publicKey()));
    assert.ok(!checkpointValid(c, other.publicKey()));
    assert.throws(() => new CheckpointSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), /Ed25519/);
  });

  it('catches records cut off the end of the trail', async () => {
    const records = chain('a', 6);
    const checkpoints = [signer.sign({ instance: 'a', seq: 6, hash: records[5]!.hash, time: 'now' })];
    assert.equal((await verifyTrail(records, checkpoints, signer.publicKey())).broken, undefined);
    const cut = await verifyTrail(records.slice(0, 4), checkpoints, signer.publicKey());
    assert.match(cut.broken!.problem, /cut off the end/);
  });

  it('catches a chain rewritten consistently from a point on', async () => {
    const records = chain('a', 6);
    const checkpoints = [signer.sign({ instance: 'a', seq: 4, hash: records[3]!.hash, time: 'now' })];
    const forged = records.slice(0, 2);
    let prev = records[1]!.hash;
    for (const r of records.slice(2)) {
      const body = { ...r, target: 'rewritten', prevHash: prev };
      const re = { ...body, hash: recordHash(body) };
      forged.push(re);
      prev = re.hash;
    }
    const report = await verifyTrail(forged, checkpoints, signer.publicKey());
    assert.equal(report.broken?.seq, 4);
    assert.match(report.broken!.problem, /signed checkpoint/);
    const fake = [{ ...checkpoints[0]!, hash: forged[3]!.hash }];
    assert.match((await verifyTrail(forged, fake, signer.publicKey())).broken!.problem, /signature is invalid/);
  });

  it('prunes by retention after a signed checkpoint, and the rest still verifies', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pc-retain-')), 'audit.db');
    const store = new SqliteAuditStore(path);
    const log = new AuditLog({ openStore: async () => store, kind: 'sqlite', instance: 'a', gatewayId: 'g', redactFields: [], holdsSecret: holdsBuiltInSecret, argumentsModeFor: () => 'redacted', argsHash: argsHasher(randomBytes(32)), logger: pino({ level: 'silent' }), signer, retentionDays: 30 });
    await Promise.all(chain('a', 8).map((r) => store.append(r)));
    await log.open();
    // The helper's records are 1 ms apart (record n at 1_800_000_000_000 + n ms): retention of 30 days
    // measured so that its cutoff is record 6's time prunes records 1–5 and keeps the chain verifiable
    // from the anchor.
    const now = 1_800_000_000_006 + 30 * 86_400_000;
    assert.equal(await log.applyRetention(now), 5);
    const remaining = await collect(store);
    assert.deepEqual(remaining.map((r) => r.seq), [6, 7, 8]);
    const report = await verifyTrail(remaining, await store.checkpoints(), signer.publicKey());
    assert.equal(report.broken, undefined);
    assert.equal(report.records, 3);
    const withoutAnchor = await verifyTrail(remaining, [], signer.publicKey());
    assert.match(withoutAnchor.broken!.problem, /no checkpoint/);
    await log.close();
  });

  it('keygen, signing gateway and `audit verify` with signatures, end to end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-keygen-'));
    const key = join(dir, 'audit.pem');
    const made = await runCli(['audit', 'keygen', '-o', key]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /BEGIN PUBLIC KEY/);
    const store = new SqliteAuditStore(join(dir, 'audit.db'));
    const log = new AuditLog({ openStore: async () => store, kind: 'sqlite', instance: 'a', gatewayId: 'g', redactFields: [], holdsSecret: holdsBuiltInSecret, argumentsModeFor: () => 'redacted', argsHash: argsHasher(randomBytes(32)), logger: pino({ level: 'silent' }), signer: new CheckpointSigner((await import('node:fs')).readFileSync(key, 'utf8')) });
    await Promise.all(chain('a', 4).map((r) => store.append(r)));
    await log.open();
    await log.close(); // writes the closing checkpoint
    const config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dir)}\naudit: { signingKey: "file:${key}" }\nservers: {}\n`);
    const ok = await runCli(['audit', 'verify', '-c', config]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /4 records, every chain intact; 1 checkpoints \(1 signatures verified\)/);
    const db = new DatabaseSync(join(dir, 'audit.db'));
    db.prepare('DELETE FROM audit_records WHERE seq = 4').run();
    db.close();
    const cut = await runCli(['audit', 'verify', '-c', config]);
    assert.equal(cut.code, 1);
    assert.match(cut.stdout, /cut off the end/);
  });
});
