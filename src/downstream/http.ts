/**
 * The Streamable HTTP front, serving both protocol eras on the same endpoints:
 *
 *   /mcp            every server, names namespaced
 *   /mcp/<server>   one server, unchanged
 *   /healthz        liveness and per-server state;  /metrics  Prometheus text
 *   /.well-known/…, /oauth/…, /interaction/…  identity (when configured)
 *
 * Order of checks for every request (each failure answers at once and forwards nothing):
 * Host (DNS rebinding) → Origin (403) → a second Authorization header (400) → route → authentication (401) → HTTP method → media type → body
 * size (413) → JSON (-32700) → era (MCP-Protocol-Version; unsupported → 400 + -32022) → era rules
 * (http-modern.ts, http-legacy.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createIdentity, identityEnabled, type Identity } from '../auth/identity.ts';
import { principalKey, type Principal } from '../auth/principal.ts';
import { ambiguousCredentials } from '../auth/resource-server.ts';
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { isObject, parseJson, type JsonRpcRequest } from '../protocol/jsonrpc.ts';
import { DEFAULT_LEGACY_HEADER_VERSION, isSupportedVersion, MODERN_VERSION, SUPPORTED_VERSIONS } from '../protocol/versions.ts';
import type { Endpoint } from '../pipeline/context.ts';
import { createChangeFanout } from './fanout.ts';
import type { FrontContext, ModernListener } from './front-context.ts';
import { accepts, header, idOf, readBody, reject } from './http-io.ts';
import { createServer } from '../util/node-http.ts';
import { createLegacyFront } from './http-legacy.ts';
import { createModernFront } from './http-modern.ts';
import { Metrics } from './metrics.ts';
import { repeatedHeader } from './header-guard.ts';
import { createOriginGuard } from './origin-guard.ts';
import { serveHealth, serveMetrics } from './probes.ts';
import { answerClientErrors, requestTimeoutOptions } from './request-timeouts.ts';
import { SessionStore } from './session.ts';
import { ResumeBudget } from './stream-log.ts';
import { isApprovalsAdminPath, serveApprovalsAdmin } from '../approvals/admin-http.ts';
import { isApprovalPagePath, serveApprovalPage } from '../approvals/url-page.ts';

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

export function createHttpFront(gateway: Gateway, config: Config, logger: Logger, deps?: FrontDeps): Promise<HttpFront> {
  const { listen } = config;
  // Identity is built once the URL is known (resource URIs derive from it); until then, with identity
  // configured, MCP requests get 503 rather than pass unauthenticated.
  const authRequired = identityEnabled(config);
  let identity: Identity | undefined;
  const principals = new WeakMap<IncomingMessage, Principal>();
  const { limits } = gateway;
  const sessions = new SessionStore(listen.sessionIdleMs, (session) => gateway.clientGone(session.id), {
    maxSessions: listen.maxSessions,
    maxSessionsPerPrincipal: listen.maxSessionsPerPrincipal,
    limits,
  });
  const resume = new ResumeBudget({ perSessionBytes: listen.maxResumeBytesPerSession, totalBytes: listen.maxResumeBytes, limits });
  const metrics = new Metrics();
  const guard = createOriginGuard(listen);
  const modernStreams = new Set<ModernListener>();
  const unsubscribe = gateway.onChange(createChangeFanout(sessions, modernStreams));

  const front: FrontContext = {
    gateway,
    logger,
    sessions,
    modernStreams,
    resume,
    streamGuard: (mode) => ({ mode, maxQueueBytes: listen.maxStreamQueueBytes, limits }),
    principalOf: (req) => principals.get(req),
    ownerOf(req) {
      const p = principals.get(req);
      return p ? principalKey(p) : undefined;
    },
    async stepUp(req, res, endpoint, requests) {
      const principal = principals.get(req);
      if (!principal || !identity) return undefined;
      for (const request of requests) {
        const needed = await gateway.missingScopes(endpoint, request, principal);
        if (!needed) continue;
        res.setHeader('www-authenticate', identity.resourceServer.insufficientScope(endpoint, needed));
        const refusal = new GatewayError('PC_AUTH_INSUFFICIENT_SCOPE', `this call needs scope${needed.length > 1 ? 's' : ''} ${needed.join(' ')}; authorize again with ${needed.length > 1 ? 'them' : 'it'}`, { scopes: needed });
        // Decided before the pipeline, so recorded here: who asked, for what, and the scopes missing.
        await gateway.recordRefusal(endpoint, refusal, request.method, { principal, request, address: req.socket.remoteAddress }).catch(() => false);
        return refusal;
      }
      return undefined;
    },
    async refuse(res, endpoint, error, era = 'legacy', id = null, method = '(request)', req = undefined) {
      await gateway.recordRefusal(endpoint, error, method, { principal: req ? principals.get(req) : undefined, address: req?.socket.remoteAddress }).catch(() => false);
      reject(res, error, era, id);
    },
    logDecision(request: JsonRpcRequest, error: GatewayError, correlationId: string) {
      const level = error.code === 'PC_INTERNAL' ? 'error' : 'info';
      logger[level]({ correlationId, method: request.method, code: error.code }, error.message);
    },
  };
  const modern = createModernFront(front);
  const legacy = createLegacyFront(front);

  function endpointFor(pathname: string): Endpoint | GatewayError | undefined {
    if (pathname === '/mcp' || pathname === '/mcp/') return { kind: 'aggregate' };
    const match = /^\/mcp\/([^/]+)\/?$/.exec(pathname);
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
  function endpointOrAggregate(pathname: string): Endpoint {
    const endpoint = endpointFor(pathname);
    return endpoint && !(endpoint instanceof GatewayError) ? endpoint : { kind: 'aggregate' };
  }

  /** The verified caller, or the refusal already answered (401 with its challenge). */
  async function authenticate(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, pathname: string): Promise<boolean> {
    if (!authRequired) return true;
    if (!identity) {
      reject(res, new GatewayError('PC_UPSTREAM_UNAVAILABLE', 'the gateway is still starting; retry in a moment'));
      return false;
    }
    const result = await identity.resourceServer.authenticate(header(req, 'authorization'), endpoint);
    if ('kind' in result) {
      principals.set(req, result);
      return true;
    }
    res.setHeader('www-authenticate', identity.resourceServer.challenge(endpoint, result));
    logger.info({ path: pathname, address: req.socket.remoteAddress, error: result.error ?? 'missing' }, `authentication failed: ${result.description}`);
    const refusal = new GatewayError(result.error ? 'PC_AUTH_INVALID_TOKEN' : 'PC_AUTH_REQUIRED', result.description);
    metrics.authRefused += 1;
    // A request with no credential at all is how every OAuth client starts: not worth a record.
    if (result.error) await gateway.recordRefusal(endpoint, refusal, undefined, { address: req.socket.remoteAddress }).catch(() => false);
    reject(res, refusal);
    return false;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const query = rawUrl.indexOf('?');
    const pathname = query === -1 ? rawUrl : rawUrl.slice(0, query);
    const repeated = repeatedHeader(req);
    if (repeated !== undefined) {
      const routed = endpointFor(pathname);
      const refusal = new GatewayError('PC_PROTOCOL_AMBIGUOUS', `the ${repeated} header is sent more than once; send it once`, { header: repeated });
      return front.refuse(res, routed && !(routed instanceof GatewayError) ? routed : { kind: 'aggregate' }, refusal, 'legacy', null, '(request)', req);
    }
    if (!guard.hostAllowed(req)) {
      return front.refuse(res, endpointOrAggregate(pathname), new GatewayError('PC_HTTP_HOST_FORBIDDEN', `Host "${header(req, 'host') ?? ''}" is not allowed (listen.allowedHosts); DNS-rebinding protection`), 'legacy', null, '(request)', req);
    }
    const origin = header(req, 'origin');
    if (origin !== undefined && !guard.originAllowed(origin)) {
      return front.refuse(res, endpointOrAggregate(pathname), new GatewayError('PC_HTTP_ORIGIN_FORBIDDEN', `Origin "${origin}" is not allowed (listen.allowedOrigins); DNS-rebinding protection`), 'legacy', null, '(request)', req);
    }
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'Mcp-Session-Id, WWW-Authenticate');
    }
    metrics.requests += 1;
    const ambiguous = ambiguousCredentials(req);
    if (ambiguous) {
      metrics.authRefused += 1;
      const endpoint = endpointFor(pathname);
      await gateway.recordRefusal(endpoint && !(endpoint instanceof GatewayError) ? endpoint : { kind: 'aggregate' }, ambiguous, undefined, { address: req.socket.remoteAddress }).catch(() => false);
      return reject(res, ambiguous);
    }
    if (identity && req.method === 'GET') {
      const metadata = identity.resourceServer.metadataFor(pathname, (name) => gateway.hasServer(name));
      if (metadata) {
        const body = JSON.stringify(metadata);
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
    }
    if (identity?.embedded?.handles(pathname)) return identity.embedded.handle(req, res, pathname);
    if (pathname === '/metrics' && req.method === 'GET') return serveMetrics(res, rawUrl, gateway, metrics, sessions, resume);
    if (pathname === '/healthz' && req.method === 'GET') return serveHealth(res, gateway);
    if (isApprovalsAdminPath(pathname)) return serveApprovalsAdmin(req, res, pathname, rawUrl, { gateway, identity, enabled: authRequired });
    if (isApprovalPagePath(pathname)) return serveApprovalPage(req, res, pathname, rawUrl, gateway);
    const endpoint = endpointFor(pathname);
    if (endpoint === undefined) return reject(res, new GatewayError('PC_HTTP_NOT_FOUND', `no MCP endpoint at ${pathname}; use /mcp or /mcp/<server>`));
    if (endpoint instanceof GatewayError) return reject(res, endpoint);

    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE',
        'access-control-allow-headers': 'Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (!(await authenticate(req, res, endpoint, pathname))) return;
    const version = header(req, 'mcp-protocol-version');
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
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return front.refuse(res, endpoint, new GatewayError('PC_HTTP_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json (got "${type}")`), 'legacy', null, '(request)', req);
    }
    if (!accepts(req, 'application/json') && !accepts(req, 'text/event-stream')) {
      return front.refuse(res, endpoint, new GatewayError('PC_HTTP_NOT_ACCEPTABLE', 'Accept must include application/json and text/event-stream'), 'legacy', null, '(request)', req);
    }
    let body: unknown;
    try {
      body = parseJson(await readBody(req, listen.maxBodyBytes));
    } catch (error) {
      if (error instanceof GatewayError) return front.refuse(res, endpoint, error, version === MODERN_VERSION ? 'modern' : 'legacy', null, '(request)', req);
      throw error;
    }
    // Checked after the body is read so that the error can carry the request's id.
    if (unsupported) return front.refuse(res, endpoint, unsupported, 'modern', idOf(body), isObject(body) && typeof body.method === 'string' ? body.method : '(request)', req);
    if (version === MODERN_VERSION) return modern.post(req, res, endpoint, body);
    return legacy.post(req, res, endpoint, body, version ?? DEFAULT_LEGACY_HEADER_VERSION);
  }

  const server: Server = createServer(requestTimeoutOptions(listen), (req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      // A request cut off mid-body (timed out, or the client left) is not the gateway's error.
      if (!req.complete && req.destroyed) return void logger.debug({ err: (error as Error).message }, 'request ended before its body did');
      logger.error({ err: error }, 'unhandled error in HTTP front');
      reject(res, new GatewayError('PC_INTERNAL', 'internal error'));
    });
  });
  answerClientErrors(server, limits);
  server.keepAliveTimeout = 65_000;

  return new Promise((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(listen.port, listen.host, () => {
      server.off('error', rejectListen);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const url = `http://${host}:${address.port}`;
      // The approval page (URL-mode elicitation) is offered on a loopback front without identity only.
      if (!authRequired && /^(127\.|::1$)/.test(address.address)) gateway.approvals.pages.serveAt(url);
      const ready = authRequired && deps
        ? createIdentity({
          config,
          url,
          dataDir: config.dataDir ?? defaultDataDir(deps.secrets.env),
          scopes: () => gateway.scopes(),
          servers: () => [...gateway.upstreams.keys()],
          secrets: deps.secrets,
          logger,
        })
        : Promise.resolve(undefined);
      if (authRequired && !deps) logger.error('identity is configured but the front got no secrets: every MCP request is refused');
      ready.then((built) => {
        identity = built;
        // With the embedded sign-in, the approval page asks the browser's signed-in user (url-page.ts).
        if (built?.embedded) gateway.approvals.pages.serveAt(built.embedded.issuer.replace(/\/$/, ''), { issuer: built.embedded.issuer, signedInUser: (q, r) => built.embedded!.signedInUser(q, r) });
        resolve({
          url,
          sessions,
          identity,
          async close() {
            identity?.close();
            unsubscribe();
            metrics.close();
            sessions.close();
            for (const listener of modernStreams) listener.writer.end();
            modernStreams.clear();
            server.closeAllConnections();
            await new Promise<void>((done) => server.close(() => done()));
          },
        });
      }, (error: unknown) => {
        server.close();
        rejectListen(error);
      });
    });
  });
}
