/**
 * The embedded default (what `npm start` runs with no file) and the starter file `portcullis init` writes.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$PORTCULLIS_DATA_DIR`, else `$XDG_DATA_HOME/portcullis`, else `~/.local/share/portcullis`. */
export function defaultDataDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.PORTCULLIS_DATA_DIR) return env.PORTCULLIS_DATA_DIR;
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'portcullis');
}

/** The filesystem server shipped as a dependency, started with this Node: no network, no npx. */
export function bundledFilesystemServer(): { command: string; script: string } {
  const require = createRequire(import.meta.url);
  return { command: process.execPath, script: require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js') };
}

/** The default document: one filesystem server confined to a sandbox folder under the data dir. */
export function embeddedDefault(dataDir: string): Record<string, unknown> {
  const sandbox = join(dataDir, 'sandbox');
  mkdirSync(sandbox, { recursive: true });
  const fs = bundledFilesystemServer();
  return {
    listen: { host: '127.0.0.1', port: 8787 },
    dataDir,
    servers: { files: { command: fs.command, args: [fs.script, sandbox] } },
  };
}

export const INIT_TEMPLATE = `# Portcullis configuration. Validate with: portcullis config check -c portcullis.yaml
# Reference: README.md#configuration-reference · JSON Schema: schema/config.json

# Where agents connect. Keep it on loopback unless authentication sits in front of it.
listen:
  host: 127.0.0.1
  port: 8787
  # allowedOrigins: [https://app.example.com]   # browser Origins besides localhost (DNS-rebinding guard)
  # maxBodyBytes: 4194304                        # larger request bodies get 413

routing:
  separator: "__"      # /mcp shows tools as <server>__<tool>

defaults:
  timeoutMs: 60000     # per-call timeout; override per server with timeoutMs

# The MCP servers behind the gateway. /mcp/<name> exposes one server unchanged; /mcp aggregates them all.
servers:
  # A stdio server: started as a child with a minimal environment (PATH, HOME, USER, LANG, ...) plus env.
  files:
    command: npx
    args: [-y, "@modelcontextprotocol/server-filesystem", ./data]
    env: {}
  # A remote server. Secrets are references, never literals: env:NAME or file:/path.
  # tickets:
  #   url: https://mcp.example.com/mcp
  #   headers: { Authorization: "env:TICKETS_TOKEN" }
`;
