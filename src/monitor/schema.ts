/**
 * The `monitor` section: which detectors watch the decision stream, how sensitive each is, what each
 * does when it fires (alert, or contain: kill the agent or the tool for a while), and where alerts go.
 * Durations are `30s`, `15m`, `12h`, `7d`; rates `50/m`.
 */
import * as z from 'zod';
import { UTC_ZONES } from './utc-zones.ts';

const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;

/** `30s`, `15m`, `12h`, `7d` → milliseconds. */
export function parseDurationMs(value: string): number | undefined {
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const duration = z
  .string()
  .regex(/^\d{1,9}(s|m|h|d)$/, 'must be a duration like 30s, 15m, 12h or 7d')
  .transform((v) => parseDurationMs(v)!);

/** `50/m` (per minute) → calls per minute. */
const perMinute = z
  .string()
  .regex(/^\d{1,9}\/(s|m|h)$/, 'must be a rate like 5/s, 50/m or 1000/h')
  .transform((v) => {
    const [n, unit] = v.split('/') as [string, 's' | 'm' | 'h'];
    return Number(n) * { s: 60, m: 1, h: 1 / 60 }[unit];
  });

const actionSchema = z
  .enum(['alert', 'kill-agent', 'kill-tool', 'require-approval'])
  .default('alert')
  .describe('alert only (default), or also contain: stop this agent, or this tool (server.tool), with the kill switch for `for`; or require-approval: every call of this agent needs a human\'s out-of-band approval for `for`');

const severitySchema = z.enum(['low', 'medium', 'high', 'critical']);

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** What every detector accepts: on/off, the response and its duration, and the severity it reports. */
const response = {
  enabled: z.boolean().default(true),
  action: actionSchema,
  for: duration.prefault('15m').describe('How long an automatic kill holds (then it lifts itself; `portcullis unkill` lifts it sooner)'),
  severity: severitySchema.optional().describe('Override the severity this detector reports'),
};

const burst = (count: number, window: string) =>
  z
    .strictObject({
      ...response,
      count: z.number().int().min(1).max(1_000_000).default(count).describe('Alert at this many events …'),
      window: duration.prefault(window).describe('… within this window (sliding), per principal'),
    })
    .prefault({});

export const monitorSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    learningPeriod: duration
      .prefault('7d')
      .describe('From the first time the monitor ran: behaviour is learned, not alerted on (first use, usual hours, scopes); volume learns per principal'),
    maxPrincipals: z.number().int().min(10).max(1_000_000).default(10_000).describe('Principals tracked; past it the least recently seen is forgotten (memory stays bounded)'),
    cooldown: duration.prefault('10m').describe('The same alert (kind, principal, tool) is raised again only after this long; repeats in between are counted on it'),
    detectors: z
      .strictObject({
        firstUse: z
          .strictObject({ ...response, severity: severitySchema.default('medium'), servers: z.boolean().default(true).describe('Also a first use of a server') })
          .prefault({})
          .describe('A tool (or server) this principal never used before, after the learning period'),
        volume: z
          .strictObject({
            ...response,
            factor: z.number().min(1.5).max(1000).default(5).describe('Alert when a minute holds this many times the principal\'s usual rate …'),
            deviations: z.number().min(1).max(100).default(4).describe('… and this many standard deviations above it (EWMA mean and variance of calls per minute)'),
            min: perMinute.prefault('50/m').describe('Never alert below this rate'),
            max: perMinute.optional().describe('Always alert above this rate, whatever the baseline (catches a slowly raised baseline)'),
            halfLife: duration.prefault('1h').describe('Half-life of the baseline (EWMA over one-minute buckets)'),
            warmup: z.number().int().min(1).max(100_000).default(30).describe('Minutes of activity before a principal\'s baseline counts; until then the threshold is min × factor'),
            perTool: z.boolean().default(true).describe('Also a baseline per tool of each principal'),
          })
          .prefault({})
          .describe('Calls per minute far above the principal\'s own baseline'),
        distinctResources: burst(100, '1m').describe('Many distinct resources read (resources/read URIs, distinct tool arguments) in a short window'),
        denials: burst(20, '1m').describe('A burst of policy refusals (PC_POLICY_DENIED, PC_POLICY_GUARD, PC_POLICY_GATEWAY_STATE)'),
        validation: burst(10, '1m').describe('A burst of calls with invalid arguments or params (PC_ARGS_*, PC_PROTOCOL_INVALID_PARAMS)'),
        unknownTargets: burst(10, '1m').describe('A burst of calls to tools, prompts, resources or methods that do not exist (PC_ROUTE_UNKNOWN_*)'),
        stepUp: burst(5, '5m').describe('Repeated insufficient-scope refusals (PC_AUTH_INSUFFICIENT_SCOPE): reaching above its grant'),
        authFailures: burst(20, '1m').describe('Refused credentials (PC_AUTH_REQUIRED, PC_AUTH_INVALID_TOKEN, PC_AUTH_AMBIGUOUS_CREDENTIALS) at the gateway, per client address'),
        offHours: z
          .strictObject({
            ...response,
            severity: severitySchema.default('medium'),
            windows: z
              .array(
                z.strictObject({
                  days: z.array(z.enum(DAYS)).min(1).default([...DAYS]),
                  hours: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/, 'must be HH:MM-HH:MM'),
                }),
              )
              .optional()
              .describe('Working windows; a call outside all of them is off-hours (from the first call on). Absent: the hours the principal usually works, learned'),
            timeZone: z.string().min(1).default('UTC').refine((tz) => {
              if (UTC_ZONES.has(tz)) return true;
              try {
                new Intl.DateTimeFormat('en-US', { timeZone: tz });
                return true;
              } catch {
                return false;
              }
            }, 'must be an IANA time zone, e.g. Europe/Paris'),
            minShare: z.number().min(0).max(0.5).default(0.01).describe('Learned: an hour of the day holding less than this share of the principal\'s calls is unusual'),
          })
          .prefault({})
          .describe('Activity outside the configured windows, or outside the hours the principal usually works'),
        scopeElevation: z
          .strictObject({ ...response, severity: severitySchema.default('high') })
          .prefault({})
          .describe('A principal presents a scope it never held before, after the learning period'),
        supplyChain: z
          .strictObject({ ...response, severity: severitySchema.default('high') })
          .prefault({})
          .describe('A definition is quarantined (new, changed or poisoned) when listed, a call meets one, an unusable schema or broken pins'),
        gatewayState: z
          .strictObject({ ...response, severity: severitySchema.default('critical') })
          .prefault({})
          .describe('A call refused because its arguments reach the gateway\'s own state (PC_POLICY_GATEWAY_STATE: kill switch, policy, keys, audit store): alerted at the first one'),
        dlp: z
          .strictObject({ ...response, severity: severitySchema.optional() })
          .prefault({})
          .describe('Data-loss prevention found something in a call (high when it refused or withheld, else medium)'),
        toxicFlow: z
          .strictObject({
            ...response,
            severity: severitySchema.optional(),
            enforce: z.enum(['alert', 'block']).default('alert').describe('block: refuse the egress call itself (PC_POLICY_TOXIC_FLOW)'),
            window: duration.prefault('1h').describe('How long a label stays on a principal whose calls carry no session (modern era); a legacy session keeps its labels as long as this after the last labelled call'),
          })
          .prefault({})
          .describe('private → egress, or untrusted → egress after private data, within one session (labels: policy.tools annotations private, untrusted, egress)'),
      })
      .prefault({}),
    sinks: z
      .array(
        z.discriminatedUnion('type', [
          z.strictObject({
            type: z.literal('webhook'),
            url: z
              .string()
              .refine((v) => SECRET_REF.test(v) || /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s) URL, or a reference env:NAME / file:/path (a Slack webhook URL is itself a secret)')
              .describe('Where alerts are POSTed; a reference when the URL is a secret'),
            secret: z.string().regex(SECRET_REF, 'must be a reference: env:NAME or file:/path').optional().describe('HMAC-SHA256 key: X-Portcullis-Signature: t=<unix>,v1=<hex of HMAC(t + "." + body)>'),
            format: z.enum(['json', 'slack']).default('json').describe('json: the alert; slack: a Slack incoming-webhook message'),
            retries: z.number().int().min(0).max(10).default(4).describe('Retries with exponential backoff (0.5 s, 1 s, 2 s, …) on a network error or a 5xx/429'),
          }),
          z.strictObject({
            type: z.literal('otlp'),
            url: z.string().url().describe('OTLP/HTTP base URL; alerts are POSTed to <url>/v1/logs as log records (event.name portcullis.alert)'),
            headers: z.record(z.string(), z.string()).default({}).describe('Extra headers; values may be references env:NAME / file:/path'),
            retries: z.number().int().min(0).max(10).default(4),
          }),
          z.strictObject({ type: z.literal('log') }),
        ]),
      )
      .default([{ type: 'log' }])
      .describe('Where alerts go besides <dataDir>/alerts.jsonl (`portcullis alerts list`): a webhook, an OpenTelemetry collector (OTLP logs), the gateway log'),
  })
  .describe('Behaviour monitoring on the decision stream: alerts and automatic containment (docs/monitor.md)');

export type MonitorConfig = z.output<typeof monitorSchema>;
export type DetectorResponse = { enabled: boolean; action: 'alert' | 'kill-agent' | 'kill-tool' | 'require-approval'; for: number; severity?: 'low' | 'medium' | 'high' | 'critical' | undefined };
export type Severity = z.output<typeof severitySchema>;
