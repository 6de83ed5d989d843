/**
 * Which MCP endpoint a request path names:
 *
 *   /mcp            every server, names namespaced
 *   /mcp/<server>   one server, unchanged
 *
 * Anything else is not an MCP endpoint (the identity and operations paths are served before this).
 */
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import type { Endpoint } from '../pipeline/context.ts';

const SERVER_PATH = /^\/mcp\/([^/]+)\/?$/;

/** The path of a request URL, without its query. */
export function pathnameOf(rawUrl: string): string {
  const query = rawUrl.indexOf('?');
  return query === -1 ? rawUrl : rawUrl.slice(0, query);
}

/** A path that names no configured server: the refusal, and the endpoint its record names (the name asked for). */
export interface UnknownServer {
  refusal: GatewayError;
  endpoint: Endpoint;
}

/**
 * The endpoint `pathname` names; an UnknownServer for a server that does not exist (refused after
 * authentication, without naming the servers that do); undefined for a path that is no MCP endpoint.
 */
export function endpointFor(gateway: Gateway, pathname: string): Endpoint | UnknownServer | undefined {
  if (pathname === '/mcp' || pathname === '/mcp/') return { kind: 'aggregate' };
  const match = SERVER_PATH.exec(pathname);
  if (!match) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(match[1]!);
  } catch {
    // A malformed escape names no server (404), rather than failing the request.
    return { refusal: new GatewayError('PC_ROUTE_UNKNOWN_SERVER', 'the server name in the path is not valid percent-encoding'), endpoint: { kind: 'server', server: match[1]! } };
  }
  if (!gateway.hasServer(name)) {
    // The name is not echoed (it is the caller's, and may hold anything) and the known ones are not listed.
    return { refusal: new GatewayError('PC_ROUTE_UNKNOWN_SERVER', 'no server by that name on this gateway; /mcp serves every server you may use'), endpoint: { kind: 'server', server: name } };
  }
  return { kind: 'server', server: name };
}

export const isUnknownServer = (endpoint: Endpoint | UnknownServer | undefined): endpoint is UnknownServer => endpoint !== undefined && 'refusal' in endpoint;

/** The endpoint a refused request was for, or the aggregate one when its path names none. */
export function endpointOrAggregate(gateway: Gateway, pathname: string): Endpoint {
  const endpoint = endpointFor(gateway, pathname);
  return endpoint && !isUnknownServer(endpoint) ? endpoint : { kind: 'aggregate' };
}
