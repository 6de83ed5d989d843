/**
 * An echo upstream and a gateway in front of it, each its own process, for the diagnostic benches
 * (profile, memcheck). `nodeFlags` go to the gateway's node (e.g. --cpu-prof, --expose-gc).
 */
import { execFileSync, spawn } from 'node:child_process';
import { firstMatch } from '../test/helpers/gateway.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FULL_POLICY } from './full-policy.ts';

export interface EchoGateway {
  /** Gateway origin, e.g. http://127.0.0.1:41234; the echo server is at `${base}/mcp/echo`. */
  base: string;
  /** The gateway's process id (to read its resident set from /proc). */
  pid: number;
  /** Headers every request needs (the API key of the full chain). */
  headers?: Record<string, string>;
  /** Stops the gateway (SIGINT, so profiles are written) and the echo server; resolves once the gateway exits. */
  stop(): Promise<void>;
}

const ROOT = new URL('..', import.meta.url).pathname;

/** How the gateway process is launched: under a wrapper (e.g. valgrind) and from another checkout's bin/. */
export interface Launch {
  /** A command the gateway's node runs under, e.g. ['valgrind', '--tool=callgrind']. */
  wrapper?: string[];
  /** The checkout whose bin/portcullis.js runs (built); default this tree. */
  root?: string;
}

/** `extraYaml` replaces the allow-all policy line (e.g. identity and a fuller policy). */
export async function startEchoGateway(dir: string, nodeFlags: string[], extraYaml?: string, beforeStart?: (config: string) => void, launch: Launch = {}): Promise<EchoGateway> {
  const upstream = spawn(process.execPath, ['bench/echo-server.ts', '--http', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await firstMatch(upstream, /listening (\d+)/);
  const config = join(dir, 'gw.yaml');
  const rest = extraYaml ?? 'policy: { rules: [{ name: all, effect: allow }] }\n';
  // The data directory beside the configuration, not holding it (as bench/run.ts and the default
  // layout have it): the policy's hot reload watches the configuration's directory, and with the
  // audit store in it every group commit would wake that watcher (two inotify reads and an event-loop
  // turn per commit), a cost the measured gateway does not have.
  const dataDir = join(dir, 'data');
  writeFileSync(config, `listen: { port: 0, metrics: loopback }\nlogging: { level: warn }\nsupply: { allowUnpinned: true }\ndataDir: ${JSON.stringify(dataDir)}\n${rest}servers:\n  echo: { url: "http://127.0.0.1:${port}/mcp" }\n`);
  beforeStart?.(config);
  const [command = process.execPath, ...wrapperArgs] = launch.wrapper ?? [];
  const args = [...wrapperArgs, ...(launch.wrapper ? [process.execPath] : []), ...nodeFlags, 'bin/portcullis.js', 'serve', '-c', config];
  const gateway = spawn(command, args, { cwd: launch.root ?? ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await firstMatch(gateway, /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/);
  return {
    base,
    pid: gateway.pid!,
    async stop() {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      gateway.kill('SIGINT');
      await exited;
      upstream.kill();
    },
  };
}

/**
 * The echo gateway with the benchmark's full chain (bench/run.ts): an API key on every request, the
 * 20-rule policy with a rate limit, and the SQLite audit trail; `headers` carry the key.
 */
export async function startFullEchoGateway(dir: string, nodeFlags: string[], launch: Launch = {}): Promise<EchoGateway> {
  let key = '';
  const gateway = await startEchoGateway(dir, nodeFlags, `audit: { store: sqlite }\nidentity: { apiKeys: {} }\n${FULL_POLICY}`, (config) => {
    const out = execFileSync(process.execPath, ['bin/portcullis.js', 'key', 'create', '--agent', 'bench', '--scopes', 'mcp', '--expires', '1d', '--json', '-c', config], { cwd: launch.root ?? ROOT, encoding: 'utf8' });
    key = (JSON.parse(out) as { key: string }).key;
  }, launch);
  return { ...gateway, headers: { authorization: `Bearer ${key}` } };
}

/**
 * The gateway of a diagnostic bench by what it runs: `off` the benchmark's passthrough (allow-all,
 * audit off), `full` its full chain (startFullEchoGateway), anything else allow-all with the SQLite audit.
 */
export function startGatewayFor(mode: string | undefined, dir: string, nodeFlags: string[], launch: Launch = {}): Promise<EchoGateway> {
  if (mode === 'full') return startFullEchoGateway(dir, nodeFlags, launch);
  return startEchoGateway(dir, nodeFlags, mode === 'off' ? 'audit: { store: off }\npolicy: { rules: [{ name: all, effect: allow }] }\n' : undefined, undefined, launch);
}
