/**
 * `portcullis agent add | list | revoke` and `portcullis key create | list | revoke`: per-agent
 * credentials, kept in the data dir's identity.db (the gateway reads it on every call, so a revocation
 * takes effect on the next one). Secrets are printed once and stored only as hashes.
 */
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import { identityDbPath } from '../auth/identity.ts';
import { redirectUriProblem } from '../auth/registration.ts';
import { IdentityStore } from '../auth/store.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import type { Io } from './serve.ts';

export interface IdentityCliOptions {
  redirectUri?: string[];
  config?: string;
  dataDir?: string;
  scopes?: string;
  expires?: string;
  agent?: string;
  json?: boolean;
  url?: string;
}

const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function parseScopes(text: string | undefined): string[] | string {
  const scopes = (text ?? '').split(/[ ,]+/).filter(Boolean);
  const bad = scopes.find((s) => !SCOPE.test(s));
  return bad ? `--scopes: "${bad}" is not a valid scope (RFC 6749: printable ASCII without spaces, " or \\)` : scopes;
}

/** `30d`, `12h`, `90m`, `never` → an expiry date (undefined for never), or a problem. */
export function parseExpiry(text: string | undefined, now = new Date()): Date | undefined | string {
  if (text === undefined || text === 'never') return undefined;
  const m = /^(\d{1,5})([mhd])$/.exec(text);
  if (!m || Number(m[1]) === 0) return `--expires "${text}" must be like 30d, 12h, 90m (or never)`;
  const ms = { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'] * Number(m[1]);
  return new Date(now.getTime() + ms);
}

const publicUrl = (config: Config, override: string | undefined): string =>
  (override ?? config.identity?.publicUrl ?? `http://${config.listen.host}:${config.listen.port}`).replace(/\/$/, '');

/** What a command needs enabled; undefined when the configuration has it, else why not. */
type Needs = (config: Config) => string | undefined;

const EMBEDDED = (what: string, alternative = ''): Needs => (config) =>
  config.identity?.embedded?.enabled ? undefined : `${what} the embedded authorization server; enable identity.embedded in the configuration${alternative}`;

/**
 * Opens the identity store of the configuration's data dir for one command, and closes it after. A
 * configuration without what the command `needs` is refused before the store is opened (or created).
 */
function withStore(options: IdentityCliOptions, io: Pick<Io, 'err' | 'secrets'>, run: (store: IdentityStore, config: Config) => number, needs?: Needs): number {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return 2;
  }
  const missing = needs?.(loaded.config);
  if (missing) {
    io.err(`portcullis: ${missing}\n`);
    return 2;
  }
  const store = new IdentityStore(identityDbPath(loaded.config.dataDir ?? defaultDataDir(io.secrets.env)));
  try {
    return run(store, loaded.config);
  } catch (error) {
    io.err(`portcullis: ${(error as Error).message}\n`);
    return 1;
  } finally {
    store.close();
  }
}

export function agentAdd(name: string, options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  if (!AGENT_NAME.test(name)) {
    io.err(`portcullis: agent name "${name}" must be 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit\n`);
    return 2;
  }
  const scopes = parseScopes(options.scopes);
  if (typeof scopes === 'string') {
    io.err(`portcullis: ${scopes}\n`);
    return 2;
  }
  return withStore(options, io, (store, config) => {
    const { clientId, clientSecret } = store.addAgent(name, scopes);
    const base = publicUrl(config, options.url);
    const tokenEndpoint = `${base}/oauth/token`;
    if (options.json) io.out(`${JSON.stringify({ client_id: clientId, client_secret: clientSecret, token_endpoint: tokenEndpoint })}\n`);
    else {
      io.out(`Agent "${name}" created. Its client secret is shown this once; store it now:\n\n  client_id      ${clientId}\n  client_secret  ${clientSecret}\n  token_endpoint ${tokenEndpoint}\n  scopes         ${scopes.join(' ') || '(none)'}\n\n`);
      io.out(`Get a token (client credentials, RFC 8707 resource):\n  curl -u '${clientId}:<secret>' -d grant_type=client_credentials -d resource=${base}/mcp${scopes.length ? ` -d scope='${scopes.join(' ')}'` : ''} ${tokenEndpoint}\n`);
    }
    return 0;
  }, EMBEDDED('agent credentials are issued by', ' (or use `portcullis key create` for an API key)'));
}

export function agentList(options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return withStore(options, io, (store) => {
    const agents = store.agents();
    if (options.json) io.out(`${JSON.stringify(agents)}\n`);
    else for (const a of agents) io.out(`${a.revokedAt ? 'REVOKED' : 'active '}  ${a.name}  ${a.clientId}  scopes: ${a.scopes.join(' ') || '(none)'}  created ${a.createdAt}${a.revokedAt ? `  revoked ${a.revokedAt}` : ''}\n`);
    return 0;
  });
}

export function agentRevoke(name: string, options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return withStore(options, io, (store) => {
    if (!store.revokeAgent(name)) {
      io.err(`portcullis: no active agent named "${name}" (see portcullis agent list)\n`);
      return 1;
    }
    io.out(`Agent "${name}" revoked: its tokens and API keys are refused from the next call.\n`);
    return 0;
  });
}

export function keyCreate(options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  if (!options.agent || !AGENT_NAME.test(options.agent)) {
    io.err('portcullis: key create needs --agent NAME (1-64 characters of A-Z a-z 0-9 _ . -)\n');
    return 2;
  }
  const agent = options.agent;
  const scopes = parseScopes(options.scopes);
  if (typeof scopes === 'string') {
    io.err(`portcullis: ${scopes}\n`);
    return 2;
  }
  const expires = parseExpiry(options.expires);
  if (typeof expires === 'string') {
    io.err(`portcullis: ${expires}\n`);
    return 2;
  }
  const needs: Needs = (config) => {
    if (!config.identity?.apiKeys?.enabled) return 'API keys are not enabled; add `identity: { apiKeys: {} }` to the configuration';
    if (expires === undefined && !config.identity.apiKeys.allowNoExpiry) return 'a key without expiry needs identity.apiKeys.allowNoExpiry: true; give --expires (e.g. 30d) instead';
    return undefined;
  };
  return withStore(options, io, (store) => {
    const { id, key } = store.createKey(agent, scopes, expires);
    if (options.json) io.out(`${JSON.stringify({ id, key, agent, scopes, expires_at: expires?.toISOString() ?? null })}\n`);
    else io.out(`API key ${id} for agent "${agent}" (shown this once; send it as "Authorization: Bearer <key>"):\n\n  ${key}\n\n  scopes  ${scopes.join(' ') || '(none)'}\n  expires ${expires?.toISOString() ?? 'never'}\n`);
    return 0;
  }, needs);
}

export function keyList(options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return withStore(options, io, (store) => {
    const keys = store.keys();
    const now = Date.now();
    const state = (k: (typeof keys)[number]): string => (k.revokedAt ? 'revoked' : k.expiresAt && Date.parse(k.expiresAt) <= now ? 'expired' : 'active');
    if (options.json) io.out(`${JSON.stringify(keys.map((k) => ({ ...k, state: state(k) })))}\n`);
    else for (const k of keys) io.out(`${state(k).padEnd(7)}  ${k.id}  agent ${k.agent}  scopes: ${k.scopes.join(' ') || '(none)'}  expires ${k.expiresAt ?? 'never'}  last used ${k.lastUsedAt ?? 'never'}\n`);
    return 0;
  });
}

export function keyRevoke(id: string, options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return withStore(options, io, (store) => {
    if (!store.revokeKey(id)) {
      io.err(`portcullis: no active key with id "${id}" (see portcullis key list)\n`);
      return 1;
    }
    io.out(`API key ${id} revoked.\n`);
    return 0;
  });
}

/**
 * `portcullis client add NAME --redirect-uri URI…`: a client registered by an administrator
 * (authorization code + PKCE, public). Unlike an open registration it may use a private-use scheme
 * (com.example.app:/callback, RFC 8252 §7.1); the consent page says an administrator registered it.
 */
export function clientAdd(name: string, options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  if (!AGENT_NAME.test(name)) {
    io.err(`portcullis: client name "${name}" must be 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit\n`);
    return 2;
  }
  const uris = options.redirectUri ?? [];
  if (uris.length === 0) {
    io.err('portcullis: client add needs at least one --redirect-uri\n');
    return 2;
  }
  for (const uri of uris) {
    const problem = redirectUriProblem(uri, true);
    if (problem) {
      io.err(`portcullis: --redirect-uri "${uri}" ${problem}\n`);
      return 2;
    }
  }
  return withStore(options, io, (store) => {
    const client = store.addClient(name, uris);
    if (options.json) io.out(`${JSON.stringify({ client_id: client.clientId, name, redirect_uris: uris })}\n`);
    else io.out(`Client "${name}" registered (public: authorization code + PKCE, no secret).\n\n  client_id      ${client.clientId}\n  redirect_uris  ${uris.join(' ')}\n`);
    return 0;
  }, EMBEDDED('clients are registered with'));
}

export function clientList(options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return withStore(options, io, (store) => {
    const clients = store.clients();
    if (options.json) io.out(`${JSON.stringify(clients)}\n`);
    else for (const c of clients) io.out(`${c.name}  ${c.clientId}  ${c.redirectUris.join(' ')}  created ${c.createdAt}\n`);
    return 0;
  });
}

export function clientRemove(name: string, options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return withStore(options, io, (store) => {
    if (!store.removeClient(name)) {
      io.err(`portcullis: no client named "${name}" (see portcullis client list)\n`);
      return 1;
    }
    io.out(`Client "${name}" removed: its grants and tokens are refused from the next call.\n`);
    return 0;
  });
}

/** `portcullis user signout NAME`: revokes every grant of a user (all clients, all devices) at once. */
export function userSignout(name: string, options: IdentityCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  return withStore(options, io, (store) => {
    const grants = store.revokeAccount(name);
    io.out(`User "${name}" signed out: ${grants} grant${grants === 1 ? '' : 's'} revoked; their tokens are refused from the next call.\n`);
    return 0;
  }, EMBEDDED('users sign in to'));
}
