/** Builds the approval machinery of one gateway: the queue on `<dataDir>/approvals.db`, the webhook, the stage. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openArgsHasher } from '../audit/args-hash.ts';
import type { AuditLog } from '../audit/log.ts';
import { approverNamesSecret, redact, type SecretTest } from '../audit/redact.ts';
import type { Config } from '../config/schema.ts';
import { resolveValue, type SecretSource } from '../config/secrets.ts';
import { GatewayError } from '../errors.ts';
import type { MessageContext } from '../pipeline/context.ts';
import type { PolicyRuntime } from '../policy/runtime.ts';
import { ApprovalStates } from './in-band.ts';
import { ApprovalQueue } from './queue.ts';
import { createApprove } from './stage.ts';
import { ApprovalStore } from './store.ts';
import { createWebhook } from './webhook.ts';
import { ApprovalPages } from './url-page.ts';

export const approvalsDbPath = (dataDir: string): string => join(dataDir, 'approvals.db');

export interface Approvals {
  readonly queue: ApprovalQueue;
  readonly stage: (ctx: MessageContext) => Promise<GatewayError | undefined> | GatewayError | undefined;
  /** The gateway's own approval page for URL-mode elicitation (url-page.ts). */
  readonly pages: ApprovalPages;
  /** Waits for webhook deliveries in flight (tests), without closing anything. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface ApprovalsDeps {
  dataDir: string;
  audit: AuditLog | undefined;
  logger: Logger;
  runtime: PolicyRuntime;
  secrets: SecretSource;
  /** What the audit masks (`auditSecretTest`): object keys holding a secret are masked whole for the people who decide too. */
  holdsSecret: SecretTest;
  /** A string with only its secrets' spans masked (`Dlp.maskSecrets`): what the approver reads. */
  maskSecrets: (text: string) => string;
  recheck: (ctx: MessageContext) => Promise<GatewayError | undefined>;
  held?: (caller: { agent: string; subject?: string; issuer?: string | undefined }) => { reason: string } | undefined;
  now?: () => number;
  fetch?: typeof fetch;
}

export function openApprovals(config: Config, deps: ApprovalsDeps): Approvals {
  const section = config.approvals;
  let webhook: ReturnType<typeof createWebhook> | undefined;
  if (section.webhook) {
    const key = resolveValue(section.webhook.secret, deps.secrets);
    if ('problem' in key) throw new GatewayError('PC_CONFIG_INVALID', `configuration error: approvals.webhook.secret: ${key.problem}`);
    webhook = createWebhook(section.webhook, { key: key.value, logger: deps.logger, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  }
  const fields = new Set(config.audit.redact.fields.map((f) => f.toLowerCase()));
  const queue = new ApprovalQueue({ store: new ApprovalStore(approvalsDbPath(deps.dataDir)), section, audit: deps.audit, logger: deps.logger, now: deps.now, notify: webhook?.notify });
  const pages = new ApprovalPages();
  const stage = createApprove({
    pages,
    runtime: deps.runtime,
    queue,
    states: new ApprovalStates(section.maxPending),
    recheck: deps.recheck,
    argsHash: openArgsHasher(deps.dataDir),
    ...(deps.held ? { held: deps.held } : {}),
    redactArgs: (_server, args) => redact(args, fields, deps.holdsSecret, deps.maskSecrets, 0, approverNamesSecret),
  });
  return {
    queue,
    stage,
    pages,
    idle: async () => webhook?.idle(),
    async close() {
      queue.close();
    },
  };
}
