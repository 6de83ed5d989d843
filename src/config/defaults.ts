/**
 * The embedded default (what `npm start` runs with no file) and the starter file `portcullis init` writes.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$PORTCULLIS_DATA_DIR`, else `$XDG_DATA_HOME/portcullis`, else `~/.local/share/portcullis`. */
export function defaultDataDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.PORTCULLIS_DATA_DIR) return env.PORTCULLIS_DATA_DIR;
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'portcullis');
}

/** Where Portcullis is installed (its own node_modules and lockfile are here). */
export const PORTCULLIS_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const FILESYSTEM = '@modelcontextprotocol/server-filesystem';

/**
 * The filesystem server shipped as a dependency, started with this Node: no network, no npx. It is
 * pinned to the version and integrity in Portcullis' own package-lock.json.
 */
export function bundledFilesystemServer(): { command: string; script: string; pin?: { npm: string; integrity: string } } {
  const require = createRequire(import.meta.url);
  const script = require.resolve(`${FILESYSTEM}/dist/index.js`);
  const lockfile = join(PORTCULLIS_ROOT, 'package-lock.json');
  if (!existsSync(lockfile)) return { command: process.execPath, script };
  const entry = (JSON.parse(readFileSync(lockfile, 'utf8')) as { packages?: Record<string, { version?: string; integrity?: string }> }).packages?.[`node_modules/${FILESYSTEM}`];
  if (!entry?.version || !entry.integrity) return { command: process.execPath, script };
  return { command: process.execPath, script, pin: { npm: `${FILESYSTEM}@${entry.version}`, integrity: entry.integrity } };
}

/** The default document: one filesystem server confined to a sandbox folder under the data dir. */
export function embeddedDefault(dataDir: string): Record<string, unknown> {
  const sandbox = join(dataDir, 'sandbox');
  mkdirSync(sandbox, { recursive: true });
  const fs = bundledFilesystemServer();
  return {
    listen: { host: '127.0.0.1', port: 8787 },
    dataDir,
    servers: { files: fs.pin ? { command: fs.command, args: [fs.script, sandbox], pin: fs.pin } : { command: fs.command, args: [fs.script, sandbox] } },
    // Without a lockfile to pin against (an npm-installed copy), the bundled server runs unpinned.
    supply: { allowUnpinned: fs.pin === undefined },
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

# Servers must be pinned to what may run (see servers.files.pin below) unless you allow unpinned ones.
supply:
  allowUnpinned: true  # convenient while trying things out; each unpinned server is flagged in the log

# The MCP servers behind the gateway. /mcp/<name> exposes one server unchanged; /mcp aggregates them all.
servers:
  # A stdio server: started as a child with a minimal environment (PATH, HOME, USER, LANG, ...) plus env.
  files:
    command: npx
    args: [-y, "@modelcontextprotocol/server-filesystem", ./data]
    env: {}
    # pin: { sha256: "<sha256 of the executable>", file: /usr/local/bin/files-mcp }   # or:
    # pin: { npm: "@modelcontextprotocol/server-filesystem@2026.8.31", integrity: "sha512-…" }
  # A remote server. Secrets are references, never literals: env:NAME or file:/path.
  # tickets:
  #   url: https://mcp.example.com/mcp
  #   headers: { Authorization: "env:TICKETS_TOKEN" }
`;
