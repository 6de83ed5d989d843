/**
 * What reached a server, and what the audit trail says: the two sides every security test asserts on.
 * A server runs behind test/fixtures/recording-wrapper.ts, which appends each message it receives to a
 * log file; the gateway's SQLite audit trail is read from its data dir. The one home of these helpers:
 * security.ts, recorder.ts, oauth.ts and audit.ts re-export or build on what is here.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { AuditRecord } from '../../src/audit/record.ts';

/**
 * `npm test` sets NODE_COMPILE_CACHE so every Node process of the suite reuses compiled modules instead
 * of parsing and type-stripping them again; server entries carry it, since a gateway passes its stdio
 * servers only a short allowlist of variables.
 */
export const COMPILE_CACHE: Record<string, string> = process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {};

export const RECORDER = new URL('../fixtures/recording-wrapper.ts', import.meta.url).pathname;
/** The gullible fixture server the security tests attack. */
export const GOVERNED = new URL('../fixtures/governed-server.ts', import.meta.url).pathname;
export const TOOLS_SERVER = new URL('../fixtures/tools-server.ts', import.meta.url).pathname;

/**
 * A stdio server entry pinned by the SHA-256 of the script Node runs (`pin: { sha256, file }`), as an
 * admin pins a local server: the first argument — behind the recording wrapper, the wrapper itself
 * (a pin must name what the interpreter runs). Pinned servers start on the shipped defaults (no
 * `supply.allowUnpinned`).
 */
export function pinned<T extends { command: string; args: string[] }>(entry: T): T & { pin: { sha256: string; file: string } } {
  const script = entry.args[0];
  if (script === undefined) throw new Error(`no script to pin in ${JSON.stringify(entry.args)}`);
  return { ...entry, pin: { sha256: createHash('sha256').update(readFileSync(script)).digest('hex'), file: script } };
}

/** A stdio server definition running `script args…` (a Node script; the governed fixture by default) behind the recorder, pinned to the script. */
export function recordedServer(log: string, script = GOVERNED, args: string[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> & { command: string; args: string[] } {
  const env = Object.keys(COMPILE_CACHE).length > 0 ? { env: COMPILE_CACHE } : {};
  return { ...pinned({ command: process.execPath, args: [RECORDER, log, process.execPath, script, ...args] }), ...env, ...extra };
}

export interface ReceivedMessage {
  id?: unknown;
  method?: string;
  params?: Record<string, unknown>;
}

/** Every message the server behind `log` received, in order, optionally only those of one method. */
export function received(log: string, method?: string): ReceivedMessage[] {
  if (!existsSync(log)) return [];
  // Newline framing: every line is one message. A line that is not JSON reached the server all the same,
  // so it throws rather than being left out of what a test asserts on.
  const messages = readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ReceivedMessage);
  return method === undefined ? messages : messages.filter((m) => m.method === method);
}

/** The arguments of every tools/call the server behind `log` received. */
export const callsReceived = (log: string): { name: string; arguments: Record<string, unknown> }[] =>
  received(log, 'tools/call').map((m) => m.params as { name: string; arguments: Record<string, unknown> });

/** `script args…` behind the recorder with a log of its own: the server entry, and what reached it. */
export function recording(script: string, args: string[] = [], extra: Record<string, unknown> = {}): {
  log: string;
  server: ReturnType<typeof recordedServer>;
  received: () => ReceivedMessage[];
  /** The tool names of every tools/call received. */
  calls: () => string[];
} {
  const log = join(mkdtempSync(join(tmpdir(), 'pc-rec-')), 'received.jsonl');
  return {
    log,
    server: recordedServer(log, script, args, extra),
    received: () => received(log),
    calls: () => received(log, 'tools/call').map((m) => String(m.params?.name)),
  };
}

/** Every record of the gateway's SQLite audit trail (in its data dir), in chain order. */
export function auditTrail(dataDir: string): AuditRecord[] {
  const db = new DatabaseSync(join(dataDir, 'audit.db'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT record FROM audit_records ORDER BY instance, seq').all() as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as AuditRecord);
  } finally {
    db.close();
  }
}
