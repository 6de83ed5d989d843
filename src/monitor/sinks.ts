/**
 * Where alerts go besides the alert file: a webhook (JSON or a Slack incoming-webhook message, signed
 * with HMAC-SHA256, retried with exponential backoff), an OpenTelemetry collector (OTLP/HTTP JSON logs,
 * same queue and retries) and the gateway log. Best effort and off the hot
 * path: a bounded queue (the oldest alert is dropped and counted when it overflows); the alert file
 * stays authoritative.
 *
 * Signature (when `secret` is set), in the style of Stripe's and Slack's: header
 * `X-Portcullis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; the receiver
 * recomputes it over the raw body and rejects a stale `t` (replay).
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alert } from './alert.ts';

export interface AlertSink {
  readonly name: string;
  push(alert: Alert): void;
  readonly dropped: number;
  close(): Promise<void>;
}

const MAX_QUEUE = 1000;
const TIMEOUT_MS = 10_000;
const FIRST_BACKOFF_MS = 500;

/** The signature header value for `body` at `unixSeconds`. */
export function signatureFor(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** Slack's three control characters (api.slack.com "Formatting text": escape &, <, >), so a name cannot ping @channel or forge a link. */
const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackMessage(alert: Alert): { text: string } {
  const who = `${alert.principal.agent} (${alert.principal.subject})`;
  const what = alert.tool ? ` on ${alert.server}.${alert.tool}` : alert.server ? ` on ${alert.server}` : '';
  const response = alert.response ? ` — contained: ${alert.response.skipped ? `not applied (${alert.response.skipped})` : `${alert.response.target} ${alert.response.action === 'require-approval' ? 'held for approval' : 'stopped'} until ${alert.response.until}`}` : '';
  return { text: slackEscape(`:rotating_light: Portcullis ${alert.severity} alert ${alert.kind}: ${who}${what}: ${alert.summary}${response} [${alert.id}]`) };
}

const SEVERITY_NUMBER = { low: 9, medium: 13, high: 17, critical: 21 } as const; // INFO, WARN, ERROR, FATAL (OTel log data model)

/** One OTLP/HTTP JSON logs request holding the alert (OpenTelemetry logs data model; event.name portcullis.alert). */
export function otlpAlert(alert: Alert): unknown {
  const nanos = `${BigInt(Date.parse(alert.at)) * 1_000_000n}`;
  const str = (key: string, value: string | undefined) => (value === undefined ? [] : [{ key, value: { stringValue: value } }]);
  return {
    resourceLogs: [
      {
        resource: { attributes: str('service.name', 'portcullis') },
        scopeLogs: [
          {
            scope: { name: 'portcullis.monitor', version: '1' },
            logRecords: [
              {
                timeUnixNano: nanos,
                observedTimeUnixNano: nanos,
                severityNumber: SEVERITY_NUMBER[alert.severity],
                severityText: alert.severity.toUpperCase(),
                eventName: 'portcullis.alert',
                body: { stringValue: JSON.stringify(alert) },
                attributes: [
                  ...str('event.name', 'portcullis.alert'),
                  ...str('portcullis.alert.id', alert.id),
                  ...str('portcullis.alert.kind', alert.kind),
                  ...str('portcullis.agent', alert.principal.agent),
                  ...str('portcullis.subject', alert.principal.subject),
                  ...str('portcullis.server', alert.server),
                  ...str('gen_ai.tool.name', alert.tool),
                  ...str('portcullis.response', alert.response ? alert.response.skipped ? 'skipped' : alert.response.action : undefined),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

export class WebhookSink implements AlertSink {
  readonly name: string = 'webhook';
  readonly #url: string;
  readonly #secret: string | undefined;
  readonly #format: 'json' | 'slack' | 'otlp';
  readonly #headers: Record<string, string>;
  readonly #retries: number;
  readonly #logger: Logger;
  readonly #queue: Alert[] = [];
  #dropped = 0;
  #sending: Promise<void> | undefined;
  #closed = false;

  /** `format: otlp` POSTs OTLP/HTTP JSON logs (the URL is the full /v1/logs endpoint); `headers` go on every request. */
  constructor(options: { url: string; secret: string | undefined; format: 'json' | 'slack' | 'otlp'; retries: number; headers?: Record<string, string> }, logger: Logger) {
    if (options.format === 'otlp') this.name = 'otlp';
    this.#headers = options.headers ?? {};
    this.#url = options.url;
    this.#secret = options.secret;
    this.#format = options.format;
    this.#retries = options.retries;
    this.#logger = logger;
  }

  get dropped(): number {
    return this.#dropped;
  }

  push(alert: Alert): void {
    this.#queue.push(alert);
    if (this.#queue.length > MAX_QUEUE) {
      this.#queue.shift();
      this.#dropped += 1;
    }
    this.#sending ??= this.#drain().finally(() => (this.#sending = undefined));
  }

  async #drain(): Promise<void> {
    for (let alert = this.#queue.shift(); alert; alert = this.#queue.shift()) {
      const delivered = await this.#deliver(alert);
      if (!delivered) this.#dropped += 1;
    }
  }

  async #deliver(alert: Alert): Promise<boolean> {
    const body = JSON.stringify(this.#format === 'slack' ? slackMessage(alert) : this.#format === 'otlp' ? otlpAlert(alert) : alert);
    let problem = '';
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) {
        if (this.#closed) break;
        await new Promise((resolve) => setTimeout(resolve, FIRST_BACKOFF_MS * 2 ** (attempt - 1)).unref());
      }
      const headers: Record<string, string> = { ...this.#headers, 'content-type': 'application/json', 'user-agent': 'portcullis-monitor' };
      if (this.#secret) headers['x-portcullis-signature'] = signatureFor(this.#secret, body, Math.floor(Date.now() / 1000));
      try {
        const response = await fetch(this.#url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
        await response.arrayBuffer();
        if (response.ok) return true;
        problem = `HTTP ${response.status}`;
        // A 4xx other than 408/429 will not get better by retrying.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    this.#logger.warn({ sink: this.name, alert: alert.id, err: problem }, `alert could not be delivered to the ${this.name} sink (it is in alerts.jsonl)`);
    return false;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#sending;
  }
}

export class LogSink implements AlertSink {
  readonly name = 'log';
  readonly dropped = 0;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  push(alert: Alert): void {
    this.#logger.warn({ alert }, `monitor alert ${alert.kind} (${alert.severity}): ${alert.summary}`);
  }

  async close(): Promise<void> {}
}
