/**
 * Canonical JSON (RFC 8785, JSON Canonicalization Scheme): object keys sorted by UTF-16 code units,
 * no whitespace, numbers and strings serialized as ECMAScript does (which `JSON.stringify` implements).
 * Two semantically equal argument objects therefore hash the same, whatever their key order.
 */
export function canonicalJson(value: unknown): string {
  // A tree whose every object already lists its keys in order is what JSON.stringify writes, natively
  // and in one string (the audit record is built so: two per forwarded call).
  if (typeof value === 'object' && value !== null) {
    const native = inOrderJson(value);
    if (native !== undefined) return native;
  }
  // Otherwise loops and one string built in place (no per-level arrays to map, filter and join), each
  // value again by the check above.
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('RFC 8785: non-finite numbers have no JSON form');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      out += canonicalJson(item === undefined ? null : item);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** JSON.stringify(value) when that is already its canonical form (see below), else undefined. */
export function inOrderJson(value: object): string | undefined {
  return inCanonicalOrder(value) ? JSON.stringify(value) : undefined;
}

/**
 * Whether JSON.stringify(value) is already its canonical form: plain objects (no toJSON, no class)
 * whose keys enumerate in ascending UTF-16 order — integer-like keys, which objects list first
 * whatever their order, fail this unless they sort first anyway — and arrays of the same, with only
 * finite numbers and JSON values (a function or symbol would be dropped or nulled differently).
 * No allocation: the walk only reads.
 */
function inCanonicalOrder(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  // A toJSON anywhere on the chain (a Date, a polluted prototype) would make JSON.stringify write something else.
  if ('toJSON' in value) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i])) return false;
    return true;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const object = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key in object) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!inCanonicalOrder(object[key])) return false;
  }
  return true;
}
