/**
 * The monitor as the configuration asks for it: none without a `monitor` section (or with
 * `enabled: false`), and none without an audit trail to watch (said in the log).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import type { KillSwitchStore } from '../killswitch/store.ts';
import { alertSinksFor, Monitor } from './monitor.ts';

export function createMonitor(config: Config, deps: { dataDir: string; logger: Logger; kill: KillSwitchStore; secrets: SecretSource; now: () => Date }): Monitor | undefined {
  const section = config.monitor;
  if (!section || !section.enabled) return undefined;
  if (config.audit.store === 'off') {
    deps.logger.warn('monitor is configured but audit.store is off: there is no decision stream to watch, so nothing is monitored');
    return undefined;
  }
  return new Monitor(section, { dataDir: deps.dataDir, logger: deps.logger, kill: deps.kill, now: deps.now, sinks: alertSinksFor(section, deps.secrets, deps.logger) });
}
