/**
 * The checks every request to the HTTP front passes before anything is routed, in this order: a header
 * sent twice (400, ambiguous), Host (DNS rebinding, 403), Origin (403), a form of the gateway's own
 * pages posted from another origin (403), a second credential (400). Each failure is answered at once,
 * recorded (bounded) and nothing is forwarded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ambiguousCredentials } from '../auth/resource-server.ts';
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import type { FrontContext } from './front-context.ts';
import { repeatedHeader } from './header-guard.ts';
import { header, reject } from './http-io.ts';
import { endpointOrAggregate } from './http-routes.ts';
import type { Metrics } from './metrics.ts';
import { createOriginGuard } from './origin-guard.ts';

/** Answers a request that fails a check (the returned promise settles once it is recorded and answered); undefined when it passes. */
export type Admission = (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<void> | undefined;

/**
 * Paths whose POSTs are the gateway's own pages acting as a person (sign-in, consent, sign-out, the
 * approval page): posted only from the gateway's own origin. Any loopback Origin passes the DNS-rebinding
 * check, but a page on another port of the host is another origin, and the browser sends it the same
 * cookies (redteam-b B12). Token, registration and revocation requests are left alone: browser-based
 * clients send them from their own origins.
 */
const isPagePost = (pathname: string): boolean =>
  pathname.startsWith('/interaction/') || pathname === '/oauth/authorize' || pathname.startsWith('/oauth/logout') || pathname.startsWith('/approvals/');

/** Whether `origin` is the origin this request was addressed to (its Host), or the public URL's. */
function isOwnOrigin(origin: string, host: string | undefined, publicOrigin: string | undefined): boolean {
  if (publicOrigin !== undefined && origin.toLowerCase() === publicOrigin) return true;
  try {
    const url = new URL(origin);
    return host !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

export function createAdmission(listen: Config['listen'], front: FrontContext, metrics: Metrics): Admission {
  const { gateway } = front;
  const guard = createOriginGuard(listen);
  const publicUrl = gateway.config.identity?.publicUrl;
  const publicOrigin = publicUrl ? new URL(publicUrl).origin.toLowerCase() : undefined;
  return function admit(req, res, pathname) {
    const repeated = repeatedHeader(req);
    if (repeated !== undefined) {
      const refusal = new GatewayError('PC_PROTOCOL_AMBIGUOUS', `the ${repeated} header is sent more than once; send it once`, { header: repeated });
      return front.refuse(res, endpointOrAggregate(gateway, pathname), refusal, 'legacy', null, '(request)', req);
    }
    if (!guard.hostAllowed(req)) {
      return front.refuse(res, endpointOrAggregate(gateway, pathname), new GatewayError('PC_HTTP_HOST_FORBIDDEN', `Host "${header(req, 'host') ?? ''}" is not allowed (listen.allowedHosts); DNS-rebinding protection`), 'legacy', null, '(request)', req);
    }
    const origin = header(req, 'origin');
    if (origin !== undefined && !guard.originAllowed(origin)) {
      return front.refuse(res, endpointOrAggregate(gateway, pathname), new GatewayError('PC_HTTP_ORIGIN_FORBIDDEN', `Origin "${origin}" is not allowed (listen.allowedOrigins); DNS-rebinding protection`), 'legacy', null, '(request)', req);
    }
    if (origin !== undefined && req.method === 'POST' && isPagePost(pathname) && !isOwnOrigin(origin, header(req, 'host'), publicOrigin)) {
      return front.refuse(res, endpointOrAggregate(gateway, pathname), new GatewayError('PC_HTTP_ORIGIN_FORBIDDEN', `a form of the gateway's own pages (${pathname}) is posted only from the gateway's own origin, not "${origin}"`), 'legacy', null, '(request)', req);
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
      return refuseAmbiguous(gateway, req, res, endpointOrAggregate(gateway, pathname), ambiguous);
    }
    return undefined;
  };
}

/** Recorded without a method: no request has been read yet. */
async function refuseAmbiguous(gateway: Gateway, req: IncomingMessage, res: ServerResponse, endpoint: ReturnType<typeof endpointOrAggregate>, refusal: GatewayError): Promise<void> {
  await gateway.recordRefusal(endpoint, refusal, undefined, { address: req.socket.remoteAddress }).catch(() => false);
  reject(res, refusal);
}
