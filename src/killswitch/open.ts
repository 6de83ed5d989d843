/**
 * Opens the kill switches of a configuration: `<dataDir>/killswitch.json`, sealed with the key of the
 * data dir's state files (`supply.pinsKey`, else `<dataDir>/pins.key`). The one way the gateway and
 * every command reach them.
 */
import { join } from 'node:path';
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import { openPins, sealKeySource } from '../supply/open-pins.ts';
import { KillSwitchStore, type KillSwitchStoreOptions } from './store.ts';

export function killSwitchPath(dataDir: string): string {
  return join(dataDir, 'killswitch.json');
}

export function openKillSwitches(config: Pick<Config, 'dataDir' | 'supply'>, secrets: SecretSource, options: Omit<KillSwitchStoreOptions, 'key'> = {}): KillSwitchStore {
  // The default key is made with an empty pins file, as the gateway makes it (src/supply/pins.ts).
  const prepareKey = (): void => void openPins(config, secrets, { create: true });
  return new KillSwitchStore(killSwitchPath(config.dataDir ?? defaultDataDir(secrets.env)), { prepareKey, ...options, key: sealKeySource(config, secrets) });
}
