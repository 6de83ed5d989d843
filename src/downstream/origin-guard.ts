/**
 * DNS-rebinding protection for the HTTP front (spec 2025-11-25 transports §Security Warning): the Host
 * header must name this gateway (a loopback name, the listen host, or `listen.allowedHosts`), and a
 * browser Origin must be a loopback origin or one of `listen.allowedOrigins`.
 */
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../config/names.ts';
import type { Config } from '../config/schema.ts';
import { header } from './http-io.ts';

export interface OriginGuard {
  hostAllowed(req: IncomingMessage): boolean;
  originAllowed(origin: string): boolean;
}

/** Host headers judged at most this many distinct values are remembered (the rest are judged each time). */
const MAX_REMEMBERED_HOSTS = 1000;

export function createOriginGuard(listen: Config['listen']): OriginGuard {
  const allowedOrigins = new Set(listen.allowedOrigins.map((o) => o.toLowerCase()));
  const allowedHosts = new Set(listen.allowedHosts.map((h) => h.toLowerCase()));
  // Host headers already judged, so the common case is one Map lookup instead of a URL parse.
  const hostVerdicts = new Map<string, boolean>();

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

  return {
    hostAllowed(req) {
      const host = header(req, 'host');
      if (!host) return false;
      const known = hostVerdicts.get(host);
      if (known !== undefined) return known;
      const verdict = judgeHost(host);
      if (hostVerdicts.size < MAX_REMEMBERED_HOSTS) hostVerdicts.set(host, verdict);
      return verdict;
    },
    originAllowed(origin) {
      if (allowedOrigins.has(origin.toLowerCase())) return true;
      try {
        const url = new URL(origin);
        return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
      } catch {
        return false;
      }
    },
  };
}
