/**
 * The lifecycle of the HTTP front's server: listening (the URL it is reachable at derives from the
 * address it got), then the identity layer built for that URL, and closing.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Approvals } from '../approvals/open.ts';
import { createIdentity, type Identity } from '../auth/identity.ts';
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import type { Gateway } from '../gateway.ts';

/** Listens as `listen` says; resolves with the address bound and the URL clients reach it at. */
export function listenOn(server: Server, listen: Config['listen']): Promise<{ address: AddressInfo; url: string }> {
  return new Promise((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(listen.port, listen.host, () => {
      server.off('error', rejectListen);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({ address, url: `http://${host}:${address.port}` });
    });
  });
}

/** The identity layer for a front at `url`, when the configuration turns it on (and the front got the secrets it needs). */
export async function startIdentity(gateway: Gateway, config: Config, url: string, logger: Logger, secrets: SecretSource | undefined): Promise<Identity | undefined> {
  if (!secrets) {
    logger.error('identity is configured but the front got no secrets: every MCP request is refused');
    return undefined;
  }
  return createIdentity({
    config,
    url,
    dataDir: config.dataDir ?? defaultDataDir(secrets.env),
    scopes: () => gateway.scopes(),
    servers: () => [...gateway.upstreams.keys()],
    secrets,
    logger,
  });
}

/**
 * Where the URL-mode approval page (approvals/url-page.ts) is offered: on a loopback front without
 * identity, or with the embedded sign-in, where the call's own user signs in for each approval.
 */
export function offerApprovalPages(approvals: Approvals, address: AddressInfo, url: string, authRequired: boolean, identity: Identity | undefined): void {
  if (!authRequired && /^(127\.|::1$)/.test(address.address)) approvals.pages.serveAt(url);
  const embedded = identity?.embedded;
  if (embedded) {
    approvals.pages.serveAt(embedded.issuer.replace(/\/$/, ''), {
      issuer: embedded.issuer,
      signInPath: (state) => embedded.approvalSignInPath(state),
      signedIn: (code) => embedded.forgetApprovalSignIn(code),
    });
  }
}

/** Closes the server and every connection it holds (idle keep-alive ones included). */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
}
