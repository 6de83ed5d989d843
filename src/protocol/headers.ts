/**
 * Modern-era header ↔ body checks (spec 2026-07-28 `basic/transports/streamable-http.mdx`,
 * §Standard headers): anything that reads the body MUST check `Mcp-Method` / `Mcp-Name` against it and
 * answer a mismatch with 400 + -32020 (HeaderMismatch). Values that are not safe header text arrive as
 * `=?base64?…?=` and are decoded before comparison. Header names are case-insensitive; values are not.
 */
import { GatewayError } from '../errors.ts';
import { META_CLIENT_CAPABILITIES, META_PROTOCOL_VERSION } from './versions.ts';
import { isObject, type JsonRpcNotification, type JsonRpcRequest } from './jsonrpc.ts';

const ENCODED = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/;

export function decodeHeaderValue(value: string): string {
  const match = ENCODED.exec(value);
  if (!match) return value;
  return Buffer.from(match[1] ?? '', 'base64').toString('utf8');
}

/** The value a client must send in `Mcp-Name` for this method, or undefined when none is required. */
export function expectedMcpName(message: JsonRpcRequest | JsonRpcNotification): string | undefined {
  const params = message.params ?? {};
  if (message.method === 'tools/call' || message.method === 'prompts/get') {
    return typeof params.name === 'string' ? params.name : undefined;
  }
  if (message.method === 'resources/read') return typeof params.uri === 'string' ? params.uri : undefined;
  return undefined;
}

/** Encodes a header value the way the spec asks when it is not plain visible ASCII. */
export function encodeHeaderValue(value: string): string {
  return /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value)
    ? value
    : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

export interface ModernHeaders {
  protocolVersion: string;
  method: string | undefined;
  name: string | undefined;
}

/** Checks a modern request's headers against its body; returns nothing or throws HeaderMismatch. */
export function assertHeadersMatchBody(headers: ModernHeaders, message: JsonRpcRequest | JsonRpcNotification): void {
  const mismatch = (what: string): never => {
    throw new GatewayError('PC_PROTOCOL_HEADER_MISMATCH', what);
  };
  const meta = isObject(message.params?._meta) ? message.params._meta : undefined;
  // The envelope itself is params, not a header: a request without it is invalid (-32602), and only
  // a present version that differs from the header is a mismatch (server-stateless conformance).
  const invalid = (what: string): never => {
    throw new GatewayError('PC_PROTOCOL_INVALID_META', `${what}; every ${headers.protocolVersion} request carries params._meta with "${META_PROTOCOL_VERSION}" and "${META_CLIENT_CAPABILITIES}"`);
  };
  if (!meta) invalid('params._meta is missing');
  const bodyVersion = meta![META_PROTOCOL_VERSION];
  if (bodyVersion === undefined) invalid(`params._meta["${META_PROTOCOL_VERSION}"] is missing`);
  if (!isObject(meta![META_CLIENT_CAPABILITIES])) invalid(`params._meta["${META_CLIENT_CAPABILITIES}"] is missing or not an object`);
  if (bodyVersion !== headers.protocolVersion) {
    mismatch(
      `MCP-Protocol-Version header "${headers.protocolVersion}" does not match params._meta["${META_PROTOCOL_VERSION}"] ` +
        `(${bodyVersion === undefined ? 'absent' : JSON.stringify(bodyVersion)}); they must be equal`,
    );
  }
  if (headers.method === undefined) mismatch(`Mcp-Method header is required and must equal the body's method "${message.method}"`);
  if (headers.method !== message.method) {
    mismatch(`Mcp-Method header "${headers.method}" does not match the body's method "${message.method}"`);
  }
  const expected = expectedMcpName(message);
  if (expected !== undefined) {
    if (headers.name === undefined) mismatch(`Mcp-Name header is required for ${message.method} and must equal "${expected}"`);
    else if (decodeHeaderValue(headers.name) !== expected) {
      mismatch(`Mcp-Name header does not match the body (${message.method} names "${expected}")`);
    }
  }
}
