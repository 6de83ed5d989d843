/**
 * Where each MCP client keeps its servers, and in which shape (shared/reference/client-configs.md).
 * Paths are relative to the home folder (`--home`), a project folder (`--project`) or the root of
 * machine-wide files (`--system`); a `*` segment matches any one directory entry. Every OS's location is
 * listed, so a home folder copied from any laptop is read the same way.
 */

export const CLIENT_IDS = [
  'claude-code',
  'claude-desktop',
  'cursor',
  'vscode',
  'copilot',
  'windsurf',
  'codex',
  'gemini',
  'cline',
  'roo',
  'goose',
  'zed',
  'continue',
  'amazonq',
  'junie',
] as const;
export type ClientId = (typeof CLIENT_IDS)[number];

/** `user`: one person's; `local`: one person's, for one project; `project`: checked in; `managed`: set by an admin. */
export type Scope = 'user' | 'local' | 'project' | 'managed' | 'extension';
export type Format = 'json' | 'jsonc' | 'toml' | 'yaml';

/** How the servers sit in the document. */
export type Layout =
  | 'mcpServers' // { mcpServers: { name: entry } } — Claude, Cursor, Windsurf, Gemini, Cline, Roo, Amazon Q, Junie, Copilot
  | 'claude-json' // ~/.claude.json: mcpServers (user) and projects[path].mcpServers (local)
  | 'vscode' // { servers: { name: entry }, inputs: [] }
  | 'vscode-settings' // settings.json: { "mcp": { "servers": … } }
  | 'zed' // { context_servers: { name: entry } }
  | 'codex' // [mcp_servers.<id>]
  | 'goose' // extensions: { key: entry }
  | 'continue' // mcpServers: [ { name, … } ] (or a Claude-style map in a JSON block file)
  | 'claude-extension' // Desktop Extension manifest.json: server.mcp_config
  | 'claude-managed-settings' // allowedMcpServers / deniedMcpServers
  | 'codex-requirements'; // [mcp_servers.<id>.identity]

export interface Location {
  client: ClientId;
  scope: Scope;
  base: 'home' | 'project' | 'system';
  path: string;
  format: Format;
  layout: Layout;
}

/** A VS Code-family editor's user folder on Linux, macOS and Windows. */
const appDirs = (app: string): string[] => [`.config/${app}/User`, `Library/Application Support/${app}/User`, `AppData/Roaming/${app}/User`];
const VSCODES = ['Code', 'Code - Insiders', 'VSCodium'];
const EDITORS = [...VSCODES, 'Cursor', 'Windsurf'];

const at = (client: ClientId, scope: Scope, base: Location['base'], format: Format, layout: Layout, ...paths: string[]): Location[] =>
  paths.map((path) => ({ client, scope, base, path, format, layout }));

export const LOCATIONS: readonly Location[] = [
  // Claude Code
  ...at('claude-code', 'user', 'home', 'json', 'claude-json', '.claude.json'),
  ...at('claude-code', 'project', 'project', 'json', 'mcpServers', '.mcp.json'),
  ...at('claude-code', 'managed', 'system', 'json', 'mcpServers', 'etc/claude-code/managed-mcp.json', 'Library/Application Support/ClaudeCode/managed-mcp.json', 'Program Files/ClaudeCode/managed-mcp.json'),
  ...at('claude-code', 'managed', 'system', 'json', 'claude-managed-settings', 'etc/claude-code/managed-settings.json', 'Library/Application Support/ClaudeCode/managed-settings.json', 'Program Files/ClaudeCode/managed-settings.json', 'etc/claude-code/managed-settings.d/*'),
  // Claude Desktop (and its Desktop Extensions)
  ...at('claude-desktop', 'user', 'home', 'json', 'mcpServers', 'Library/Application Support/Claude/claude_desktop_config.json', '.config/Claude/claude_desktop_config.json', 'AppData/Roaming/Claude/claude_desktop_config.json'),
  ...at('claude-desktop', 'extension', 'home', 'json', 'claude-extension', 'Library/Application Support/Claude/Claude Extensions/*/manifest.json', '.config/Claude/Claude Extensions/*/manifest.json', 'AppData/Roaming/Claude/Claude Extensions/*/manifest.json'),
  // Cursor
  ...at('cursor', 'user', 'home', 'json', 'mcpServers', '.cursor/mcp.json'),
  ...at('cursor', 'project', 'project', 'json', 'mcpServers', '.cursor/mcp.json'),
  // VS Code (user mcp.json, named profiles, legacy settings.json) and its workspace files
  ...at('vscode', 'user', 'home', 'jsonc', 'vscode', ...VSCODES.flatMap((app) => appDirs(app).flatMap((d) => [`${d}/mcp.json`, `${d}/profiles/*/mcp.json`]))),
  ...at('vscode', 'user', 'home', 'jsonc', 'vscode-settings', ...VSCODES.flatMap((app) => appDirs(app).map((d) => `${d}/settings.json`))),
  ...at('vscode', 'project', 'project', 'jsonc', 'vscode', '.vscode/mcp.json'),
  ...at('vscode', 'project', 'project', 'jsonc', 'vscode-settings', '.vscode/settings.json'),
  // GitHub Copilot CLI / portable format
  ...at('copilot', 'user', 'home', 'json', 'mcpServers', '.copilot/mcp-config.json'),
  // Windsurf
  ...at('windsurf', 'user', 'home', 'json', 'mcpServers', '.codeium/windsurf/mcp_config.json', '.codeium/mcp_config.json'),
  // Codex
  ...at('codex', 'user', 'home', 'toml', 'codex', '.codex/config.toml'),
  ...at('codex', 'project', 'project', 'toml', 'codex', '.codex/config.toml'),
  ...at('codex', 'managed', 'system', 'toml', 'codex', 'etc/codex/managed_config.toml'),
  ...at('codex', 'managed', 'system', 'toml', 'codex-requirements', 'etc/codex/requirements.toml'),
  // Gemini CLI (and its extensions)
  ...at('gemini', 'user', 'home', 'json', 'mcpServers', '.gemini/settings.json'),
  ...at('gemini', 'extension', 'home', 'json', 'mcpServers', '.gemini/extensions/*/gemini-extension.json'),
  ...at('gemini', 'project', 'project', 'json', 'mcpServers', '.gemini/settings.json'),
  ...at('gemini', 'managed', 'system', 'json', 'mcpServers', 'etc/gemini-cli/settings.json', 'etc/gemini-cli/system-defaults.json', 'Library/Application Support/GeminiCli/settings.json'),
  // Cline and Roo Code (in any VS Code-family editor; Cline's CLI too)
  ...at('cline', 'user', 'home', 'json', 'mcpServers', ...EDITORS.flatMap((app) => appDirs(app).map((d) => `${d}/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json`)), '.cline/data/settings/cline_mcp_settings.json'),
  ...at('roo', 'user', 'home', 'json', 'mcpServers', ...EDITORS.flatMap((app) => appDirs(app).map((d) => `${d}/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json`))),
  ...at('roo', 'project', 'project', 'json', 'mcpServers', '.roo/mcp.json'),
  // Goose
  ...at('goose', 'user', 'home', 'yaml', 'goose', '.config/goose/config.yaml', 'AppData/Roaming/Block/goose/config/config.yaml'),
  // Zed
  ...at('zed', 'user', 'home', 'jsonc', 'zed', '.config/zed/settings.json', 'AppData/Roaming/Zed/settings.json'),
  ...at('zed', 'project', 'project', 'jsonc', 'zed', '.zed/settings.json'),
  // Continue
  ...at('continue', 'user', 'home', 'yaml', 'continue', '.continue/config.yaml'),
  ...at('continue', 'project', 'project', 'yaml', 'continue', '.continue/mcpServers/*.yaml', '.continue/mcpServers/*.yml'),
  ...at('continue', 'project', 'project', 'json', 'continue', '.continue/mcpServers/*.json'),
  // Amazon Q Developer and JetBrains Junie
  ...at('amazonq', 'user', 'home', 'json', 'mcpServers', '.aws/amazonq/mcp.json', '.aws/amazonq/agents/default.json', '.aws/amazonq/cli-agents/*.json'),
  ...at('amazonq', 'project', 'project', 'json', 'mcpServers', '.amazonq/mcp.json', '.amazonq/cli-agents/*.json'),
  ...at('junie', 'user', 'home', 'json', 'mcpServers', '.junie/mcp/mcp.json'),
  ...at('junie', 'project', 'project', 'json', 'mcpServers', '.junie/mcp/mcp.json'),
];

/** Project files that are usually committed: a literal secret there is shared with everyone who clones. */
export const isCommittable = (location: Location): boolean => location.base === 'project' && !location.path.endsWith('settings.local.json');
