/** How an approval is shown to people: `approvals list`, the admin endpoint, the webhook. */
import { displayJson } from '../audit/display.ts';
import type { Approval } from './store.ts';

export interface ApprovalView {
  id: string;
  server: string;
  tool: string;
  kind: string;
  principal: string;
  agent: string;
  argsHash: string;
  /** The arguments as the audit records them (redacted). */
  arguments: unknown;
  rule: string;
  reason: string;
  approvers: string[] | null;
  channel: string;
  status: string;
  createdAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
}

/**
 * The arguments as one line a person can read: JSON (short fields first: shortFirst), invisible and
 * control characters escaped, cut at `maxChars` with what was left out and the hash that binds the
 * approval to all of it.
 */
export function displayArgs(args: unknown, argsHash: string, maxChars = 2000): string {
  // Characters a person cannot see or that break a line are shown as \u escapes: what is shown is what runs.
  const text = displayJson(JSON.stringify(shortFirst(args)) ?? 'null');
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}… (${text.length - maxChars} more characters; argsHash of the arguments ${argsHash})`;
}

/** A scalar this short is shown before every longer field (SHORT_FIRST). */
const SHORT = 200;

/**
 * The top-level fields with short scalars (numbers, booleans, null, strings up to SHORT characters) first,
 * each group in the caller's order: a long harmless field the caller put first cannot push the decisive
 * one (the recipient, the amount) past the cut (red team K3). Only the display is reordered; the approval
 * binds the arguments as sent (argsHash).
 */
function shortFirst(args: unknown): unknown {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return args;
  const entries = Object.entries(args);
  const short = ([, v]: [string, unknown]): boolean => v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= SHORT);
  return Object.fromEntries([...entries.filter(short), ...entries.filter((e) => !short(e))]);
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function describeApproval(a: Approval): ApprovalView {
  let args: unknown;
  try {
    args = JSON.parse(a.args);
  } catch {
    args = null;
  }
  return {
    id: a.id,
    server: a.server,
    tool: a.name,
    kind: a.kind,
    principal: a.subject,
    agent: a.agent,
    argsHash: a.argsHash,
    arguments: args,
    rule: a.rule,
    reason: a.reason,
    approvers: a.approvers,
    channel: a.channel,
    status: a.status,
    createdAt: iso(a.createdAt)!,
    expiresAt: iso(a.expiresAt)!,
    decidedBy: a.decidedBy,
    decidedAt: iso(a.decidedAt),
    note: a.note,
  };
}
