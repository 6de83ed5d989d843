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
    serveMetrics(res, rawUrl, gateway, metrics, front.sessions, front.resume);
    return ANSWERED;
  }
  if (pathname === '/healthz' && req.method === 'GET') {
    serveHealth(res, gateway);
    return ANSWERED;
  }
  if (isApprovalsAdminPath(pathname)) return serveApprovalsAdmin(req, res, pathname, rawUrl, { gateway, identity: identity.current, enabled: identity.required });
  if (isApprovalPagePath(pathname)) return serveApprovalPage(req, res, pathname, rawUrl, gateway);
  return undefined;
}
