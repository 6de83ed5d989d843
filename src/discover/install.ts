/**
 * `portcullis install`: rewrites one client's configuration files so that each of its servers is reached
 * through the gateway — an HTTP entry for `<gateway>/mcp/<server>`, or the stdio front `portcullis stdio
 * --server <server>` — keeping the entry's name. Everything else in the file stays byte for byte: JSON
 * and JSON-with-comments files are edited with jsonc-parser's range edits, Codex's TOML with edits of the
 * entry's own table; the result is parsed again and must equal the original document with only those
 * entries replaced, or nothing is written.
 *
 * Safety: files are resolved (symlinks included) and must lie inside the given home or project folders;
 * a file that does not parse is refused; the file is read again just before writing and must not have
 * changed; the backup and the install record are 0600 and created exclusively (never through an existing
 * path); the new file replaces the old by rename. `undo` restores the backup only if the file is still
 * what the install wrote (or with `force`).
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, realpathSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { applyEdits, modify, type FormattingOptions } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import type { Config } from '../config/schema.ts';
import { LOCATIONS, type ClientId, type Format, type Location } from './clients.ts';
import { maskAll, scanCredentials, type LiteralSecret } from './credentials.ts';
import { unifiedDiff } from './diff.ts';
import { extract, type ServerEntry } from './entries.ts';
import { filesystemRoots, isFilesystemServer, rootsOutside } from './filesystem-roots.ts';
import { parseConfig, readConfigFile } from './read.ts';
import { classifyValue, masked } from './secret-kinds.ts';
import { isThroughGateway, targetKey } from './target.ts';
import { createExclusive, replaceFile } from '../util/private-files.ts';

/** Clients whose files install can rewrite (YAML clients are shown by `portcullis connect`). */
export const INSTALL_CLIENTS = ['claude-code', 'claude-desktop', 'cursor', 'vscode', 'copilot', 'windsurf', 'codex', 'gemini', 'cline', 'roo', 'zed', 'amazonq', 'junie'] as const satisfies readonly ClientId[];
export type InstallClient = (typeof INSTALL_CLIENTS)[number];

/** Clients whose files hold only stdio servers. */
const STDIO_ONLY = new Set<ClientId>(['claude-desktop', 'junie']);
/** How a client writes "the value of environment variable NAME" inside a header. */
const HEADER_ENV: Partial<Record<ClientId, (name: string) => string>> = {
  'claude-code': (n) => `\${${n}}`,
  cursor: (n) => `\${env:${n}}`,
  vscode: (n) => `\${env:${n}}`,
  windsurf: (n) => `\${env:${n}}`,
  copilot: (n) => `\${${n}}`,
};

export type Route = { mode: 'http'; base: string; apiKeyEnv?: string } | { mode: 'stdio'; command: string; launcher: string; config: string };

export interface InstallOptions {
  client: InstallClient;
  home: string;
  projects: readonly string[];
  route: Route;
  /** The gateway's configuration: entries are matched to its servers by what they run. */
  gateway?: Config;
  /** The file it was read from: an entry runs this gateway's stdio front only with it. */
  gatewayConfig?: string;
  now?: Date;
}

export interface EntryChange {
  name: string;
  gatewayServer: string;
}

export interface FilePlan {
  path: string;
  realPath: string;
  location: Location;
  before: Buffer;
  after: string;
  changes: EntryChange[];
  skipped: Array<{ name: string; why: string }>;
  /** Entries routed, with something the user should look at (a filesystem root outside the project). */
  flagged: Array<{ name: string; why: string }>;
  literals: LiteralSecret[];
}

export interface PlanProblem {
  path: string;
  problem: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function inside(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => {
    const rel = relative(root, path);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
  });
}

function realRoots(home: string, projects: readonly string[]): string[] {
  return [home, ...projects].map((r) => {
    try {
      return realpathSync(resolve(r));
    } catch {
      return resolve(r);
    }
  });
}

/** The candidate files of a client under home and the projects (managed and extension files excluded). */
function clientFiles(client: ClientId, home: string, projects: readonly string[]): Array<{ location: Location; path: string; root: string }> {
  const out: Array<{ location: Location; path: string; root: string }> = [];
  for (const location of LOCATIONS) {
    if (location.client !== client || location.base === 'system' || location.scope === 'extension' || location.path.includes('*')) continue;
    const roots = location.base === 'home' ? [home] : projects;
    for (const root of roots) {
      const path = join(resolve(root), location.path);
      try {
        lstatSync(path);
        out.push({ location, path, root: resolve(root) });
      } catch {
        // absent
      }
    }
  }
  return out;
}

/** The entry a client needs to reach gateway server `server` by `route`. */
export function gatewayEntry(client: ClientId, server: string, route: Route): Record<string, unknown> {
  if (route.mode === 'stdio') {
    const base = { command: route.command, args: [route.launcher, 'stdio', '-c', route.config, '--server', server] };
    if (client === 'vscode' || client === 'claude-code' || client === 'copilot') return { type: 'stdio', ...base };
    if (client === 'zed') return { source: 'custom', ...base };
    return base;
  }
  const url = `${route.base.replace(/\/+$/, '')}/mcp/${server}`;
  const envRef = HEADER_ENV[client];
  const headerValue = route.apiKeyEnv && envRef ? `Bearer ${envRef(route.apiKeyEnv)}` : undefined;
  const headers = headerValue ? { headers: { Authorization: headerValue } } : {};
  switch (client) {
    case 'claude-code':
    case 'vscode':
    case 'copilot':
    case 'amazonq':
      return { type: 'http', url, ...headers };
    case 'windsurf':
      return { serverUrl: url, ...headers };
    case 'gemini':
      return { httpUrl: url, ...headers };
    case 'cline':
      return { type: 'streamableHttp', url, ...headers };
    case 'roo':
      return { type: 'streamable-http', url, ...headers };
    case 'codex':
      return route.apiKeyEnv ? { url, bearer_token_env_var: route.apiKeyEnv } : { url };
    default:
      return { url, ...headers };
  }
}

/** What install refuses before reading anything: a route the client cannot use. */
export function routeProblem(client: ClientId, route: Route): string | undefined {
  if (route.mode === 'http' && STDIO_ONLY.has(client)) return `${client} configuration files hold only stdio servers: use --stdio`;
  if (route.mode === 'http' && route.apiKeyEnv && !HEADER_ENV[client] && client !== 'codex') return `${client} has no documented way to read a header from the environment: leave out --api-key-env (OAuth sign-in) or use --stdio`;
  return undefined;
}

function gatewayServerFor(entry: ServerEntry, options: InstallOptions): string | undefined {
  if (!options.gateway) {
    const name = entry.name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 32);
    return name || undefined;
  }
  const key = targetKey(entry);
  let matches = Object.entries(options.gateway.servers).filter(([, s]) => targetKey('command' in s ? { command: s.command, args: s.args } : { url: s.url, args: [] }) === key);
  if (matches.length > 1) {
    // The same package imported twice (with different credentials): the one with this entry's variables, then its name.
    const keys = (o: Record<string, string>): string => Object.keys(o).sort().join(',');
    const mine = entry.command !== undefined ? keys(entry.env) : keys(entry.headers);
    const same = matches.filter(([, s]) => ('command' in s ? keys(s.env) : keys(s.headers)) === mine);
    if (same.length > 0) matches = same;
    const named = matches.filter(([name]) => name === entry.name);
    if (named.length === 1) matches = named;
  }
  return matches.length === 1 ? matches[0]![0] : undefined;
}

function formatting(text: string): FormattingOptions {
  const indent = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  return { insertSpaces: !indent.startsWith('\t'), tabSize: indent.startsWith('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

/** Replaces the entries at `paths` in a JSON(C) text with range edits; the rest is untouched. */
function editJson(text: string, replacements: Array<{ path: (string | number)[]; value: unknown }>): string {
  let out = text;
  const options = formatting(text);
  for (const { path, value } of replacements) out = applyEdits(out, modify(out, path, value, { formattingOptions: options }));
  return out;
}

const TOML_BARE = /^[A-Za-z0-9_-]+$/;
const tomlKey = (key: string): string => (TOML_BARE.test(key) ? key : JSON.stringify(key));
const tomlValue = (value: unknown): string => (Array.isArray(value) ? `[${value.map(tomlValue).join(', ')}]` : JSON.stringify(value));

/** Header keys `[a.b."c"]` → their parts. */
function headerParts(line: string): string[] | undefined {
  const m = /^\s*\[(?!\[)(.*)\]\s*(?:#.*)?$/.exec(line);
  if (!m) return undefined;
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(\.|$)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = re.exec(m[1]!)) !== null) {
    parts.push(match[1] !== undefined ? (JSON.parse(`"${match[1]}"`) as string) : (match[2] ?? match[3]!));
    consumed = re.lastIndex;
    if (match[4] === '') break;
  }
  return consumed === m[1]!.length ? parts : undefined;
}

/**
 * Replaces `[mcp_servers.<name>]` (and its sub-tables, wherever they are) with a new table. Returns
 * undefined when the entry is not written as its own table (an inline table or dotted keys).
 */
function editToml(text: string, name: string, value: Record<string, unknown>): string | undefined {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const owned = (parts: string[] | undefined): boolean => parts !== undefined && parts[0] === 'mcp_servers' && parts[1] === name;
  let start = -1;
  const drop = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const parts = headerParts(lines[i]!);
    if (!owned(parts)) continue;
    if (parts!.length === 2 && start === -1) start = i;
    // The table runs to the next header; its trailing blank lines stay with what follows.
    let end = i + 1;
    while (end < lines.length && headerParts(lines[end]!) === undefined && !/^\s*\[\[/.test(lines[end]!)) end++;
    while (end > i + 1 && /^\s*(?:#.*)?$/.test(lines[end - 1]!)) end--;
    for (let k = i; k < end; k++) drop.add(k);
    // A sub-table goes with the blank line that set it apart.
    if (parts!.length > 2 && i > 0 && lines[i - 1]!.trim() === '' && !drop.has(i - 1)) drop.add(i - 1);
  }
  if (start === -1) return undefined;
  const block = [`[mcp_servers.${tomlKey(name)}]`, ...Object.entries(value).map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`)];
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (i === start) out.push(...block);
    else if (!drop.has(i)) out.push(line);
  });
  return out.join(eol);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (isRecord(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  return value;
}

function setAt(doc: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

/** Masks every secret-shaped string literal in a line of JSON or TOML (for diffs). */
export function maskLine(line: string): string {
  return line.replace(/(?:"([^"\\]{1,128})"\s*[:=]\s*|([A-Za-z0-9_-]{1,128})\s*=\s*)?"((?:[^"\\]|\\.){1,8192})"/g, (whole, jsonKey: string | undefined, tomlKeyName: string | undefined, value: string) => {
    const key = jsonKey ?? tomlKeyName ?? '';
    if (value.startsWith('[redacted ') || /env_?vars?$/i.test(key)) return whole;
    const c = classifyValue(value, key);
    return c?.literal ? whole.replace(`"${value}"`, `"${masked(c.kind, value)}"`) : whole;
  });
}

/**
 * Why a project's filesystem server entry needs a look: roots outside the project it came from (F16;
 * the gateway server it is routed to is confined by its own paths guard, which import keeps inside).
 */
function escapingRoots(entry: ServerEntry, project: string | undefined): string | undefined {
  if (project === undefined || entry.command === undefined || !isFilesystemServer(entry.command, entry.args)) return undefined;
  const base = entry.cwd ? resolve(project, entry.cwd) : project;
  const outside = rootsOutside(filesystemRoots(entry.args, base), project);
  if (outside.length === 0) return undefined;
  return `the project file gives this filesystem server ${outside.join(', ')}, outside the project ${project} (through .. or a symbolic link); the gateway's paths guard decides what it may reach — check that its roots stay inside the project`;
}

/** Plans the rewrite of every file of the client; problems are files it refuses (and says why). */
export function planInstall(options: InstallOptions): { plans: FilePlan[]; problems: PlanProblem[] } {
  const home = resolve(options.home);
  const roots = realRoots(home, options.projects);
  const plans: FilePlan[] = [];
  const problems: PlanProblem[] = [];
  for (const { location, path, root } of clientFiles(options.client, home, options.projects)) {
    if (location.layout === 'claude-managed-settings' || location.layout === 'codex-requirements') continue;
    const read = readConfigFile(path);
    if (!read.ok) {
      problems.push({ path, problem: `cannot be read (${read.problem}: ${read.detail}); not touched` });
      continue;
    }
    if (!inside(read.realPath, roots)) {
      problems.push({ path, problem: `resolves to ${read.realPath}, outside --home and --project; not touched` });
      continue;
    }
    const text = read.bytes.toString('utf8');
    if (text.startsWith('\uFEFF')) {
      problems.push({ path, problem: 'starts with a byte-order mark; not touched' });
      continue;
    }
    const parsed = parseConfig(text, location.format);
    if (!parsed.ok) {
      problems.push({ path, problem: `does not parse as ${location.format.toUpperCase()} (line ${parsed.line}, column ${parsed.column}: ${parsed.reason}); not touched` });
      continue;
    }
    const { entries } = extract(options.client, location.layout, parsed.doc);
    const changes: EntryChange[] = [];
    const skipped: FilePlan['skipped'] = [];
    const flagged: FilePlan['flagged'] = [];
    const literals = entries.flatMap((e) => scanCredentials(e, undefined, new Date()).literals);
    const replacements: Array<{ path: (string | number)[]; value: Record<string, unknown>; name: string }> = [];
    for (const entry of entries) {
      if (isThroughGateway({ ...entry, project: entry.project ?? root }, { urls: options.route.mode === 'http' ? [options.route.base] : [], config: options.route.mode === 'stdio' ? options.route.config : options.gatewayConfig })) {
        skipped.push({ name: entry.name, why: 'already goes through Portcullis' });
        continue;
      }
      if (entry.disabled) {
        skipped.push({ name: entry.name, why: 'disabled in the client; left as it is' });
        continue;
      }
      const server = gatewayServerFor(entry, options);
      if (!server) {
        skipped.push({ name: entry.name, why: options.gateway ? 'no server of the gateway configuration runs this (import it first: portcullis import)' : 'its name cannot be a gateway server name' });
        continue;
      }
      const escapes = escapingRoots(entry, location.base === 'project' ? root : undefined);
      if (escapes) flagged.push({ name: entry.name, why: escapes });
      replacements.push({ path: entry.path, value: gatewayEntry(options.client, server, options.route), name: entry.name });
      changes.push({ name: entry.name, gatewayServer: server });
    }
    if (replacements.length === 0) {
      plans.push({ path, realPath: read.realPath, location, before: read.bytes, after: text, changes, skipped, flagged, literals });
      continue;
    }
    let after: string | undefined;
    if (location.format === 'toml') {
      after = text;
      for (const r of replacements) {
        after = after === undefined ? undefined : editToml(after, String(r.path[1]), r.value);
        if (after === undefined) {
          problems.push({ path, problem: `[mcp_servers.${r.name}] is not written as its own table (inline or dotted keys); change it by hand or rewrite it as a table; not touched` });
          break;
        }
      }
      if (after === undefined) continue;
    } else {
      after = editJson(text, replacements);
    }
    // The rewrite must parse, and differ from the original only in the replaced entries.
    const check = parseConfig(after, location.format);
    let expected = parsed.doc;
    for (const r of replacements) expected = setAt(expected, r.path, r.value);
    if (!check.ok || !deepEqual(check.doc, expected)) {
      problems.push({ path, problem: 'the rewritten file would not hold exactly the original with only the entries replaced; not touched' });
      continue;
    }
    plans.push({ path, realPath: read.realPath, location, before: read.bytes, after, changes, skipped, flagged, literals });
  }
  return { plans, problems };
}

/** The diff of a plan, with every secret masked. */
export function planDiff(plan: FilePlan): string {
  const diff = unifiedDiff(plan.before.toString('utf8'), plan.after, `${plan.path} (now)`, `${plan.path} (after install)`);
  return maskAll(diff, plan.literals).split('\n').map(maskLine).join('\n');
}

export interface InstallRecord {
  file: string;
  realPath: string;
  backup: string;
  installedAt: string;
  writtenSha256: string;
  changes: EntryChange[];
}

export const recordPath = (file: string): string => `${file}.portcullis-install.json`;

/** Reads a file install relies on: a regular file only (a FIFO planted there must not block), bounded. */
function readRegular(path: string, what: string): Buffer {
  const read = readConfigFile(path);
  if (!read.ok) throw new Error(`${what} ${path} cannot be read (${read.problem}: ${read.detail})`);
  return read.bytes;
}

function readRecords(file: string): InstallRecord[] {
  const path = recordPath(file);
  if (!existsSync(path)) return [];
  let parsed: { installs?: unknown };
  try {
    parsed = JSON.parse(readRegular(path, 'the install record').toString('utf8')) as { installs?: unknown };
  } catch (error) {
    throw new Error(error instanceof SyntaxError ? `${path} is not an install record` : (error as Error).message);
  }
  if (!Array.isArray(parsed.installs)) throw new Error(`${path} is not an install record`);
  return parsed.installs as InstallRecord[];
}

function writeRecords(file: string, records: InstallRecord[]): void {
  const path = recordPath(file);
  if (records.length === 0) {
    if (existsSync(path)) unlinkSync(path);
    return;
  }
  replaceFile(path, `${JSON.stringify({ version: 1, installs: records }, null, 2)}\n`, 0o600);
}

/** Applies a plan: backup (0600), compare, write, record. Returns the backup path. */
export function applyPlan(plan: FilePlan, now = new Date()): { backup: string } | { problem: string } {
  // Compare before writing: a client (or the user) may have saved the file since it was read.
  const again = readConfigFile(plan.realPath);
  if (!again.ok) return { problem: `cannot read it again (${again.problem}: ${again.detail}); not touched` };
  const current = again.bytes;
  if (!current.equals(plan.before)) return { problem: 'changed since it was read; not touched (run install again)' };
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const backup = `${plan.realPath}.portcullis-backup-${stamp}`;
  try {
    createExclusive(backup, plan.before, 0o600);
  } catch (error) {
    return { problem: `cannot create the backup ${backup} (${(error as NodeJS.ErrnoException).code ?? 'error'}); not touched` };
  }
  const mode = lstatSync(plan.realPath).mode & 0o666;
  replaceFile(plan.realPath, plan.after, mode);
  let records: InstallRecord[];
  try {
    records = readRecords(plan.path);
  } catch {
    records = [];
  }
  records.push({ file: plan.path, realPath: plan.realPath, backup, installedAt: now.toISOString(), writtenSha256: sha256(plan.after), changes: plan.changes });
  writeRecords(plan.path, records);
  return { backup };
}

export interface UndoResult {
  path: string;
  restored?: string;
  problem?: string;
}

/** Restores the last install of each of the client's files. */
export function undoInstall(options: { client: ClientId; home: string; projects: readonly string[]; force?: boolean; now?: Date }): UndoResult[] {
  const home = resolve(options.home);
  const roots = realRoots(home, options.projects);
  const results: UndoResult[] = [];
  for (const { path } of clientFiles(options.client, home, options.projects)) {
    let records: InstallRecord[];
    try {
      records = readRecords(path);
    } catch (error) {
      results.push({ path, problem: (error as Error).message });
      continue;
    }
    const last = records.at(-1);
    if (!last) continue;
    let realPath: string;
    try {
      realPath = realpathSync(path);
    } catch {
      results.push({ path, problem: 'is gone; nothing restored' });
      continue;
    }
    // The record is data on disk: trust it only to name a backup beside the file, in our own naming.
    if (!inside(realPath, roots) || realPath !== last.realPath || dirname(last.backup) !== dirname(realPath) || !basename(last.backup).startsWith(`${basename(realPath)}.portcullis-backup-`)) {
      results.push({ path, problem: 'its install record does not match the file (moved, or edited); nothing restored' });
      continue;
    }
    if (!existsSync(last.backup) || lstatSync(last.backup).isSymbolicLink()) {
      results.push({ path, problem: `the backup ${last.backup} is missing; nothing restored` });
      continue;
    }
    let current: Buffer;
    let saved: Buffer;
    try {
      current = readRegular(realPath, 'the file');
      saved = readRegular(last.backup, 'the backup');
    } catch (error) {
      results.push({ path, problem: `${(error as Error).message}; nothing restored` });
      continue;
    }
    if (sha256(current) !== last.writtenSha256) {
      if (!options.force) {
        results.push({ path, problem: 'changed since the install (restoring would lose those edits); nothing restored — use --force to restore anyway (the current file is kept beside it)' });
        continue;
      }
      createExclusive(`${realPath}.portcullis-before-undo-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`, current, 0o600);
    }
    const mode = lstatSync(realPath).mode & 0o666;
    replaceFile(realPath, saved, mode);
    unlinkSync(last.backup);
    writeRecords(path, records.slice(0, -1));
    results.push({ path, restored: last.backup });
  }
  return results;
}

export type { Format };
