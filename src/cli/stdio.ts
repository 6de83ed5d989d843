/**
 * `portcullis stdio`: the gateway as a local client's MCP command (stdin/stdout).
 */
import { resolve } from 'node:path';
import { createGateway } from '../gateway.ts';
import { runStdioFront } from '../downstream/stdio.ts';
import { createLogger } from '../logger.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import { endStartUpFlags, startHeapTrim } from '../util/heap-trim.ts';
import type { Io } from './serve.ts';

export interface StdioOptions {
  config?: string;
  dataDir?: string;
  server?: string;
}

export async function stdio(options: StdioOptions, io: Io & { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream }): Promise<number> {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return 2;
  }
  const config = loaded.config;
  if (config.audit.store === 'stdout') {
    io.err('portcullis: audit.store: stdout cannot be used with the stdio front (stdout carries the protocol); use jsonl or sqlite\n');
    return 2;
  }
  if (options.server !== undefined && !(options.server in config.servers)) {
    io.err(`portcullis: --server "${options.server}" is not in the config (servers: ${Object.keys(config.servers).join(', ') || 'none'})\n`);
    return 2;
  }
  const logger = createLogger(config.logging.level === 'info' ? 'warn' : config.logging.level);
  const gateway = createGateway(config, { logger, secrets: io.secrets, front: 'stdio', ...(options.config ? { configFile: resolve(options.config) } : {}) });
  const started = gateway.start();
  // Once the servers are up, hand start-up's memory back (see ../util/heap-trim.ts), and again whenever idle;
  // if they fail to start, the front still answers (with errors), so start-up's flags end then too.
  let stopTrim: (() => void) | undefined;
  started.then(() => (stopTrim = startHeapTrim()), () => endStartUpFlags());
  await runStdioFront({
    gateway,
    endpoint: options.server ? { kind: 'server', server: options.server } : { kind: 'aggregate' },
    input: io.stdin as never,
    output: io.stdout as never,
    logger,
  });
  await started;
  stopTrim?.();
  await gateway.close();
  return 0;
}
