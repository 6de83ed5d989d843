/**
 * Redaction of call arguments before they are written to the audit trail. Values are masked when
 * their key names a credential, when the key is one the admin listed, or when the value looks like
 * a secret (provider token formats, private keys, bearer tokens, JWTs). Bounded patterns only: each
 * runs in linear time on any input (no nested quantifiers).
 *
 * Not detected: secrets without a recognizable shape under an innocuous key name. Use
 * `audit.redact.fields` for those, or `arguments: hash` for servers whose arguments are all sensitive.
 */
import { SENSITIVE_NAME } from '../config/names.ts';

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

/** A copy of `value` with secret-looking and listed fields masked. */
export function redact(value: unknown, fields: ReadonlySet<string>, depth = 0): unknown {
  if (depth > 32) return MASK;
  if (typeof value === 'string') return looksSecret(value) ? MASK : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, fields, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SENSITIVE_NAME.test(key) || fields.has(key.toLowerCase()) ? MASK : redact(inner, fields, depth + 1);
    }
    return out;
  }
  return value;
}
