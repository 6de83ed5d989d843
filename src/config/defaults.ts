/**
 * The embedded default (what `npm start` runs with no file) and the starter file `portcullis init` writes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../util/private-files.ts';

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

/** The arguments of server-filesystem's tools that hold paths. */
const FILESYSTEM_PATH_ARGS = ['path', 'paths', 'source', 'destination'];

/** The local user of the embedded default's sign-in page: the OS user (or "admin"). */
export function defaultUser(): string {
  try {
    const name = userInfo().username;
    return /^[A-Za-z0-9._@-]{1,64}$/.test(name) ? name : 'admin';
  } catch {
    return 'admin';
  }
}

/** The file holding the embedded default user's password: made once (0600), never printed. */
export function defaultPasswordFile(dataDir: string): string {
  const file = join(dataDir, 'login-password');
  if (!existsSync(file)) writePrivateFile(file, `${randomBytes(18).toString('base64url')}\n`);
  return file;
}

/**
 * The default document: one filesystem server confined to a sandbox folder under the data dir, behind
 * the embedded authorization server (one local user, password in a file of the data dir) and API keys.
 */
export function embeddedDefault(dataDir: string, fs: ReturnType<typeof bundledFilesystemServer> = bundledFilesystemServer()): Record<string, unknown> {
  ensurePrivateDir(dataDir);
  const sandbox = join(dataDir, 'sandbox');
  ensurePrivateDir(sandbox);
  return {
    listen: { host: '127.0.0.1', port: 8787 },
    dataDir,
    servers: { files: fs.pin ? { command: fs.command, args: [fs.script, sandbox], pin: fs.pin } : { command: fs.command, args: [fs.script, sandbox] } },
    // Without a lockfile to pin against (an npm-installed copy), the bundled server runs unpinned.
    supply: { allowUnpinned: fs.pin === undefined },
    identity: {
      // One local user, the machine's owner, who may hold every scope. Registration stays open (MCP
      // clients register themselves), which is safe because a registered client gets nothing without
      // this user signing in with the password in <dataDir>/login-password and consenting.
      embedded: {
        users: [{ username: defaultUser(), password: `file:${defaultPasswordFile(dataDir)}`, roles: ['owner'] }],
        roles: { owner: ['*'] },
        registration: 'open',
      },
      apiKeys: {},
    },
    policy: {
      rules: [
        {
          name: 'files-in-sandbox',
          effect: 'allow',
          servers: ['files'],
          description: 'Every filesystem tool, with every path confined to the sandbox',
          guards: { paths: { args: FILESYSTEM_PATH_ARGS, roots: [sandbox] } },
        },
      ],
      limits: [{ name: 'per-agent', per: 'agent', rate: '20/s', burst: 40 }],
    },
  };
}

/**
 * The starter `portcullis init` writes. `dataFolder` is the absolute folder the filesystem server
 * serves and the path guard confines calls to (init creates it): a relative one would be read against
 * whatever folder the gateway is started from, and the server refuses to start on a missing one.
 */
export const initTemplate = (dataFolder: string): string => `# Portcullis configuration. Validate with: portcullis config check -c portcullis.yaml
# Reference: docs/configuration.md · JSON Schema: schema/config.json

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
  # runAs: mcp         # run every stdio server as this user (needs root or CAP_SETUID/CAP_SETGID): without it a
  #                    # server runs as the gateway's user and can read its environment and data dir

# The MCP servers behind the gateway. /mcp/<name> exposes one server unchanged; /mcp aggregates them all.
servers:
  # A stdio server: started as a child with a minimal environment (PATH, HOME, USER, LANG, ...) plus env.
  files:
    command: npx
    args: [-y, "@modelcontextprotocol/server-filesystem", ${JSON.stringify(dataFolder)}]
    env: {}            # e.g. { HTTPS_PROXY: "env:HTTPS_PROXY", NODE_EXTRA_CA_CERTS: "env:NODE_EXTRA_CA_CERTS" } behind a proxy
    # pin: { sha256: "<sha256 of the executable>", file: /usr/local/bin/files-mcp }   # or:
    # pin: { npm: "@modelcontextprotocol/server-filesystem@2026.8.31", integrity: "sha512-…" }
  # A remote server. Secrets are references, never literals: env:NAME or file:/path.
  # tickets:
  #   url: https://mcp.example.com/mcp
  #   headers: { Authorization: "env:TICKETS_TOKEN" }

# Runtime policy. Without this section every call is denied. Rules: allow | deny | approve; any matching
# deny wins, then approve (needs a human), then allow; nothing matching is denied. Lists show a tool
# only if some allow rule could match it for the caller. Try a call (paths must be absolute):
#   portcullis policy test -c portcullis.yaml --call 'files.read_text_file {"path":${JSON.stringify(`${dataFolder}/notes.txt`)}}'
policy:
  mode: enforce          # monitor: decide and record, block nothing (for rollout)
  rules:
    - name: files-in-data
      effect: allow
      servers: [files]
      guards:
        paths: { args: [path, paths, source, destination], roots: [${JSON.stringify(dataFolder)}] }   # after .., ~ and symlinks
    # - name: no-deletes-after-hours
    #   effect: deny
    #   tools: ["delete_*", "move_file"]
    #   time: { days: [sat, sun], timezone: Europe/Berlin }
    # - name: fetch-public-https-only
    #   effect: allow
    #   servers: [web]
    #   guards: { urls: { args: [url], schemes: [https] } }   # private, loopback and metadata addresses refused
    # - name: big-writes-need-review
    #   effect: approve
    #   tools: [write_file]
    #   when: 'size(args.content) > 100000'                  # CEL over args, principal, tool, task
    #   approval: { ttl: 10m, mode: either }                # a human says yes: in the client, or portcullis approvals grant (docs/approvals.md)
  # tools:                                                   # scopes a tool needs; annotations you attest
  #   - { server: files, tool: "write_*", scopes: [files:write], annotations: { destructive: true } }
  limits:                # per: principal | agent | tool | server; without identity every caller is one principal,
    - { name: everyone, per: principal, rate: 20/s, burst: 40 }   # and an agent is the name the client gives itself
  # concurrency: { files: 8 }                                # calls in flight per server

# Data-loss prevention (docs/dlp.md). Without this section: secrets in results are masked and
# secret-shaped arguments to tools that can reach outside are refused. This starter also masks personal
# data and flags injected instructions. Try it: portcullis dlp test -c portcullis.yaml --text "…"
dlp:
  results: { secrets: mask, pii: mask, injection: flag }   # mask | block | alert | off (injection: flag | wrap | block | off)
  arguments: { secrets: block }                            # block | alert | off; fields: [password] for named fields
  # patterns: [ { name: canary, regex: "CANARY-[0-9]{6}", action: block } ]
  # servers: { files: { results: { pii: off } } }          # per server, and per tool under tools:
`;
