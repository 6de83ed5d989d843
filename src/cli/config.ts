/**
 * `portcullis init`, `portcullis config check`, `portcullis config schema`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { identityDbPath } from '../auth/identity.ts';
import { trustDomainWarnings } from '../upstream/run-as.ts';
import { IdentityStore } from '../auth/store.ts';
import type { ConfigProblem } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { looseModes } from '../util/private-files.ts';
import * as z from 'zod';
import { initTemplate } from '../config/defaults.ts';
import { defaultDataDir } from '../config/defaults.ts';
import { formatPath, loadConfigFile } from '../config/load.ts';
import { gatewayStateOf, looseStateModes } from '../policy/gateway-state.ts';
import { pinnedToolNames } from '../supply/pins.ts';
import { dlpProblems } from '../dlp/create.ts';
import { Dlp } from '../dlp/engine.ts';
import { compilePolicy } from '../policy/policy.ts';
import { nameClashes, pinnedNames } from '../config/namespaces.ts';
import { openPins } from '../supply/open-pins.ts';
import { serverPinHolds } from '../upstream/build.ts';
import { configSchema } from '../config/schema.ts';
import { formatProblems } from './config-source.ts';
import type { Io } from './serve.ts';

export function init(options: { output: string; force?: boolean }, io: Pick<Io, 'out' | 'err'>): number {
  if (existsSync(options.output) && !options.force) {
    io.err(`portcullis: ${options.output} already exists; use --force to overwrite\n`);
    return 2;
  }
  // The folder the starter's filesystem server serves, beside the file: created, or it would not start.
  const data = resolve(dirname(options.output), 'data');
  const created = !existsSync(data);
  mkdirSync(data, { recursive: true, mode: 0o700 });
  writeFileSync(options.output, initTemplate(data), { mode: 0o600 });
  io.out(`Wrote ${options.output}${created ? ` and created ${data} (the folder its filesystem server serves)` : ` (its filesystem server serves ${data})`}. Check it with: portcullis config check -c ${options.output}\n`);
  return 0;
}

export function check(options: { config: string }, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const loaded = loadConfigFile(options.config, io.secrets);
  if (!loaded.ok) {
    const errors = loaded.problems.filter((p) => p.severity === 'error').length;
    io.err(`${options.config}: ${errors} problem${errors === 1 ? '' : 's'}\n${formatProblems(loaded.problems)}\n`);
    return 2;
  }
  // Tool names in the policy are checked against the catalog the gateway pinned, when there is one.
  const dataDir = loaded.config.dataDir ?? defaultDataDir(io.secrets.env);
  const pins = openPins(loaded.config, io.secrets, { create: false });
  const { problems } = compilePolicy(loaded.config.policy, {
    servers: Object.keys(loaded.config.servers),
    knownTools: (server) => pinnedToolNames(pins, server),
    resolveHost: async () => [],
  });
  // Names two servers would both expose on /mcp, as far as their pinned catalogs tell.
  const clashes = nameClashes(loaded.config.servers, loaded.config.routing.separator, (server) => pinnedNames(pins, server));
  const dlp = dlpProblems(loaded.config, new Dlp(loaded.config.dlp, io.secrets));
  const errors = [...problems.map((p) => ({ path: formatPath(p.path), message: p.message })), ...dlp.map((p) => ({ path: formatPath(p.path), message: p.message })), ...clashes];
  if (errors.length > 0) {
    io.err(`${options.config}: ${errors.length} problem${errors.length === 1 ? '' : 's'}\n${errors.map((p) => `  error   ${p.path}: ${p.message}`).join('\n')}\n`);
    return 2;
  }
  // Modes are read before anything opens a store (opening identity.db narrows them).
  const loose = looseModes(dataDir).map((m): ConfigProblem => ({ path: 'dataDir', message: `readable by others: ${m}`, severity: 'warning' }));
  const secretModes = looseStateModes(gatewayStateOf(loaded.config, dataDir, resolve(options.config))).map((m): ConfigProblem => ({ path: '(file modes)', message: `others may read or write it: ${m}`, severity: 'warning' }));
  const warnings = [...loaded.warnings, ...trustDomainWarnings(loaded.config), ...keyWarnings(loaded.config, dataDir), ...loose, ...secretModes];
  // A pin that does not hold here keeps its server from starting; serve would only say so in the log.
  for (const [name, server] of Object.entries(loaded.config.servers)) {
    if (server.disabled || !('command' in server) || !server.pin) continue;
    const pin = serverPinHolds(name, server, loaded.config, io.secrets);
    if (!pin.ok) warnings.push({ path: `servers.${name}.pin`, message: `${pin.problem}; the server will not start (judged from this folder, as serve started here would)`, severity: 'warning' });
  }
  const integrity = pins.integrity();
  if (!integrity.ok) warnings.push({ path: 'supply', message: `the pins file is untrusted, the gateway serves nothing pinned: ${integrity.problem} (see portcullis pin verify)`, severity: 'warning' });
  if (warnings.length > 0) io.err(`${formatProblems(warnings)}\n`);
  const servers = Object.keys(loaded.config.servers);
  io.out(`${options.config}: OK (${servers.length} server${servers.length === 1 ? '' : 's'}: ${servers.join(', ') || 'none'})\n`);
  return 0;
}

/** The JSON Schema of the config file, generated from the zod schema (what schema/config.json holds). */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, $id: 'https://github.com/portcullis/portcullis/schema/config.json', title: 'Portcullis configuration' }, null, 2)}\n`;
}

/** API keys that never expire are flagged, and so is a configuration that allows them. */
function keyWarnings(config: Config, dataDir: string): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  if (config.identity?.apiKeys?.allowNoExpiry) {
    warnings.push({ path: 'identity.apiKeys.allowNoExpiry', message: 'API keys without expiry are accepted; prefer --expires and rotation', severity: 'warning' });
  }
  const db = identityDbPath(dataDir);
  if (!existsSync(db)) return warnings;
  const store = new IdentityStore(db);
  try {
    for (const key of store.keys()) {
      if (key.revokedAt || key.expiresAt) continue;
      warnings.push({ path: `api key ${key.id}`, message: `agent "${key.agent}" holds a key that never expires${config.identity?.apiKeys?.allowNoExpiry ? '' : ', and the configuration no longer allows such keys: it is refused'}; revoke it with \`portcullis key revoke ${key.id}\``, severity: 'warning' });
    }
  } finally {
    store.close();
  }
  return warnings;
}
