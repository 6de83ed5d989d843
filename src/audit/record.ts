/**
 * The audit record, schema version 1 — one per decision — and the hash chain that makes editing,
 * deleting, inserting or reordering records detectable: each record carries the hash of the one
 * before it (per chain `instance`), and its own hash covers its canonical JSON (RFC 8785) and that link.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

export const AUDIT_SCHEMA_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);

export type Decision = 'allowed' | 'denied' | 'error' | 'timeout' | 'approval';

export interface AuditRecord {
  /** Schema version. */
  v: 1;
  /** Chain name (audit.instance) and position in it, from 1. */
  instance: string;
  seq: number;
  /** The gateway process that wrote it (random per start). */
  gatewayId: string;
  time: string;
  /** The client's JSON-RPC id and the gateway's correlation id (also in logs and error data). */
  requestId: string | number | null;
  correlationId: string;
  /** SHA-256 prefix of the downstream session id (the id itself is never stored). */
  session?: string;
  principal: { subject: string; agent: string; issuer?: string; tokenId?: string };
  task?: string;
  endpoint: string;
  server?: string;
  method: string;
  /** Tool or prompt name, or resource URI. */
  target?: string;
  /** SHA-256 over the canonical JSON of the arguments, whatever the redaction mode. */
  argsHash?: string;
  args?: unknown;
  scopes: string[];
  decision: Decision;
  rule?: string;
  reason?: string;
  /** Gateway error code (PC_*) or the server's JSON-RPC error code. */
  code?: string;
  latencyMs: number;
  responseBytes?: number;
  credentialId?: string;
  prevHash: string;
  hash: string;
}

export type UnsignedRecord = Omit<AuditRecord, 'hash'>;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function recordHash(record: UnsignedRecord): string {
  const { hash: _ignored, ...body } = record as AuditRecord;
  return sha256Hex(`${record.prevHash}\n${canonicalJson(body)}`);
}

export interface ChainBreak {
  instance: string;
  seq: number;
  problem: string;
}

/**
 * Walks records (ordered by instance, then seq) and returns the first break, if any: a record whose
 * content does not match its hash (edited), or whose link or position does not follow the previous
 * record (deleted, inserted or reordered).
 */
export async function verifyChain(
  records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  from: ReadonlyMap<string, { seq: number; hash: string }> = new Map(),
): Promise<{ checked: number; broken?: ChainBreak }> {
  let checked = 0;
  let instance: string | undefined;
  let expectedSeq = 0;
  let expectedPrev = GENESIS_HASH;
  for await (const record of records) {
    if (record.instance !== instance) {
      instance = record.instance;
      const start = from.get(instance);
      expectedSeq = start ? start.seq + 1 : 1;
      expectedPrev = start ? start.hash : GENESIS_HASH;
      if (!start && record.seq !== 1) {
        // A chain that does not start at 1 was pruned; accept its first record as the anchor only
        // when a checkpoint vouches for it (passed in `from`), otherwise the head was deleted.
        return { checked, broken: { instance, seq: record.seq, problem: `chain starts at ${record.seq}: records before it were deleted` } };
      }
    }
    if (record.seq !== expectedSeq) {
      return { checked, broken: { instance, seq: expectedSeq, problem: `found record ${record.seq} where record ${expectedSeq} belongs: records were deleted, inserted or reordered` } };
    }
    if (record.prevHash !== expectedPrev) {
      return { checked, broken: { instance, seq: record.seq, problem: 'link to the previous record is broken: a record before it was changed, deleted or inserted' } };
    }
    if (recordHash(record) !== record.hash) {
      return { checked, broken: { instance, seq: record.seq, problem: 'content does not match its hash: the record was edited' } };
    }
    checked += 1;
    expectedSeq = record.seq + 1;
    expectedPrev = record.hash;
  }
  return { checked };
}
