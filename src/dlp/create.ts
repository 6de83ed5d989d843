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

/** No administrator patterns: nothing to read (the built-in rules are data). */
const NOTHING_TO_READ: SecretSource = {
  env: {},
  readFile: (path) => {
    throw new GatewayError('PC_CONFIG_INVALID', `the built-in DLP rules read no file (asked for ${path})`);
  },
};
let builtIn: Dlp | undefined;

/**
 * Whether `text` holds a secret by DLP's built-in rules alone (no configuration): the test of the
 * tools that run without a gateway's configuration, such as `portcullis discover`.
 */
export function holdsBuiltInSecret(text: string): boolean {
  return (builtIn ??= new Dlp(undefined, NOTHING_TO_READ)).holdsSecret(text);
}
