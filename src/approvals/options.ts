/**
 * A rule's approval terms with their defaults, and durations written like `90s`, `10m`, `1h` (or
 * `500ms`). The schema of the `approval:` option and of the `approvals` section is in ./schema.ts
 * (zod), which the running gateway does not need to load.
 */
import type { RuleApproval } from './schema.ts';

export type { ApprovalsSection, RuleApproval } from './schema.ts';

const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10m` → 600000; undefined when the text is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : undefined;
}

export const APPROVAL_MODES = ['in-band', 'out-of-band', 'either'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];



/** A rule's approval options with the defaults filled in, in milliseconds. */
export interface ApprovalTerms {
  ttlMs: number;
  approvers: readonly string[] | undefined;
  mode: ApprovalMode;
  rememberMs: number | undefined;
}

export const DEFAULT_TTL_MS = 600_000;

export function approvalTerms(rule: RuleApproval | undefined): ApprovalTerms {
  return {
    ttlMs: (rule?.ttl && parseDurationMs(rule.ttl)) || DEFAULT_TTL_MS,
    approvers: rule?.approvers,
    mode: rule?.mode ?? 'either',
    rememberMs: rule?.remember ? parseDurationMs(rule.remember) : undefined,
  };
}
