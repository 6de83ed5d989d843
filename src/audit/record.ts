/**
 * The audit record, schema version 1 — one per decision — and the hash chain that makes editing,
 * deleting, inserting or reordering records detectable: each record carries the hash of the one
 * before it (per chain `instance`), and its own hash covers its canonical JSON (RFC 8785) and that link.
 */
import { hash } from 'node:crypto';
import { canonicalJson, inOrderJson } from './canonical.ts';
import { notedMismatch } from './derived-columns.ts';

export const AUDIT_SCHEMA_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);

/**
 * `intent`: the write-ahead record of a call about to be forwarded; its outcome follows in another record.
 * `alert`: an alert the behaviour monitor raised (docs/monitor.md), chained like every other record.
 */
export type Decision = 'allowed' | 'denied' | 'error' | 'timeout' | 'approval' | 'intent' | 'alert';

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
  /** The client's network address (the socket's remote address), on refusals at the HTTP front. */
  address?: string;
  task?: string;
  endpoint: string;
  server?: string;
  method: string;
  /** Tool or prompt name, or resource URI. */
  target?: string;
  /**
   * A hash over the canonical JSON of the arguments, whatever the redaction mode: HMAC-SHA-256 under the
   * deployment's key (args-hash.ts) when `argsHashScheme` says `hmac-sha256`; a plain SHA-256 in records
   * written before the field existed.
   */
  argsHash?: string;
  /** How `argsHash` (and `approval.argsHash`) were made; absent in older records (plain SHA-256). */
  argsHashScheme?: 'hmac-sha256';
  args?: unknown;
  /** On a task-augmented `tools/call`: the `task` the server received (`{ ttl }`, spec 2025-11-25 TaskMetadata). */
  taskRequest?: { ttl?: number };
  scopes: string[];
  decision: Decision;
  rule?: string;
  reason?: string;
  /** Gateway error code (PC_*) or the server's JSON-RPC error code. */
  code?: string;
  latencyMs: number;
  responseBytes?: number;
  credentialId?: string;
  /** Data-loss prevention findings: type, rule, count, where, and what was done — never the value. */
  dlp?: Array<{ type: string; rule: string; count: number; path: string; action: string; location?: string }>;
  /** Human approval (docs/approvals.md): the approval this record is about, and what happened to it. */
  approval?: ApprovalNote;
  /** Toxic-flow labels of the called tool (`private`, `untrusted`, `egress`), when the monitor tracks flows. */
  labels?: string[];
  /** Requests the server sent the client during this call that the gateway refused (method and why). */
  refusedServerRequests?: string[];
  /** On `alert` records: what the monitor raised and the records that made it fire (never argument values). */
  alert?: AuditAlert;
  prevHash: string;
  hash: string;
}

export interface AuditAlert {
  id: string;
  kind: string;
  severity: string;
  /** The audit chain and positions of the evidence records. */
  evidence: { instance: string; seqs: number[] };
  window: { from: string; to: string };
  /** The containment applied (or skipped, and why). */
  response?: { action: string; target: string; until: string; skipped?: string };
}

/** An approval step in the trail: its id, the event, who decided, and the call's argument hash. */
export interface ApprovalNote {
  id: string;
  event: 'requested' | 'granted' | 'denied' | 'declined' | 'expired' | 'used' | 'remembered';
  channel?: 'in-band' | 'out-of-band';
  by?: string;
  argsHash?: string;
}

export type UnsignedRecord = Omit<AuditRecord, 'hash'>;

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** The JSON text of records sealed here, made while hashing them (what JSON.stringify(record) writes). */
const texts = new WeakMap<AuditRecord, string>();

/**
 * Hashes a record being built and sets its hash. When its fields come in canonical order (log.ts
 * builds them so), the text hashed is JSON.stringify's, and the record's own text — the same with the
 * hash appended as the last field — is kept for the store (recordJson): one serialization, not two.
 * `native` is that text when the caller has made it already (inOrderJson(body)).
 */
export function sealRecord(body: UnsignedRecord, native = inOrderJson(body)): AuditRecord {
  const record = body as AuditRecord;
  record.hash = sha256Hex(`${body.prevHash}\n${native ?? canonicalJson(body)}`);
  if (native !== undefined && native.length > 2) texts.set(record, `${native.slice(0, -1)},"hash":"${record.hash}"}`);
  return record;
}

/** A record as JSON text: the one made when it was sealed, else JSON.stringify's. */
export function recordJson(record: AuditRecord): string {
  return texts.get(record) ?? JSON.stringify(record);
}

export function recordHash(record: UnsignedRecord): string {
  // A record being built has no hash yet: no copy without it needed.
  if (!('hash' in record)) return sha256Hex(`${record.prevHash}\n${canonicalJson(record)}`);
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
 * content does not match its hash (edited), whose link or position does not follow the previous
 * record (deleted, inserted or reordered), or that differs from a checkpoint taken at its position
 * (rewritten). `anchors` are checkpointed hashes by chain and position: a chain may start past record
 * 1 only where an anchor vouches for the record before it (retention pruned the rest).
 */
export async function verifyChain(
  records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  anchors: ReadonlyMap<string, ReadonlyMap<number, string>> = new Map(),
  options: { trustStart?: boolean; notes?: ReadonlyMap<string, { seq: number; hash: string }> | undefined } = {},
): Promise<{ checked: number; heads: Map<string, number>; firsts: Map<string, number>; broken?: ChainBreak; noted?: ChainBreak }> {
  /** The first record that differs from its chain's head note (audit/head-note.ts), reported after every other check. */
  let noted: ChainBreak | undefined;
  let checked = 0;
  const heads = new Map<string, number>();
  const firsts = new Map<string, number>();
  let instance: string | undefined;
  let expectedSeq = 0;
  let expectedPrev = GENESIS_HASH;
  const fail = (seq: number, problem: string) => ({ checked, heads, firsts, broken: { instance: instance!, seq, problem } });
  for await (const record of records) {
    if (record.instance !== instance) {
      instance = record.instance;
      firsts.set(instance, record.seq);
      expectedSeq = 1;
      expectedPrev = GENESIS_HASH;
      if (record.seq !== 1) {
        // `trustStart` (verify --since): the first record checked is taken as given.
        const anchor = anchors.get(instance)?.get(record.seq - 1) ?? (options.trustStart ? record.prevHash : undefined);
        if (anchor === undefined) return fail(record.seq, `chain starts at ${record.seq} with no checkpoint at ${record.seq - 1}: records before it were deleted`);
        expectedSeq = record.seq;
        expectedPrev = anchor;
      }
    }
    if (record.seq !== expectedSeq) {
      return fail(expectedSeq, `found record ${record.seq} where record ${expectedSeq} belongs: records were deleted, inserted or reordered`);
    }
    if (record.prevHash !== expectedPrev) {
      return fail(record.seq, 'link to the previous record is broken: a record before it was changed, deleted or inserted');
    }
    if (recordHash(record) !== record.hash) return fail(record.seq, 'content does not match its hash: the record was edited');
    const checkpointed = anchors.get(instance)?.get(record.seq);
    if (checkpointed !== undefined && checkpointed !== record.hash) {
      return fail(record.seq, 'differs from the signed checkpoint at this position: the chain was rewritten from here or earlier');
    }
    // The record holds, but the store's index columns beside it say otherwise (queries and retention read them).
    const column = notedMismatch(record)?.column;
    if (column !== undefined) return fail(record.seq, `the store's ${column} column disagrees with the record: the store was edited outside the gateway, so queries and retention could misread this call`);
    const note = options.notes?.get(instance);
    if (!noted && note?.seq === record.seq && note.hash !== record.hash) {
      noted = { instance, seq: record.seq, problem: `differs from what its gateway's head note (audit-chains/${instance}.head) says was committed at this position: the chain was rewritten from here or earlier` };
    }
    checked += 1;
    heads.set(instance, record.seq);
    expectedSeq = record.seq + 1;
    expectedPrev = record.hash;
  }
  return noted ? { checked, heads, firsts, noted } : { checked, heads, firsts };
}
