/**
 * The PostgreSQL audit store, for teams and for several gateway replicas writing one trail (each
 * replica keeps its own chain: give each an `audit.instance`). Records appended in one turn of the
 * event loop go in one multi-row INSERT, and a call's answer waits for that commit. The canonical
 * record is stored as text, exactly as hashed.
 *
 * The store keeps the chain whole on its own side, whatever the network does: batches are written one
 * at a time, and a record is written only if it extends the chain as stored — the next sequence number
 * after the stored head, chained on its hash. After a failed write the head is not known (a commit
 * whose answer was lost may have landed), so the next batch reads it first. A record built on one that
 * was never stored (the rest of a batch that failed, queued before the failure was known) is refused,
 * never written with a gap; one whose sequence number is taken is refused by the primary key.
 *
 * The columns beside the record are copies for the indexes; every read checks them against it (derived-columns.ts).
 */
import pg from 'pg';
import type { Checkpoint } from './checkpoint.ts';
import { recordJson, type AuditRecord } from './record.ts';
import { globToRegExp, type AuditQuery, type AuditStore } from './store.ts';
import { agreeingMatches, headRecord, disagreeingRow, notedRecord, retentionCut, withDisagreeing, type ColumnMismatch, type StoredRow } from './derived-columns.ts';

const TABLE = 'portcullis_audit';
const COLUMNS = 8;
/** A row's columns and its record. */
const ROW = 'instance, seq, time, agent, server, target, decision, record';
/**
 * True where a row's columns say what its record says (`j`: the record as jsonb; NULL-safe, so a missing
 * field is a difference too). Time is compared as the record writes it (ISO, to the millisecond): a cast
 * of the record's text could fail, and below a millisecond no `--since` can tell the two apart.
 */
const AGREE = `(instance IS NOT DISTINCT FROM j ->> 'instance' AND seq::text IS NOT DISTINCT FROM j ->> 'seq'
  AND to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') IS NOT DISTINCT FROM j ->> 'time'
  AND agent IS NOT DISTINCT FROM j #>> '{principal,agent}' AND server IS NOT DISTINCT FROM j ->> 'server'
  AND target IS NOT DISTINCT FROM j ->> 'target' AND decision IS NOT DISTINCT FROM j ->> 'decision')`;

interface Pending {
  record: AuditRecord;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class PostgresAuditStore implements AuditStore {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  #ready: Promise<void> | undefined;
  #batch: Pending[] = [];
  /** The write in progress (batches are written one at a time). */
  #writing: Promise<void> = Promise.resolve();
  /** Per chain, the last record known to be stored; absent: read it before writing. */
  readonly #heads = new Map<string, { seq: number; hash: string }>();

  constructor(url: string) {
    this.#pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
    // A lost connection surfaces as a failed append (fail closed), not as a crash.
    this.#pool.on('error', () => undefined);
  }

  #schema(): Promise<void> {
    this.#ready ??= this.#pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${TABLE} (
          instance TEXT NOT NULL,
          seq BIGINT NOT NULL,
          time TIMESTAMPTZ NOT NULL,
          agent TEXT NOT NULL,
          server TEXT,
          target TEXT,
          decision TEXT NOT NULL,
          record TEXT NOT NULL,
          PRIMARY KEY (instance, seq)
        );
        CREATE INDEX IF NOT EXISTS ${TABLE}_time ON ${TABLE} (time);
        CREATE TABLE IF NOT EXISTS ${TABLE}_checkpoints (
          instance TEXT NOT NULL,
          seq BIGINT NOT NULL,
          checkpoint TEXT NOT NULL,
          PRIMARY KEY (instance, seq)
        );`,
      )
      .then(() => undefined)
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }

  async head(instance: string): Promise<{ seq: number; hash: string } | undefined> {
    await this.#schema();
    // Found by its seq column: a row whose seq column lies is no head to chain on (the gateway fails closed).
    const { rows } = await this.#pool.query<StoredRow>(`SELECT ${ROW} FROM ${TABLE} WHERE instance = $1 ORDER BY seq DESC LIMIT 1`, [instance]);
    const row = rows[0];
    if (!row) return undefined;
    const record = headRecord(row);
    return { seq: record.seq, hash: record.hash };
  }

  append(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#batch.length === 0) setImmediate(() => (this.#writing = this.#writing.then(() => this.#flush())));
      this.#batch.push({ record, resolve, reject });
    });
  }

  /** Writes what was appended since the last write (its records that extend the stored chains). */
  async #flush(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    if (batch.length === 0) return;
    let chained: Pending[];
    try {
      await this.#schema();
      chained = await this.#extending(batch);
    } catch (error) {
      for (const entry of batch) entry.reject(error as Error);
      return;
    }
    if (chained.length === 0) return;
    const values: unknown[] = [];
    const rows: string[] = [];
    chained.forEach(({ record }, i) => {
      const at = i * COLUMNS;
      rows.push(`(${Array.from({ length: COLUMNS }, (_, k) => `$${at + k + 1}`).join(', ')})`);
      values.push(record.instance, record.seq, record.time, record.principal.agent, record.server ?? null, record.target ?? null, record.decision, recordJson(record));
    });
    const written = new Map<string, { seq: number; hash: string }>();
    for (const { record } of chained) written.set(record.instance, { seq: record.seq, hash: record.hash });
    try {
      await this.#pool.query(`INSERT INTO ${TABLE} (instance, seq, time, agent, server, target, decision, record) VALUES ${rows.join(', ')}`, values);
    } catch (error) {
      // Whether the commit landed is not known (its answer may be what was lost): read the heads again.
      for (const instance of written.keys()) this.#heads.delete(instance);
      for (const entry of chained) entry.reject(error as Error);
      return;
    }
    for (const [instance, head] of written) this.#heads.set(instance, head);
    for (const entry of chained) entry.resolve();
  }

  /**
   * The entries of `batch` that extend their chain as stored, in order; the others are refused (a record
   * built on one that was never stored would leave a gap that verification reports as tampering).
   */
  async #extending(batch: readonly Pending[]): Promise<Pending[]> {
    const heads = new Map<string, { seq: number; hash: string } | undefined>();
    for (const { record } of batch) {
      if (heads.has(record.instance)) continue;
      heads.set(record.instance, this.#heads.get(record.instance) ?? (await this.head(record.instance)));
    }
    const out: Pending[] = [];
    for (const entry of batch) {
      const { record } = entry;
      // A chain with no record stored (new, or pruned to nothing by retention) takes any first record.
      const head = heads.get(record.instance);
      if (head === undefined || (record.seq === head.seq + 1 && record.prevHash === head.hash)) {
        heads.set(record.instance, { seq: record.seq, hash: record.hash });
        out.push(entry);
      } else {
        entry.reject(new Error(`record ${record.seq} of chain ${record.instance} does not extend the stored chain (its head is record ${head.seq}), so it is not written`));
      }
    }
    return out;
  }

  async query(filter: AuditQuery, mismatches?: ColumnMismatch[]): Promise<AuditRecord[]> {
    await this.#schema();
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.since) add('time >= ?', filter.since);
    if (filter.decision) add('decision = ?', filter.decision);
    if (filter.agent) add('agent = ?', filter.agent);
    if (filter.server) add('server = ?', filter.server);
    if (filter.target) add('target ~ ?', globToRegExp(filter.target).source);
    // The columns select only among rows whose columns agree with their records. Where they select (a
    // WHERE, a limit), every row whose columns disagree is found by a scan of its own — and a limit
    // reads as many more rows as there are, since they are set aside; otherwise the read below meets
    // them all. Either way they are put back by what their records say, never hidden.
    const selective = where.length > 0 || filter.limit !== undefined;
    const wrong = selective ? await this.#disagreeing() : [];
    const { rows } = await this.#pool.query<StoredRow>(
      `SELECT ${ROW} FROM ${TABLE} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${filter.limit !== undefined ? `time DESC, seq DESC LIMIT ${Math.floor(filter.limit) + wrong.length}` : 'instance, seq'}`,
      params,
    );
    const aside: Array<{ record: AuditRecord; mismatch: ColumnMismatch }> = [];
    const records = agreeingMatches(rows, filter, aside);
    // With a limit, the newest records, returned oldest first.
    return withDisagreeing(filter.limit !== undefined ? records.reverse() : records, selective ? wrong : aside, filter, mismatches);
  }

  /** Every row whose columns disagree with its record: none in a store only the gateway wrote. */
  async #disagreeing(): Promise<Array<{ record: AuditRecord; mismatch: ColumnMismatch }>> {
    // The record parsed once per row (OFFSET 0 keeps the planner from inlining the cast into each test).
    const { rows } = await this.#pool.query<StoredRow>(`SELECT ${ROW} FROM (SELECT ${ROW}, record::jsonb AS j FROM ${TABLE} OFFSET 0) parsed WHERE NOT ${AGREE} ORDER BY instance, seq`);
    return rows.map(disagreeingRow);
  }

  async *all(): AsyncIterable<AuditRecord> {
    await this.#schema();
    let after: { instance: string; seq: number } | undefined;
    for (;;) {
      // Keyset pages, so a large trail is verified in bounded memory.
      // A row whose columns disagree is noted, and verifyChain names it like an edited record.
      const { rows } = after
        ? await this.#pool.query<StoredRow>(`SELECT ${ROW} FROM ${TABLE} WHERE (instance, seq) > ($1, $2) ORDER BY instance, seq LIMIT 5000`, [after.instance, after.seq])
        : await this.#pool.query<StoredRow>(`SELECT ${ROW} FROM ${TABLE} ORDER BY instance, seq LIMIT 5000`);
      if (rows.length === 0) return;
      for (const row of rows) {
        const record = notedRecord(row);
        // The next page starts after this row's key as stored (its columns), whatever its record says.
        after = { instance: row.instance as string, seq: Number(row.seq) };
        yield record;
      }
    }
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await this.#schema();
    await this.#pool.query(
      `INSERT INTO ${TABLE}_checkpoints (instance, seq, checkpoint) VALUES ($1, $2, $3) ON CONFLICT (instance, seq) DO UPDATE SET checkpoint = EXCLUDED.checkpoint`,
      [checkpoint.instance, checkpoint.seq, JSON.stringify(checkpoint)],
    );
  }

  async checkpoints(): Promise<Checkpoint[]> {
    await this.#schema();
    const { rows } = await this.#pool.query<{ checkpoint: string }>(`SELECT checkpoint FROM ${TABLE}_checkpoints ORDER BY instance, seq`);
    return rows.map((r) => JSON.parse(r.checkpoint) as Checkpoint);
  }

  async lastBefore(instance: string, time: string): Promise<{ seq: number; hash: string } | undefined> {
    await this.#schema();
    const last = (await this.#pool.query<StoredRow>(`SELECT ${ROW} FROM ${TABLE} WHERE instance = $1 AND time < $2 ORDER BY seq DESC LIMIT 1`, [instance, time])).rows[0];
    const next = (await this.#pool.query<StoredRow>(`SELECT ${ROW} FROM ${TABLE} WHERE instance = $1 AND seq > $2 ORDER BY seq LIMIT 1`, [instance, Number(last?.seq ?? 0)])).rows[0];
    return retentionCut(last, next);
  }

  async prune(instance: string, seq: number): Promise<number> {
    await this.#schema();
    const result = await this.#pool.query(`DELETE FROM ${TABLE} WHERE instance = $1 AND seq <= $2`, [instance, seq]);
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.#writing;
    if (this.#batch.length > 0) await this.#flush();
    await this.#pool.end();
  }
}
