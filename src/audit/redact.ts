/**
 * Redaction of call arguments (and the other client- and server-controlled text) before it is written
 * to the audit trail. Values are masked when their key names a credential, when the key is one the
 * admin listed, or when the value holds a secret as the DLP engine detects it (its secret rules, the
 * `dlp.patterns` and exact values, whatever the DLP actions: `Dlp.holdsSecret`). One detection for
 * both: whatever the audit record masks, a result would have masked too (src/dlp/rules/ holds the
 * shapes; every rule runs in linear time on any input).
 *
 * Not detected: secrets without a recognizable shape under an innocuous key name. Use
 * `audit.redact.fields` or `dlp.patterns` for those, or `arguments: hash` for servers whose
 * arguments are all sensitive.
 */
import { SENSITIVE_NAME } from '../config/names.ts';
import type { Dlp } from '../dlp/engine.ts';

export const MASK = '[redacted]';

/** Whether a text holds a secret and must not be recorded in clear. */
export type SecretTest = (text: string) => boolean;

/** The audit trail's test: DLP's detection, independent of its actions (what a result would have masked). */
export const auditSecretTest = (dlp: Dlp): SecretTest => (text) => dlp.holdsSecret(text);

/** `text`, or the mask when it holds a secret (a record field that is the client's or server's own text). */
export const redactText = (text: string, holdsSecret: SecretTest): string => (holdsSecret(text) ? MASK : text);

/**
 * A copy of `value` with secret-holding and listed fields masked (an object key holding a secret masks its value too).
 * `maskText`: how a string value is masked — whole by default (the audit record); approvals pass
 * `Dlp.maskSecrets`, which masks only the secret's span, so that the approver sees what runs.
 */
export function redact(
  value: unknown,
  fields: ReadonlySet<string>,
  holdsSecret: SecretTest,
  maskText: (text: string) => string = (text) => redactText(text, holdsSecret),
  depth = 0,
  namesSecret: (key: string, value: unknown) => boolean = (key) => SENSITIVE_NAME.test(key),
): unknown {
  if (depth > 32) return MASK;
  if (typeof value === 'string') return maskText(value);
  if (typeof value === 'number') return holdsSecret(String(value)) ? MASK : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, fields, holdsSecret, maskText, depth + 1, namesSecret));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      const keyHolds = holdsSecret(key);
      const masked = keyHolds || namesSecret(key, inner) || fields.has(key.toLowerCase());
      out[keyHolds ? `${MASK}#${Object.keys(out).length}` : key] = masked ? MASK : redact(inner, fields, holdsSecret, maskText, depth + 1, namesSecret);
    }
    return out;
  }
  return value;
}

/** Words that name a credential when they are a whole segment of a field name (`api_key`, `authToken`, `key`). */
const CREDENTIAL_WORDS = new Set(['token', 'secret', 'password', 'passwd', 'passphrase', 'cookie', 'authorization', 'credential', 'credentials', 'apikey', 'key']);

/**
 * The approver's test of a field name (docs/approvals.md): a string value under a name one of whose
 * segments (split at `_`, `-`, `.`, spaces and camelCase humps) is a credential word. By segment, not
 * substring, so `tokens`, `max_tokens` or `secretary` are shown — an approver must see the amount they
 * approve — and only strings: a number or a boolean is no credential (DLP still masks a secret-shaped
 * one). The audit trail keeps the wider substring rule.
 */
export function approverNamesSecret(key: string, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const segments = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[\s_.\-]+/);
  return segments.some((s) => CREDENTIAL_WORDS.has(s));
}
