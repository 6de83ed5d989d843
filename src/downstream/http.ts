/**
 * The Streamable HTTP front, serving both protocol eras on the same endpoints:
 *
 *   /mcp            every server, names namespaced                (http-routes.ts, http-mcp.ts)
 *   /mcp/<server>   one server, unchanged
 *   /healthz        liveness and per-server state;  /metrics  Prometheus text  (http-operations.ts)
 *   /.well-known/…, /oauth/…, /interaction/…  identity (when configured)      (http-identity.ts)
 *
 * Order of checks for every request (each failure answers at once and forwards nothing):
 * a header sent twice (400) → Host (DNS rebinding) → Origin (403) → a second Authorization header (400)
 * (http-admission.ts) → identity and operations paths → route (404) → authentication (401) → HTTP
 * method → media type → body size (413) → JSON (-32700) → era (MCP-Protocol-Version; unsupported →
 * 400 + -32022) → era rules (http-mcp.ts, then http-modern.ts, http-legacy.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { identityEnabled, type Identity } from '../auth/identity.ts';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { createServer } from '../util/node-http.ts';
import { createAdmission } from './http-admission.ts';
import { FrontIdentity } from './http-identity.ts';
import { reject } from './http-io.ts';
import { closeServer, listenOn, offerApprovalPages, startIdentity } from './http-listen.ts';
import { createMcpEndpoint } from './http-mcp.ts';
import { serveOperationsPath } from './http-operations.ts';
import { endpointFor, isUnknownServer, pathnameOf } from './http-routes.ts';
import { createFrontState } from './http-sessions.ts';
import { Metrics } from './metrics.ts';
import { answerClientErrors, requestTimeoutOptions } from './request-timeouts.ts';
import type { SessionStore } from './session.ts';

export interface HttpFront {
  readonly url: string;
  readonly sessions: SessionStore;
  /** The identity layer, when the configuration turns authentication on. */
  readonly identity: Identity | undefined;
  close(): Promise<void>;
}

/** What the front needs besides the gateway: the secrets the identity layer resolves. */
export interface FrontDeps {
  secrets: SecretSource;
}

export async function createHttpFront(gateway: Gateway, config: Config, logger: Logger, deps?: FrontDeps): Promise<HttpFront> {
  const { listen } = config;
  const metrics = new Metrics();
  const identity = new FrontIdentity(identityEnabled(config), gateway, metrics, logger);
  const state = createFrontState(gateway, listen, logger, identity);
  const { front } = state;
  const admit = createAdmission(listen, front, metrics);
  const serveMcp = createMcpEndpoint(front, identity, listen.maxBodyBytes);

  /** Not async: the MCP path awaits in serveMcp only, so routing adds no promise to a request. */
  function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    const rawUrl = req.url ?? '/';
    const pathname = pathnameOf(rawUrl);
    const refused = admit(req, res, pathname);
    if (refused) return refused;
    const served = identity.servePath(req, res, pathname) ?? serveOperationsPath(req, res, pathname, rawUrl, front, metrics, identity);
    if (served) return served;
    const endpoint = endpointFor(gateway, pathname);
    if (endpoint === undefined) return reject(res, new GatewayError('PC_HTTP_NOT_FOUND', `no MCP endpoint at ${pathname}; use /mcp or /mcp/<server>`));
    // An unknown server is refused like any request: after authentication, and recorded.
    if (isUnknownServer(endpoint)) return serveMcp(req, res, { kind: 'aggregate' }, '/mcp', endpoint);
    return serveMcp(req, res, endpoint, pathname);
  }

  function onError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    // A request cut off mid-body (timed out, or the client left) is not the gateway's error.
    if (!req.complete && req.destroyed) return void logger.debug({ err: (error as Error).message }, 'request ended before its body did');
    logger.error({ err: error }, 'unhandled error in HTTP front');
    reject(res, new GatewayError('PC_INTERNAL', 'internal error'));
  }

  const server: Server = createServer(requestTimeoutOptions(listen), (req, res) => {
    let pending: Promise<void> | void;
    try {
      pending = onRequest(req, res);
    } catch (error) {
      return onError(req, res, error);
    }
    pending?.catch((error: unknown) => onError(req, res, error));
  });
  answerClientErrors(server, gateway.limits);
  server.keepAliveTimeout = 65_000;

  const { address, url } = await listenOn(server, listen);
  try {
    identity.current = identity.required ? await startIdentity(gateway, config, url, logger, deps?.secrets) : undefined;
  } catch (error) {
    server.close();
    throw error;
  }
  offerApprovalPages(gateway.approvals, address, url, identity.required, identity.current);
  return {
    url,
    sessions: front.sessions,
    identity: identity.current,
    async close() {
      identity.current?.close();
      metrics.close();
      state.close();
      await closeServer(server);
    },
  };
}
