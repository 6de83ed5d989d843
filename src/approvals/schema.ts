/**
 * What a rule with `effect: approve` may say about its approval step (`approval:` on the rule), and the
 * gateway-wide `approvals` section (how long a call waits, the queue's bounds, the admin scope, the
 * webhook): part of the configuration schema.
 */
import * as z from 'zod';
import { APPROVAL_MODES, parseDurationMs } from './options.ts';

const duration = (min: number, max: number, what: string) =>
  z
    .string()
    .refine((text) => {
      const ms = parseDurationMs(text);
      return ms !== undefined && ms >= min && ms <= max;
    }, `must be a duration like 90s, 10m or 1h, between ${min} ms and ${max / 3_600_000} h`)
    .describe(what);

export const ruleApprovalSchema = z
  .strictObject({
    ttl: duration(1000, 7 * 86_400_000, 'How long the approval may take, and how long a grant stays usable (default 10m); then PC_APPROVAL_EXPIRED').optional(),
    approvers: z
      .array(z.string().min(1).max(128))
      .min(1)
      .optional()
      .describe('Roles of which a second person must grant it (out of band only: the caller\'s own user cannot)'),
    mode: z
      .enum(APPROVAL_MODES)
      .default('either')
      .describe('in-band: ask the client\'s user (elicitation / input_required) or refuse; out-of-band: the approval queue; either: in band when the client can be asked'),
    remember: duration(1000, 30 * 86_400_000, 'After a grant, the same principal may repeat the same call (same arguments) this long without asking again').optional(),
  })
  .describe('The approval step of an approve rule (docs/approvals.md)');

export type RuleApproval = z.output<typeof ruleApprovalSchema>;

export const approvalsSectionSchema = z
  .strictObject({
    waitMs: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(50_000)
      .describe('How long a call waits for an out-of-band decision before it is answered PC_APPROVAL_PENDING with the approval id (the same call retried later goes through once granted); keep it below the clients\' request timeout'),
    maxPendingPerPrincipal: z.number().int().min(1).max(10_000).default(20).describe('Approvals one principal may have waiting at once; more are refused (PC_APPROVAL_LIMIT)'),
    maxPending: z.number().int().min(1).max(1_000_000).default(1000).describe('Approvals waiting in the queue at once'),
    adminScope: z
      .string()
      .min(1)
      .default('portcullis:approvals')
      .describe('Scope a token or API key needs to list, grant and deny approvals on /admin/approvals (identity must be on)'),
    pollMs: z.number().int().min(20).max(10_000).default(250).describe('How often the gateway looks at the queue for decisions made by `portcullis approvals` and for expiries'),
    webhook: z
      .strictObject({
        url: z.string().url().describe('Receives a POST for every approval request (https, or http on a loopback host)'),
        secret: z
          .string()
          .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/, 'must be a reference: env:NAME or file:/path')
          .describe('HMAC-SHA256 key for the X-Portcullis-Signature header (a secret reference)'),
        format: z.enum(['json', 'slack']).default('json').describe('slack: a `text` field a Slack incoming webhook shows'),
        retries: z.number().int().min(0).max(10).default(4).describe('Attempts after the first, with exponential backoff'),
        backoffMs: z.number().int().min(10).max(60_000).default(500).describe('Delay before the first retry (doubled each time)'),
      })
      .optional(),
  })
  .describe('Human approval of calls that rules with effect: approve hold (docs/approvals.md)');

export type ApprovalsSection = z.output<typeof approvalsSectionSchema>;
