/**
 * Issue 12 "Tamper evidence that holds". A real gateway with `audit.signingKey` (checkpointEvery 5)
 * and a witness writes a real trail to each store (SQLite, JSON Lines, PostgreSQL); the attacker then
 * has write access to the store — not to the key, not to the witness — and rewrites it the ways the
 * issue lists. `portcullis audit verify` must exit 1 and name the break every time, and exit 0 on
 * the untouched trail. Most verifications run the command's own function in-process (the same code the
 * CLI runs, without starting Node each time); each store's untouched trail, its witness check and its
 * `--live` run go through the real `portcullis audit verify`, flags and exit code included.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { CheckpointSigner, type Checkpoint } from '../../src/audit/checkpoint.ts';
import { recordHash, type AuditRecord } from '../../src/audit/record.ts';
import { headNotePath } from '../../src/audit/head-note.ts';
import { verify as verifyCommand } from '../../src/cli/audit.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { runCli, startGateway } from '../helpers/gateway.ts';
import { pgSchema } from '../helpers/pg-schema.ts';
import { legacySession, recordedServer } from '../helpers/security.ts';

/** Verify what the store alone proves (an empty witness instead of the one the config names). */
const NO_WITNESS = ['--witness', '/dev/null'];
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

interface Trail {
  records: AuditRecord[];
  checkpoints: Checkpoint[];
}

/** Read and rewrite the whole store, as someone with write access to it can. */
interface StoreAccess {
  audit: Record<string, unknown>;
  /** Before the gateway starts. */
  prepare?(): Promise<void>;
  read(): Promise<Trail>;
  write(trail: Trail): Promise<void>;
  close(): Promise<void>;
}

function sqliteAccess(dir: string): StoreAccess {
  const path = join(dir, 'audit.db');
  return {
    audit: { store: 'sqlite', path },
    async read() {
      const db = new DatabaseSync(path);
      try {
        const records = (db.prepare('SELECT record FROM audit_records ORDER BY instance, seq').all() as Array<{ record: string }>).map((r) => JSON.parse(r.record) as AuditRecord);
        const checkpoints = (db.prepare('SELECT checkpoint FROM audit_checkpoints ORDER BY instance, seq').all() as Array<{ checkpoint: string }>).map((r) => JSON.parse(r.checkpoint) as Checkpoint);
        return { records, checkpoints };
      } finally {
        db.close();
      }
    },
    async write({ records, checkpoints }) {
      const db = new DatabaseSync(path);
      try {
        db.exec('BEGIN; DELETE FROM audit_records; DELETE FROM audit_checkpoints;');
        const insert = db.prepare('INSERT INTO audit_records (instance, seq, time, agent, server, target, decision, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
        for (const r of records) insert.run(r.instance, r.seq, r.time, r.principal.agent, r.server ?? null, r.target ?? null, r.decision, JSON.stringify(r));
        const cp = db.prepare('INSERT INTO audit_checkpoints (instance, seq, checkpoint) VALUES (?, ?, ?)');
        for (const c of checkpoints) cp.run(c.instance, c.seq, JSON.stringify(c));
        db.exec('COMMIT');
      } finally {
        db.close();
      }
    },
    async close() {},
  };
}

function jsonlAccess(dir: string): StoreAccess {
  const path = join(dir, 'audit.jsonl');
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  return {
    audit: { store: 'jsonl', path },
    async read() {
      return { records: lines(path) as AuditRecord[], checkpoints: lines(`${path}.checkpoints`) as Checkpoint[] };
    },
    async write({ records, checkpoints }) {
      writeFileSync(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      writeFileSync(`${path}.checkpoints`, checkpoints.map((c) => `${JSON.stringify(c)}\n`).join(''));
    },
    async close() {},
  };
}

function postgresAccess(): StoreAccess {
  // A schema of its own (search_path), so that verify sees this trail and not other tests' chains.
  const { url, sql, drop } = pgSchema('tamper');
  return {
    audit: { store: 'postgres', url },
    async prepare() {
      await sql('SELECT 1');
    },
    async read() {
      const records = (await sql('SELECT record FROM portcullis_audit ORDER BY instance, seq')).rows.map((r: { record: string }) => JSON.parse(r.record) as AuditRecord);
      const checkpoints = (await sql('SELECT checkpoint FROM portcullis_audit_checkpoints ORDER BY instance, seq')).rows.map((r: { checkpoint: string }) => JSON.parse(r.checkpoint) as Checkpoint);
      return { records, checkpoints };
    },
    async write({ records, checkpoints }) {
      await sql('BEGIN');
      await sql('DELETE FROM portcullis_audit');
      await sql('DELETE FROM portcullis_audit_checkpoints');
      for (const r of records) {
        await sql('INSERT INTO portcullis_audit (instance, seq, time, agent, server, target, decision, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [r.instance, r.seq, r.time, r.principal.agent, r.server ?? null, r.target ?? null, r.decision, JSON.stringify(r)]);
      }
      for (const c of checkpoints) await sql('INSERT INTO portcullis_audit_checkpoints (instance, seq, checkpoint) VALUES ($1, $2, $3)', [c.instance, c.seq, JSON.stringify(c)]);
      await sql('COMMIT');
    },
    close: drop,
  };
}

/** Recomputes every link and hash from the first record on: what a rewriter without the key does. */
function rechain(records: AuditRecord[]): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = records[0]!.prevHash;
  for (const r of records) {
    const body = { ...r, prevHash: prev } as Partial<AuditRecord>;
    delete body.hash;
    const record = { ...(body as Omit<AuditRecord, 'hash'>), hash: recordHash(body as Omit<AuditRecord, 'hash'>) };
    out.push(record);
    prev = record.hash;
  }
  return out;
}

for (const kind of ['sqlite', 'jsonl', 'postgres'] as const) {
  describe(`tamper evidence with a signing key: ${kind}`, () => {
    let access: StoreAccess;
    let config: string;
    let witness: string;
    let pristine: Trail;
    let dataDir: string;
    /** What a running gateway's head note would say of a chain ending at `record` (audit/head-note.ts). */
    const noteHead = (record: { seq: number; hash: string }) => writeFileSync(headNotePath(dataDir, 'tamper'), `${JSON.stringify({ seq: record.seq, hash: record.hash })}\n`);
    /** `portcullis audit verify -c config [--witness file] [--live]` as a child process. */
    const verifyCli = (...extra: string[]) => runCli(['audit', 'verify', '-c', config, ...extra]);
    /** The same command in-process, with the same flags and the environment runCli gives the child (PATH only). */
    const verify = async (...extra: string[]) => {
      const options: { config: string; witness?: string; live?: boolean } = { config };
      for (let i = 0; i < extra.length; i++) {
        if (extra[i] === '--witness') options.witness = extra[++i];
        else if (extra[i] === '--live') options.live = true;
        else throw new Error(`verify: unexpected argument ${extra[i]}`);
      }
      let stdout = '';
      let stderr = '';
      const code = await verifyCommand(options, { out: (t) => (stdout += t), err: (t) => (stderr += t), secrets: processSecretSource({ PATH: process.env.PATH ?? '' }) });
      return { code, stdout, stderr };
    };

    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), `pc-tamper-${kind}-`));
      dataDir = dir;
      access = kind === 'sqlite' ? sqliteAccess(dir) : kind === 'jsonl' ? jsonlAccess(dir) : postgresAccess();
      await access.prepare?.();
      const keyFile = join(dir, 'audit-ed25519.pem');
      writeFileSync(keyFile, pem(), { mode: 0o600 });
      witness = join(dir, 'witness.jsonl');
      const audit = { ...access.audit, instance: 'tamper', signingKey: `file:${keyFile}`, checkpointEvery: 5, witness };
      config = join(dir, 'portcullis.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(dir)}\naudit: ${JSON.stringify(audit)}\nservers: {}\n`);
      const gw = await startGateway({
        dataDir: dir,
        audit,
        servers: { gov: recordedServer(join(dir, 'gov.log')) },
        policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] },
      });
      try {
        const session = await legacySession(`${gw.url}/mcp/gov`);
        // A denied call first (record 1), then allowed ones (intent + outcome each), denied ones between.
        for (let i = 0; i < 10; i++) {
          const name = i % 4 === 0 ? 'delete_record' : 'echo';
          await session.send({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name, arguments: name === 'echo' ? { text: `call ${i}` } : { id: `r${i}` } } });
        }
      } finally {
        await gw.close();
      }
      pristine = await access.read();
    });
    after(async () => access?.close());

    const restore = () => access.write(pristine);

    it('the untouched trail verifies, every checkpoint signed, the last one at the end of the chain', async () => {
      await restore();
      assert.ok(pristine.records.length >= 15, `a trail was written (${pristine.records.length} records)`);
      const result = await verifyCli();
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const head = pristine.records.at(-1)!.seq;
      assert.match(result.stdout, new RegExp(`^OK: ${pristine.records.length} records`));
      assert.match(result.stdout, new RegExp(`chain "tamper": ${head} records, last signed checkpoint at record ${head}`));
      assert.match(result.stdout, /witness checkpoints agree/);
    });

    it('(1) records 8–12 and the checkpoints after 5 deleted: fails, naming the unsigned tail', async () => {
      await access.write({ records: pristine.records.filter((r) => r.seq < 8), checkpoints: pristine.checkpoints.filter((c) => c.seq <= 5) });
      const result = await verify(...NO_WITNESS);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /BROKEN: chain "tamper", record 6: records 6–7 after the last signed checkpoint \(record 5\) are covered by no signature/);
      // With the witness the gateway published to, the cut itself is named.
      const witnessed = await verify('--witness', witness);
      assert.equal(witnessed.code, 1, witnessed.stdout);
      assert.match(witnessed.stdout, /the trail ends at record 7 but a checkpoint vouches for record \d+: records were cut off the end/);
    });

    it('(1b) a range deleted from the middle and re-linked, its checkpoint deleted: fails', async () => {
      // Records 1–7 keep their hashes; the later ones are renumbered and re-linked after record 7.
      const kept = pristine.records.filter((r) => r.seq < 8 || r.seq > 12).map((r) => (r.seq > 12 ? { ...r, seq: r.seq - 5 } : r));
      await access.write({ records: rechain(kept), checkpoints: pristine.checkpoints.filter((c) => c.seq <= 5) });
      const result = await verify(...NO_WITNESS);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /BROKEN: chain "tamper", record 10: no signed checkpoint at record 10/);
    });

    it('(2) a denied call rewritten as allowed, the chain recomputed, every checkpoint deleted: fails', async () => {
      const denied = pristine.records.find((r) => r.decision === 'denied')!;
      const rewritten = rechain(pristine.records.map((r) => (r.seq === denied.seq ? { ...r, decision: 'allowed' as const, code: undefined, reason: undefined } : r)));
      await access.write({ records: rewritten, checkpoints: [] });
      const result = await verify(...NO_WITNESS);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /BROKEN: chain "tamper", record 5: no signed checkpoint at record 5 \(audit.checkpointEvery: 5\): checkpoints were deleted/);
      // The witness the config names is read by default: it holds the checkpoints the store lost.
      const witnessed = await verify();
      assert.equal(witnessed.code, 1, witnessed.stdout);
      assert.match(witnessed.stdout, /record 5: differs from the signed checkpoint/);
    });

    it('(3) the same with unsigned checkpoints over the new hashes: fails (unsigned anchors)', async () => {
      const denied = pristine.records.find((r) => r.decision === 'denied')!;
      const rewritten = rechain(pristine.records.map((r) => (r.seq === denied.seq ? { ...r, decision: 'allowed' as const, code: undefined, reason: undefined } : r)));
      const unsigned = pristine.checkpoints.map((c) => ({ ...c, hash: rewritten.find((r) => r.seq === c.seq)!.hash, keyId: '', signature: '' }));
      await access.write({ records: rewritten, checkpoints: unsigned });
      const result = await verify();
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /checkpoint at record \d+ is unsigned/);
    });

    it('(3b) the same with checkpoints re-signed by another key: fails (signature invalid)', async () => {
      const mallory = new CheckpointSigner(pem());
      const denied = pristine.records.find((r) => r.decision === 'denied')!;
      const rewritten = rechain(pristine.records.map((r) => (r.seq === denied.seq ? { ...r, decision: 'allowed' as const } : r)));
      const forged = pristine.checkpoints.map((c) => mallory.sign({ instance: c.instance, seq: c.seq, hash: rewritten.find((r) => r.seq === c.seq)!.hash, time: c.time }));
      await access.write({ records: rewritten, checkpoints: forged });
      const result = await verify();
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /signature is invalid/);
    });

    it('(3c) rewritten from record 6 on with the checkpoints kept: fails at the first signed checkpoint after it', async () => {
      const rewritten = [...pristine.records.filter((r) => r.seq < 6), ...rechain(pristine.records.filter((r) => r.seq >= 6).map((r) => ({ ...r, principal: { ...r.principal, agent: 'someone-else' } })))];
      await access.write({ records: rewritten, checkpoints: pristine.checkpoints });
      const result = await verify();
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /record 6: content does not match|record 10: differs from the signed checkpoint/);
    });

    it('(4) the tail cut, checkpoints kept: fails naming the cut', async () => {
      const head = pristine.records.at(-1)!.seq;
      await access.write({ records: pristine.records.filter((r) => r.seq <= head - 3), checkpoints: pristine.checkpoints });
      const result = await verify();
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, new RegExp(`the trail ends at record ${head - 3} but a checkpoint vouches for record ${head}: records were cut off the end`));
    });

    it('(5) the tail cut to a checkpoint, later checkpoints deleted: the gateway\'s head note and the witness tell', async () => {
      await access.write({ records: pristine.records.filter((r) => r.seq <= 10), checkpoints: pristine.checkpoints.filter((c) => c.seq <= 10) });
      const noted = await verify(...NO_WITNESS);
      assert.equal(noted.code, 1, noted.stdout);
      assert.match(noted.stdout, new RegExp(`record 11: the trail ends at record 10 but its gateway's head note \\(audit-chains/tamper.head\\) says record ${pristine.records.at(-1)!.seq} was committed`));
      // Without the note (a store verified away from the gateway's data directory), only the witness can tell.
      noteHead(pristine.records.find((r) => r.seq === 10)!);
      const alone = await verify(...NO_WITNESS);
      assert.equal(alone.code, 0, alone.stdout);
      assert.match(alone.stdout, /last signed checkpoint at record 10/, 'the position is reported, so a reader can compare it');
      noteHead(pristine.records.at(-1)!);
      const result = await verifyCli('--witness', witness);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stdout, /the trail ends at record 10 but a checkpoint vouches for record \d+: records were cut off the end/);
    });

    it('--live accepts a short unsigned tail of a trail still being written, never a missing checkpoint', async () => {
      const last = Math.floor((pristine.records.at(-1)!.seq - 2) / 5) * 5;
      await access.write({ records: pristine.records.filter((r) => r.seq <= last + 2), checkpoints: pristine.checkpoints.filter((c) => c.seq <= last) });
      noteHead(pristine.records.find((r) => r.seq === last + 2)!); // where a gateway still writing has got to
      assert.equal((await verify(...NO_WITNESS)).code, 1);
      const live = await verifyCli('--live', ...NO_WITNESS);
      assert.equal(live.code, 0, live.stdout);
      await access.write({ records: pristine.records, checkpoints: pristine.checkpoints.filter((c) => c.seq !== 10) });
      noteHead(pristine.records.at(-1)!);
      const missing = await verify('--live', ...NO_WITNESS);
      assert.equal(missing.code, 1, missing.stdout);
      assert.match(missing.stdout, /no signed checkpoint at record 10/);
    });
  });
}
