/**
 * Values the gateway and a server could read differently, refused in a request's params before any
 * rule judges them. The gateway compares strings and keys exactly and forwards what it judged, but the
 * server's parser decides what the bytes mean:
 *
 * - a NUL (U+0000) ends the string for a server in C or one that passes it to a C library, so
 *   `"rm\u0000x"` (not `"rm"` to a rule) runs as `rm`;
 * - a lone surrogate (`"\ud800"`) is not Unicode: decoders replace or drop it, so the server reads
 *   another string than the rule did;
 * - the keys `__proto__`, `constructor` and `prototype` are not data to a JavaScript server that merges
 *   arguments (`Object.assign`, a deep merge): `{"__proto__":{"cmd":"rm"}}` has no `cmd` for a rule,
 *   yet the merged object reads `cmd === "rm"`;
 * - a number JSON cannot hold (`1e400` parses to Infinity) is serialised as `null` on the way out;
 * - two keys of one object that are one key to a server binding names without case or Unicode
 *   compatibility forms (`amount` and `AMOUNT`, `ａmount`, `ſtatus`; Go's encoding/json binds so by
 *   default): a rule judges one, the server reads the other (red team F7; PC_PROTOCOL_AMBIGUOUS).
 *
 * Not checked: other control characters, and Unicode look-alikes (compared exactly, as they are sent).
 */
import { GatewayError } from '../errors.ts';
import { foldedCollision } from '../protocol/duplicate-keys.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a string cannot be forwarded as the gateway judged it, or undefined. */
function unclearString(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** A member in JavaScript path notation, quoted when it is not a plain identifier. */
function member(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

interface Problem {
  where: string;
  why: string;
  /** Keys of one object that fold to one (the refusal is then PC_PROTOCOL_AMBIGUOUS). */
  keys?: [string, string];
}

function problemIn(value: unknown, path: string): Problem | undefined {
  if (typeof value === 'string') {
    const why = unclearString(value);
    return why ? { where: path, why } : undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { where: path, why: 'is a number JSON cannot represent (it overflows to infinity)' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = problemIn(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const collision = foldedCollision(value);
  if (collision) return { where: path, why: `has the keys ${collision.map((k) => JSON.stringify(k)).join(' and ')}, which are one key to a server that ignores case or Unicode compatibility forms (Go's encoding/json, .NET, alias binders); send one of them`, keys: collision };
  for (const [key, inner] of Object.entries(value)) {
    const where = member(path, key);
    if (PROTOTYPE_KEYS.has(key)) return { where, why: `uses the key "${key}", which a JavaScript server merging the object would read as its prototype` };
    const keyProblem = unclearString(key);
    if (keyProblem) return { where, why: `has a key that ${keyProblem}` };
    const found = problemIn(inner, where);
    if (found) return found;
  }
  return undefined;
}

/**
 * The refusal (PC_ARGS_INVALID, naming the place) when a request's params hold a value a server could
 * read otherwise than the gateway judged it; undefined when they do not.
 */
export function checkUnambiguousValues(method: string, params: JsonObject | undefined): GatewayError | undefined {
  if (params === undefined) return undefined;
  const found = problemIn(params, 'params');
  if (!found) return undefined;
  if (found.keys) return new GatewayError('PC_PROTOCOL_AMBIGUOUS', `${method}: ${found.where} ${found.why}`, { method, where: found.where, keys: found.keys });
  return new GatewayError(
    'PC_ARGS_INVALID',
    `${method}: ${found.where} ${found.why}; such values are refused because the server could read them otherwise than the gateway judged them (accepted: well-formed Unicode strings without NUL, finite numbers, keys other than __proto__, constructor and prototype)`,
    { method, where: found.where },
  );
}
