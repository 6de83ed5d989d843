/**
 * One MCP endpoint (/mcp or /mcp/<server>), after the request was admitted and routed. Order of checks
 * (each failure answers at once and forwards nothing): CORS preflight → authentication (401) → HTTP
 * method → media type → Accept → body size (413) → JSON (-32700) → era (MCP-Protocol-Version;
 * unsupported → 400 + -32022) → the era's own rules (http-modern.ts, http-legacy.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.ts';
import { isObject, parseJson } from '../protocol/jsonrpc.ts';
import { DEFAULT_LEGACY_HEADER_VERSION, isSupportedVersion, MODERN_VERSION, SUPPORTED_VERSIONS } from '../protocol/versions.ts';
import type { Endpoint } from '../pipeline/context.ts';
import type { FrontContext } from './front-context.ts';
import type { FrontIdentity } from './http-identity.ts';
import { accepts, header, idOf, readBody } from './http-io.ts';
import { createLegacyFront } from './http-legacy.ts';
import { createModernFront } from './http-modern.ts';
import type { UnknownServer } from './http-routes.ts';

/** `unknown`: the path named no server — authenticated against /mcp, then refused and recorded. */
export type McpEndpoint = (req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, pathname: string, unknown?: UnknownServer) => Promise<void>;

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

export function createMcpEndpoint(front: FrontContext, identity: FrontIdentity, maxBodyBytes: number): McpEndpoint {
  const modern = createModernFront(front);
  const legacy = createLegacyFront(front);

  return async function serveMcp(req, res, endpoint, pathname, unknown) {
    if (req.method === 'OPTIONS') return answerPreflight(res);
    if (!(await identity.authenticate(req, res, endpoint, pathname))) return;
    const version = header(req, 'mcp-protocol-version');
    if (unknown) return front.refuse(res, unknown.endpoint, unknown.refusal, version === MODERN_VERSION ? 'modern' : 'legacy', null, '(request)', req);
    const unsupported =
      version !== undefined && !isSupportedVersion(version)
        ? new GatewayError('PC_PROTOCOL_UNSUPPORTED_VERSION', `Unsupported protocol version "${version}"; supported: ${SUPPORTED_VERSIONS.join(', ')}`, {
            supported: [...SUPPORTED_VERSIONS],
            requested: version,
          })
        : undefined;
    if (unsupported && req.method !== 'POST') return front.refuse(res, endpoint, unsupported, 'modern', null, '(request)', req);
    if (req.method === 'GET') return legacy.get(req, res, endpoint);
    if (req.method === 'DELETE') return legacy.delete(req, res, endpoint);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST, DELETE');
      return front.refuse(res, endpoint, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `HTTP ${req.method} is not supported; use POST (and GET/DELETE for legacy sessions)`), 'legacy', null, '(request)', req);
    }
    const type = header(req, 'content-type') ?? '';
    if (!JSON_MEDIA_TYPE.test(type)) {
      return front.refuse(res, endpoint, new GatewayError('PC_HTTP_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json (got "${type}")`), 'legacy', null, '(request)', req);
    }
    if (!accepts(req, 'application/json') && !accepts(req, 'text/event-stream')) {
      return front.refuse(res, endpoint, new GatewayError('PC_HTTP_NOT_ACCEPTABLE', 'Accept must include application/json and text/event-stream'), 'legacy', null, '(request)', req);
    }
    let body: unknown;
    try {
      const text = readBody(req, maxBodyBytes);
      body = parseJson(typeof text === 'string' ? text : await text);
    } catch (error) {
      if (error instanceof GatewayError) return front.refuse(res, endpoint, error, version === MODERN_VERSION ? 'modern' : 'legacy', null, '(request)', req);
      throw error;
    }
    // Checked after the body is read so that the error can carry the request's id.
    if (unsupported) return front.refuse(res, endpoint, unsupported, 'modern', idOf(body), isObject(body) && typeof body.method === 'string' ? body.method : '(request)', req);
    if (version === MODERN_VERSION) return modern.post(req, res, endpoint, body);
    return legacy.post(req, res, endpoint, body, version ?? DEFAULT_LEGACY_HEADER_VERSION);
  };
}

/** CORS preflight: what a browser client may send (the Origin was checked on admission). */
function answerPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, DELETE',
    'access-control-allow-headers': 'Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID',
    'access-control-max-age': '600',
  });
  res.end();
}
