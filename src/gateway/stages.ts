/**
 * Builds every stage of the pipeline from the gateway's parts. The order they run in is not decided
 * here but in pipeline/order.ts, once.
 */
import type { SecretTest } from '../audit/redact.ts';
import type { Logger } from 'pino';
import { openApprovals, type Approvals } from '../approvals/open.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import type { ListingScreen } from '../dlp/listing.ts';
import type { ServerInfoScreen } from '../dlp/instructions.ts';
import type { Dlp } from '../dlp/engine.ts';
import type { KillSwitchStore } from '../killswitch/store.ts';
import type { Monitor } from '../monitor/monitor.ts';
import type { InputBridge } from '../pipeline/input-bridge.ts';
import { createPipeline, type Pipeline } from '../pipeline/order.ts';
import { createAuthorize } from '../pipeline/stages/authorize.ts';
import type { StateGuard } from '../policy/state-decision.ts';
import { createCheckParamHeaders } from '../pipeline/stages/check-param-headers.ts';
import { createForward } from '../pipeline/stages/forward.ts';
import { createInspectArguments } from '../pipeline/stages/inspect-arguments.ts';
import { createInspectResult } from '../pipeline/stages/inspect-result.ts';
import { createKillSwitch } from '../pipeline/stages/kill-switch.ts';
import { createRateLimit } from '../pipeline/stages/rate-limit.ts';
import { createRoute } from '../pipeline/stages/route.ts';
import { CursorBook } from '../routing/cursors.ts';
import { RequestStateBook } from '../routing/request-states.ts';
import { createSupplyCheck } from '../pipeline/stages/supply-check.ts';
import { createToxicFlow } from '../pipeline/stages/toxic-flow.ts';
import { createValidateArgs } from '../pipeline/stages/validate-args.ts';
import type { PolicyRuntime } from '../policy/runtime.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { Describe } from '../routing/describe.ts';
import type { SubscriptionRegistry } from '../routing/subscriptions.ts';
import type { TaskRegistry } from '../routing/tasks.ts';
import type { SupplyGuard } from '../supply/guard.ts';
import type { Upstream } from '../upstream/types.ts';
import { ArgumentValidator } from '../validate/args.ts';

/** What the stages are made of: the gateway's stores, registries and guards. */
export interface StageParts {
  config: Config;
  logger: Logger;
  secrets: SecretSource;
  dataDir: string;
  now: () => Date;
  /** The gateway's own files, and the servers whose directories hold them with the bases they resolve against. */
  stateGuard?: StateGuard;
  upstreams: ReadonlyMap<string, Upstream>;
  catalog: Catalog;
  bridge: InputBridge;
  tasks: TaskRegistry;
  subscriptions: SubscriptionRegistry;
  describe: Describe;
  timeoutMsFor: (server: string | undefined) => number;
  sessionScope: (server: string, principal: string) => string;
  policy: PolicyRuntime;
  kill: KillSwitchStore;
  supply: SupplyGuard;
  dlp: Dlp;
  /** Secrets in listed items masked after the supply-chain review (src/dlp/listing.ts). */
  screenListing: ListingScreen;
  /** A server's serverInfo as DLP lets it reach a caller (src/dlp/instructions.ts). */
  screenServerInfo: ServerInfoScreen;
  audit: AuditLog | undefined;
  monitor: Monitor | undefined;
  /** What the audit record masks (src/audit/redact.ts). */
  holdsSecret: SecretTest;
}

export function buildPipeline(parts: StageParts): { pipeline: Pipeline; approvals: Approvals } {
  const { config, logger, upstreams, catalog, bridge, tasks, timeoutMsFor, policy, kill, dlp, now } = parts;
  const validator = new ArgumentValidator();
  const killSwitch = createKillSwitch(kill);
  const authorize = createAuthorize({ runtime: policy, catalog, kill, timeoutMsFor, now, logger, validator, flows: parts.monitor?.flows, stateGuard: parts.stateGuard });
  const supplyCheck = createSupplyCheck({ supply: parts.supply, catalog, timeoutMsFor, logger });
  const approvals = openApprovals(config, {
    dataDir: parts.dataDir,
    audit: parts.audit,
    logger,
    runtime: policy,
    secrets: parts.secrets,
    holdsSecret: parts.holdsSecret,
    maskSecrets: (text) => dlp.maskSecrets(text),
    // After a human's wait, the pins, the kill switch and the policy are asked again: any may have
    // changed (a definition held while the call waited is not served by an approval given before).
    recheck: async (ctx) => (await supplyCheck(ctx)) ?? killSwitch(ctx) ?? (await authorize(ctx)),
    held: (caller) => {
      kill.refreshOncePerTurn();
      return kill.held(caller, false);
    },
  });
  const cursors = new CursorBook();
  const states = new RequestStateBook(config.routing.inputRequired);
  const pipeline = createPipeline(
    {
      route: createRoute({ upstreams, catalog, bridge, tasks, cursors, states, describe: parts.describe, timeoutMsFor }),
      checkParamHeaders: createCheckParamHeaders({ upstreams, catalog, timeoutMsFor }),
      authenticate: () => undefined,
      supplyCheck,
      killSwitch,
      authorize,
      validateArgs: createValidateArgs(policy, validator),
      inspectArguments: createInspectArguments(dlp, policy),
      toxicFlow: createToxicFlow({
        runtime: policy,
        flows: parts.monitor?.flows,
        block: config.monitor?.detectors.toxicFlow.enforce === 'block',
        now,
        serverTools: (server) => catalog.listNow(server, 'tools', timeoutMsFor(server)),
      }),
      rateLimit: createRateLimit(policy, tasks),
      approve: approvals.stage,
      forward: createForward({ upstreams, catalog, bridge, pageSize: config.routing.pageSize, timeoutMsFor, subscriptions: parts.subscriptions, supply: parts.supply, screenListing: parts.screenListing, screenServerInfo: parts.screenServerInfo, tasks, cursors, states, sessionScope: parts.sessionScope }),
      inspect: createInspectResult(dlp),
    },
    logger,
    parts.audit,
  );
  return { pipeline, approvals };
}
