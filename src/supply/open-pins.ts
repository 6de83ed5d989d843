/**
 * Opens the pins of a configuration: `<dataDir>/pins.json`, keyed by `supply.pinsKey` when it is set,
 * else by `<dataDir>/pins.key`. The one way every command and the gateway reach the pins.
 */
import { join } from 'node:path';
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import { resolveValue, type SecretSource } from '../config/secrets.ts';
import { PinStore, pinsKeyPath, type PinsKeySource } from './pins.ts';

/** A configured key shorter than this is refused: the HMAC is only as strong as its key. */
const MIN_KEY_CHARS = 32;

export function openPins(config: Pick<Config, 'dataDir' | 'supply'>, secrets: SecretSource, options: { create: boolean }): PinStore {
  const dataDir = config.dataDir ?? defaultDataDir(secrets.env);
  return new PinStore({ path: join(dataDir, 'pins.json'), key: keySource(config.supply.pinsKey, dataDir, secrets), create: options.create });
}

/** The key that seals the state files of a configuration's data dir (pins.json, killswitch.json). */
export function sealKeySource(config: Pick<Config, 'dataDir' | 'supply'>, secrets: SecretSource): PinsKeySource {
  return keySource(config.supply.pinsKey, config.dataDir ?? defaultDataDir(secrets.env), secrets);
}

function keySource(ref: string | undefined, dataDir: string, secrets: SecretSource): PinsKeySource {
  if (ref === undefined) return { kind: 'file', path: pinsKeyPath(dataDir) };
  const resolved = resolveValue(ref, secrets);
  if ('problem' in resolved) return { kind: 'configured-missing', problem: resolved.problem };
  if (resolved.value.length < MIN_KEY_CHARS) return { kind: 'configured-missing', problem: `the key from "${ref}" is shorter than ${MIN_KEY_CHARS} characters` };
  return { kind: 'configured', key: Buffer.from(resolved.value, 'utf8') };
}
