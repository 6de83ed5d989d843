/**
 * Redaction of call arguments (and the other client- and server-controlled text) before it is written
 * to the audit trail. Values are masked when their key names a credential, when the key is one the
 * admin listed, or when the value holds a secret as the DLP engine detects it (its secret rules, the
 * `dlp.patterns` and exact values, whatever the DLP actions: `Dlp.holdsSecret`) or has one of the
 * shapes below that DLP's rules do not cover. Bounded patterns only: each runs in linear time on any
 * input (no nested quantifiers).
 *
 * Not detected: secrets without a recognizable shape under an innocuous key name. Use
 * `audit.redact.fields` or `dlp.patterns` for those, or `arguments: hash` for servers whose
 * arguments are all sensitive.
 */
import { SENSITIVE_NAME } from '../config/names.ts';
import type { Dlp } from '../dlp/engine.ts';

export const MASK = '[redacted]';

const SECRET_VALUE: readonly RegExp[] = [
  /\bAKIA[0-9A-Z]{16}\b/, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/,
  /\bxox[baprs]-[A-Za-z0-9-]{10,250}\b/, // Slack
  /\b[sr]k_(live|test)_[A-Za-z0-9]{16,247}\b/, // Stripe
  /\bsk-[A-Za-z0-9_-]{20,250}\b/, // OpenAI-style / Anthropic-style keys
  /\bAIza[0-9A-Za-z_-]{35}\b/, // Google API key
  /\beyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096}\b/, // JWT
  /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----/,
  /\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,4096}=*/,
  /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:@/]{1,256}:[^\s@/]{1,256}@/, // credentials in a URL
];

export function looksSecret(value: string): boolean {
  return SECRET_VALUE.some((pattern) => pattern.test(value));
}

/** Whether a text holds a secret and must not be recorded in clear. */
export type SecretTest = (text: string) => boolean;

/** The audit trail's test: DLP's detection (independent of its actions), then the shapes above. */
export const auditSecretTest = (dlp: Dlp): SecretTest => (text) => dlp.holdsSecret(text) || looksSecret(text);

/** `text`, or the mask when it holds a secret (a record field that is the client's or server's own text). */
export const redactText = (text: string, holdsSecret: SecretTest): string => (holdsSecret(text) ? MASK : text);

/** A copy of `value` with secret-holding and listed fields masked (an object key holding a secret masks its value too). */
export function redact(value: unknown, fields: ReadonlySet<string>, holdsSecret: SecretTest, depth = 0): unknown {
  if (depth > 32) return MASK;
  if (typeof value === 'string') return redactText(value, holdsSecret);
  if (typeof value === 'number') return holdsSecret(String(value)) ? MASK : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, fields, holdsSecret, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      const keyHolds = holdsSecret(key);
      const masked = keyHolds || SENSITIVE_NAME.test(key) || fields.has(key.toLowerCase());
      out[keyHolds ? `${MASK}#${Object.keys(out).length}` : key] = masked ? MASK : redact(inner, fields, holdsSecret, depth + 1);
    }
    return out;
  }
  return value;
}
