/**
 * `portcullis discover`: every MCP server the clients on a machine are configured with, how each is
 * launched, what it runs, which credentials it holds and whether it goes through Portcullis. Reads only;
 * a file that cannot be read or parsed becomes a finding, never an exception.
 */
import { createHash } from 'node:crypto';
import { readdirSync, type Dirent } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Config } from '../config/schema.ts';
import { CLIENT_IDS, isCommittable, LOCATIONS, type ClientId, type Format, type Location, type Scope } from './clients.ts';
import { scanCredentials, type CredentialReport, type LiteralSecret } from './credentials.ts';
import { extract, type ServerEntry, type Transport } from './entries.ts';
import { serverFindings, severityRank, SEVERITIES, type Finding, type Severity } from './findings.ts';
import { MAX_CONFIG_BYTES, parseConfig, readConfigFile } from './read.ts';
import { analyseSupply, type Supply } from './supply.ts';
import { DEFAULT_GATEWAY_URLS, gatewayRoute, targetKey } from './target.ts';

export interface DiscoverOptions {
  home: string;
  projects?: readonly string[];
  /** Folders searched (recursively, bounded) for project folders with client files. */
  scan?: readonly string[];
  /** Root of machine-wide (managed) files; none when undefined. */
  system?: string;
  /** URLs of this gateway (besides the default listen address and the config's). */
  gatewayUrls?: readonly string[];
  /** This gateway's configuration: which servers it already runs, and whether they are pinned there. */
  gateway?: Config;
  /** The file it was read from: a `portcullis stdio` entry counts as through the gateway only with it. */
  gatewayConfig?: string;
  now?: Date;
  maxDepth?: number;
  maxDirs?: number;
  maxBytes?: number;
  onProgress?: (progress: { dirs: number; files: number; done: boolean }) => void;
}

export interface ServerReport {
  name: string;
  scope: Scope;
  project?: string;
  transport: Transport;
  command: string | null;
  args: string[];
  url: string | null;
  env: Record<string, string>;
  headers: Record<string, string>;
  cwd: string | null;
  /** Tools the client hides (deny) or restricts the server to (allow). */
  tools: { allow: string[] | null; deny: string[] };
  /** What runs is fixed by the entry (exact version, digest, URL), or by a pin in this gateway. */
  pinned: boolean;
  supply: Supply & { gateway: { server: string; pinned: boolean } | null };
  credentials: CredentialReport[];
  throughGateway: boolean;
  disabled: boolean;
  findings: Finding[];
}

export interface FileReport {
  client: ClientId;
  path: string;
  scope: Scope;
  format: Format;
  modifiedAt: string | null;
  mode: string | null;
  servers: ServerReport[];
  findings: Finding[];
}

export interface DiscoveryReport {
  clients: FileReport[];
  summary: {
    files: number;
    clients: ClientId[];
    servers: number;
    throughGateway: number;
    literalSecrets: number;
    unpinned: number;
    findings: Record<Severity, number>;
    highest: Severity | null;
  };
}

/** A server as found, with its raw entry (which may hold secrets: in memory only, never printed). */
export interface FoundServer {
  file: FileReport;
  location: Location;
  absolutePath: string;
  entry: ServerEntry;
  literals: LiteralSecret[];
  report: ServerReport;
}

export interface Discovery {
  report: DiscoveryReport;
  found: FoundServer[];
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', 'vendor', 'dist', 'build', 'target', '.cache', '.npm', '.venv', 'venv', '__pycache__', '.Trash', 'Library', 'AppData']);
const PROJECT_MARKERS = new Set(LOCATIONS.filter((l) => l.base === 'project').map((l) => l.path.split('/')[0]!));

function segmentPattern(segment: string): RegExp {
  return new RegExp(`^${segment.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
}

function listDir(dir: string, limit = 500): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).slice(0, limit);
  } catch {
    return [];
  }
}

/** Paths a location pattern names under `root` (`*` segments expanded, at most a few hundred each). */
function expand(root: string, pattern: string): string[] {
  let paths = [root];
  const segments = pattern.split('/');
  segments.forEach((segment, i) => {
    if (!segment.includes('*')) {
      paths = paths.map((p) => join(p, segment));
      return;
    }
    const re = segmentPattern(segment);
    const last = i === segments.length - 1;
    paths = paths.flatMap((p) => listDir(p).filter((e) => re.test(e.name) && (last ? !e.isDirectory() : e.isDirectory() || e.isSymbolicLink())).map((e) => join(p, e.name)));
  });
  return paths;
}

/** Project folders under `root`: those holding a client's project file. Symlinked folders are not followed. */
function findProjects(root: string, maxDepth: number, state: { dirs: number; max: number; cut: boolean }, tick: () => void): string[] {
  const out: string[] = [];
  const queue: Array<{ dir: string; depth: number }> = [{ dir: root, depth: 0 }];
  while (queue.length > 0) {
    const { dir, depth } = queue.shift()!;
    if (state.dirs >= state.max) {
      state.cut = true;
      break;
    }
    state.dirs += 1;
    tick();
    const entries = listDir(dir, 20_000);
    if (entries.some((e) => PROJECT_MARKERS.has(e.name))) out.push(dir);
    if (depth >= maxDepth) continue;
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) queue.push({ dir: join(dir, e.name), depth: depth + 1 });
  }
  return out;
}

const SCOPE_RANK: Record<Scope, number> = { managed: 5, local: 4, project: 3, user: 2, extension: 1 };

function fileFinding(id: string, severity: Severity, message: string): Finding {
  return { id, severity, message };
}

function gatewayMatch(entry: ServerEntry, gateway: Config | undefined): { server: string; pinned: boolean } | null {
  if (!gateway) return null;
  const key = targetKey(entry);
  for (const [name, server] of Object.entries(gateway.servers)) {
    const theirs = 'command' in server ? { command: server.command, args: server.args } : { url: server.url, args: [] };
    if (targetKey(theirs) === key) return { server: name, pinned: 'command' in server ? server.pin !== undefined : true };
  }
  return null;
}

function gatewayUrlsOf(options: DiscoverOptions): string[] {
  const urls = [...DEFAULT_GATEWAY_URLS, ...(options.gatewayUrls ?? [])];
  const g = options.gateway;
  if (g) {
    const host = g.listen.host.includes(':') ? `[${g.listen.host}]` : g.listen.host;
    urls.push(`http://${host}:${g.listen.port}`);
    if (g.identity?.publicUrl) urls.push(g.identity.publicUrl);
  }
  return urls;
}

function hashFile(baseDir: string, home: string, maxBytes: number): (file: string) => { file: string; sha256: string } | undefined {
  return (file) => {
    const full = resolve(baseDir, file.replace(/^~(?=\/|$)/, home));
    const read = readConfigFile(full, maxBytes * 8);
    if (!read.ok) return undefined;
    return { file: full, sha256: createHash('sha256').update(read.bytes).digest('hex') };
  };
}

/** Reads every client file under the given folders and reports what it finds. */
export function discover(options: DiscoverOptions): Discovery {
  const now = options.now ?? new Date();
  const home = resolve(options.home);
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  const progress = { files: 0 };
  const walk = { dirs: 0, max: options.maxDirs ?? 200_000, cut: false };
  const tick = (): void => {
    if (options.onProgress && walk.dirs % 1000 === 0) options.onProgress({ dirs: walk.dirs, files: progress.files, done: false });
  };
  const projects = new Set((options.projects ?? []).map((p) => resolve(p)));
  for (const root of options.scan ?? []) for (const p of findProjects(resolve(root), options.maxDepth ?? 6, walk, tick)) projects.add(p);
  const gatewayUrls = gatewayUrlsOf(options);

  const files: FileReport[] = [];
  const found: FoundServer[] = [];
  const seen = new Set<string>();
  const visit = (location: Location, path: string, project: string | undefined): void => {
    const read = readConfigFile(path, maxBytes);
    if (!read.ok && read.missing) return;
    progress.files += 1;
    const key = `${read.ok ? read.realPath : path}\u0000${location.layout}`;
    if (seen.has(key)) return;
    seen.add(key);
    const file: FileReport = { client: location.client, path, scope: location.scope, format: location.format, modifiedAt: null, mode: null, servers: [], findings: [] };
    files.push(file);
    if (!read.ok) {
      const id = read.problem === 'too-large' ? 'config-too-large' : read.problem === 'not-a-file' ? 'config-not-a-file' : 'config-unreadable';
      file.findings.push(fileFinding(id, 'medium', `${read.problem === 'too-large' ? 'not read: too large' : read.problem === 'not-a-file' ? 'not a regular file' : 'cannot be read'} (${read.detail}); its servers are not in this inventory`));
      return;
    }
    file.modifiedAt = read.stat.mtime.toISOString();
    file.mode = (read.stat.mode & 0o777).toString(8).padStart(4, '0');
    if (read.symlink) file.findings.push(fileFinding('config-symlink', 'info', `a symbolic link to ${read.realPath}`));
    const text = read.bytes.toString('utf8').replace(/^\uFEFF/, '');
    const parsed = parseConfig(text, location.format);
    if (!parsed.ok) {
      file.findings.push(fileFinding('config-malformed', 'medium', `does not parse as ${location.format.toUpperCase()} (line ${parsed.line}, column ${parsed.column}: ${parsed.reason}); the client ignores or rejects it, and its servers are not in this inventory`));
      return;
    }
    const extracted = extract(location.client, location.layout, parsed.doc);
    for (const problem of extracted.problems) file.findings.push(fileFinding('config-shape', 'low', problem));
    if (extracted.policy) file.findings.push(...policyFindings(location, extracted.policy));
    const committable = isCommittable(location);
    let literalCount = 0;
    for (const entry of extracted.entries) {
      const scan = scanCredentials(entry, read.stat.mtime, now);
      literalCount += scan.literals.length;
      const supply = analyseSupply(entry, hashFile(entry.cwd ?? project ?? home, home, maxBytes));
      const gateway = gatewayMatch(entry, options.gateway);
      const route = gatewayRoute({ ...entry, project: entry.project ?? project ?? (location.base === 'home' ? home : undefined) }, { urls: gatewayUrls, ...(options.gatewayConfig ? { config: options.gatewayConfig } : {}) });
      const throughGateway = route === 'yes';
      const scope: Scope = entry.project !== undefined ? 'local' : location.scope;
      const report: ServerReport = {
        name: entry.name,
        scope,
        ...(entry.project !== undefined ? { project: entry.project } : project ? { project } : {}),
        transport: entry.transport,
        command: entry.command ?? null,
        args: scan.shown.args,
        url: scan.shown.url,
        env: scan.shown.env,
        headers: scan.shown.headers,
        cwd: entry.cwd ?? null,
        tools: { allow: entry.allowedTools ?? null, deny: entry.deniedTools },
        pinned: supply.exact || gateway?.pinned === true || throughGateway,
        supply: { ...supply, gateway },
        credentials: scan.credentials,
        throughGateway,
        disabled: entry.disabled,
        findings: serverFindings(entry, supply, scan.credentials, { committable, throughGateway, gatewayLookalike: route === 'lookalike', home, gatewayPinned: gateway?.pinned }),
      };
      file.servers.push(report);
      found.push({ file, location, absolutePath: path, entry, literals: scan.literals, report });
    }
    if (literalCount > 0 && (read.stat.mode & 0o044) !== 0) {
      file.findings.push(fileFinding('readable-by-others', (read.stat.mode & 0o004) !== 0 ? 'high' : 'medium', `mode ${file.mode} lets ${(read.stat.mode & 0o004) !== 0 ? 'every user of the machine' : 'the group'} read ${literalCount} literal secret${literalCount === 1 ? '' : 's'}; chmod 600 ${path}`));
    }
  };

  for (const location of LOCATIONS) {
    if (location.base === 'home') for (const path of expand(home, location.path)) visit(location, path, undefined);
    else if (location.base === 'system' && options.system !== undefined) for (const path of expand(resolve(options.system), location.path)) visit(location, path, undefined);
  }
  // Claude Code's per-project entries name project folders; their checked-in files count too.
  for (const f of found) if (f.entry.project && !projects.has(f.entry.project) && listDir(f.entry.project, 1).length > 0) projects.add(f.entry.project);
  for (const project of projects) {
    if (project === home) continue;
    for (const location of LOCATIONS) if (location.base === 'project') for (const path of expand(project, location.path)) visit(location, path, project);
  }
  crossFileFindings(found);
  if (walk.cut) {
    files.push({ client: 'claude-code', path: (options.scan ?? []).join(', '), scope: 'project', format: 'json', modifiedAt: null, mode: null, servers: [], findings: [fileFinding('scan-truncated', 'medium', `stopped after ${walk.max} folders; narrow --scan`)] });
  }
  options.onProgress?.({ dirs: walk.dirs, files: progress.files, done: true });
  return { report: { clients: files, summary: summarise(files) }, found };
}

function policyFindings(location: Location, policy: NonNullable<ReturnType<typeof extract>['policy']>): Finding[] {
  const out: Finding[] = [];
  if (location.layout === 'claude-managed-settings') {
    if (policy.allowNames.length > 0 && policy.allowCommands + policy.allowUrls === 0) {
      out.push(fileFinding('weak-allowlist', 'medium', `allowedMcpServers matches by name only (${policy.allowNames.length} names); anyone can name a server anything — match serverCommand / serverUrl`));
    }
    if (policy.allowNames.length + policy.allowCommands + policy.allowUrls > 0 && !policy.managedOnly) {
      out.push(fileFinding('allowlist-not-exclusive', 'medium', 'allowManagedMcpServersOnly is not true: users and projects can add to the allowlist'));
    }
    out.push(fileFinding('managed-policy', 'info', `managed MCP policy: ${policy.allowNames.length + policy.allowCommands + policy.allowUrls} allow entries, ${policy.denyEntries} deny entries`));
  } else if (location.layout === 'codex-requirements') {
    out.push(fileFinding('managed-policy', 'info', `Codex requirements: ${policy.allowNames.length} servers allowed, ${policy.identities} with an identity`));
    if (policy.allowNames.length > policy.identities) out.push(fileFinding('weak-allowlist', 'medium', `${policy.allowNames.length - policy.identities} allowed servers have no identity (command or URL) to match`));
  }
  return out;
}

/** Names defined in several scopes of one client with different targets; Claude Code's exclusive managed file. */
function crossFileFindings(found: FoundServer[]): void {
  for (const client of CLIENT_IDS) {
    const mine = found.filter((f) => f.location.client === client);
    const managed = client === 'claude-code' && mine.some((f) => f.location.scope === 'managed') ? mine.find((f) => f.location.scope === 'managed')!.absolutePath : undefined;
    const byName = new Map<string, FoundServer[]>();
    for (const f of mine) {
      if (managed && f.location.scope !== 'managed') f.report.findings.push({ id: 'not-loaded', severity: 'info', message: `not loaded: ${managed} has exclusive control of Claude Code's servers` });
      byName.set(f.entry.name, [...(byName.get(f.entry.name) ?? []), f]);
    }
    for (const [name, group] of byName) {
      const keys = new Set(group.map((f) => targetKey(f.entry)));
      if (group.length < 2 || keys.size < 2) continue;
      const winner = [...group].sort((a, b) => SCOPE_RANK[b.report.scope] - SCOPE_RANK[a.report.scope])[0]!;
      for (const f of group) {
        const others = group.filter((o) => o !== f).map((o) => `${o.report.scope} ${o.absolutePath}`);
        f.report.findings.push({
          id: 'shadowed-name',
          severity: 'medium',
          message: f === winner ? `"${name}" is also defined, with another target, in ${others.join('; ')}; this ${f.report.scope} entry wins` : `"${name}" is shadowed by the ${winner.report.scope} entry in ${winner.absolutePath}, which runs something else`,
        });
      }
    }
  }
}

function summarise(files: readonly FileReport[]): DiscoveryReport['summary'] {
  const findings = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let servers = 0;
  let through = 0;
  let literals = 0;
  let unpinned = 0;
  for (const file of files) {
    for (const f of file.findings) findings[f.severity] += 1;
    for (const s of file.servers) {
      servers += 1;
      if (s.throughGateway) through += 1;
      if (!s.pinned && s.command !== null) unpinned += 1;
      literals += s.credentials.filter((c) => c.literal).length;
      for (const f of s.findings) findings[f.severity] += 1;
    }
  }
  const highest = SEVERITIES.find((s) => findings[s] > 0) ?? null;
  return { files: files.length, clients: [...new Set(files.map((f) => f.client))], servers, throughGateway: through, literalSecrets: literals, unpinned, findings, highest };
}

/** Whether any finding is at `threshold` or above. */
export function reaches(report: DiscoveryReport, threshold: Severity): boolean {
  return SEVERITIES.some((s) => severityRank(s) >= severityRank(threshold) && report.summary.findings[s] > 0);
}

/** A path shown relative to home (`~/…`) when it is inside it. */
export function displayPath(path: string, home: string): string {
  const rel = relative(home, path);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? `~/${rel.split(sep).join('/')}` : path;
}
