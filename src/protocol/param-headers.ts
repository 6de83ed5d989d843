/**
 * `Mcp-Param-{Name}` headers (spec 2026-07-28 streamable-http §Custom Headers from Tool Parameters,
 * SEP-2243): a tool's `inputSchema` may mark parameters with `x-mcp-header`; their values are mirrored
 * into headers so intermediaries can route without reading the body. A server that reads the body
 * MUST check every such header against the body (400 + -32020 otherwise) — a load balancer routing on
 * the header and a server acting on the body must never disagree. The gateway checks what clients
 * send, and writes the headers itself when it forwards to a modern server.
 */
import { isObject, type JsonObject } from './jsonrpc.ts';

export interface ParamHeader {
  /** Lower-case header name, `mcp-param-<name>`. */
  header: string;
  /** Chain of `properties` keys from the schema root. */
  path: string[];
}

/** The annotated parameters, found only through chains of `properties` (the statically reachable ones). */
export function paramHeaders(inputSchema: unknown): ParamHeader[] {
  const found: ParamHeader[] = [];
  const walk = (schema: unknown, path: string[]): void => {
    if (!isObject(schema) || !isObject(schema.properties)) return;
    for (const [key, property] of Object.entries(schema.properties)) {
      if (!isObject(property)) continue;
      const name = property['x-mcp-header'];
      if (typeof name === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) found.push({ header: `mcp-param-${name.toLowerCase()}`, path: [...path, key] });
      walk(property, [...path, key]);
    }
  };
  walk(inputSchema, []);
  return found;
}

function valueAt(args: JsonObject, path: string[]): unknown {
  let current: unknown = args;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** The string form of a parameter value (string as-is, integer in decimal, boolean lower-case). */
function stringForm(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}

const SENTINEL = /^=\?base64\?(.*)\?=$/s;
const SAFE = /^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/;

/** Encodes a value for a header: plain when safe, else the Base64 sentinel form (also for sentinel look-alikes). */
export function encodeParamValue(value: string): string {
  if (SAFE.test(value) && !SENTINEL.test(value)) return value;
  return `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** Decodes a header value; undefined when a sentinel carries invalid Base64 or the value has invalid characters. */
export function decodeParamValue(value: string): string | undefined {
  const match = SENTINEL.exec(value);
  if (!match) return SAFE.test(value) || value === '' ? value : undefined;
  const encoded = match[1] ?? '';
  if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** Headers to send upstream for a call, from the tool's schema and the call's arguments. */
export function headersForCall(specs: readonly ParamHeader[], args: JsonObject): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const spec of specs) {
    const form = stringForm(valueAt(args, spec.path));
    if (form !== undefined) headers[spec.header] = encodeParamValue(form);
  }
  return headers;
}

/**
 * Checks the headers a client sent against the body; returns what is wrong, or undefined. Headers that
 * no declared parameter backs are not checked here: they are never forwarded (see forward).
 */
export function checkParamHeaders(specs: readonly ParamHeader[], args: JsonObject, sent: Readonly<Record<string, string | undefined>>): string | undefined {
  for (const spec of specs) {
    const value = valueAt(args, spec.path);
    const raw = sent[spec.header];
    // A header for an argument the body does not carry would be a value nobody judged (issue 11 item 13).
    if (value === undefined || value === null) {
      if (raw !== undefined) return `${spec.header} header is sent but arguments.${spec.path.join('.')} is absent; send both or neither`;
      continue;
    }
    if (raw === undefined) return `${spec.header} header is required because arguments.${spec.path.join('.')} is present`;
    const decoded = decodeParamValue(raw);
    if (decoded === undefined) return `${spec.header} header has invalid characters or invalid Base64`;
    const expected = stringForm(value);
    const matches =
      typeof value === 'number' ? decoded.trim() !== '' && Number(decoded) === value : expected !== undefined && decoded === expected;
    if (!matches) return `${spec.header} header does not match arguments.${spec.path.join('.')}`;
  }
  return undefined;
}
