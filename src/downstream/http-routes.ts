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

/** The endpoint `pathname` names; a refusal (404) for a server that does not exist; undefined for a path that is no MCP endpoint. */
export function endpointFor(gateway: Gateway, pathname: string): Endpoint | GatewayError | undefined {
  if (pathname === '/mcp' || pathname === '/mcp/') return { kind: 'aggregate' };
  const match = SERVER_PATH.exec(pathname);
  if (!match) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(match[1]!);
  } catch {
    // A malformed escape names no server (404), rather than failing the request.
    return new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `the server name in ${JSON.stringify(pathname)} is not valid percent-encoding`);
  }
  if (!gateway.hasServer(name)) {
    return new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${name}" (known: ${[...gateway.upstreams.keys()].join(', ') || 'none'})`);
  }
  return { kind: 'server', server: name };
}

/** The endpoint a refused request was for, or the aggregate one when its path names none. */
export function endpointOrAggregate(gateway: Gateway, pathname: string): Endpoint {
  const endpoint = endpointFor(gateway, pathname);
  return endpoint && !(endpoint instanceof GatewayError) ? endpoint : { kind: 'aggregate' };
}
