/**
 * The audit tail cut after the last signed checkpoint (red team F2) and a chain deleted whole (F9). A
 * gateway (`portcullis serve`, SQLite store, signing key, checkpointEvery 10) records calls to the real
 * server-everything, and is killed with SIGKILL. The records after the last checkpoint — the intent and
 * the outcome of calls the server received — are deleted from the store:
 *   - `audit verify` fails at once, from the gateway's head note (`<dataDir>/audit-chains/<chain>.head`);
 *   - restarted, the gateway notices the stored chain ends before its note, says so, and records the
 *     head it had committed as a checkpoint: after it stops, verify still fails, though the new run
 *     wrote its own records and notes on from the shorter chain;
 *   - with the whole chain and its checkpoints deleted, verify names the missing chain.
 * And live: records deleted while the store is locked (the gateway's write fails, its recovery probe
 * re-reads the head) are never adopted silently.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { EVERYTHING, legacyClient, runCli, serveChild, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorded.ts';

const keyPem = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Deletes the chain's records after `seq` (and its checkpoints after it) straight in the SQLite file. */
function cut(db: string, instance: string, seq: number): void {
  const sql = new DatabaseSync(db);
  try {
    sql.prepare('DELETE FROM audit_records WHERE instance = ? AND seq > ?').run(instance, seq);
    sql.prepare('DELETE FROM audit_checkpoints WHERE instance = ? AND seq > ?').run(instance, seq);
  } finally {
    sql.close();
  }
}

const stored = (db: string, instance: string): number[] => {
  const sql = new DatabaseSync(db, { readOnly: true });
  try {
    return (sql.prepare('SELECT seq FROM audit_records WHERE instance = ? ORDER BY seq').all(instance) as { seq: number }[]).map((r) => r.seq);
  } finally {
    sql.close();
  }
};

async function echoes(base: string, n: number, tag: string): Promise<void> {
  const client = await legacyClient(`${base}/mcp/every`);
  try {
    for (let i = 0; i < n; i++) await client.callTool({ name: 'echo', arguments: { message: `${tag}-${i}` } });
  } finally {
    await client.close();
  }
}

describe('audit: a cut tail and a deleted chain are reported', () => {
  it('after a crash: verify fails from the head note, and still fails once the restarted gateway wrote on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-tailcut-'));
    const key = join(dir, 'audit-ed25519.pem');
    writeFileSync(key, keyPem(), { mode: 0o600 });
    const log = join(dir, 'every.log');
    const config = join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      `listen: { port: 0 }\nlogging: { level: warn }\ndataDir: ${JSON.stringify(dir)}\n` +
        `audit: { store: sqlite, instance: gw, signingKey: ${JSON.stringify(`file:${key}`)}, checkpointEvery: 10 }\n` +
        `policy: { rules: [{ name: echo-only, effect: allow, servers: [every], tools: [echo] }] }\nservers:\n  every: ${JSON.stringify(recordedServer(log, EVERYTHING))}\n`,
    );
    const db = join(dir, 'audit.db');
    const first = await serveChild(config);
    try {
      await echoes(first.base, 7, 'before');
    } finally {
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
    }
    const before = stored(db, 'gw');
    assert.ok(before.length >= 14 && before.at(-1)! > 10, `records were written: ${before.join(',')}`);
    assert.equal(received(log, 'tools/call').length, 7, 'the server received every call');
    cut(db, 'gw', 10); // the intents and outcomes of calls the server received

    const right = await runCli(['audit', 'verify', '-c', config]);
    assert.equal(right.code, 1, right.stdout + right.stderr);
    assert.match(right.stdout, new RegExp(`BROKEN: chain "gw", record 11: the trail ends at record 10 but its gateway's head note \\(audit-chains/gw.head\\) says record ${before.at(-1)} was committed`));

    const second = await serveChild(config);
    try {
      await echoes(second.base, 2, 'after');
      assert.match(second.stderr(), /audit chain cut since the last run: the store ends at record 10/);
    } finally {
      await second.stop();
    }
    const later = await runCli(['audit', 'verify', '-c', config]);
    assert.equal(later.code, 1, later.stdout + later.stderr);
    assert.match(later.stdout, /BROKEN: chain "gw", record 11: its gateway found the chain cut since the last run \(.*\): the store ended at record 10 though record \d+ had been committed/);

    // F9: the whole chain and its checkpoints deleted.
    cut(db, 'gw', 0);
    rmSync(join(dir, 'audit-chains', 'gw.cuts')); // the operator acknowledged the first cut
    const gone = await runCli(['audit', 'verify', '-c', config]);
    assert.equal(gone.code, 1, gone.stdout + gone.stderr);
    assert.match(gone.stdout, /BROKEN: chain "gw", record 1: the store has no record of this chain, but its gateway's head note \(audit-chains\/gw.head\) says record \d+ was committed: the chain was deleted/);
  });

  describe('live: records deleted while the store is locked', () => {
    let gw: TestGateway | undefined;
    after(async () => gw?.close());

    it('the recovering gateway does not adopt the shorter chain silently: verify fails', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pc-tailcut-live-'));
      const key = join(dir, 'audit-ed25519.pem');
      writeFileSync(key, keyPem(), { mode: 0o600 });
      const audit = { store: 'sqlite', instance: 'live', signingKey: `file:${key}`, checkpointEvery: 10 };
      gw = await startSecureGateway({
        dataDir: dir,
        audit,
        servers: { every: recordedServer(join(dir, 'every.log'), EVERYTHING) },
        policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['every'], tools: ['echo'] }] },
      });
      await echoes(gw.url, 6, 'live');
      const db = join(dir, 'audit.db');
      const head = stored(db, 'live').at(-1)!;
      assert.ok(head > 10);
      // The attacker holds the write lock, cuts the tail, and lets go a moment later.
      const sql = new DatabaseSync(db);
      sql.exec('PRAGMA busy_timeout = 0');
      sql.exec('BEGIN IMMEDIATE');
      sql.prepare('DELETE FROM audit_records WHERE instance = ? AND seq > 10').run('live');
      const client = await legacyClient(`${gw.url}/mcp/every`);
      try {
        await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'during the lock' } }), (error: { data?: { code?: string } }) => error.data?.code === 'PC_AUDIT_UNAVAILABLE');
        sql.exec('COMMIT');
        sql.close();
        await waitFor(async () => client.callTool({ name: 'echo', arguments: { message: 'after the lock' } }).then(() => true, () => undefined), 15_000, 'the store to recover');
      } finally {
        await client.close();
        await gw.close();
        gw = undefined;
      }
      const config = join(dir, 'portcullis.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(dir)}\naudit: ${JSON.stringify(audit)}\nservers: {}\n`);
      const result = await runCli(['audit', 'verify', '-c', config]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      // Whichever write met the cut first: a record chained on the committed head (a gap where 11 belongs),
      // or the recovery probe, which records the committed head as a checkpoint before going on.
      assert.match(result.stdout, /BROKEN: chain "live", record 11: (found record \d+ where record 11 belongs|its gateway found the chain cut while the store was failing)/);
      assert.ok(readFileSync(join(dir, 'audit-chains', 'live.head'), 'utf8').length > 0, 'the head note is kept beside the chain lock');
    });
  });
});
