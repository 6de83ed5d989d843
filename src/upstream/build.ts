/**
 * Builds one connector per configured server with its pin checked before **every** start: the first
 * one, each restart after a crash, and the starts made by `portcullis scan -c` and `policy --live`. A
 * server whose pin does not hold is not started; it stays visible as `failed`, every call to it gets
 * `PC_SUPPLY_PIN_FAILED` with the reason, and an `alert: supply-chain` line is logged.
 */
import { runAsSpec } from './run-as.ts';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PORTCULLIS_ROOT } from '../config/defaults.ts';
import type { Config, ServerConfig } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import { GatewayError } from '../errors.ts';
import type { LimitCounters } from '../limits/counters.ts';
import type { CatalogServer } from '../routing/catalog.ts';
import { pinStoreRecords, type Launch } from '../supply/npm-pin.ts';
import { openPins } from '../supply/open-pins.ts';
import type { PinStore } from '../supply/pins.ts';
import { checkServerPin, type PinCheck } from '../supply/server-pin.ts';
import { VERSION } from '../version.ts';
import type { createUpstream, UpstreamDeps } from './create.ts';
import type { Upstream } from './types.ts';
import { prefixOf } from '../config/namespaces.ts';

export interface BuiltUpstreams {
  upstreams: Map<string, Upstream>;
  catalogServers: Map<string, CatalogServer>;
}

export interface PinnedUpstreamDeps {
  logger: Logger;
  secrets: SecretSource;
  make: typeof createUpstream;
  clientInfo?: { name: string; version: string };
  connectTimeoutMs?: number;
  /** Where limit hits are counted (the gateway's; absent in one-off commands). */
  limits?: LimitCounters | undefined;
  tasks?: UpstreamDeps['tasks'];
  onUnattributed?: UpstreamDeps['onUnattributed'];
  /** The gateway's pins (npm packages' files are recorded there at first use); one-off commands leave it out. */
  pins?: PinStore;
}

/**
 * Whether a server's pin holds on this machine now, judged as every start judges it (`config check`
 * asks too). `pins`: the gateway's pins, where an npm package's files are recorded at first use;
 * without it the pins file is opened read-only (files verified if recorded, nothing written).
 */
export function serverPinHolds(name: string, server: ServerConfig, config: Pick<Config, 'supply' | 'dataDir'>, secrets: SecretSource, pins?: PinStore): PinCheck {
  const packages = !('command' in server) || server.pin?.npm === undefined ? undefined : pins ? pinStoreRecords(pins, true) : pinStoreRecords(openPins(config, secrets, { create: false }), false);
  return checkServerPin(name, server, {
    cwd: process.cwd(),
    pathEnv: secrets.env.PATH,
    packageRoots: [PORTCULLIS_ROOT],
    allowUnpinned: config.supply.allowUnpinned,
    packages,
    // npm's default cache: where it still holds the pinned tarball, the first start checks against it.
    npmCacheDir: secrets.env.HOME ? join(secrets.env.HOME, '.npm', '_cacache') : undefined,
  });
}

/** The connector for one server, refusing each start whose pin does not hold. */
export function createPinnedUpstream(name: string, server: ServerConfig, config: Pick<Config, 'supply' | 'defaults' | 'dataDir'>, deps: PinnedUpstreamDeps): Upstream {
  const { logger, secrets, make } = deps;
  let warnedUnpinned = false;
  const beforeStart = (): Launch | undefined => {
    const pin = serverPinHolds(name, server, config, secrets, deps.pins);
    if (!pin.ok) {
      logger.error({ alert: 'supply-chain', server: name }, pin.problem);
      throw new GatewayError('PC_SUPPLY_PIN_FAILED', `server "${name}" was not started: ${pin.problem}`, { server: name });
    }
    if (!pin.pinned && !warnedUnpinned) {
      warnedUnpinned = true;
      logger.warn({ alert: 'supply-chain', server: name }, 'server runs unpinned');
    }
    return pin.ok ? pin.launch : undefined;
  };
  return make(name, server, {
    logger,
    secrets,
    clientInfo: deps.clientInfo ?? { name: 'portcullis', version: VERSION },
    connectTimeoutMs: deps.connectTimeoutMs ?? Math.min(config.defaults.timeoutMs, 30_000),
    maxMessageBytes: server.maxMessageBytes ?? config.defaults.maxMessageBytes,
    limits: deps.limits,
    beforeStart,
    tasks: deps.tasks,
    onUnattributed: deps.onUnattributed,
    runAs: 'command' in server ? runAsSpec(config, server) : undefined,
  });
}

export function buildUpstreams(config: Config, deps: PinnedUpstreamDeps): BuiltUpstreams {
  const upstreams = new Map<string, Upstream>();
  const catalogServers = new Map<string, CatalogServer>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (server.disabled) continue;
    const upstream = createPinnedUpstream(name, server, config, deps);
    upstreams.set(name, upstream);
    catalogServers.set(name, { upstream, prefix: prefixOf(name, server) });
  }
  return { upstreams, catalogServers };
}
