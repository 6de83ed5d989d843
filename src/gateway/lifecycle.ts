/**
 * Starting and stopping a gateway: the audit trail opens and its retention runs hourly, the approval
 * queue starts, every server is started, and everything a model will see is reviewed (and, on first
 * sight, pinned) before the first client asks. Closing releases the same in reverse.
 */
import type { Logger } from 'pino';
import type { Approvals } from '../approvals/open.ts';
import type { AuditLog } from '../audit/log.ts';
import type { LimitCounters } from '../limits/counters.ts';
import type { InputBridge } from '../pipeline/input-bridge.ts';
import type { Catalog } from '../routing/catalog.ts';
import { DESCRIBE_WAIT_MS, type Describe } from '../routing/describe.ts';
import type { Upstream } from '../upstream/types.ts';
import { announceGateway } from './presence.ts';

const RETENTION_INTERVAL_MS = 3_600_000;

export interface LifecycleParts {
  logger: Logger;
  upstreams: ReadonlyMap<string, Upstream>;
  catalog: Catalog;
  describe: Describe;
  audit: AuditLog | undefined;
  approvals: Approvals;
  bridge: InputBridge;
  limits: LimitCounters;
  /** Where the gateway records that it runs (`<dataDir>/running`, read by `portcullis kill`). */
  dataDir: string;
  instanceId: string;
}

export interface Lifecycle {
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createLifecycle(parts: LifecycleParts): Lifecycle {
  const { logger, upstreams, catalog, describe, audit, approvals } = parts;
  let retentionTimer: NodeJS.Timeout | undefined;
  let leave: (() => void) | undefined;
  return {
    async start() {
      leave ??= announceGateway(parts.dataDir, parts.instanceId);
      await audit?.open().catch(() => undefined);
      approvals.queue.start();
      if (audit) {
        const retain = (): void => void audit.applyRetention().catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'audit retention failed'));
        retain();
        retentionTimer = setInterval(retain, RETENTION_INTERVAL_MS);
        retentionTimer.unref();
      }
      await Promise.all(
        [...upstreams.values()].map((u) =>
          u.start().catch((error: unknown) => {
            logger.warn({ server: u.name, err: (error as Error).message }, 'server not available at start; calls to it will fail until it is');
          }),
        ),
      );
      // Review every server's tools with every other server's names known, so that shadowing is
      // seen on first sight too: one pass to learn the names, one to review with all of them.
      if (upstreams.size > 1) {
        await catalog.aggregate('tools', DESCRIBE_WAIT_MS).catch(() => undefined);
        for (const name of upstreams.keys()) catalog.invalidate(name, 'tools');
      }
      await catalog.aggregate('tools', DESCRIBE_WAIT_MS).catch(() => undefined);
      // Everything else a model will see is reviewed (and, on first sight, pinned) now too, rather
      // than whenever a client first asks: prompts, templates, resources, and each server's instructions.
      await Promise.all([
        ...(['prompts', 'resourceTemplates', 'resources'] as const).map((kind) => catalog.aggregate(kind, DESCRIBE_WAIT_MS).catch(() => undefined)),
        ...[...upstreams.values()].filter((u) => u.state() === 'ready').map((u) => describe({ kind: 'server', server: u.name }).catch(() => undefined)),
      ]);
    },
    async close() {
      leave?.();
      leave = undefined;
      clearInterval(retentionTimer);
      parts.bridge.close();
      await approvals.close();
      await audit?.close();
      await Promise.all([...upstreams.values()].map((u) => u.close()));
      parts.limits.close();
    },
  };
}
