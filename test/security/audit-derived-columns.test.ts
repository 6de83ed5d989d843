/**
 * Red team M6: the SQL stores copy `instance`, `seq`, `time`, `agent`, `server`, `target` and `decision`
 * out of each record into columns for their indexes, and only the record is hashed and signed. A real
 * gateway with `audit.signingKey` and a witness writes a real trail; the attacker then edits a column
 * with SQL (as the red team did with sqlite3), leaving every record, hash and signature intact.
 * `audit verify` must fail naming the row; `audit query`, `audit export` and `tail` must still return the
 * call (selected by what its record says) and exit 1 naming the row; retention must not prune by a
 * time column its record contradicts.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { AuditLog } from '../../src/audit/log.ts';
import { PostgresAuditStore } from '../../src/audit/postgres-store.ts';
import type { AuditRecord } from '../../src/audit/record.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import type { AuditStore } from '../../src/audit/store.ts';
import { exportTrail, query, tail, verify, type QueryOptions } from '../../src/cli/audit.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { holdsBuiltInSecret } from '../../src/dlp/create.ts';
import { runCli, startGateway } from '../helpers/gateway.ts';
import { pgSchema } from '../helpers/pg-schema.ts';
import { legacySession, recordedServer } from '../helpers/security.ts';

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const OLD = '2020-01-01T00:00:00.000Z';

/** SQL on the store, as whoever can write it. */
interface StoreAccess {
  audit: Record<string, unknown>;
  prepare?(): Promise<void>;
  /** Sets one column of one row of chain `cols`. */
  tamper(column: string, value: string, seq: number): Promise<void>;
  /** Puts every column back as its record says. */
  restore(): Promise<void>;
  count(): Promise<number>;
  open(): AuditStore;
  close(): Promise<void>;
}

function sqliteAccess(dir: string): StoreAccess {
  const path = join(dir, 'audit.db');
  const run = (sql: string, ...values: Array<string | number>) => {
    const db = new DatabaseSync(path);
    try {
      return db.prepare(sql).all(...values);
    } finally {
      db.close();
    }
  };
  return {
    audit: { store: 'sqlite', path },
    async tamper(column, value, seq) {
      run(`UPDATE audit_records SET ${column} = ? WHERE instance = 'cols' AND seq = ?`, value, seq);
    },
    async restore() {
      run(`UPDATE audit_records SET instance = record ->> '$.instance', seq = record ->> '$.seq', time = record ->> '$.time', agent = record ->> '$.principal.agent',
        server = record ->> '$.server', target = record ->> '$.target', decision = record ->> '$.decision'`);
    },
    async count() {
      return Number((run('SELECT count(*) AS n FROM audit_records')[0] as { n: number }).n);
    },
    open: () => new SqliteAuditStore(path),
    async close() {},
  };
}

function postgresAccess(): StoreAccess {
  // A schema of its own (search_path): this trail only, whatever other tests write.
  const { url, sql, drop } = pgSchema('columns');
  return {
    audit: { store: 'postgres', url },
    async prepare() {
      await sql('SELECT 1');
    },
    async tamper(column, value, seq) {
      await sql(`UPDATE portcullis_audit SET ${column} = $1 WHERE instance = 'cols' AND seq = $2`, [value, seq]);
    },
    async restore() {
      await sql(`UPDATE portcullis_audit SET instance = record::jsonb ->> 'instance', seq = (record::jsonb ->> 'seq')::bigint, time = (record::jsonb ->> 'time')::timestamptz,
        agent = record::jsonb #>> '{principal,agent}', server = record::jsonb ->> 'server', target = record::jsonb ->> 'target', decision = record::jsonb ->> 'decision'`);
    },
    async count() {
      return Number((await sql('SELECT count(*) AS n FROM portcullis_audit')).rows[0].n);
    },
    open: () => new PostgresAuditStore(url),
    close: drop,
  };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`audit index columns edited outside the gateway: ${kind}`, () => {
    let access: StoreAccess;
    let config: string;
    let dir: string;
    let records: AuditRecord[];
    const io = () => {
      const out = { stdout: '', stderr: '' };
      return { out, io: { out: (t: string) => (out.stdout += t), err: (t: string) => (out.stderr += t), secrets: processSecretSource({ PATH: process.env.PATH ?? '' }) } };
    };
    const verifyIn = async () => {
      const { out, io: sink } = io();
      return { code: await verify({ config }, sink), ...out };
    };
    /** `audit query --json …` in-process: exit code, the records' seqs, and stderr. */
    const queryIn = async (options: Omit<QueryOptions, 'config' | 'json'>) => {
      const { out, io: sink } = io();
      const code = await query({ config, json: true, ...options }, sink);
      const seqs = out.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as AuditRecord).seq);
      return { code, seqs, stderr: out.stderr };
    };
    const allowedSeqs = () => records.filter((r) => r.decision === 'allowed').map((r) => r.seq);

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `pc-columns-${kind}-`));
      access = kind === 'sqlite' ? sqliteAccess(dir) : postgresAccess();
      await access.prepare?.();
      const keyFile = join(dir, 'audit-ed25519.pem');
      writeFileSync(keyFile, pem(), { mode: 0o600 });
      const audit = { ...access.audit, instance: 'cols', signingKey: `file:${keyFile}`, checkpointEvery: 5, witness: join(dir, 'witness.jsonl') };
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
        // A denied call (record 1), then three allowed ones (intent + outcome each): the head is an allowed call.
        await session.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_record', arguments: { id: 'r1' } } });
        for (let i = 0; i < 3; i++) await session.send({ jsonrpc: '2.0', id: i + 2, method: 'tools/call', params: { name: 'echo', arguments: { text: `exfil-${i}` } } });
      } finally {
        await gw.close();
      }
      const store = access.open();
      records = (await store.query({})) as AuditRecord[];
      await store.close();
    });
    after(async () => access?.close());

    it('the untouched trail verifies and every allowed call is found', async () => {
      await access.restore();
      assert.deepEqual(records.map((r) => r.decision), ['denied', 'intent', 'allowed', 'intent', 'allowed', 'intent', 'allowed']);
      const verified = await verifyIn();
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      const allowed = await queryIn({ decision: 'allowed' });
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.deepEqual(allowed.seqs, allowedSeqs());
    });

    it('an allowed call whose decision column says denied: verify fails naming it; --decision allowed still returns it, exit 1', async () => {
      await access.restore();
      const target = allowedSeqs()[1]!;
      await access.tamper('decision', 'denied', target);
      const verified = await verifyIn();
      assert.equal(verified.code, 1, verified.stdout);
      assert.match(verified.stdout, new RegExp(`^BROKEN: chain "cols", record ${target}: the store's decision column disagrees with the record`));
      const allowed = await queryIn({ decision: 'allowed' });
      assert.equal(allowed.code, 1);
      assert.deepEqual(allowed.seqs, allowedSeqs());
      assert.match(allowed.stderr, new RegExp(`PC_AUDIT_COLUMN_MISMATCH: chain "cols", record ${target}: its decision column`));
      // The column's word is not taken: the call is not listed as denied, and the row is still reported.
      const denied = await queryIn({ decision: 'denied' });
      assert.equal(denied.code, 1);
      assert.deepEqual(denied.seqs, [1]);
      // Unfiltered, and `audit tail`: every record, the row named.
      const every = await queryIn({});
      assert.equal(every.code, 1);
      assert.deepEqual(every.seqs, records.map((r) => r.seq));
      const { out, io: sink } = io();
      assert.equal(await tail({ config, lines: '3', json: true }, { ...sink, onSignal: () => undefined }), 1);
      assert.deepEqual(out.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as AuditRecord).seq), records.slice(-3).map((r) => r.seq));
      assert.match(out.stderr, new RegExp(`PC_AUDIT_COLUMN_MISMATCH: chain "cols", record ${target}`));
      // The real command: exit code and count.
      const cli = await runCli(['audit', 'query', '-c', config, '--decision', 'allowed']);
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(cli.stdout, new RegExp(`\\n${allowedSeqs().length} records\\n$`));
      assert.match(cli.stderr, /PC_AUDIT_COLUMN_MISMATCH/);
    });

    // SQLite keeps a value of any storage class in any column; PostgreSQL's columns are typed.
    if (kind === 'sqlite') it('a column rewritten as a BLOB of the same bytes: verify fails; filtered queries still return the call, exit 1, no crash (red team N1)', async () => {
      await access.restore();
      const target = allowedSeqs()[0]!;
      for (const column of ['decision', 'time', 'agent'] as const) {
        const db = new DatabaseSync(join(dir, 'audit.db'));
        try {
          db.prepare(`UPDATE audit_records SET ${column} = CAST(${column} AS BLOB) WHERE instance = 'cols' AND seq = ?`).run(target);
        } finally {
          db.close();
        }
        const verified = await verifyIn();
        assert.equal(verified.code, 1, verified.stdout);
        assert.match(verified.stdout, new RegExp(`record ${target}: the store's ${column} column disagrees`));
        for (const filter of [{ decision: 'allowed' }, { since: '1h' }] as const) {
          const found = await queryIn(filter);
          assert.equal(found.code, 1, `${column} ${JSON.stringify(filter)}: ${found.stderr}`);
          assert.ok(found.seqs.includes(target), `${column} ${JSON.stringify(filter)}: the call is returned`);
          assert.match(found.stderr, /PC_AUDIT_COLUMN_MISMATCH/);
        }
        await access.restore();
      }
    });

    it('a recent call whose time column says 2020: verify fails; --since, --limit and export --since still return it, exit 1', async () => {
      await access.restore();
      const head = records.at(-1)!.seq;
      await access.tamper('time', OLD, head);
      const verified = await verifyIn();
      assert.equal(verified.code, 1, verified.stdout);
      assert.match(verified.stdout, new RegExp(`^BROKEN: chain "cols", record ${head}: the store's time column disagrees with the record`));
      const recent = await queryIn({ since: '1h' });
      assert.equal(recent.code, 1);
      assert.deepEqual(recent.seqs, records.map((r) => r.seq));
      assert.match(recent.stderr, new RegExp(`record ${head}: its time column`));
      const newest = await queryIn({ limit: '1' });
      assert.equal(newest.code, 1);
      assert.deepEqual(newest.seqs, [head]);
      const file = join(dir, `export-${randomUUID()}.jsonl`);
      const { out, io: sink } = io();
      const code = await exportTrail({ config, since: '1h', to: file }, sink);
      assert.equal(code, 1, out.stderr);
      assert.match(out.stderr, /PC_AUDIT_COLUMN_MISMATCH/);
      const exported = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as AuditRecord).seq);
      assert.deepEqual(exported, records.map((r) => r.seq));
    });

    /** Per column: the query option that filters on it, and what the records say it matches. */
    const filters = {
      agent: (r: AuditRecord) => ({ agent: r.principal.agent }),
      server: (r: AuditRecord) => ({ server: r.server! }),
      target: (r: AuditRecord) => ({ tool: r.target! }),
    } as const;
    const sameIn = { agent: (a: AuditRecord, b: AuditRecord) => a.principal.agent === b.principal.agent, server: (a: AuditRecord, b: AuditRecord) => a.server === b.server, target: (a: AuditRecord, b: AuditRecord) => a.target === b.target };
    for (const column of ['agent', 'server', 'target'] as const) {
      it(`an allowed call whose ${column} column is edited: verify fails naming it; the filter on ${column} still returns it`, async () => {
        await access.restore();
        const target = allowedSeqs()[0]!;
        const truth = records.find((r) => r.seq === target)!;
        const expected = records.filter((r) => sameIn[column](r, truth)).map((r) => r.seq);
        await access.tamper(column, 'someone-else', target);
        const verified = await verifyIn();
        assert.equal(verified.code, 1, verified.stdout);
        assert.match(verified.stdout, new RegExp(`^BROKEN: chain "cols", record ${target}: the store's ${column} column disagrees with the record`));
        const found = await queryIn(filters[column](truth));
        assert.equal(found.code, 1);
        assert.ok(found.seqs.includes(target), `record ${target} is returned (${found.seqs.join(',')})`);
        assert.deepEqual(found.seqs, expected);
      });
    }

    it('retention does not prune by a time column the record contradicts', async () => {
      await access.restore();
      const before = await access.count();
      // The newest record's time column set to 2020: a retention that trusts it prunes the whole chain.
      await access.tamper('time', OLD, records.at(-1)!.seq);
      const store = access.open();
      // No call is recorded here, so the arguments' hasher (keyed, on branches that have one) is never used.
      const options = {
        openStore: async () => store,
        kind,
        instance: 'cols',
        gatewayId: 'g',
        redactFields: [],
        holdsSecret: holdsBuiltInSecret,
        argumentsModeFor: () => 'redacted' as const,
        argsHash: (_args: unknown) => 'unused',
        logger: pino({ level: 'silent' }),
        retryMs: 0,
        retentionDays: 30,
      };
      const log = new AuditLog(options);
      await log.open();
      try {
        await assert.rejects(log.applyRetention(), (error: Error & { code?: string }) => error.code === 'PC_AUDIT_COLUMN_MISMATCH');
      } finally {
        await log.close();
      }
      assert.equal(await access.count(), before);
    });
  });
}
