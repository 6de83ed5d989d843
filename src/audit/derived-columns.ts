/**
 * The columns the SQL stores copy out of each record (instance, seq, time, agent, server, target,
 * decision) so that queries, `--since` and retention can use an index. Only the record is hashed and
 * signed: whoever can write the store can change a column alone, and a reader that trusts it would
 * hide a call from `--decision`/`--since`, or let retention prune what it should keep (red team M6).
 * So every reader checks: `audit verify` fails on the first row whose columns disagree with its
 * record, queries return the call as its record says and name the row, and retention refuses to cut.
 */
import type { AuditRecord } from './record.ts';
import { matches, type AuditQuery } from './store.ts';

export const COLUMN_MISMATCH = 'PC_AUDIT_COLUMN_MISMATCH';

/** A row's copied-out columns as the store returns them (PostgreSQL: seq as text, time as a Date). */
export interface DerivedColumns {
  instance: unknown;
  seq: unknown;
  time: unknown;
  agent: unknown;
  server: unknown;
  target: unknown;
  decision: unknown;
}

/** A row whose columns say something its (hashed) record does not. */
export interface ColumnMismatch {
  instance: string;
  seq: number;
  column: string;
}

/** The first column of `row` that disagrees with `record`, or undefined when all agree. */
export function disagreeingColumn(row: DerivedColumns, record: AuditRecord): string | undefined {
  if (row.instance !== record.instance) return 'instance';
  if (String(row.seq) !== String(record.seq)) return 'seq';
  // PostgreSQL hands back a TIMESTAMPTZ as a Date; SQLite keeps the record's ISO text.
  if (row.time instanceof Date ? row.time.getTime() !== Date.parse(record.time) : row.time !== record.time) return 'time';
  if (row.agent !== record.principal?.agent) return 'agent';
  if (row.server !== (record.server ?? null)) return 'server';
  if (row.target !== (record.target ?? null)) return 'target';
  if (row.decision !== record.decision) return 'decision';
  return undefined;
}

function mismatchOf(row: DerivedColumns, record: AuditRecord): ColumnMismatch | undefined {
  const column = disagreeingColumn(row, record);
  return column === undefined ? undefined : { instance: record.instance, seq: record.seq, column };
}

/** A row as read: its columns and its record's text. */
export type StoredRow = DerivedColumns & { record: string };

/**
 * The record of the row a store found as a chain's head by its seq column; ColumnMismatchError when its
 * instance or seq column is not the record's (the gateway then fails closed rather than chain on it).
 * Its other columns do not decide the head: an edit there is for verify to report, not a reason to stop.
 */
export function headRecord(row: StoredRow): AuditRecord {
  const record = JSON.parse(row.record) as AuditRecord;
  const mismatch = mismatchOf(row, record);
  if (mismatch?.column === 'instance' || mismatch?.column === 'seq') throw new ColumnMismatchError(mismatch);
  return record;
}

/**
 * Where retention may cut: `last`, the last row of a chain its time column puts before the cutoff, and
 * `next`, the row after it (the chain's first row when there is no `last`). Both must agree with their
 * records (ColumnMismatchError otherwise, and nothing is pruned). Records' times grow along a chain, so
 * the cut is then where the records themselves put it: a time column set in the past (the cut would
 * take recent records) or in the future (it would keep old ones) is named, not obeyed — at the cost of
 * two rows read, not a scan of the chain.
 */
export function retentionCut(last: StoredRow | undefined, next: StoredRow | undefined): { seq: number; hash: string } | undefined {
  const checked = (row: StoredRow) => {
    const record = JSON.parse(row.record) as AuditRecord;
    const mismatch = mismatchOf(row, record);
    if (mismatch) throw new ColumnMismatchError(mismatch);
    return record;
  };
  if (next) checked(next);
  if (!last) return undefined;
  const record = checked(last);
  return { seq: record.seq, hash: record.hash };
}

/** Columns that disagree, by the record all() read them with (verifyChain reads this after the record's own hash). */
const noted = new WeakMap<AuditRecord, ColumnMismatch>();

/** The row's record for verification, a disagreement of its columns noted beside it. */
export function notedRecord(row: StoredRow): AuditRecord {
  const record = JSON.parse(row.record) as AuditRecord;
  const mismatch = mismatchOf(row, record);
  if (mismatch) noted.set(record, mismatch);
  return record;
}

/** Where the store that read `record` found its columns disagreeing with it. */
export function notedMismatch(record: AuditRecord): ColumnMismatch | undefined {
  return noted.get(record);
}

/**
 * A row the store's SQL found disagreeing: its record, and the column named. The SQL test and this one
 * can differ below a millisecond (PostgreSQL keeps microseconds): still a row the store's index reads
 * differently from its record, so it is reported as `index`, never dropped.
 */
export function disagreeingRow(row: StoredRow): { record: AuditRecord; mismatch: ColumnMismatch } {
  const record = JSON.parse(row.record) as AuditRecord;
  return { record, mismatch: mismatchOf(row, record) ?? { instance: record.instance, seq: record.seq, column: 'index' } };
}

export function mismatchText(m: ColumnMismatch): string {
  return `chain ${JSON.stringify(m.instance)}, record ${m.seq}: its ${m.column} column disagrees with the record (the store was edited outside the gateway)`;
}

/** Thrown where a reader cannot go on without trusting a column (verify's walk, retention, a query nobody collects for). */
export class ColumnMismatchError extends Error {
  readonly code = COLUMN_MISMATCH;
  readonly mismatch: ColumnMismatch;
  constructor(mismatch: ColumnMismatch) {
    super(`${COLUMN_MISMATCH}: ${mismatchText(mismatch)}`);
    this.mismatch = mismatch;
  }
}

/**
 * The records of the rows a store's SQL selected by its columns (in its order) that match `filter`, up to
 * its limit, among those whose columns agree with their records. A row whose columns disagree is not
 * judged by them: it goes to `aside` (and joins the answer, by its record, in withDisagreeing).
 */
export function agreeingMatches(rows: Iterable<StoredRow>, filter: AuditQuery, aside: Array<{ record: AuditRecord; mismatch: ColumnMismatch }>): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const row of rows) {
    const record = JSON.parse(row.record) as AuditRecord;
    const mismatch = mismatchOf(row, record);
    if (mismatch) {
      aside.push({ record, mismatch });
      continue;
    }
    if (!matches(record, filter)) continue;
    out.push(record);
    if (filter.limit !== undefined && out.length >= filter.limit) break;
  }
  return out;
}

/**
 * A query's answer with the rows whose columns disagree put back by what their records say. `agreeing`:
 * what the store's SQL selected among rows whose columns agree (ordered, and limited, by those columns).
 * `disagreeing`: every row whose columns disagree, whatever the filter. Each of those is reported to
 * `collect`, or thrown when nobody collects; the ones whose record matches the filter join the answer.
 */
export function withDisagreeing(
  agreeing: AuditRecord[],
  disagreeing: Array<{ record: AuditRecord; mismatch: ColumnMismatch }>,
  filter: AuditQuery,
  collect: ColumnMismatch[] | undefined,
): AuditRecord[] {
  if (disagreeing.length === 0) return agreeing;
  if (!collect) throw new ColumnMismatchError(disagreeing[0]!.mismatch);
  collect.push(...disagreeing.map((d) => d.mismatch));
  // A row the SQL finds disagreeing but JS reads alike (below a millisecond) is in both: once is enough.
  const wrong = new Set(disagreeing.map((d) => `${d.record.instance}\n${d.record.seq}`));
  const out = [...agreeing.filter((r) => !wrong.has(`${r.instance}\n${r.seq}`)), ...disagreeing.map((d) => d.record).filter((r) => matches(r, filter))];
  if (filter.limit === undefined) return out.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.seq - b.seq));
  // The newest by the records' own times, returned oldest first (as the stores do).
  out.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : b.seq - a.seq));
  return out.slice(0, filter.limit).reverse();
}
