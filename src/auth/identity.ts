/**
 * The identity layer of one gateway: the resource server, the embedded authorization server when
 * configured, and the identity store. Built once the front knows its URL (the resource URIs and the
 * embedded issuer are derived from it, or from `identity.publicUrl`).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import { EmbeddedAuthorizationServer } from './embedded.ts';
import { ResourceServer } from './resource-server.ts';
import { IdentityStore } from './store.ts';

export interface Identity {
  /** True when every HTTP request must carry a token or key. */
  readonly enabled: boolean;
  readonly resourceServer: ResourceServer;
  readonly embedded: EmbeddedAuthorizationServer | undefined;
  readonly store: IdentityStore;
  close(): void;
}

/** Whether a configuration turns authentication on. */
export function identityEnabled(config: Config): boolean {
  const id = config.identity;
  return id !== undefined && (id.issuers.length > 0 || (id.embedded?.enabled ?? false) || (id.apiKeys?.enabled ?? false));
}

export const identityDbPath = (dataDir: string): string => join(dataDir, 'identity.db');

export async function createIdentity(options: {
  config: Config;
  url: string;
  dataDir: string;
  /** Every scope the policy and the config name (metadata and the embedded server's resource scopes). */
  scopes: () => string[];
  servers: () => string[];
  secrets: SecretSource;
  logger: Logger;
}): Promise<Identity | undefined> {
  const { config } = options;
  if (!identityEnabled(config)) return undefined;
  const identity = config.identity!;
  const base = (identity.publicUrl ?? options.url).replace(/\/$/, '');
  const store = new IdentityStore(identityDbPath(options.dataDir));
  const embedded = identity.embedded?.enabled
    ? await EmbeddedAuthorizationServer.create({
      issuer: base,
      config: identity.embedded,
      baseScopes: identity.scopes,
      store,
      dataDir: options.dataDir,
      // The operator scopes (deciding approvals on /admin/approvals, reading /metrics) can be asked for
      // too — a user gets them only where their roles allow (redteam-b B9: they were dropped silently,
      // so no user of the embedded sign-in could be a verified approver). Not advertised in metadata.
      resources: () => ({ uris: [`${base}/mcp`, ...options.servers().map((s) => `${base}/mcp/${s}`)], scopes: [...new Set([...options.scopes(), config.approvals.adminScope, config.listen.metricsScope])] }),
      secrets: options.secrets,
      logger: options.logger,
    })
    : undefined;
  const resourceServer = new ResourceServer({ base, identity, store, scopes: options.scopes, secrets: options.secrets, embedded: embedded?.trusted });
  const flush = setInterval(() => store.flush(), 10_000);
  flush.unref();
  return {
    enabled: true,
    resourceServer,
    embedded,
    store,
    close() {
      clearInterval(flush);
      store.close();
    },
  };
}
