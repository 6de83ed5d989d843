/**
 * `portcullis serve`: runs the HTTP front until SIGINT/SIGTERM, and prints how to connect.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { watchStable } from '../config/watch.ts';
import type { Config } from '../config/schema.ts';
import type { Gateway } from '../gateway.ts';
import { createGateway } from '../gateway.ts';
import { createHttpFront } from '../downstream/http.ts';
import { createLogger } from '../logger.ts';
import type { SecretSource } from '../config/secrets.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import { trustDomainWarnings } from '../upstream/run-as.ts';
import { clientSetup } from './connect.ts';
import { startHeapTrim } from '../util/heap-trim.ts';

export interface ServeOptions {
  config?: string;
  dataDir?: string;
  host?: string;
  port?: string;
  /** listen.metrics: credential | loopback | open. */
  metrics?: string;
  /** false: do not watch the configuration file (`--no-reload`). */
  reload?: boolean;
  reloadSettleMs?: string;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  secrets: SecretSource;
  onSignal: (handler: () => void) => void;
}

export async function serve(options: ServeOptions, io: Io): Promise<number> {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return 2;
  }
  let config = loaded.config;
  if (options.host !== undefined || options.port !== undefined) {
    const port = options.port === undefined ? config.listen.port : Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      io.err(`portcullis: --port must be an integer 0-65535 (got "${options.port}")\n`);
      return 2;
    }
    config = { ...config, listen: { ...config.listen, host: options.host ?? config.listen.host, port } };
  }
  if (options.metrics !== undefined) {
    const access = options.metrics;
    if (access !== 'credential' && access !== 'loopback' && access !== 'open') {
      io.err(`portcullis: --metrics must be credential, loopback or open (got "${access}")\n`);
      return 2;
    }
    config = { ...config, listen: { ...config.listen, metrics: access } };
  }
  if (options.reloadSettleMs !== undefined && !(Number.isInteger(Number(options.reloadSettleMs)) && Number(options.reloadSettleMs) >= 50)) {
    io.err(`portcullis: --reload-settle-ms must be an integer of at least 50 (got "${options.reloadSettleMs}")\n`);
    return 2;
  }
  const trust = trustDomainWarnings(config);
  const warnings = [...loaded.warnings, ...trust];
  if (warnings.length > 0) io.err(`${formatProblems(warnings)}\n`);
  const logger = createLogger(config.logging.level);
  // In the log too, where whoever watches the running gateway looks.
  for (const w of trust) logger.warn({ alert: 'trust-domain', path: w.path }, w.message);
  let gateway;
  try {
    gateway = createGateway(config, { logger, secrets: io.secrets, ...(options.config ? { configFile: resolve(options.config) } : {}) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.err(`portcullis: ${(error as Error).message}${typeof code === 'string' && code.startsWith('PC_') ? ` (${code})` : ''}\n`);
    return 2;
  }
  let front;
  try {
    front = await createHttpFront(gateway, config, logger, { secrets: io.secrets });
  } catch (error) {
    io.err(`portcullis: cannot listen on ${config.listen.host}:${config.listen.port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    await gateway.close();
    return 1;
  }
  await gateway.start();
  const servers = [...gateway.upstreams.keys()];
  io.out(
    [
      `Portcullis is listening (${loaded.source}).`,
      '',
      `  All servers, namespaced:  ${front.url}/mcp`,
      ...servers.map((s) => `  Server "${s}" alone:${' '.repeat(Math.max(1, 8 - s.length))}${front.url}/mcp/${s}`),
      '',
      'Connect a client:',
      ...clientSetup(`${front.url}/mcp`, options.config),
      '',
      ...signInHelp(config, front.identity !== undefined, front.url, options),
    ].join('\n'),
  );
  const settleMs = options.reloadSettleMs === undefined ? config.reload.settleMs : Number(options.reloadSettleMs);
  const watching = options.config !== undefined && options.reload !== false && config.reload.watch;
  // A file was read, so the loader is in memory already: the import costs nothing more.
  const stopWatching = watching ? watchPolicy((await import('../config/load.ts')).parseConfigText, resolve(options.config!), config, settleMs, gateway, io.secrets, logger) : undefined;
  // Start-up is done: hand the memory it used back (see ../util/heap-trim.ts), and again whenever idle.
  const stopTrim = startHeapTrim();
  await new Promise<void>((done) => io.onSignal(done));
  stopTrim();
  stopWatching?.();
  logger.info('shutting down');
  await front.close();
  await gateway.close();
  return 0;
}

/**
 * Hot reload of the policy: when the configuration file changes and has stayed unchanged for
 * `reload.settleMs` (see ../config/watch.ts: a half-written file is never read as the new policy), its
 * policy section is validated and compiled in full, and put in force only if it has no problem
 * (otherwise the old policy stays and the problems are logged). Other sections need a restart, which
 * the log says.
 */
function watchPolicy(parseConfigText: typeof import('../config/load.ts').parseConfigText, file: string, started: Config, settleMs: number, gateway: Gateway, secrets: SecretSource, logger: Logger): () => void {
  return watchStable({
    file,
    settleMs,
    initial: readFileSync(file, 'utf8'),
    onStable: (text) => {
      try {
        reload(text);
      } catch (error) {
        // Whatever goes wrong with a new file, the gateway keeps running on the policy in force.
        logger.error({ err: (error as Error).message }, 'configuration change rejected: the policy in force is unchanged');
      }
    },
  });

  function reload(text: string): void {
    const loaded = parseConfigText(text, secrets);
    if (!loaded.ok) {
      logger.error({ problems: loaded.problems.map((p) => `${p.path}: ${p.message}`) }, 'configuration change rejected: the policy in force is unchanged');
      return;
    }
    const problems = gateway.reloadPolicy(loaded.config.policy);
    if (problems.length > 0) {
      logger.error({ problems: problems.map((p) => `${p.path.join('.')}: ${p.message}`) }, 'policy change rejected: the policy in force is unchanged');
      return;
    }
    logger.info({ rules: loaded.config.policy?.rules.length ?? 0, mode: loaded.config.policy?.mode ?? 'absent' }, 'policy reloaded');
    const { policy: _a, ...before } = started;
    const { policy: _b, ...after } = loaded.config;
    if (JSON.stringify(before) !== JSON.stringify(after)) logger.warn('configuration sections other than policy changed; they take effect after a restart');
  }
}

/** How clients authenticate, when identity is on: the OAuth flow, the local users, API keys. */
function signInHelp(config: Config, on: boolean, url: string, options: ServeOptions): string[] {
  if (!on) return [];
  const identity = config.identity!;
  const source = options.config ? ['-c', resolve(options.config)] : [];
  const lines = ['Authentication is on: HTTP clients need a token.'];
  if (identity.embedded?.enabled) {
    lines.push(`  OAuth clients (Claude Code, VS Code, Cursor) sign in through ${url}/oauth/authorize`);
    for (const user of identity.embedded.users) {
      const where = user.password.startsWith('file:') ? `the file ${user.password.slice(5)}` : `the variable ${user.password.slice(4)}`;
      lines.push(`    as "${user.username}", password in ${where}`);
    }
    lines.push(`  Headless agents: portcullis agent add NAME --scopes "…" ${source.join(' ')}`.trimEnd());
  }
  if (identity.apiKeys?.enabled) lines.push(`  Clients without OAuth: portcullis key create --agent NAME --expires 30d ${source.join(' ')}`.trimEnd());
  lines.push('');
  return lines;
}
