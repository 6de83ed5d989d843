/**
 * Builds one connector per configured server, checking each server's pin first: a server whose pin
 * does not hold is replaced by a `RefusedUpstream` that answers every call with the reason, so it stays
 * visible (as failed) instead of silently missing.
 */
import type { Logger } from 'pino';
import { PORTCULLIS_ROOT } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import type { LimitCounters } from '../limits/counters.ts';
import type { SecretSource } from '../config/secrets.ts';
import type { CatalogServer } from '../routing/catalog.ts';
import { checkServerPin } from '../supply/server-pin.ts';
import { VERSION } from '../version.ts';
import type { createUpstream } from './create.ts';
import { RefusedUpstream } from './refused.ts';
import type { Upstream } from './types.ts';

export interface BuiltUpstreams {
  upstreams: Map<string, Upstream>;
  catalogServers: Map<string, CatalogServer>;
}

export function buildUpstreams(
  config: Config,
  deps: { logger: Logger; secrets: SecretSource; make: typeof createUpstream; limits?: LimitCounters | undefined },
): BuiltUpstreams {
  const { logger, secrets, make, limits } = deps;
  const upstreams = new Map<string, Upstream>();
  const catalogServers = new Map<string, CatalogServer>();
  const clientInfo = { name: 'portcullis', version: VERSION };
  for (const [name, server] of Object.entries(config.servers)) {
    if (server.disabled) continue;
    const pin = checkServerPin(name, server, {
      cwd: process.cwd(),
      pathEnv: secrets.env.PATH,
      packageRoots: [PORTCULLIS_ROOT],
      allowUnpinned: config.supply.allowUnpinned,
    });
    if (!pin.ok) logger.error({ alert: 'supply-chain', server: name }, pin.problem);
    else if (!pin.pinned) logger.warn({ alert: 'supply-chain', server: name }, 'server runs unpinned');
    const upstream = pin.ok
      ? make(name, server, {
        logger,
        secrets,
        clientInfo,
        connectTimeoutMs: Math.min(config.defaults.timeoutMs, 30_000),
        maxMessageBytes: server.maxMessageBytes ?? config.defaults.maxMessageBytes,
        limits,
      })
      : new RefusedUpstream(name, pin.problem);
    upstreams.set(name, upstream);
    const prefix = server.namespace === true ? name : server.namespace === false ? '' : server.namespace;
    catalogServers.set(name, { upstream, prefix });
  }
  return { upstreams, catalogServers };
}
