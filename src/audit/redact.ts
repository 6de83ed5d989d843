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

/**
 * Whether a text holds a secret and must not be recorded in clear; `pieces`, when given: which items of
 * an array (indexes) or members of an object (`2·k` its k-th key, `2·k + 1` that key's value) make a
 * secret only read together (`Dlp.secretPieces`).
 */
export type SecretTest = ((text: string) => boolean) & { pieces?: (value: readonly unknown[] | Readonly<Record<string, unknown>>) => ReadonlySet<number> };

/** The audit trail's test: DLP's detection, independent of its actions (what a result would have masked). */
export const auditSecretTest = (dlp: Dlp): SecretTest => Object.assign((text: string) => dlp.holdsSecret(text), { pieces: (value: readonly unknown[] | Readonly<Record<string, unknown>>) => dlp.secretPieces(value) });

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
  // A secret cut over items or members (`["AKIAQ", "3EGRT", …]`, `{"AKIAQ3EG": "RT5X…"}`): every piece of it masked.
  if (Array.isArray(value)) {
    const pieces = holdsSecret.pieces?.(value);
    return value.map((v, i) => (pieces?.has(i) ? MASK : redact(v, fields, holdsSecret, maskText, depth + 1, namesSecret)));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const pieces = holdsSecret.pieces?.(value as Record<string, unknown>);
    for (const [k, [key, inner]] of Object.entries(value).entries()) {
      const keyHolds = holdsSecret(key) || pieces?.has(2 * k) === true;
      const masked = keyHolds || pieces?.has(2 * k + 1) === true || namesSecret(key, inner) || fields.has(key.toLowerCase());
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
