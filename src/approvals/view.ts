/** How an approval is shown to people: `approvals list`, the admin endpoint, the webhook. */
import type { Approval } from './store.ts';

export { displayArgs } from './shown-args.ts';

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
