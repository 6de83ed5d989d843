/**
 * The identity side of the HTTP front: who the caller of a request is (401 with its challenge when the
 * bearer token does not verify), the step-up check before a call (403 insufficient_scope), and the
 * identity paths — RFC 9728 protected-resource metadata under /.well-known/ and the embedded
 * authorization server's /oauth/…, /interaction/… pages.
 *
 * The identity layer is built once the front's URL is known (resource URIs derive from it); until
 * then, with identity configured, MCP requests get 503 rather than pass unauthenticated.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Identity } from '../auth/identity.ts';
import { operatorScopesOnly, principalKey, subjectKey, type Principal } from '../auth/principal.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Endpoint } from '../pipeline/context.ts';
import { ANSWERED, header, reject } from './http-io.ts';
import type { Metrics } from './metrics.ts';

export class FrontIdentity {
  /** Set once built (see the file comment); undefined while starting, or with identity off. */
  current: Identity | undefined;
  /** Whether the configuration turns authentication on. */
  readonly required: boolean;
  readonly #principals = new WeakMap<IncomingMessage, Principal>();
  readonly #gateway: Gateway;
  readonly #metrics: Metrics;
  readonly #logger: Logger;

  constructor(required: boolean, gateway: Gateway, metrics: Metrics, logger: Logger) {
    this.required = required;
    this.#gateway = gateway;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** The verified caller of a request (identity on), else undefined. */
  principalOf(req: IncomingMessage): Principal | undefined {
    return this.#principals.get(req);
  }

  /** The key a legacy session is bound to: the principal that opened it. */
  ownerOf(req: IncomingMessage): string | undefined {
    const p = this.#principals.get(req);
    return p ? principalKey(p) : undefined;
  }

  /** The user of a request (issuer and subject): a user's several OAuth clients count as one for caps. */
  userOf(req: IncomingMessage): string | undefined {
    const p = this.#principals.get(req);
    return p ? subjectKey(p) : undefined;
  }

  /**
   * Serves the metadata and embedded-server paths; undefined when `pathname` is none of them.
   * Metadata is answered for GET only: other methods on those paths fall through (and get 404).
   */
  servePath(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> | undefined {
    const identity = this.current;
    if (!identity) return undefined;
    if (req.method === 'GET') {
      const metadata = identity.resourceServer.metadataFor(pathname, (name) => this.#gateway.hasServer(name));
      if (metadata) {
        const body = JSON.stringify(metadata);
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return ANSWERED;
      }
    }
    if (identity.embedded?.handles(pathname)) return identity.embedded.handle(req, res, pathname);
    return undefined;
  }

  /** Whether the caller is verified; if not, the refusal (401 with its challenge) has been answered. */
  async authenticate(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, pathname: string): Promise<boolean> {
    if (!this.required) return true;
    const identity = this.current;
    if (!identity) {
      reject(res, new GatewayError('PC_UPSTREAM_UNAVAILABLE', 'the gateway is still starting; retry in a moment'));
      return false;
    }
    const result = await identity.resourceServer.authenticate(header(req, 'authorization'), endpoint);
    if ('kind' in result) {
      const { config } = this.#gateway;
      if (operatorScopesOnly(result, [config.approvals.adminScope, config.listen.metricsScope])) {
        // An operator's credential (metrics scrape, approval desk) is not an MCP caller.
        const base = config.identity?.scopes ?? [];
        const wanted = base.length > 0 ? `scope ${base.join(' ')} (identity.scopes)` : 'a scope other than the operator scopes';
        const refusal = new GatewayError('PC_AUTH_INSUFFICIENT_SCOPE', `/mcp needs ${wanted}; this credential holds operator scopes only (${result.scopes.join(' ')}), which reach /metrics or /admin/approvals, not MCP servers`, { scopes: [...base] });
        if (base.length > 0) res.setHeader('www-authenticate', identity.resourceServer.insufficientScope(endpoint, base));
        await this.#gateway.recordRefusal(endpoint, refusal, undefined, { principal: result, address: req.socket.remoteAddress }).catch(() => false);
        reject(res, refusal);
        return false;
      }
      this.#principals.set(req, result);
      return true;
    }
    res.setHeader('www-authenticate', identity.resourceServer.challenge(endpoint, result));
    this.#logger.info({ path: pathname, address: req.socket.remoteAddress, error: result.error ?? 'missing' }, `authentication failed: ${result.description}`);
    const refusal = new GatewayError(result.error ? 'PC_AUTH_INVALID_TOKEN' : 'PC_AUTH_REQUIRED', result.description);
    this.#metrics.authRefused += 1;
    // A request with no credential at all is how every OAuth client starts: not worth a record.
    if (result.error) await this.#gateway.recordRefusal(endpoint, refusal, undefined, { address: req.socket.remoteAddress }).catch(() => false);
    reject(res, refusal);
    return false;
  }

  /**
   * Step-up (RFC 6750 §3.1): the refusal for a tools/call whose tool needs scopes the token lacks, with
   * the challenge header already set on `res`; undefined when every request may go on.
   */
  async stepUp(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, requests: readonly JsonRpcRequest[]): Promise<GatewayError | undefined> {
    const principal = this.#principals.get(req);
    const identity = this.current;
    if (!principal || !identity) return undefined;
    for (const request of requests) {
      const needed = await this.#gateway.missingScopes(endpoint, request, principal);
      if (!needed) continue;
      res.setHeader('www-authenticate', identity.resourceServer.insufficientScope(endpoint, needed));
      const refusal = new GatewayError('PC_AUTH_INSUFFICIENT_SCOPE', `this call needs scope${needed.length > 1 ? 's' : ''} ${needed.join(' ')}; authorize again with ${needed.length > 1 ? 'them' : 'it'}`, { scopes: needed });
      // Decided before the pipeline, so recorded here: who asked, for what, and the scopes missing.
      await this.#gateway.recordRefusal(endpoint, refusal, request.method, { principal, request, address: req.socket.remoteAddress }).catch(() => false);
      return refusal;
    }
    return undefined;
  }
}
