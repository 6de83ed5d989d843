/**
 * From a parsed client document to server entries in one common shape. Each client names the same
 * things differently (`url` / `serverUrl` / `httpUrl` / `uri`, `env` / `envs`, `command` / `cmd`);
 * fields this module does not know are ignored, never guessed at.
 */
import type { ClientId, Layout } from './clients.ts';

export type Transport = 'stdio' | 'http' | 'sse' | 'ws' | 'unknown';

/** A value that names a secret kept elsewhere (`bearer_token_env_var`, Goose `env_keys`, …). */
export interface NamedRef {
  where: string;
  reference: string;
}

export interface ServerEntry {
  name: string;
  /** Where the entry sits in the document (for `install`). */
  path: (string | number)[];
  /** For Claude Code's per-project (local) entries: the project folder. */
  project?: string;
  transport: Transport;
  command?: string;
  args: string[];
  url?: string;
  cwd?: string;
  env: Record<string, string>;
  headers: Record<string, string>;
  /** Other places a literal secret may sit: OAuth client secrets. */
  secretFields: { where: string; key: string; value: string }[];
  namedRefs: NamedRef[];
  disabled: boolean;
  /** Settings that skip the human's confirmation of tool calls. */
  approvalBypass?: string;
  headersHelper: boolean;
  /** Tools the client itself hides or refuses (carried into the starter policy). */
  deniedTools: string[];
  /** Tools the client restricts the server to, when it does. */
  allowedTools?: string[];
}

export interface Extracted {
  entries: ServerEntry[];
  /** Problems with the document's shape, not fatal. */
  problems: string[];
  /** Managed allow/deny lists and the like, summarised for findings. */
  policy?: PolicyFacts;
}

export interface PolicyFacts {
  allowNames: string[];
  allowCommands: number;
  allowUrls: number;
  denyEntries: number;
  managedOnly: boolean;
  identities: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const stringMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
  return out;
};

function transportOf(type: string | undefined, hasCommand: boolean, hasUrl: boolean): Transport {
  const t = (type ?? '').toLowerCase().replace(/[-_]/g, '');
  if (t === 'stdio') return 'stdio';
  if (t === 'http' || t === 'streamablehttp') return 'http';
  if (t === 'sse') return 'sse';
  if (t === 'ws' || t === 'websocket') return 'ws';
  if (hasCommand) return 'stdio';
  if (hasUrl) return 'http';
  return 'unknown';
}

/** One entry of any client, in the common shape. */
export function normalise(client: ClientId, name: string, raw: Record<string, unknown>, path: (string | number)[]): ServerEntry {
  // Zed's older form nests the command: { command: { path, args, env } }.
  const nested = isRecord(raw.command) ? raw.command : undefined;
  const command = str(raw.command) ?? str(raw.cmd) ?? str(nested?.path);
  const args = strings(raw.args ?? nested?.args);
  const env = { ...stringMap(raw.env ?? nested?.env), ...stringMap(raw.envs) };
  const headers = { ...stringMap(raw.headers), ...stringMap(raw.http_headers), ...stringMap(isRecord(raw.requestOptions) ? raw.requestOptions.headers : undefined) };
  let url = str(raw.url) ?? str(raw.serverUrl) ?? str(raw.httpUrl) ?? str(raw.uri);
  let type = str(raw.type) ?? str(raw.transport);
  if (client === 'gemini' && raw.httpUrl === undefined && typeof raw.url === 'string' && !type) type = 'sse';
  if (client === 'goose' && (type === 'builtin' || type === 'platform')) url = undefined;
  const secretFields: ServerEntry['secretFields'] = [];
  const namedRefs: NamedRef[] = [];
  const oauth = isRecord(raw.oauth) ? raw.oauth : undefined;
  if (typeof oauth?.clientSecret === 'string') secretFields.push({ where: 'oauth.clientSecret', key: 'clientSecret', value: oauth.clientSecret });
  const auth = isRecord(raw.auth) ? raw.auth : undefined;
  if (typeof auth?.CLIENT_SECRET === 'string') secretFields.push({ where: 'auth.CLIENT_SECRET', key: 'CLIENT_SECRET', value: auth.CLIENT_SECRET });
  if (oauth && typeof oauth.clientSecret !== 'string') namedRefs.push({ where: 'oauth', reference: 'oauth:keychain' });
  if (typeof raw.bearer_token_env_var === 'string') namedRefs.push({ where: 'bearer_token_env_var', reference: `env:${raw.bearer_token_env_var}` });
  for (const [header, variable] of Object.entries(stringMap(raw.env_http_headers))) namedRefs.push({ where: `env_http_headers.${header}`, reference: `env:${variable}` });
  for (const item of Array.isArray(raw.env_vars) ? raw.env_vars : []) {
    const variable = typeof item === 'string' ? item : isRecord(item) ? str(item.name) : undefined;
    if (variable) namedRefs.push({ where: `env_vars.${variable}`, reference: `env:${variable}` });
  }
  for (const key of strings(raw.env_keys)) namedRefs.push({ where: `env_keys.${key}`, reference: `keyring:${key}` });
  const disabled = raw.disabled === true || raw.enabled === false;
  let approvalBypass: string | undefined;
  if (raw.trust === true) approvalBypass = 'trust: true';
  else if (strings(raw.autoApprove).length > 0) approvalBypass = `autoApprove: ${strings(raw.autoApprove).join(', ')}`;
  else if (strings(raw.alwaysAllow).length > 0) approvalBypass = `alwaysAllow: ${strings(raw.alwaysAllow).join(', ')}`;
  else if (raw.default_tools_approval_mode === 'approve') approvalBypass = 'default_tools_approval_mode: approve';
  const deniedTools = [...strings(raw.disabled_tools), ...strings(raw.excludeTools), ...strings(raw.disabledTools)];
  const allowed = [...strings(raw.enabled_tools), ...strings(raw.includeTools), ...strings(raw.available_tools)];
  return {
    name,
    path,
    transport: transportOf(type, command !== undefined, url !== undefined),
    ...(command !== undefined ? { command } : {}),
    args,
    ...(url !== undefined ? { url } : {}),
    ...(typeof raw.cwd === 'string' ? { cwd: raw.cwd } : {}),
    env,
    headers,
    secretFields,
    namedRefs,
    disabled,
    ...(approvalBypass ? { approvalBypass } : {}),
    headersHelper: typeof raw.headersHelper === 'string',
    deniedTools,
    // An allowlist the client has, even an empty one (`enabled_tools = []`: no tool), is kept as it is.
    ...(allowed.length > 0 || [raw.enabled_tools, raw.includeTools, raw.available_tools].some((v) => Array.isArray(v)) ? { allowedTools: allowed } : {}),
  };
}

function fromMap(client: ClientId, map: unknown, path: (string | number)[], problems: string[]): ServerEntry[] {
  if (map === undefined) return [];
  if (!isRecord(map)) {
    problems.push(`${path.join('.')} is not an object of servers`);
    return [];
  }
  const out: ServerEntry[] = [];
  for (const [name, raw] of Object.entries(map)) {
    if (!isRecord(raw)) {
      problems.push(`${[...path, name].join('.')} is not an object`);
      continue;
    }
    out.push(normalise(client, name, raw, [...path, name]));
  }
  return out;
}

function managedFacts(doc: Record<string, unknown>): PolicyFacts {
  const allowed = Array.isArray(doc.allowedMcpServers) ? doc.allowedMcpServers.filter(isRecord) : [];
  const denied = Array.isArray(doc.deniedMcpServers) ? doc.deniedMcpServers : [];
  return {
    allowNames: allowed.map((a) => str(a.serverName)).filter((n): n is string => n !== undefined),
    allowCommands: allowed.filter((a) => Array.isArray(a.serverCommand)).length,
    allowUrls: allowed.filter((a) => typeof a.serverUrl === 'string').length,
    denyEntries: denied.length,
    managedOnly: doc.allowManagedMcpServersOnly === true,
    identities: 0,
  };
}

/** The servers (and managed-policy facts) a parsed document holds, by its layout. */
export function extract(client: ClientId, layout: Layout, doc: unknown): Extracted {
  const problems: string[] = [];
  if (!isRecord(doc)) return { entries: [], problems: doc === undefined || doc === null ? [] : ['the document is not an object'] };
  switch (layout) {
    case 'mcpServers':
      return { entries: fromMap(client, doc.mcpServers, ['mcpServers'], problems), problems };
    case 'claude-json': {
      const entries = fromMap(client, doc.mcpServers, ['mcpServers'], problems);
      if (isRecord(doc.projects)) {
        for (const [project, settings] of Object.entries(doc.projects)) {
          if (!isRecord(settings)) continue;
          for (const entry of fromMap(client, settings.mcpServers, ['projects', project, 'mcpServers'], problems)) entries.push({ ...entry, project });
        }
      }
      return { entries, problems };
    }
    case 'vscode':
      return { entries: fromMap(client, doc.servers, ['servers'], problems), problems };
    case 'vscode-settings': {
      if (isRecord(doc.mcp)) return { entries: fromMap(client, doc.mcp.servers, ['mcp', 'servers'], problems), problems };
      return { entries: fromMap(client, doc['mcp.servers'], ['mcp.servers'], problems), problems };
    }
    case 'zed': {
      const entries = fromMap(client, doc.context_servers, ['context_servers'], problems).filter((e) => e.command !== undefined || e.url !== undefined);
      return { entries, problems };
    }
    case 'codex':
      return { entries: fromMap(client, doc.mcp_servers, ['mcp_servers'], problems), problems };
    case 'goose': {
      const entries = fromMap(client, doc.extensions, ['extensions'], problems).filter((e) => e.command !== undefined || e.url !== undefined);
      return { entries, problems };
    }
    case 'continue': {
      if (Array.isArray(doc.mcpServers)) {
        const entries: ServerEntry[] = [];
        doc.mcpServers.forEach((raw, i) => {
          if (!isRecord(raw)) problems.push(`mcpServers[${i}] is not an object`);
          else entries.push(normalise(client, str(raw.name) ?? `server-${i}`, raw, ['mcpServers', i]));
        });
        return { entries, problems };
      }
      return { entries: fromMap(client, doc.mcpServers, ['mcpServers'], problems), problems };
    }
    case 'claude-extension': {
      const server = isRecord(doc.server) ? doc.server : undefined;
      const config = isRecord(server?.mcp_config) ? server.mcp_config : undefined;
      if (!config) return { entries: [], problems: ['no server.mcp_config in the extension manifest'] };
      return { entries: [normalise(client, str(doc.name) ?? 'extension', config, ['server', 'mcp_config'])], problems };
    }
    case 'claude-managed-settings':
      return { entries: [], problems, policy: managedFacts(doc) };
    case 'codex-requirements': {
      const servers = isRecord(doc.mcp_servers) ? doc.mcp_servers : {};
      const identities = Object.values(servers).filter((s) => isRecord(s) && isRecord(s.identity)).length;
      return { entries: [], problems, policy: { allowNames: Object.keys(servers), allowCommands: 0, allowUrls: 0, denyEntries: 0, managedOnly: true, identities } };
    }
  }
}
