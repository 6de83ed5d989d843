/**
 * How each MCP client reaches the gateway: `serve` prints it when it starts, and `portcullis connect`
 * prints it on demand (for one client or all), without starting anything.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from './serve.ts';
import { formatProblems, loadForRun } from './config-source.ts';

const LAUNCHER = resolve(fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url)));

/** The clients `connect --client` knows, in the order they are printed. */
export const CLIENTS = ['claude-code', 'claude-desktop', 'cursor', 'vscode', 'windsurf', 'codex'] as const;
export type ClientName = (typeof CLIENTS)[number];

/** The stdio command a client launches: this Node, the launcher, `stdio` and the config it runs. */
function stdioCommand(configFile: string | undefined): { command: string; args: string[] } {
  const args = [LAUNCHER, 'stdio', ...(configFile ? ['-c', resolve(configFile)] : [])];
  return { command: process.execPath, args };
}

/** Lines that tell one client (or every client) how to reach the gateway at `mcpUrl`. */
export function clientSetup(mcpUrl: string, configFile: string | undefined, only?: ClientName): string[] {
  const { command, args } = stdioCommand(configFile);
  const stdioJson = `{ "command": ${JSON.stringify(command)}, "args": ${JSON.stringify(args)} }`;
  const setups: Record<ClientName, string[]> = {
    'claude-code': [
      `  Claude Code (HTTP):   claude mcp add --transport http portcullis ${mcpUrl}`,
      `  Claude Code (stdio):  claude mcp add portcullis -- ${command} ${args.join(' ')}`,
    ],
    'claude-desktop': ['  Claude Desktop (stdio), in claude_desktop_config.json:', `    { "mcpServers": { "portcullis": ${stdioJson} } }`],
    cursor: [`  Cursor (~/.cursor/mcp.json):  { "mcpServers": { "portcullis": { "url": "${mcpUrl}" } } }`, `    or stdio: { "mcpServers": { "portcullis": ${stdioJson} } }`],
    vscode: [`  VS Code (.vscode/mcp.json):  { "servers": { "portcullis": { "type": "http", "url": "${mcpUrl}" } } }`],
    windsurf: [`  Windsurf (~/.codeium/windsurf/mcp_config.json):  { "mcpServers": { "portcullis": { "serverUrl": "${mcpUrl}" } } }`],
    codex: ['  Codex (~/.codex/config.toml):', '    [mcp_servers.portcullis]', `    command = ${JSON.stringify(command)}`, `    args = ${JSON.stringify(args)}`],
  };
  return only ? setups[only] : CLIENTS.flatMap((name) => setups[name]);
}

export interface ConnectOptions {
  config?: string;
  dataDir?: string;
  client?: string;
  url?: string;
}

/** `portcullis connect`: prints the client setup for a configuration's gateway. */
export function connect(options: ConnectOptions, io: Io): number {
  if (options.client !== undefined && !(CLIENTS as readonly string[]).includes(options.client)) {
    io.err(`portcullis: --client must be one of ${CLIENTS.join(', ')} (got "${options.client}")\n`);
    return 2;
  }
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return 2;
  }
  const { listen, identity } = loaded.config;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const base = options.url ?? identity?.publicUrl ?? `http://${host}:${listen.port}`;
  const lines = [`Connect a client to ${base.replace(/\/+$/, '')}/mcp (${loaded.source}):`, ...clientSetup(`${base.replace(/\/+$/, '')}/mcp`, options.config, options.client as ClientName | undefined)];
  if (identity) lines.push('', 'Authentication is on: OAuth clients sign in in the browser; others need `portcullis key create --agent NAME --expires 30d`.');
  io.out(`${lines.join('\n')}\n`);
  return 0;
}
