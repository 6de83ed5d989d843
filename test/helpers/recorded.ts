/**
 * What reached a server, and what the audit trail says: the two sides every security test asserts on.
 * A server runs behind test/fixtures/recording-wrapper.ts, which appends each message it receives to a
 * log file; the gateway's SQLite audit trail is read from its data dir.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import type { AuditRecord } from '../../src/audit/record.ts';
import { pinned } from './security.ts';

const RECORDER = new URL('../fixtures/recording-wrapper.ts', import.meta.url).pathname;
export const TOOLS_SERVER = new URL('../fixtures/tools-server.ts', import.meta.url).pathname;

/** A stdio server definition running `script args…` (a Node script) behind the recorder, pinned to the script. */
export function recordedServer(log: string, script: string, args: string[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...pinned({ command: process.execPath, args: [RECORDER, log, process.execPath, script, ...args] }), ...extra };
}

export interface ReceivedMessage {
  method?: string;
  params?: Record<string, unknown>;
}

/** Every message the server behind `log` received, optionally only those of one method. */
export function received(log: string, method?: string): ReceivedMessage[] {
  if (!existsSync(log)) return [];
  const messages: ReceivedMessage[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      messages.push(JSON.parse(line) as ReceivedMessage);
    } catch {
      // a chunk boundary inside a line cannot happen with newline framing; skip what is not JSON
    }
  }
  return method === undefined ? messages : messages.filter((m) => m.method === method);
}

/** The arguments of every tools/call the server behind `log` received. */
export const callsReceived = (log: string): { name: string; arguments: Record<string, unknown> }[] =>
  received(log, 'tools/call').map((m) => m.params as { name: string; arguments: Record<string, unknown> });

/** Every record of the gateway's SQLite audit trail, in order. */
export function auditTrail(dataDir: string): AuditRecord[] {
  const db = new DatabaseSync(join(dataDir, 'audit.db'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT record FROM audit_records ORDER BY instance, seq').all() as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as AuditRecord);
  } finally {
    db.close();
  }
}
