/**
 * Where audit records go. Stores append synchronously (the record is in the store's file before the
 * client gets its answer, so a killed gateway loses no answered call) and throw when they cannot.
 */
import type { Checkpoint } from './checkpoint.ts';
import type { ColumnMismatch } from './derived-columns.ts';
import type { AuditRecord, Decision } from './record.ts';
import { globToRegExp } from '../util/glob.ts';

export interface AuditQuery {
  agent?: string;
  /** Glob on the tool/prompt/resource name (`*`, `?`). */
  target?: string;
  server?: string;
  decision?: Decision;
  /** ISO time; records at or after it. */
  since?: string;
  limit?: number;
}

export interface AuditStore {
  readonly kind: string;
  /** The last record of a chain, to continue it after a restart. */
  head(instance: string): Promise<{ seq: number; hash: string } | undefined>;
  /**
   * Appends a record. Resolves once it is in the store's file (so a killed gateway loses no answered
   * call); rejects when the store cannot take it. Records appended in the same turn of the event loop
   * may be committed together.
   */
  append(record: AuditRecord): Promise<void>;
  /**
   * Records matching the query, ordered by instance then seq. A store that copies fields into columns
   * selects by them only where they agree with the record; a row where they do not is pushed onto
   * `mismatches` and answered by what its record says — or, with no `mismatches` to report it in, fails
   * the query (ColumnMismatchError, PC_AUDIT_COLUMN_MISMATCH).
   */
  query(filter: AuditQuery, mismatches?: ColumnMismatch[]): Promise<AuditRecord[]>;
  /** Every record, ordered by instance then seq (for verification). */
  all(): AsyncIterable<AuditRecord>;
  addCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** Every checkpoint, ordered by instance then seq. */
  checkpoints(): Promise<Checkpoint[]>;
  /**
   * The last record of `instance` written before `time`, where retention may cut. Throws
   * ColumnMismatchError while a row of the chain has columns that disagree with its record.
   */
  lastBefore(instance: string, time: string): Promise<{ seq: number; hash: string } | undefined>;
  /** Deletes the records of `instance` up to and including `seq`; returns how many. */
  prune(instance: string, seq: number): Promise<number>;
  close(): Promise<void>;
}

export { globToRegExp };

export function matches(record: AuditRecord, filter: AuditQuery): boolean {
  if (filter.agent !== undefined && record.principal.agent !== filter.agent) return false;
  if (filter.server !== undefined && record.server !== filter.server) return false;
  if (filter.decision !== undefined && record.decision !== filter.decision) return false;
  if (filter.since !== undefined && record.time < filter.since) return false;
  if (filter.target !== undefined && !globToRegExp(filter.target).test(record.target ?? '')) return false;
  return true;
}
