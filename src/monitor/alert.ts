/**
 * Alerts and where they are kept: `<dataDir>/alerts.jsonl`, one line per alert and one per
 * acknowledgement (append-only, 0600), read by `portcullis alerts list` and written by `alerts ack`.
 * An alert names the principal, what it touched, the window it looked at and the audit records that
 * made it fire (`evidence`: positions in the audit chain `instance`) — never argument values.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../util/private-files.ts';
import type { Severity } from './schema.ts';

export type AlertKind =
  | 'first-use-tool'
  | 'first-use-server'
  | 'volume'
  | 'tool-volume'
  | 'distinct-resources'
  | 'denials'
  | 'validation'
  | 'unknown-targets'
  | 'step-up'
  | 'auth-failures'
  | 'off-hours'
  | 'scope-elevation'
  | 'supply-chain'
  | 'gateway-state'
  | 'dlp'
  | 'toxic-flow';

export interface AlertResponse {
  action: 'kill-agent' | 'kill-tool' | 'require-approval';
  /** What the kill switch holds (as `portcullis status` shows it), until when. */
  target: string;
  until: string;
  /** Why containment was not applied, when it was asked for and could not be. */
  skipped?: string;
}

export interface Alert {
  id: string;
  kind: AlertKind;
  severity: Severity;
  principal: { subject: string; agent: string; issuer?: string };
  /** The client address the alert is about (authentication failures per address). */
  address?: string;
  server?: string;
  tool?: string;
  /** The time span the detector judged. */
  window: { from: string; to: string };
  /** The audit chain and the positions (seq) of the records that made the alert fire (the last 50 at most). */
  evidence: { instance: string; seqs: number[] };
  at: string;
  /** One sentence for a human: what was seen against what is usual. */
  summary: string;
  response?: AlertResponse;
}

export interface AlertLine {
  alert: Alert;
  acked?: { by: string; at: string };
}

export class AlertStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  append(alert: Alert): void {
    appendFileSync(this.path, `${JSON.stringify({ type: 'alert', ...alert })}\n`, { mode: PRIVATE_FILE_MODE });
  }

  /** Acknowledges an alert; false when no alert has that id. */
  ack(id: string, by: string, at = new Date()): boolean {
    if (!this.list().some((line) => line.alert.id === id)) return false;
    appendFileSync(this.path, `${JSON.stringify({ type: 'ack', id, by, at: at.toISOString() })}\n`, { mode: PRIVATE_FILE_MODE });
    return true;
  }

  /** Every alert, oldest first, with its acknowledgement. A line that does not parse is skipped (and counted). */
  list(): AlertLine[] & { unreadable?: number } {
    const out: AlertLine[] & { unreadable?: number } = [];
    if (!existsSync(this.path)) return out;
    const byId = new Map<string, AlertLine>();
    let unreadable = 0;
    for (const text of readFileSync(this.path, 'utf8').split('\n')) {
      if (text.trim() === '') continue;
      try {
        const line = JSON.parse(text) as { type?: string; id?: string; by?: string; at?: string } & Alert;
        if (line.type === 'alert') {
          const { type: _type, ...alert } = line;
          const entry: AlertLine = { alert };
          byId.set(alert.id, entry);
          out.push(entry);
        } else if (line.type === 'ack' && typeof line.id === 'string') {
          const entry = byId.get(line.id);
          if (entry) entry.acked = { by: String(line.by), at: String(line.at) };
        } else unreadable += 1;
      } catch {
        unreadable += 1;
      }
    }
    if (unreadable > 0) out.unreadable = unreadable;
    return out;
  }
}
