/**
 * Test harness: a real gateway (real upstream processes, real HTTP front on a loopback port) built
 * from a config document, plus the official SDK clients of both generations.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import { processSecretSource, type SecretSource } from '../../src/config/secrets.ts';
import type { Gateway, GatewayDeps } from '../../src/gateway.ts';
import type { HttpFront } from '../../src/downstream/http.ts';
import { COMPILE_CACHE } from './recorded.ts';
import { runCliHere } from './cli-here.ts';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

/**
 * The gateway, its config loader and the SDK clients are loaded on first use, not when this module is:
 * many test files import it only for runCli, waitFor or the server paths, and the gateway's module
 * graph (the definition scanner's patterns among it) costs about a second of CPU per process.
 */
const gatewayModules = async () => {
  const [{ pino }, { validateConfig }, { createGateway }, { createHttpFront }] = await Promise.all([
    import('pino'),
    import('../../src/config/load.ts'),
    import('../../src/gateway.ts'),
    import('../../src/downstream/http.ts'),
  ]);
  return { pino, validateConfig, createGateway, createHttpFront };
};

const require = createRequire(import.meta.url);
export const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
export const MEMORY = require.resolve('@modelcontextprotocol/server-memory/dist/index.js');
export const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

/**
 * The environment an SDK stdio transport gives the gateway it launches (the SDK's default: HOME, PATH,
 * USER…) plus the suite's compile cache: without it each `portcullis stdio` parses and type-strips the
 * gateway again (about 0.5 s of CPU).
 */
export const stdioClientEnv = (): Record<string, string> => ({ ...getDefaultEnvironment(), ...COMPILE_CACHE });

export const stdioServer = (script: string, args: string[] = [], extra: Record<string, unknown> = {}) => ({
  command: process.execPath,
  args: [script, ...args],
  ...extra,
});

export interface TestGateway {
  url: string;
  gateway: Gateway;
  front: HttpFront;
  close(): Promise<void>;
}

/** The policy the tests of other layers run under (and the same as a YAML line for config files). */
export const ALLOW_ALL = { rules: [{ name: 'tests-allow-all', effect: 'allow' }] };
export const ALLOW_ALL_YAML = 'policy: { rules: [{ name: tests-allow-all, effect: allow }] }\n';

/**
 * The gateway gives its stdio servers only a short allowlist of variables, so the test's server entries
 * declare the suite's compile cache (helpers/recorded.ts); a variable the entry declares wins over it.
 */
function withCompileCache(document: Record<string, unknown>): Record<string, unknown> {
  const servers = document.servers;
  if (!COMPILE_CACHE.NODE_COMPILE_CACHE || typeof servers !== 'object' || servers === null || Array.isArray(servers)) return document;
  const entries = Object.entries(servers as Record<string, unknown>).map(([name, server]) => {
    const s = server as { command?: unknown; env?: unknown } | null;
    const plainEnv = s?.env === undefined || (typeof s.env === 'object' && s.env !== null && !Array.isArray(s.env));
    return [name, s && typeof s.command === 'string' && plainEnv ? { ...s, env: { ...COMPILE_CACHE, ...(s.env as object | undefined) } } : server];
  });
  return { ...document, servers: Object.fromEntries(entries) };
}

export async function startGateway(
  document: Record<string, unknown>,
  secrets: SecretSource = processSecretSource(process.env),
  extra: Pick<GatewayDeps, 'resolveHost' | 'now' | 'clock'> = {},
): Promise<TestGateway> {
  // Each gateway gets its own data dir, so its audit trail is its own and nothing lands in $HOME.
  // Tests of other layers run under an explicit allow-everything policy; policy tests bring their own.
  return launchGateway({ supply: { allowUnpinned: true }, policy: ALLOW_ALL, ...document }, secrets, extra);
}

/**
 * A gateway from `document` as written, on a loopback port with its own data dir and nothing else
 * added: every other setting is the shipped default (test/helpers/secure.ts starts the security tests
 * this way).
 */
export async function launchGateway(
  document: Record<string, unknown>,
  secrets: SecretSource = processSecretSource(process.env),
  extra: Pick<GatewayDeps, 'resolveHost' | 'now' | 'clock'> = {},
): Promise<TestGateway> {
  const { pino, validateConfig, createGateway, createHttpFront } = await gatewayModules();
  const loaded = validateConfig({ listen: { port: 0 }, dataDir: mkdtempSync(join(tmpdir(), 'pc-data-')), ...withCompileCache(document) }, secrets);
  if (!loaded.ok) throw new Error(`test config invalid: ${JSON.stringify(loaded.problems)}`);
  const logger = pino({ level: process.env.PORTCULLIS_TEST_LOG ?? 'silent' }, pino.destination(2));
  const gateway = createGateway(loaded.config, { logger, secrets, ...extra });
  const front = await createHttpFront(gateway, loaded.config, logger, { secrets });
  await gateway.start();
  return {
    url: front.url,
    gateway,
    front,
    async close() {
      await front.close();
      await gateway.close();
    },
  };
}

export interface ClientHandlers {
  onSampling?: (params: unknown) => unknown;
  onElicit?: (params: unknown) => unknown;
  /** The clientInfo name (the agent name of a local principal). */
  name?: string;
  /** Extra HTTP headers on every request (e.g. an API key as Authorization). */
  headers?: Record<string, string>;
}

/** The v1 SDK client (legacy era, 2025-11-25) over Streamable HTTP. */
export async function legacyClient(url: string, handlers: ClientHandlers = {}): Promise<LegacyClient> {
  const [{ CreateMessageRequestSchema, ElicitRequestSchema }, { Client: LegacyClient }, { StreamableHTTPClientTransport: LegacyHttpTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/types.js'),
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  const capabilities: Record<string, unknown> = {};
  if (handlers.onSampling) capabilities.sampling = {};
  if (handlers.onElicit) capabilities.elicitation = {};
  const client = new LegacyClient({ name: handlers.name ?? 'legacy-test-client', version: '1.0.0' }, { capabilities });
  if (handlers.onSampling) client.setRequestHandler(CreateMessageRequestSchema, async (r) => handlers.onSampling!(r.params) as never);
  if (handlers.onElicit) client.setRequestHandler(ElicitRequestSchema, async (r) => handlers.onElicit!(r.params) as never);
  await client.connect(new LegacyHttpTransport(new URL(url), handlers.headers ? { requestInit: { headers: handlers.headers } } : undefined));
  return client;
}

/** One `tools/call` through a fresh legacy client: the result as JSON, or `error: <message>`. */
export async function callToolText(url: string, name: string, args: Record<string, unknown>): Promise<string> {
  const client = await legacyClient(url);
  try {
    return JSON.stringify(await client.callTool({ name, arguments: args }));
  } catch (error) {
    return `error: ${(error as Error).message}`;
  } finally {
    await client.close();
  }
}

/** The v2 SDK client negotiating the modern era (2026-07-28). */
export async function modernClient(url: string, handlers: ClientHandlers = {}): Promise<ModernClient> {
  const { Client: ModernClient, StreamableHTTPClientTransport: ModernHttpTransport } = await import('@modelcontextprotocol/client');
  const capabilities: Record<string, unknown> = {};
  if (handlers.onSampling) capabilities.sampling = {};
  if (handlers.onElicit) capabilities.elicitation = {};
  const client = new ModernClient({ name: handlers.name ?? 'modern-test-client', version: '1.0.0' }, { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } } as never);
  if (handlers.onElicit) client.setRequestHandler('elicitation/create' as never, (async (r: { params: unknown }) => handlers.onElicit!(r.params)) as never);
  if (handlers.onSampling) client.setRequestHandler('sampling/createMessage' as never, (async (r: { params: unknown }) => handlers.onSampling!(r.params)) as never);
  await client.connect(new ModernHttpTransport(new URL(url), handlers.headers ? { requestInit: { headers: handlers.headers } } : undefined));
  return client;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The first capture of `pattern` in what `child` prints on stdout (e.g. its port); rejects if it exits first. */
export function firstMatch(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = pattern.exec(seen);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${child.spawnargs.join(' ')} exited (${code}) before printing ${pattern}`)));
  });
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** server-everything in one of its HTTP modes (streamableHttp or sse) on a free loopback port. */
export async function startEverythingHttp(mode: 'streamableHttp' | 'sse'): Promise<{ url: string; child: ChildProcess; close(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, mode], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  await waitFor(
    () =>
      new Promise<boolean | undefined>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(undefined));
      }),
    15_000,
    `server-everything ${mode} to listen`,
  );
  return {
    url: mode === 'sse' ? `http://127.0.0.1:${port}/sse` : `http://127.0.0.1:${port}/mcp`,
    child,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A raw POST, for the tests that send what no SDK client would. */
export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/**
 * Runs the command line and returns its exit code and output: in this process (./cli-here.ts, the same
 * command tree without a Node start per command) unless it needs a process of its own: `serve` and
 * `stdio` hold one, and a HOME of its own is read by os.homedir() from the process's environment.
 */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (args[0] === 'serve' || args[0] === 'stdio' || env.HOME !== undefined) return runCliProcess(args, env);
  return runCliHere(args, env);
}

/** Runs the real command line (`node src/main.ts …`) as a process and returns its exit code and output. */
export async function runCliProcess(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `portcullis serve -c config` as a child process, once it prints its URL; `stderr` collects its log.
 * `nodeFlags` go to its node (e.g. --expose-gc, so `/metrics?gc=1` reads the heap after a collection);
 * `env`: its environment (default: the test's).
 */
export async function serveChild(config: string, nodeFlags: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<{ base: string; child: ChildProcess; stderr: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...nodeFlags, MAIN, 'serve', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.once('exit', (code) => reject(new Error(`portcullis serve exited (${code}) before listening: ${log}`)));
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/.exec(seen);
      if (m) resolve(m[1]!);
    });
  });
  return {
    base,
    child,
    stderr: () => log,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
