/**
 * The approval webhook: every new out-of-band request is POSTed as JSON to `approvals.webhook.url`,
 * signed with HMAC-SHA256 over the exact body (`X-Portcullis-Signature: sha256=<hex>`, with the
 * `X-Portcullis-Timestamp` it covers, so a receiver can refuse replays). A failed delivery (network error,
 * a non-2xx answer) is retried with exponential backoff; the call waits for its approval either way, the
 * webhook only tells people it exists. The body carries what `approvals list` shows — redacted arguments,
 * never values of redacted fields — and no secret; the signing key is never logged.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Approval } from './store.ts';
import type { ApprovalsSection } from './options.ts';
import { describeApproval } from './view.ts';
import { displayText } from '../audit/display.ts';

export type Notify = (approval: Approval) => void;

export interface WebhookDeps {
  fetch?: typeof fetch;
  logger: Logger;
  /** The resolved signing key. */
  key: string;
}

export function signBody(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhook(config: NonNullable<ApprovalsSection['webhook']>, deps: WebhookDeps): { notify: Notify; idle(): Promise<void> } {
  const send = deps.fetch ?? fetch;
  const inFlight = new Set<Promise<void>>();

  async function deliver(approval: Approval): Promise<void> {
    const view = describeApproval(approval);
    const payload =
      config.format === 'slack'
        ? { text: `Portcullis: ${displayText(view.principal)} asks to run ${displayText(view.server)}.${displayText(view.tool)} (rule ${displayText(view.rule)}: ${displayText(view.reason)}). Approve with \`portcullis approvals grant ${view.id}\` or deny with \`portcullis approvals deny ${view.id}\` before ${view.expiresAt}.`, approval: view }
        : { event: 'approval.requested', approval: view };
    const body = JSON.stringify(payload);
    for (let attempt = 0; attempt <= config.retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, config.backoffMs * 2 ** (attempt - 1)).unref());
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const response = await send(config.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-portcullis-timestamp': timestamp, 'x-portcullis-signature': signBody(deps.key, timestamp, body), 'x-portcullis-delivery': `${approval.id}.${attempt}` },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await response.body?.cancel().catch(() => undefined);
        if (response.ok) return;
        deps.logger.warn({ approval: approval.id, status: response.status, attempt }, 'approval webhook refused the delivery');
      } catch (error) {
        deps.logger.warn({ approval: approval.id, err: (error as Error).message, attempt }, 'approval webhook delivery failed');
      }
    }
    deps.logger.error({ approval: approval.id }, 'approval webhook: gave up after every retry');
  }

  return {
    notify(approval) {
      const delivery = deliver(approval).finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
    },
    async idle() {
      await Promise.all([...inFlight]);
    },
  };
}
