/**
 * What a caller chose (tool, prompt and agent names, reasons quoting them, argument values and keys)
 * made storable in every audit store, the same way in all of them, before the record is hashed — so a
 * record is stored, read back and verified identically in SQLite, PostgreSQL and JSONL:
 * - a NUL (PostgreSQL `text` cannot hold it) and a lone UTF-16 surrogate (no UTF-8 form) become U+FFFD;
 * - a string longer than MAX_AUDIT_TEXT characters is cut, with a marker giving the original's length
 *   and the start of its SHA-256 (so a flood of huge names cannot flood the trail, and two different
 *   long names still read as different). `argsHash` is computed before, over the arguments as sent.
 * Object keys are treated like strings. Copy on change: a record with nothing to fix is returned as is.
 */
import { hash } from 'node:crypto';
import { inOrderJson } from './canonical.ts';
import { sealRecord, type AuditRecord, type UnsignedRecord } from './record.ts';

/** Characters kept of one string in an audit record. */
export const MAX_AUDIT_TEXT = 4096;

/** NUL and UTF-16 surrogates not in a pair. */
const UNSTORABLE_TEST = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE_TEST.source, 'g');

const fine = (text: string, max: number): boolean => text.length <= max && !UNSTORABLE_TEST.test(text);

/** `text` as an audit record (and the monitor, which reads records) keeps it: storable, at most `max` characters and the marker. */
export function storableText(text: string, max = MAX_AUDIT_TEXT): string {
  if (fine(text, max)) return text;
  let out = text;
  if (out.length > max) {
    const digest = hash('sha256', out, 'hex').slice(0, 16);
    out = `${out.slice(0, max)}…[cut: ${text.length} chars, sha256 ${digest}]`;
  }
  return out.replace(UNSTORABLE_ALL, '\ufffd');
}

/** `value` with every string (and key) storable; the same object when nothing needed fixing. */
export function storable<T>(value: T, max = MAX_AUDIT_TEXT, depth = 0): T {
  if (typeof value === 'string') return storableText(value, max) as T;
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const fixed = storable(item, max, depth + 1);
      if (fixed !== item) (copy ??= value.slice())[i] = fixed;
    }
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const item = object[key];
    const fixed = storable(item, max, depth + 1);
    const fixedKey = fine(key, max) ? key : storableText(key, max);
    if (fixed !== item || fixedKey !== key) {
      copy ??= { ...object };
      if (fixedKey !== key) delete copy[key];
      copy[fixedKey] = fixed;
    }
  }
  return (copy ?? value) as T;
}

/**
 * JSON.stringify writes a NUL as `\u0000` and a lone surrogate as `\udXXX` (lower-case hex, ECMA-262
 * QuoteJSONString), and nothing else of a value that way, except text that held a backslash before
 * `u0000` or `ud8…` itself: then the record is only checked value by value.
 */
const ESCAPED_UNSTORABLE = /\\u(?:0000|d[89a-f])/;

/**
 * `sealRecord(storable(body))`, deciding from the record's JSON text (which sealing writes anyway) that
 * nothing needs fixing: a text no longer than MAX_AUDIT_TEXT holds no longer string, and one without
 * the escapes above holds no NUL or lone surrogate. Walking the record string by string cost a
 * full-chain call ~27,000 instructions for its two records (callgrind, docs/performance.md).
 */
export function sealStorable(body: UnsignedRecord): AuditRecord {
  const native = inOrderJson(body);
  // `includes` first: a record's text rarely holds any `\u` escape, and the search is much cheaper than the pattern.
  if (native !== undefined && native.length <= MAX_AUDIT_TEXT && (!native.includes('\\u') || !ESCAPED_UNSTORABLE.test(native))) return sealRecord(body, native);
  return sealRecord(storable(body));
}
