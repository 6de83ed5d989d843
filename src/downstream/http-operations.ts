/**
 * The operations paths of the HTTP front: /metrics (Prometheus text), /healthz (liveness and per-server
 * state), the approvals admin API (/admin/approvals…) and the URL-mode approval page (/approvals/…).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isApprovalsAdminPath, serveApprovalsAdmin } from '../approvals/admin-http.ts';
import { isApprovalPagePath, serveApprovalPage } from '../approvals/url-page.ts';
import type { FrontContext } from './front-context.ts';
import type { FrontIdentity } from './http-identity.ts';
import { ANSWERED } from './http-io.ts';
import type { Metrics } from './metrics.ts';
import { serveHealth, serveMetrics } from './probes.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { header, reject } from './http-io.ts';

const isLoopbackAddress = (address: string | undefined): boolean => address !== undefined && /^(127\.|::1$|::ffff:127\.)/.test(address);

/**
 * With identity on, /metrics is an operator's (redteam-b B7): its counters (alerts by kind, DLP findings
 * by type, refusals) tell a watched agent which of its attempts were noticed. The caller needs a
 * credential holding `listen.metricsScope`; a refused credential is recorded, a missing one is not
 * (as on /mcp). Whether the refusal was answered, or the caller may read the metrics.
 */
async function metricsCaller(req: IncomingMessage, res: ServerResponse, gateway: Gateway, identity: FrontIdentity): Promise<boolean> {
  const current = identity.current;
  if (!current) {
    reject(res, new GatewayError('PC_UPSTREAM_UNAVAILABLE', 'the gateway is still starting; retry in a moment'));
    return false;
  }
  const endpoint = { kind: 'aggregate' } as const;
  const scope = gateway.config.listen.metricsScope;
  const result = await current.resourceServer.authenticate(header(req, 'authorization'), endpoint);
  let refusal: GatewayError;
  if (!('kind' in result)) {
    res.setHeader('www-authenticate', current.resourceServer.challenge(endpoint, result));
    refusal = new GatewayError(result.error ? 'PC_AUTH_INVALID_TOKEN' : 'PC_AUTH_REQUIRED', `${result.description} (/metrics needs a credential with scope ${scope}: listen.metricsScope)`);
    if (!result.error) return (reject(res, refusal), false);
  } else if (!result.scopes.includes(scope)) {
    res.setHeader('www-authenticate', current.resourceServer.insufficientScope(endpoint, [scope]));
    refusal = new GatewayError('PC_AUTH_INSUFFICIENT_SCOPE', `/metrics needs scope ${scope} (listen.metricsScope); this credential lacks it`, { scopes: [scope] });
  } else return true;
  await gateway.recordRefusal(endpoint, refusal, 'metrics', { address: req.socket.remoteAddress, ...('kind' in result ? { principal: result } : {}) }).catch(() => false);
  reject(res, refusal);
  return false;
}

/** Serves an operations path; undefined when `pathname` is none of them. */
export function serveOperationsPath(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  rawUrl: string,
  front: FrontContext,
  metrics: Metrics,
  identity: FrontIdentity,
): Promise<void> | undefined {
  const { gateway } = front;
  if (pathname === '/metrics' && req.method === 'GET') {
    const answer = (): void => serveMetrics(res, rawUrl, gateway, metrics, front.sessions, front.resume, () => identity.current?.embedded?.registrationCounters);
    if (!identity.required || gateway.config.listen.metrics === 'open' || (gateway.config.listen.metrics === 'loopback' && isLoopbackAddress(req.socket.remoteAddress))) {
      answer();
      return ANSWERED;
    }
    return metricsCaller(req, res, gateway, identity).then((allowed) => (allowed ? answer() : undefined));
  }
  if (pathname === '/healthz' && req.method === 'GET') {
    serveHealth(res, gateway);
    return ANSWERED;
  }
  if (isApprovalsAdminPath(pathname)) return serveApprovalsAdmin(req, res, pathname, rawUrl, { gateway, identity: identity.current, enabled: identity.required });
  if (isApprovalPagePath(pathname)) return serveApprovalPage(req, res, pathname, rawUrl, gateway);
  return undefined;
}
