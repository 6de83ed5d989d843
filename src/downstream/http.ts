/**
 * The Streamable HTTP front, serving both protocol eras on the same endpoints:
 *
 *   /mcp            every server, names namespaced
 *   /mcp/<server>   one server, unchanged
 *   /healthz        liveness and per-server state
 *
 * Order of checks for every request (each failure answers at once and forwards nothing):
 * Host (DNS rebinding) → Origin (403) → route → HTTP method → media type → body size (413) → JSON
 * (-32700) → era (MCP-Protocol-Version; unsupported → 400 + -32022) → era rules (modern: single message,
 * headers equal the body (-32020), removed methods 404; legacy: session (400 missing / 404 unknown),
 * batches only in 2025-03-26).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createIdentity, identityEnabled, type Identity } from '../auth/identity.ts';
import { principalKey, type Principal } from '../auth/principal.ts';
import { defaultDataDir } from '../config/defaults.ts';
import type { SecretSource } from '../config/secrets.ts';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { GatewayError, httpStatusFor, httpStatusForRpcCode } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { assertHeadersMatchBody } from '../protocol/headers.ts';
import {
  assertMessage,
  isNotification,
  isObject,
  isRequest,
  isResponse,
  parseJson,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.ts';
import {
  allowsBatch,
  DEFAULT_LEGACY_HEADER_VERSION,
  isLegacyVersion,
  isSupportedVersion,
  LATEST_LEGACY_VERSION,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_SUBSCRIPTION_ID,
  MODERN_VERSION,
  REMOVED_IN_MODERN,
  SUPPORTED_VERSIONS,
} from '../protocol/versions.ts';
import { isLoopbackHost } from '../config/load.ts';
import type { ClientLink, Endpoint } from '../pipeline/context.ts';
import { errorResponse, toResponse } from './reply.ts';
import { Metrics } from './metrics.ts';
import { ResponseWriter } from './response-writer.ts';
import { DownstreamSession, SessionStore } from './session.ts';
import { parseEventId, StreamLog } from './stream-log.ts';
import type { Config } from '../config/schema.ts';

export interface HttpFront {
  readonly url: string;
  readonly sessions: SessionStore;
  /** The identity layer, when the configuration turns authentication on. */
  readonly identity: Identity | undefined;
  close(): Promise<void>;
}

/** The id of a request body, for error responses (null when there is none to echo). */
function idOf(body: unknown): JsonRpcRequest['id'] | null {
  return isObject(body) && (typeof body.id === 'string' || typeof body.id === 'number') ? body.id : null;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function accepts(req: IncomingMessage, type: string): boolean {
  const accept = header(req, 'accept');
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const media = part.split(';')[0]?.trim().toLowerCase();
    return media === type || media === '*/*' || media === `${type.split('/')[0]}/*`;
  });
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
  const ownerOf = (req: IncomingMessage): string | undefined => {
    const p = principals.get(req);
    return p ? principalKey(p) : undefined;
  };
  const sessions = new SessionStore(listen.sessionIdleMs, (session) => gateway.clientGone(session.id));
  const metrics = new Metrics();
  const allowedOrigins = new Set(listen.allowedOrigins.map((o) => o.toLowerCase()));
  const allowedHosts = new Set(listen.allowedHosts.map((h) => h.toLowerCase()));
  const modernStreams = new Set<{ endpoint: Endpoint; filter: JsonObject; id: JsonRpcRequest['id']; writer: ResponseWriter }>();

  // Change notifications reach legacy sessions on their GET stream and modern clients on their
  // subscriptions/listen stream, for the endpoints that show the server that changed.
  const unsubscribe = gateway.onChange(({ server, notification }) => {
    const shows = (endpoint: Endpoint): boolean => endpoint.kind === 'aggregate' || endpoint.server === server;
    for (const session of sessions.all()) {
      if (!shows(session.endpoint) || !session.stream) continue;
      if (notification.method === 'notifications/resources/updated') {
        const uri = notification.params?.uri;
        if (typeof uri !== 'string' || !session.subscriptions.has(uri)) continue;
      }
      session.stream.send(notification);
    }
    const filterKey: Record<string, string> = {
      'notifications/tools/list_changed': 'toolsListChanged',
      'notifications/prompts/list_changed': 'promptsListChanged',
      'notifications/resources/list_changed': 'resourcesListChanged',
    };
    const key = filterKey[notification.method];
    for (const listener of modernStreams) {
      if (!shows(listener.endpoint) || !key || listener.filter[key] !== true) continue;
      listener.writer.send({
        jsonrpc: '2.0',
        method: notification.method,
        params: { ...notification.params, _meta: { [META_SUBSCRIPTION_ID]: listener.id } },
      });
    }
  });

  // Host headers already judged, so the common case is one Map lookup instead of a URL parse.
  const hostVerdicts = new Map<string, boolean>();

  function hostAllowed(req: IncomingMessage): boolean {
    const host = header(req, 'host');
    if (!host) return false;
    const known = hostVerdicts.get(host);
    if (known !== undefined) return known;
    const verdict = judgeHost(host);
    if (hostVerdicts.size < 1000) hostVerdicts.set(host, verdict);
    return verdict;
  }

  function judgeHost(host: string): boolean {
    let hostname: string;
    try {
      hostname = new URL(`http://${host}`).hostname.toLowerCase();
    } catch {
      return false;
    }
    if (isLoopbackHost(hostname) || allowedHosts.has(hostname) || allowedHosts.has(host.toLowerCase())) return true;
    return hostname === listen.host.toLowerCase() && listen.host !== '0.0.0.0' && listen.host !== '::';
  }

  function originAllowed(origin: string): boolean {
    if (allowedOrigins.has(origin.toLowerCase())) return true;
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
    } catch {
      return false;
    }
  }

  function reject(res: ServerResponse, error: GatewayError, era: 'modern' | 'legacy' = 'legacy', id: JsonRpcRequest['id'] | null = null): void {
    const body = JSON.stringify(errorResponse(id, error, 'none'));
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(httpStatusFor(error, era), { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const declared = Number(header(req, 'content-length') ?? NaN);
    const tooLarge = (): GatewayError =>
      new GatewayError('PC_HTTP_BODY_TOO_LARGE', `request body exceeds ${listen.maxBodyBytes} bytes (listen.maxBodyBytes)`, { maxBodyBytes: listen.maxBodyBytes });
    if (Number.isFinite(declared) && declared > listen.maxBodyBytes) throw tooLarge();
    return new Promise((resolve, rejectBody) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > listen.maxBodyBytes) {
          req.removeAllListeners('data');
          req.resume();
          rejectBody(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      req.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
      req.once('error', rejectBody);
    });
  }

  function endpointFor(pathname: string): Endpoint | GatewayError | undefined {
    if (pathname === '/mcp' || pathname === '/mcp/') return { kind: 'aggregate' };
    const match = /^\/mcp\/([^/]+)\/?$/.exec(pathname);
    if (!match) return undefined;
    const name = decodeURIComponent(match[1]!);
    if (!gateway.hasServer(name)) {
      return new GatewayError('PC_ROUTE_UNKNOWN_SERVER', `no server named "${name}" (known: ${[...gateway.upstreams.keys()].join(', ') || 'none'})`);
    }
    return { kind: 'server', server: name };
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const query = rawUrl.indexOf('?');
    const url = { pathname: query === -1 ? rawUrl : rawUrl.slice(0, query) };
    if (!hostAllowed(req)) {
      return reject(res, new GatewayError('PC_HTTP_HOST_FORBIDDEN', `Host "${header(req, 'host') ?? ''}" is not allowed (listen.allowedHosts); DNS-rebinding protection`));
    }
    const origin = header(req, 'origin');
    if (origin !== undefined && !originAllowed(origin)) {
      return reject(res, new GatewayError('PC_HTTP_ORIGIN_FORBIDDEN', `Origin "${origin}" is not allowed (listen.allowedOrigins); DNS-rebinding protection`));
    }
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'Mcp-Session-Id, WWW-Authenticate');
    }
    metrics.requests += 1;
    if (identity && req.method === 'GET') {
      const metadata = identity.resourceServer.metadataFor(url.pathname, (name) => gateway.hasServer(name));
      if (metadata) {
        const body = JSON.stringify(metadata);
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
    }
    if (identity?.embedded?.handles(url.pathname)) return identity.embedded.handle(req, res, url.pathname);
    if (url.pathname === '/metrics' && req.method === 'GET') {
      // Benchmarks start the gateway with --expose-gc to read the heap after a full collection.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc && rawUrl.endsWith('?gc=1')) gc();
      const body = metrics.render({
        audit: () => (gateway.audit ? { healthy: gateway.audit.healthy, sinks: gateway.audit.sinks } : undefined),
        sessions: () => sessions.size, upstreams: () => [...gateway.upstreams].map(([name, u]) => ({ name, state: u.state() })) });
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(body);
      return;
    }
    if (url.pathname === '/healthz' && req.method === 'GET') {
      const servers = Object.fromEntries([...gateway.upstreams].map(([name, u]) => [name, u.state()]));
      const audit = gateway.audit ? (gateway.audit.healthy ? 'ok' : 'failing') : 'off';
      const auditSinks = gateway.audit?.sinks ?? {};
      const body = JSON.stringify({ status: audit === 'failing' ? 'degraded' : 'ok', servers, audit, auditSinks });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    const endpoint = endpointFor(url.pathname);
    if (endpoint === undefined) return reject(res, new GatewayError('PC_HTTP_NOT_FOUND', `no MCP endpoint at ${url.pathname}; use /mcp or /mcp/<server>`));
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
    if (authRequired) {
      if (!identity) return reject(res, new GatewayError('PC_UPSTREAM_UNAVAILABLE', 'the gateway is still starting; retry in a moment'));
      const result = await identity.resourceServer.authenticate(header(req, 'authorization'), endpoint);
      if (!('kind' in result)) {
        res.setHeader('www-authenticate', identity.resourceServer.challenge(endpoint, result));
        logger.info({ path: url.pathname, address: req.socket.remoteAddress, error: result.error ?? 'missing' }, `authentication failed: ${result.description}`);
        const refusal = new GatewayError(result.error ? 'PC_AUTH_INVALID_TOKEN' : 'PC_AUTH_REQUIRED', result.description);
        metrics.authRefused += 1;
        // A request with no credential at all is how every OAuth client starts: not worth a record.
        if (result.error) await gateway.recordRefusal(endpoint, refusal).catch(() => false);
        return reject(res, refusal);
      }
      principals.set(req, result);
    }
    const version = header(req, 'mcp-protocol-version');
    const unsupported =
      version !== undefined && !isSupportedVersion(version)
        ? new GatewayError('PC_PROTOCOL_UNSUPPORTED_VERSION', `Unsupported protocol version "${version}"; supported: ${SUPPORTED_VERSIONS.join(', ')}`, {
            supported: [...SUPPORTED_VERSIONS],
            requested: version,
          })
        : undefined;
    if (unsupported && req.method !== 'POST') return reject(res, unsupported, 'modern');
    if (req.method === 'GET') return onGet(req, res, endpoint);
    if (req.method === 'DELETE') return onDelete(req, res, endpoint);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST, DELETE');
      return reject(res, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `HTTP ${req.method} is not supported; use POST (and GET/DELETE for legacy sessions)`));
    }
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return reject(res, new GatewayError('PC_HTTP_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json (got "${type}")`));
    }
    if (!accepts(req, 'application/json') && !accepts(req, 'text/event-stream')) {
      return reject(res, new GatewayError('PC_HTTP_NOT_ACCEPTABLE', 'Accept must include application/json and text/event-stream'));
    }
    let body: unknown;
    try {
      body = parseJson(await readBody(req));
    } catch (error) {
      if (error instanceof GatewayError) return reject(res, error, version === MODERN_VERSION ? 'modern' : 'legacy');
      throw error;
    }
    // Checked after the body is read so that the error can carry the request's id.
    if (unsupported) return reject(res, unsupported, 'modern', idOf(body));
    if (version === MODERN_VERSION) return onModernPost(req, res, endpoint, body);
    return onLegacyPost(req, res, endpoint, body, version ?? DEFAULT_LEGACY_HEADER_VERSION);
  }

  // ---- modern era (2026-07-28): stateless, one message per POST ----

  async function onModernPost(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, body: unknown): Promise<void> {
    if (Array.isArray(body)) {
      return reject(res, new GatewayError('PC_PROTOCOL_BATCH_NOT_ALLOWED', `JSON-RPC batches are not allowed in protocol version ${MODERN_VERSION}`), 'modern');
    }
    let message: JsonRpcMessage;
    try {
      message = assertMessage(body);
      if (isResponse(message)) throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', `clients must not send responses in protocol version ${MODERN_VERSION}`);
      assertHeadersMatchBody(
        { protocolVersion: MODERN_VERSION, method: header(req, 'mcp-method'), name: header(req, 'mcp-name') },
        message as JsonRpcRequest | JsonRpcNotification,
      );
    } catch (error) {
      if (error instanceof GatewayError) return reject(res, error, 'modern', idOf(body));
      throw error;
    }
    if (isNotification(message)) {
      res.writeHead(202).end();
      return;
    }
    const request = message as JsonRpcRequest;
    if (REMOVED_IN_MODERN.has(request.method)) {
      return reject(res, new GatewayError('PC_PROTOCOL_METHOD_NOT_FOUND', `Method not found: "${request.method}" does not exist in protocol version ${MODERN_VERSION}`), 'modern', request.id);
    }
    const meta = isObject(request.params?._meta) ? request.params._meta : {};
    const capabilities = isObject(meta[META_CLIENT_CAPABILITIES]) ? (meta[META_CLIENT_CAPABILITIES] as JsonObject) : {};
    const writer = new ResponseWriter(res, accepts(req, 'text/event-stream'));
    const abort = new AbortController();
    // In the modern era a closed response stream is the client's cancellation.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    if (request.method === 'subscriptions/listen') return onListen(endpoint, request, writer, abort.signal);
    const stepUp = await scopeCheck(req, res, endpoint, [request]);
    if (stepUp) return reject(res, stepUp, 'modern', request.id);
    const client: ClientLink = {
      key: `modern:${String(request.id)}:${Math.random().toString(36).slice(2)}`,
      era: 'modern',
      protocolVersion: MODERN_VERSION,
      capabilities,
      info: isObject(meta[META_CLIENT_INFO]) ? (meta[META_CLIENT_INFO] as JsonObject) : undefined,
      notify: (n) => writer.send(n),
      request: undefined,
    };
    const paramHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith('mcp-param-') && typeof value === 'string') paramHeaders[name] = value;
    }
    const outcome = await gateway.handle({ endpoint, request, client, signal: abort.signal, paramHeaders, task: taskHeader(req), principal: principals.get(req) });
    if ('error' in outcome) {
      logDecision(request, outcome.error, outcome.correlationId);
      return writer.finish(toResponse(request.id, outcome, outcome.correlationId), httpStatusFor(outcome.error, 'modern'));
    }
    if ('upstreamError' in outcome) {
      return writer.finish(toResponse(request.id, outcome, outcome.correlationId), httpStatusForRpcCode(outcome.upstreamError.code, 'modern'));
    }
    writer.finish(toResponse(request.id, outcome, outcome.correlationId));
  }

  function onListen(endpoint: Endpoint, request: JsonRpcRequest, writer: ResponseWriter, signal: AbortSignal): void {
    const requested = isObject(request.params?.notifications) ? request.params.notifications : {};
    // Resource subscriptions are not offered on this stream yet; the acknowledgement says what is.
    const filter: JsonObject = {};
    for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged']) if (requested[key] === true) filter[key] = true;
    const listener = { endpoint, filter, id: request.id, writer };
    writer.stream();
    writer.send({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: filter, _meta: { [META_SUBSCRIPTION_ID]: request.id } },
    });
    modernStreams.add(listener);
    signal.addEventListener('abort', () => {
      modernStreams.delete(listener);
      writer.end();
    });
  }

  // ---- legacy era (2024-11-05 … 2025-11-25): sessions ----

  function sessionFor(req: IncomingMessage, endpoint: Endpoint): DownstreamSession | GatewayError {
    const id = header(req, 'mcp-session-id');
    if (!id) return new GatewayError('PC_SESSION_MISSING', 'Mcp-Session-Id header is required (send initialize first to get one)');
    const session = sessions.get(id);
    const sameEndpoint =
      session && (session.endpoint.kind === endpoint.kind && (endpoint.kind === 'aggregate' || (session.endpoint.kind === 'server' && session.endpoint.server === endpoint.server)));
    // A session belongs to the principal that opened it: another caller holding its id gets nothing.
    if (!session || !sameEndpoint || session.owner !== ownerOf(req)) return new GatewayError('PC_SESSION_UNKNOWN', 'Session not found (expired, deleted, or for another endpoint); initialize again');
    session.lastSeenMs = Date.now();
    return session;
  }

  async function onLegacyPost(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, body: unknown, version: string): Promise<void> {
    if (isObject(body) && body.method === 'initialize') return onInitialize(req, res, endpoint, body);
    const session = sessionFor(req, endpoint);
    if (session instanceof GatewayError) return reject(res, session);
    if (version !== DEFAULT_LEGACY_HEADER_VERSION && version !== session.protocolVersion && isLegacyVersion(version)) {
      return reject(
        res,
        new GatewayError('PC_PROTOCOL_UNSUPPORTED_VERSION', `MCP-Protocol-Version "${version}" differs from the session's negotiated "${session.protocolVersion}"`, {
          supported: [session.protocolVersion],
          requested: version,
        }),
      );
    }
    let messages: JsonRpcMessage[];
    try {
      if (Array.isArray(body)) {
        if (!allowsBatch(session.protocolVersion)) {
          throw new GatewayError('PC_PROTOCOL_BATCH_NOT_ALLOWED', `JSON-RPC batches are not allowed in protocol version ${session.protocolVersion} (only 2025-03-26)`);
        }
        if (body.length === 0) throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', 'body: an empty batch is not a valid request');
        messages = body.map((m, i) => assertMessage(m, `body[${i}]`));
        if (messages.some((m) => isObject(m) && (m as JsonObject).method === 'initialize')) {
          throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', 'initialize must not be part of a batch');
        }
      } else {
        messages = [assertMessage(body)];
      }
    } catch (error) {
      if (error instanceof GatewayError) return reject(res, error);
      throw error;
    }

    const requests: JsonRpcRequest[] = [];
    for (const message of messages) {
      if (isResponse(message)) session.answer(message);
      else if (isNotification(message)) onLegacyNotification(session, message);
      else if (isRequest(message)) requests.push(message);
    }
    if (requests.length === 0) {
      res.writeHead(202).end();
      return;
    }
    const stepUp = await scopeCheck(req, res, endpoint, requests);
    if (stepUp) return reject(res, stepUp, 'legacy', requests.length === 1 && !Array.isArray(body) ? requests[0]!.id : null);
    const sse = accepts(req, 'text/event-stream');
    // A single request from a client that accepts SSE gets a resumable stream from the start, as the
    // reference SDK server does: a cut connection then loses nothing (progress, sampling, the answer).
    let log: StreamLog | undefined;
    if (sse && !Array.isArray(body) && requests.length === 1) {
      log = new StreamLog(res);
      session.addStream(log);
    }
    const writer = new ResponseWriter(res, sse, {}, log);
    const call = { task: taskHeader(req), principal: principals.get(req) };
    const answers = await Promise.all(requests.map((request) => runLegacyRequest(session, endpoint, request, writer, call)));
    writer.finish(Array.isArray(body) ? answers : answers[0]!);
  }

  async function onInitialize(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, body: JsonObject): Promise<void> {
    let request: JsonRpcRequest;
    try {
      const message = assertMessage(body);
      if (!isRequest(message)) throw new GatewayError('PC_PROTOCOL_INVALID_REQUEST', 'initialize must be a request (with an id)');
      request = message;
    } catch (error) {
      if (error instanceof GatewayError) return reject(res, error);
      throw error;
    }
    const params = request.params ?? {};
    const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : '';
    const negotiated = isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
    let description;
    try {
      description = await gateway.describe(endpoint);
    } catch (error) {
      if (error instanceof GatewayError) return new ResponseWriter(res, false).finish(errorResponse(request.id, error, 'none'));
      throw error;
    }
    const session = new DownstreamSession({
      endpoint,
      protocolVersion: negotiated,
      capabilities: isObject(params.capabilities) ? params.capabilities : {},
      clientInfo: isObject(params.clientInfo) ? params.clientInfo : undefined,
      nowMs: Date.now(),
    });
    session.owner = ownerOf(req);
    sessions.add(session);
    const result: JsonObject = { protocolVersion: negotiated, capabilities: description.capabilities, serverInfo: description.serverInfo };
    if (description.instructions) result.instructions = description.instructions;
    logger.debug({ session: session.id.slice(0, 8), endpoint, protocolVersion: negotiated }, 'session opened');
    new ResponseWriter(res, false, { 'mcp-session-id': session.id }).finish({ jsonrpc: '2.0', id: request.id, result });
  }

  function onLegacyNotification(session: DownstreamSession, notification: JsonRpcNotification): void {
    if (notification.method === 'notifications/initialized') session.initialized = true;
    else if (notification.method === 'notifications/cancelled') session.cancel(notification.params?.requestId);
    // Roots belong to the gateway, not to one client (see servers.<name>.roots), so a client's roots
    // change is not forwarded to a shared server session.
  }

  async function runLegacyRequest(session: DownstreamSession, endpoint: Endpoint, request: JsonRpcRequest, writer: ResponseWriter, call: CallFacts): Promise<JsonRpcResponse> {
    const tracked = session.track(request.id);
    const client: ClientLink = {
      key: session.id,
      era: 'legacy',
      protocolVersion: session.protocolVersion,
      capabilities: session.capabilities,
      info: session.clientInfo,
      notify: (n) => writer.send(n),
      request: (method, params) => session.requestClient(writer.stream() ? writer : (session.stream ?? writer), method, params),
    };
    try {
      const outcome = await gateway.handle({ endpoint, request, client, signal: tracked.signal, ...call });
      if ('result' in outcome && request.method === 'resources/subscribe' && typeof request.params?.uri === 'string') session.subscriptions.add(request.params.uri);
      if ('result' in outcome && request.method === 'resources/unsubscribe' && typeof request.params?.uri === 'string') session.subscriptions.delete(request.params.uri);
      if ('error' in outcome) logDecision(request, outcome.error, outcome.correlationId);
      return toResponse(request.id, outcome, outcome.correlationId);
    } finally {
      tracked.release();
    }
  }

  function onGet(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): void {
    if (header(req, 'mcp-protocol-version') === MODERN_VERSION) {
      res.setHeader('allow', 'POST');
      return reject(res, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `GET is not part of protocol version ${MODERN_VERSION}; use subscriptions/listen`), 'modern');
    }
    if (!accepts(req, 'text/event-stream')) return reject(res, new GatewayError('PC_HTTP_NOT_ACCEPTABLE', 'GET needs Accept: text/event-stream'));
    const session = sessionFor(req, endpoint);
    if (session instanceof GatewayError) return reject(res, session);
    const lastEventId = header(req, 'last-event-id');
    if (lastEventId !== undefined) {
      const position = parseEventId(lastEventId);
      const log = position ? session.streams.get(position.stream) : undefined;
      if (!position || !log) return reject(res, new GatewayError('PC_HTTP_NOT_FOUND', `Last-Event-ID "${lastEventId}" names no stream of this session`));
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
      log.resume(res, position.seq);
      return;
    }
    if (session.stream) return reject(res, new GatewayError('PC_HTTP_STREAM_CONFLICT', 'this session already has a GET stream open'));
    const writer = new ResponseWriter(res, true, { 'mcp-session-id': session.id });
    writer.stream();
    const stream = { send: (m: JsonRpcMessage) => writer.send(m), close: () => writer.end() };
    session.stream = stream;
    res.on('close', () => {
      if (session.stream === stream) session.stream = undefined;
      session.lastSeenMs = Date.now();
    });
  }

  function onDelete(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): void {
    if (header(req, 'mcp-protocol-version') === MODERN_VERSION) {
      res.setHeader('allow', 'POST');
      return reject(res, new GatewayError('PC_HTTP_METHOD_NOT_ALLOWED', `DELETE is not part of protocol version ${MODERN_VERSION}`), 'modern');
    }
    const session = sessionFor(req, endpoint);
    if (session instanceof GatewayError) return reject(res, session);
    sessions.delete(session.id);
    res.writeHead(200).end();
  }

  /**
   * Step-up (RFC 6750 §3.1): a tools/call whose tool needs scopes the token lacks is answered 403 with a
   * challenge naming every scope it needs, before any stream starts, so the client can re-authorize.
   */
  async function scopeCheck(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, requests: readonly JsonRpcRequest[]): Promise<GatewayError | undefined> {
    const principal = principals.get(req);
    if (!principal || !identity) return undefined;
    for (const request of requests) {
      const needed = await gateway.missingScopes(endpoint, request, principal);
      if (!needed) continue;
      res.setHeader('www-authenticate', identity.resourceServer.insufficientScope(endpoint, needed));
      return new GatewayError('PC_AUTH_INSUFFICIENT_SCOPE', `this call needs scope${needed.length > 1 ? 's' : ''} ${needed.join(' ')}; authorize again with ${needed.length > 1 ? 'them' : 'it'}`, { scopes: needed });
    }
    return undefined;
  }

  function logDecision(request: JsonRpcRequest, error: GatewayError, correlationId: string): void {
    const level = error.code === 'PC_INTERNAL' ? 'error' : 'info';
    logger[level]({ correlationId, method: request.method, code: error.code }, error.message);
  }

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'unhandled error in HTTP front');
      reject(res, new GatewayError('PC_INTERNAL', 'internal error'));
    });
  });
  // Long SSE streams must not be cut by Node's default request timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 65_000;

  return new Promise((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(listen.port, listen.host, () => {
      server.off('error', rejectListen);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const url = `http://${host}:${address.port}`;
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

/** What the HTTP request says about the call besides its body. */
interface CallFacts {
  task: string | undefined;
  principal: Principal | undefined;
}

/** The `Portcullis-Task` header: a task label the agent declares (the `_meta` label wins). */
function taskHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['portcullis-task'];
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}
