/**
 * What a caller chose (tool, prompt and agent names, reasons quoting them, argument values and keys)
 * made storable in every audit store, the same way in all of them, before the record is hashed — so a
 * record is stored, read back and verified identically in SQLite, PostgreSQL and JSONL: a NUL
 * (PostgreSQL `text` cannot hold it) and a lone UTF-16 surrogate (no UTF-8 form) become U+FFFD.
 * `argsHash` is computed before, over the arguments as sent. Object keys are treated like strings.
 * Copy on change: a record with nothing to fix is returned as is.
 */

/** NUL and UTF-16 surrogates not in a pair. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.source;
const UNSTORABLE_TEST = new RegExp(UNSTORABLE);
const UNSTORABLE_ALL = new RegExp(UNSTORABLE, 'g');

const fine = (text: string): boolean => !UNSTORABLE_TEST.test(text);

/** `text` as an audit record (and the monitor, which reads records) keeps it. */
export function storableText(text: string): string {
  return fine(text) ? text : text.replace(UNSTORABLE_ALL, '\ufffd');
}

/** `value` with every string (and key) storable; the same object when nothing needed fixing. */
export function storable<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const fixed = storable(item, depth + 1);
      if (fixed !== item) (copy ??= value.slice())[i] = fixed;
    }
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const item = object[key];
    const fixed = storable(item, depth + 1);
    const fixedKey = fine(key) ? key : storableText(key);
    if (fixed !== item || fixedKey !== key) {
      copy ??= { ...object };
      if (fixedKey !== key) delete copy[key];
      copy[fixedKey] = fixed;
    }
  }
  return (copy ?? value) as T;
}
