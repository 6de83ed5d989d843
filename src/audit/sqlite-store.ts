/**
 * The embedded audit store: one SQLite file (`node:sqlite`, no native add-on) in WAL mode with
 * `synchronous=NORMAL` — each append is a few microseconds and survives a killed process; only a power
 * loss can drop the last transactions. The canonical record is stored whole; a few columns are copied
 * out of it for querying, and every read checks them against it (derived-columns.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ensurePrivateFile, PRIVATE_DIR_MODE } from '../util/private-files.ts';
import type { Checkpoint } from './checkpoint.ts';
import { recordJson, type AuditRecord } from './record.ts';
import type { AuditQuery, AuditStore } from './store.ts';
import { agreeingMatches, headRecord, disagreeingRow, notedRecord, retentionCut, withDisagreeing, type ColumnMismatch, type StoredRow } from './derived-columns.ts';

/**
 * WAL pages between checkpoints (SQLite's default: 1,000). A checkpoint runs inside the committing call
 * and fsyncs the log and the database: a pause every call in flight waits for. A checkpoint copies each
 * page once however often it was rewritten (appends rewrite the same last pages of the table and of its
 * time index), so a ten times longer log copies no more pages in all and fsyncs ten times less often
 * (docs/performance.md). The log file then takes up to ~40 MB on disk, reused after each checkpoint.
 */
const WAL_CHECKPOINT_PAGES = 10_000;

/** A row's columns and its record. */
const ROW = 'instance, seq, time, agent, server, target, decision, record';
/**
 * True where a row's columns say what its record says: SQLite's JSON of the columns against the same
 * fields read from the record in one parse (a missing field reads as null, so it differs too). A column
 * or record of another storage class (a BLOB with the same bytes: red team N1) disagrees, and is never
 * handed to the JSON functions, which refuse BLOBs (CASE evaluates its result only when its test holds).
 */
const AGREE = `(CASE WHEN typeof(record) = 'text' AND typeof(instance) = 'text' AND typeof(seq) = 'integer' AND typeof(time) = 'text' AND typeof(agent) = 'text' AND typeof(server) IN ('text', 'null') AND typeof(target) IN ('text', 'null') AND typeof(decision) = 'text' THEN json_array(instance, seq, time, agent, server, target, decision) = json_extract(record, '$.instance', '$.seq', '$.time', '$.principal.agent', '$.server', '$.target', '$.decision') ELSE 0 END)`;

export class SqliteAuditStore implements AuditStore {
  readonly kind = 'sqlite';
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  /**
   * The group commit's BEGIN, COMMIT and ROLLBACK, prepared once: `exec` parses its SQL on every call,
   * and a commit runs once or twice per call (intent, outcome).
   */
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  /** Records waiting for the group commit at the end of this turn of the event loop. */
  #batch: Array<{ record: AuditRecord; resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    if (path !== ':memory:') {
      // Private whatever the umask: the -wal and -shm files SQLite makes take the database file's mode.
      mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
      ensurePrivateFile(path);
    }
    this.#db = new DatabaseSync(path);
    this.#db.exec(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 1000}; PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES};`,
    );
    this.#db.exec(`CREATE TABLE IF NOT EXISTS audit_records (
      instance TEXT NOT NULL,
      seq INTEGER NOT NULL,
      time TEXT NOT NULL,
      agent TEXT NOT NULL,
      server TEXT,
      target TEXT,
      decision TEXT NOT NULL,
      record TEXT NOT NULL,
      PRIMARY KEY (instance, seq)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS audit_time ON audit_records (time);
    CREATE TABLE IF NOT EXISTS audit_checkpoints (
      instance TEXT NOT NULL,
      seq INTEGER NOT NULL,
      checkpoint TEXT NOT NULL,
      PRIMARY KEY (instance, seq)
    ) WITHOUT ROWID;`);
    this.#insert = this.#db.prepare('INSERT INTO audit_records (instance, seq, time, agent, server, target, decision, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#begin = this.#db.prepare('BEGIN IMMEDIATE');
    this.#commit = this.#db.prepare('COMMIT');
    this.#rollback = this.#db.prepare('ROLLBACK');
  }

  async head(instance: string): Promise<{ seq: number; hash: string } | undefined> {
    // Found by its seq column: a row whose seq column lies is no head to chain on (the gateway fails closed).
    const row = this.#db.prepare(`SELECT ${ROW} FROM audit_records WHERE instance = ? ORDER BY seq DESC LIMIT 1`).get(instance) as StoredRow | undefined;
    if (!row) return undefined;
    const record = headRecord(row);
    return { seq: record.seq, hash: record.hash };
  }

  append(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#batch.length === 0) setImmediate(() => this.#flush());
      this.#batch.push({ record, resolve, reject });
    });
  }

  /**
   * Group commit: every record appended in one turn goes in one transaction (one WAL append). A turn
   * with one record — every commit of a lone caller, the intent and then the outcome of each call — is
   * that INSERT alone: SQLite runs a statement outside BEGIN as its own transaction, taking the write
   * lock (with the busy timeout) and committing when it ends, or rolling itself back when it fails — the
   * same transaction without running BEGIN and COMMIT as statements of their own (~3,000 of the
   * ~51,000 instructions a one-record commit costs, callgrind; the same system calls).
   */
  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    if (batch.length === 1) {
      const entry = batch[0]!;
      try {
        this.#insertRecord(entry.record);
      } catch (error) {
        entry.reject(error as Error);
        return;
      }
      entry.resolve();
      return;
    }
    try {
      this.#begin.run();
      try {
        for (const { record } of batch) this.#insertRecord(record);
        this.#commit.run();
      } catch (error) {
        this.#rollback.run();
        throw error;
      }
    } catch (error) {
      for (const entry of batch) entry.reject(error as Error);
      return;
    }
    for (const entry of batch) entry.resolve();
  }

  #insertRecord(record: AuditRecord): void {
    this.#insert.run(record.instance, record.seq, record.time, record.principal.agent, record.server ?? null, record.target ?? null, record.decision, recordJson(record));
  }

  async query(filter: AuditQuery, mismatches?: ColumnMismatch[]): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.since) {
      where.push('time >= ?');
      params.push(filter.since);
    }
    if (filter.decision) {
      where.push('decision = ?');
      params.push(filter.decision);
    }
    // With a limit, the newest records (read newest first, returned oldest first): what an incident needs.
    const newest = filter.limit !== undefined;
    // The columns select only among rows whose columns agree with their records. Where they select (a
    // WHERE, a limit), every row whose columns disagree is found by a scan of its own; otherwise the read
    // below meets them all. Either way they are put back by what their records say, never hidden.
    const selective = where.length > 0 || newest;
    const aside: Array<{ record: AuditRecord; mismatch: ColumnMismatch }> = [];
    const sql = `SELECT ${ROW} FROM audit_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${newest ? 'time DESC, seq DESC' : 'instance, seq'}`;
    const out = agreeingMatches(this.#db.prepare(sql).iterate(...params) as Iterable<StoredRow>, filter, aside);
    return withDisagreeing(newest ? out.reverse() : out, selective ? this.#disagreeing() : aside, filter, mismatches);
  }

  /** Every row whose columns disagree with its record: none in a store only the gateway wrote. */
  #disagreeing(): Array<{ record: AuditRecord; mismatch: ColumnMismatch }> {
    const rows = this.#db.prepare(`SELECT ${ROW} FROM audit_records WHERE NOT ${AGREE} ORDER BY instance, seq`).all() as unknown as StoredRow[];
    return rows.map(disagreeingRow);
  }

  async *all(): AsyncIterable<AuditRecord> {
    // For verification: a row whose columns disagree is noted, and verifyChain names it like an edited record.
    for (const row of this.#db.prepare(`SELECT ${ROW} FROM audit_records ORDER BY instance, seq`).iterate() as Iterable<StoredRow>) yield notedRecord(row);
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.#db.prepare('INSERT OR REPLACE INTO audit_checkpoints (instance, seq, checkpoint) VALUES (?, ?, ?)').run(checkpoint.instance, checkpoint.seq, JSON.stringify(checkpoint));
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const rows = this.#db.prepare('SELECT checkpoint FROM audit_checkpoints ORDER BY instance, seq').all() as Array<{ checkpoint: string }>;
    return rows.map((r) => JSON.parse(r.checkpoint) as Checkpoint);
  }

  async lastBefore(instance: string, time: string): Promise<{ seq: number; hash: string } | undefined> {
    const last = this.#db.prepare(`SELECT ${ROW} FROM audit_records WHERE instance = ? AND time < ? ORDER BY seq DESC LIMIT 1`).get(instance, time) as StoredRow | undefined;
    const next = this.#db.prepare(`SELECT ${ROW} FROM audit_records WHERE instance = ? AND seq > ? ORDER BY seq LIMIT 1`).get(instance, Number(last?.seq ?? 0)) as StoredRow | undefined;
    return retentionCut(last, next);
  }

  async prune(instance: string, seq: number): Promise<number> {
    return Number(this.#db.prepare('DELETE FROM audit_records WHERE instance = ? AND seq <= ?').run(instance, seq).changes);
  }

  async close(): Promise<void> {
    if (this.#batch.length > 0) this.#flush();
    this.#db.close();
  }
}
