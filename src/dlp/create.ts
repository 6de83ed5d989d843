/**
 * Builds the DLP engine from the configuration, refusing what it cannot honour: a pattern that cannot
 * run in linear time, an exact value that cannot be read, an override for a server that does not exist.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { SecretSource } from '../config/secrets.ts';
import { GatewayError } from '../errors.ts';
import { Dlp } from './engine.ts';

export function dlpProblems(config: Config, dlp: Dlp): Array<{ path: (string | number)[]; message: string }> {
  const problems = [...dlp.problems];
  for (const server of Object.keys(config.dlp?.servers ?? {})) {
    if (!(server in config.servers)) problems.push({ path: ['dlp', 'servers', server], message: `no server named "${server}" in servers` });
  }
  return problems;
}

export function createDlp(config: Config, secrets: SecretSource, logger?: Logger): Dlp {
  const dlp = new Dlp(config.dlp, secrets, logger);
  const problems = dlpProblems(config, dlp);
  if (problems.length > 0) throw new GatewayError('PC_CONFIG_INVALID', `configuration error: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
  return dlp;
}
