/**
 * The approval queue on disk: `<dataDir>/approvals.db` (SQLite, WAL, 0600), shared by the gateway and
 * `portcullis approvals` — the gateway files requests and uses grants, the command line and the admin
 * endpoint decide. Rows outlive the gateway process, so a grant made while it restarts still counts.
 *
 * An approval covers exactly one call (its binding): the principal, the server, the target kind and name,
 * and the keyed hash of the canonical arguments (the audit's `argsHash`, audit/args-hash.ts). It is used at most once
 * (`consume` is one conditional UPDATE), only before it expires, and only by a call with the same binding.
 * What is stored of the arguments is the redacted form the audit would write, never the values of
 * redacted fields.
 */
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { GatewayError } from '../errors.ts';
import { ensurePrivateDir, ensurePrivateFile } from '../util/private-files.ts';

export type ApprovalStatus = 'pending' | 'granted' | 'denied' | 'expired' | 'used';

/** What an approval is bound to: a call has to name all of it to use the approval. */
export interface ApprovalBinding {
  /** `principalKey` of the caller. */
  readonly principal: string;
  readonly server: string;
  /** tool, prompt, resource or method. */
  readonly kind: string;
  readonly name: string;
  readonly argsHash: string;
}

export interface Approval extends ApprovalBinding {
  id: string;
  subject: string;
  agent: string;
  /** The arguments as the audit would record them (redacted), JSON. */
  args: string;
  rule: string;
  reason: string;
  /** Roles of which the approver must hold one; null: any approver. */
  approvers: string[] | null;
  /** in-band (the caller's user answered) or out-of-band (the queue). */
  channel: 'in-band' | 'out-of-band';
  createdAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedAt: number | null;
  note: string | null;
  usedAt: number | null;
  rememberMs: number | null;
  /** Events already written to the audit trail, comma-separated. */
  recorded: string;
}

/** Who decides: a verified principal on the admin endpoint, or the operator at the command line. */
export interface Approver {
  /** The name recorded (an operator's --by, or the principal's subject). */
  name: string;
  /** The verified principal's key and roles (admin endpoint); absent for the command line. */
  principalKey?: string;
  subject?: string;
  agent?: string;
  roles?: readonly string[];
  /** The call's own user on the gateway's approval page (URL-mode elicitation): may decide an in-band approval. */
  ownUser?: boolean;
}

const COLUMNS = `id, principal, server, kind, name, args_hash, subject, agent, args, rule, reason, approvers, channel,
  created_at, expires_at, status, decided_by, decided_at, note, used_at, remember_ms, recorded`;

type Row = Record<string, string | number | null>;

function fromRow(row: Row): Approval {
  const text = (key: string): string => String(row[key] ?? '');
  const num = (key: string): number | null => (row[key] === null || row[key] === undefined ? null : Number(row[key]));
  return {
    id: text('id'),
    principal: text('principal'),
    server: text('server'),
    kind: text('kind'),
    name: text('name'),
    argsHash: text('args_hash'),
    subject: text('subject'),
    agent: text('agent'),
    args: text('args'),
    rule: text('rule'),
    reason: text('reason'),
    approvers: row.approvers ? (JSON.parse(String(row.approvers)) as string[]) : null,
    channel: text('channel') as Approval['channel'],
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    status: text('status') as ApprovalStatus,
    decidedBy: row.decided_by === null ? null : text('decided_by'),
    decidedAt: num('decided_at'),
    note: row.note === null ? null : text('note'),
    usedAt: num('used_at'),
    rememberMs: num('remember_ms'),
    recorded: text('recorded'),
  };
}

export const sameBinding = (a: ApprovalBinding, b: ApprovalBinding): boolean =>
  a.principal === b.principal && a.server === b.server && a.kind === b.kind && a.name === b.name && a.argsHash === b.argsHash;

/**
 * Approval ids: 16 random bytes in hex — what the command line and the admin endpoint take. Hex, not
 * base64url: an id starting with "-" would be read as an option by the command line.
 */
const ID = /^[0-9a-f]{32}$/;
export const isApprovalId = (text: string): boolean => ID.test(text);

export class ApprovalStore {
  readonly path: string;
  readonly #db: DatabaseSync;
  /**
   * Statements by their SQL, prepared once: the queue's sweep runs two every `pollMs` (250 ms) whether
   * or not anything waits, and preparing parses the SQL each time (~170,000 instructions a sweep).
   */
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string) {
    this.path = path;
    ensurePrivateDir(dirname(path));
    ensurePrivateFile(path);
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS approvals (
        id TEXT PRIMARY KEY, principal TEXT NOT NULL, server TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        args_hash TEXT NOT NULL, subject TEXT NOT NULL, agent TEXT NOT NULL, args TEXT NOT NULL, rule TEXT NOT NULL,
        reason TEXT NOT NULL, approvers TEXT, channel TEXT NOT NULL, created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL, status TEXT NOT NULL, decided_by TEXT, decided_at INTEGER, note TEXT,
        used_at INTEGER, remember_ms INTEGER, recorded TEXT NOT NULL DEFAULT '');
      CREATE INDEX IF NOT EXISTS approvals_binding ON approvals (principal, server, name, args_hash);
      CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status);
    `);
  }

  create(input: Omit<Approval, 'id' | 'status' | 'decidedBy' | 'decidedAt' | 'note' | 'usedAt' | 'recorded'>): Approval {
    const id = randomBytes(16).toString('hex');
    this.#sql(`INSERT INTO approvals (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL, NULL, NULL, NULL, ?, '')`)
      .run(id, input.principal, input.server, input.kind, input.name, input.argsHash, input.subject, input.agent, input.args, input.rule, input.reason, input.approvers ? JSON.stringify(input.approvers) : null, input.channel, input.createdAt, input.expiresAt, input.rememberMs);
    return this.get(id)!;
  }

  get(id: string): Approval | undefined {
    const row = this.#sql(`SELECT ${COLUMNS} FROM approvals WHERE id = ?`).get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Approvals by status (all when omitted), oldest first, at most `limit`. */
  list(status?: ApprovalStatus, limit = 1000): Approval[] {
    const rows = status
      ? this.#sql(`SELECT ${COLUMNS} FROM approvals WHERE status = ? ORDER BY created_at, id LIMIT ?`).all(status, limit)
      : this.#sql(`SELECT ${COLUMNS} FROM approvals ORDER BY created_at, id LIMIT ?`).all(limit);
    return (rows as Row[]).map(fromRow);
  }

  /**
   * What stands for this exact call now: a grant not yet used, a request still waiting, a denial (all
   * three until the approval's expiry: a denied call is not put to the approvers again before then), or a
   * used grant whose `remember` window is still open. A grant wins over the others. A denial on the
   * approval page (in band, URL mode) is the user's own no to that one question, like a declined form: the
   * call made again is asked again.
   */
  standing(binding: ApprovalBinding, now: number): Approval | undefined {
    const rows = this.#sql(`SELECT ${COLUMNS} FROM approvals WHERE principal = ? AND server = ? AND kind = ? AND name = ? AND args_hash = ?
        AND ((status IN ('pending', 'granted', 'denied') AND expires_at > ? AND NOT (status = 'denied' AND channel = 'in-band')) OR (status = 'used' AND remember_ms IS NOT NULL AND used_at + remember_ms > ?))
        ORDER BY created_at DESC LIMIT 5`)
      .all(binding.principal, binding.server, binding.kind, binding.name, binding.argsHash, now, now) as Row[];
    const found = rows.map(fromRow);
    return found.find((a) => a.status === 'granted') ?? found.find((a) => a.status === 'used') ?? found[0];
  }

  pendingCount(principal?: string): number {
    const row = principal
      ? this.#sql(`SELECT COUNT(*) AS n FROM approvals WHERE status = 'pending' AND principal = ?`).get(principal)
      : this.#sql(`SELECT COUNT(*) AS n FROM approvals WHERE status = 'pending'`).get();
    return Number((row as { n: number }).n);
  }

  /**
   * Grants or denies a waiting approval. Refused: an unknown id, one that is no longer waiting or has
   * expired, an approver deciding their own call (same principal, subject or agent name), and — when the
   * rule names approver roles — a verified approver holding none of them.
   */
  decide(id: string, decision: 'granted' | 'denied', approver: Approver, note: string | undefined, now: number): Approval | GatewayError {
    const approval = this.get(id);
    if (!approval) return new GatewayError('PC_APPROVAL_UNKNOWN', `no approval with id "${id}" (see portcullis approvals list)`);
    if (approval.status !== 'pending' || approval.expiresAt <= now) {
      return new GatewayError('PC_APPROVAL_UNKNOWN', `approval "${id}" is not waiting (it is ${approval.expiresAt <= now && approval.status === 'pending' ? 'expired' : approval.status})`);
    }
    if (decision === 'granted' && !(approver.ownUser && approval.channel === 'in-band')) {
      const self =
        approver.principalKey === approval.principal ||
        approver.subject === approval.subject ||
        approver.agent === approval.agent ||
        approver.name === approval.subject ||
        approver.name === approval.agent;
      if (self) return new GatewayError('PC_APPROVAL_SELF', `approval "${id}" was asked for by ${approval.subject} (agent ${approval.agent}); a call cannot be approved by whoever made it`);
      if (approval.approvers && approver.roles !== undefined && !approval.approvers.some((role) => approver.roles!.includes(role))) {
        return new GatewayError('PC_APPROVAL_NOT_APPROVER', `approval "${id}" needs an approver with one of the roles ${approval.approvers.join(', ')}`, { approvers: approval.approvers });
      }
    }
    const changed = this.#sql(`UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ? AND status = 'pending' AND expires_at > ?`)
      .run(decision, approver.name, now, note ?? null, id, now);
    if (Number(changed.changes) !== 1) return new GatewayError('PC_APPROVAL_UNKNOWN', `approval "${id}" is not waiting any more`);
    return this.get(id)!;
  }

  /** Uses a grant for the call with this binding: true once, for an unexpired grant of exactly that call. */
  consume(id: string, binding: ApprovalBinding, now: number): boolean {
    const changed = this.#sql(`UPDATE approvals SET status = 'used', used_at = ? WHERE id = ? AND status = 'granted' AND expires_at > ?
        AND principal = ? AND server = ? AND kind = ? AND name = ? AND args_hash = ?`)
      .run(now, id, now, binding.principal, binding.server, binding.kind, binding.name, binding.argsHash);
    return Number(changed.changes) === 1;
  }

  /** Marks waiting and granted-but-unused approvals past their time as expired; returns them. */
  expireDue(now: number): Approval[] {
    const due = (this.#sql(`SELECT ${COLUMNS} FROM approvals WHERE status IN ('pending', 'granted') AND expires_at <= ?`).all(now) as Row[]).map(fromRow);
    for (const approval of due) this.#sql(`UPDATE approvals SET status = 'expired' WHERE id = ? AND status = ?`).run(approval.id, approval.status);
    return due.map((a) => ({ ...a, status: 'expired' as const }));
  }

  /**
   * Decisions and expiries not yet written to the audit trail (decided by another process, or before a
   * restart), with the event each one owes: a used grant still owes its `granted` record.
   */
  unrecorded(): Array<{ approval: Approval; event: 'granted' | 'denied' | 'expired' }> {
    const rows = this.#sql(`SELECT ${COLUMNS} FROM approvals WHERE status <> 'pending'
        AND instr(',' || recorded || ',', ',' || (CASE status WHEN 'used' THEN 'granted' ELSE status END) || ',') = 0 LIMIT 500`)
      .all() as Row[];
    return rows.map(fromRow).map((approval) => ({ approval, event: approval.status === 'used' ? 'granted' : (approval.status as 'granted' | 'denied' | 'expired') }));
  }

  markRecorded(id: string, event: string): void {
    this.#sql(`UPDATE approvals SET recorded = CASE WHEN recorded = '' THEN ? ELSE recorded || ',' || ? END WHERE id = ?`).run(event, event, id);
  }

  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) this.#statements.set(text, (statement = this.#db.prepare(text)));
    return statement;
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}
