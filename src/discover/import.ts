/**
 * `portcullis import`: a gateway configuration for the servers a discovery found. It works from the
 * discovery report alone — values there are already masked — so it never sees a secret: each literal
 * secret becomes an `env:` reference and a variable to set. Packages are pinned to the version the npx
 * cache holds now where there is one (or flagged), and the starter policy allows what the clients
 * allowed before, with every filesystem server confined to the folders it was given.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Document, isMap, isScalar } from 'yaml';
import { SENSITIVE_NAME, SERVER_NAME } from '../config/names.ts';
import { isLoopbackHost } from '../config/names.ts';
import type { DiscoveryReport, FileReport, ServerReport } from './discover.ts';
import { displayPath } from './discover.ts';
import { displayText } from '../audit/display.ts';
import { isSecretRef } from '../config/secrets.ts';
import { codeLoaders } from './findings.ts';
import { filesystemRoots, isFilesystemServer, rootsOutside } from './filesystem-roots.ts';
import { referencesIn } from './secret-kinds.ts';
import { targetKey } from './target.ts';

export interface VariableToSet {
  name: string;
  /** What the variable must hold, and where the value was found. */
  what: string;
}

export interface ImportResult {
  yaml: string;
  servers: string[];
  variables: VariableToSet[];
  /** Per server: what was done to it or is left to do. */
  notes: Array<{ server: string; note: string }>;
  skipped: Array<{ name: string; from: string; why: string }>;
}

const FILESYSTEM_PATH_ARGS = ['path', 'paths', 'source', 'destination'];
const MASKED = /^\[redacted ([a-z0-9-]+) ([0-9a-f]{8})\]$/;
const EXACT = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

function serverName(raw: string, taken: ReadonlySet<string>): string {
  let base = raw.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 32) || 'server';
  if (!SERVER_NAME.test(base)) base = 'server';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 32 - String(i).length - 1)}-${i}`;
  return name;
}

const envName = (text: string): string => text.toUpperCase().replace(/[^A-Z0-9_]+/g, '_').replace(/^([0-9])/, '_$1').replace(/_+/g, '_');

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Versions of an npm package the npx cache under `home` holds: { version, integrity, dir }. */
export function npxCached(home: string, pkg: string): Array<{ version: string; integrity?: string; dir: string }> {
  const root = join(home, '.npm', '_npx');
  if (!existsSync(root)) return [];
  const out: Array<{ version: string; integrity?: string; dir: string }> = [];
  for (const hash of readdirSync(root).slice(0, 2000)) {
    const lock = join(root, hash, 'node_modules', '.package-lock.json');
    try {
      const entry = (JSON.parse(readFileSync(lock, 'utf8')) as { packages?: Record<string, { version?: string; integrity?: string }> }).packages?.[`node_modules/${pkg}`];
      if (entry?.version) out.push({ version: entry.version, ...(entry.integrity ? { integrity: entry.integrity } : {}), dir: join(root, hash) });
    } catch {
      // not an npx install folder
    }
  }
  return out.sort((a, b) => compareVersions(b.version, a.version));
}

interface Built {
  server: Record<string, unknown>;
  notes: string[];
  roots: string[];
  filesystem: boolean;
}

export interface ImportOptions {
  home: string;
  now?: Date;
}

/** Builds the gateway configuration (YAML text) for a discovery report. */
export function buildImport(report: DiscoveryReport, options: ImportOptions): ImportResult {
  const home = resolve(options.home);
  const servers: Record<string, Record<string, unknown>> = {};
  const origins = new Map<string, string[]>();
  const byKey = new Map<string, string>();
  const variables = new Map<string, VariableToSet & { fingerprint?: string }>();
  const notes: ImportResult['notes'] = [];
  const skipped: ImportResult['skipped'] = [];
  const rules: Record<string, unknown>[] = [];
  const denyRules: Record<string, unknown>[] = [];

  /** A variable for a secret; the same secret (fingerprint) keeps one name, another gets a prefixed one. */
  const variable = (preferred: string, prefix: string, what: string, fingerprint?: string): string => {
    let name = envName(preferred);
    const existing = variables.get(name);
    if (existing && (fingerprint === undefined || existing.fingerprint !== fingerprint)) name = envName(`${prefix}_${preferred}`);
    for (let i = 2; variables.has(name) && (fingerprint === undefined || variables.get(name)!.fingerprint !== fingerprint); i++) name = envName(`${prefix}_${preferred}_${i}`);
    if (!variables.has(name)) variables.set(name, { name, what, ...(fingerprint ? { fingerprint } : {}) });
    return name;
  };

  const build = (file: FileReport, s: ServerReport, name: string): Built | string => {
    const where = `${file.client} ${displayPath(file.path, home)} "${s.name}"`;
    const out: Record<string, unknown> = {};
    const serverNotes: string[] = [];
    const project = s.project;
    /** A client value → what the gateway config holds (a literal or an env: reference). */
    const value = (key: string, raw: string, place: string, kind: 'env' | 'header'): string => {
      const shown = expandHome(raw, home, project);
      if (isSecretRef(shown)) {
        // No client reads `env:`/`file:` text; the gateway would, handing a local file or one of its own
        // variables to this server. Kept out: a variable to set with what the client passed, server disabled.
        serverNotes.push(`${place} is the text "${shown.slice(0, 5)}…", which the client passes as it is but the gateway would read as a secret reference (a local file or a gateway variable): set the variable to what the server needs, then enable it`);
        out.disabled = true;
        return `env:${variable(kind === 'env' ? key : `${name}_${key}`, name, `the text the client passed as ${place} (${where}); not read from the file or variable it names`)}`;
      }
      const m = MASKED.exec(shown);
      if (m) return `env:${variable(kind === 'env' ? key : `${name}_${key}`, name, `${kind === 'header' ? 'the whole header value, with the ' : 'the '}${m[1]} from ${where} ${place} (fingerprint ${m[2]})`, m[2])}`;
      const refs = referencesIn(shown);
      if (refs.length === 1 && referencesWhole(shown)) {
        const ref = refs[0]!;
        if (ref.scheme === 'file') return `file:${ref.name}`;
        const target = ref.scheme === 'env' || ref.scheme === 'secrets' ? envName(ref.name) : envName(ref.name);
        if (ref.scheme !== 'env') serverNotes.push(`${place} was ${ref.scheme}:${ref.name} in the client; the gateway reads it from $${target}`);
        if (!variables.has(target)) variables.set(target, { name: target, what: `${ref.scheme === 'env' ? 'as the client had it' : `the value of ${ref.scheme}:${ref.name}`} (${where} ${place})` });
        return `env:${target}`;
      }
      if (refs.length > 0 || SENSITIVE_NAME.test(key)) {
        const v = variable(kind === 'env' ? key : `${name}_${key}`, name, `${refs.length > 0 ? `"${shown}" with the references filled in` : 'the value the client had'} (${where} ${place})`);
        return `env:${v}`;
      }
      return shown;
    };
    if (s.command !== null) {
      // Where the client starts the server: its cwd, else the project (Claude Code, Cursor, VS Code run
      // project servers there), else home. Relative commands and arguments resolve against it in the
      // gateway too, so what runs is the file discovery read and pinned, wherever the gateway starts.
      const base = s.cwd ? resolve(project ?? home, expandHome(s.cwd, home, project)) : (project ?? home);
      out.command = s.command.includes('/') && !isAbsolute(s.command) ? resolve(base, s.command) : s.command;
      let args = s.args.map((a) => expandHome(a, home, project));
      const loaders = codeLoaders({ command: s.command, args, env: s.env });
      if (loaders.length > 0) {
        serverNotes.push(`${loaders.join('; ')} — code besides the server's own, which no pin covers: remove it, then enable the server`);
        out.disabled = true;
      }
      if (args.some((a) => a.includes('[redacted '))) {
        serverNotes.push('an argument held a secret (shown redacted): the gateway passes arguments as written, so make the server read it from an environment variable, then enable it');
        out.disabled = true;
      }
      if (args.some((a) => /\$\{[^}]+\}/.test(a))) serverNotes.push('an argument holds a client variable (${…}) the gateway does not expand: replace it');
      const env: Record<string, string> = {};
      for (const [key, shown] of Object.entries(s.env)) env[key.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([0-9])/, '_$1')] = value(key, shown, `env.${key}`, 'env');
      for (const c of s.credentials.filter((x) => !x.literal && x.reference)) {
        const [scheme, ref] = [c.reference!.split(':')[0], c.reference!.slice(c.reference!.indexOf(':') + 1)];
        if ((c.where.startsWith('env_vars.') || c.where.startsWith('env_keys.')) && env[ref] === undefined) {
          env[ref] = `env:${envName(ref)}`;
          if (!variables.has(envName(ref))) variables.set(envName(ref), { name: envName(ref), what: `${scheme === 'keyring' ? 'the value Goose keeps in the keyring' : 'forwarded from the environment'} (${where} ${c.where})` });
        }
      }
      // Pinning: an exact version, the npx cache's copy, a digest or a local file's hash.
      const p = s.supply;
      if (p.kind === 'npm' && p.package && !p.remoteUrl) {
        const cached = npxCached(home, p.package);
        const wanted = p.version && EXACT.test(p.version) ? cached.find((c) => c.version === p.version) : cached[0];
        const specIndex = args.findIndex((a) => a === p.package || a.startsWith(`${p.package}@`));
        if (wanted && specIndex >= 0) {
          const spec = `${p.package}@${wanted.version}`;
          args = args.map((a, i) => (i === specIndex ? spec : a));
          out.pin = { npm: spec, ...(wanted.integrity ? { integrity: wanted.integrity } : {}) };
          out.cwd = wanted.dir;
          serverNotes.push(`pinned to ${spec}, the version installed in the npx cache now (${displayPath(wanted.dir, home)})${p.exact ? '' : '; the client ran whatever was newest'}`);
          if (args.some((a) => a === '.' || a.startsWith('./') || a.startsWith('../'))) serverNotes.push('relative paths in the arguments now resolve against the npx cache folder: make them absolute');
        } else {
          serverNotes.push(`UNPINNED: ${p.package}${p.version ? `@${p.version}` : ''} is not in the npx cache; install it (npm install --prefix DIR ${p.package}@VERSION), set cwd: DIR and pin: { npm: ${p.package}@VERSION, integrity: … }`);
        }
      } else if (p.kind === 'pypi') {
        serverNotes.push(`UNPINNED: ${p.runner} installs ${p.package ?? '?'} into a throwaway environment; install it into a virtualenv and pin it with pin: { pypi: "${p.package ?? 'pkg'}==VERSION" }`);
      } else if (p.kind === 'oci' && p.image) {
        if (p.exact) out.pin = { image: p.image };
        else serverNotes.push(`UNPINNED: image ${p.image} is a tag; pin it by digest (docker buildx imagetools inspect ${p.image}) and name the digest in the args and pin.image`);
      } else if (p.kind === 'local' && p.sha256 && p.file) {
        out.pin = { sha256: p.sha256, file: p.file };
        serverNotes.push(`pinned to the SHA-256 ${p.file} has now`);
      } else if (p.kind === 'npm' && p.remoteUrl) {
        serverNotes.push(`a stdio proxy (mcp-remote) to ${p.remoteUrl}: consider adding that URL as an HTTP server instead`);
      } else if (p.kind === 'command' || p.kind === 'unknown') {
        serverNotes.push('UNPINNED: a command on PATH; pin it with pin: { sha256, file } once you know which file runs');
      }
      out.args = args;
      if (out.cwd === undefined) out.cwd = base;
      if (Object.keys(env).length > 0) out.env = env;
    } else {
      if (!s.url) return 'no command and no URL';
      if (s.transport === 'ws') return 'WebSocket servers are not supported by the gateway';
      let url = s.url;
      const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]+@/i.exec(url);
      if (userinfo) {
        url = `${userinfo[1]}${url.slice(userinfo[0].length)}`;
        serverNotes.push('the URL carried credentials (removed): give them as a header reference instead, then enable it');
        out.disabled = true;
      }
      if (url.includes('[redacted ')) {
        serverNotes.push('the URL carried a secret in its query (shown redacted): move it to a header reference, then enable it');
        out.disabled = true;
      }
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return 'the URL does not parse';
      }
      if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) return `plain ${parsed.protocol}// to ${parsed.host}: the gateway only reaches remote servers over https`;
      out.url = url;
      if (s.transport === 'sse') out.transport = 'sse';
      const headers: Record<string, string> = {};
      for (const [key, shown] of Object.entries(s.headers)) headers[key] = value(key, shown, `headers.${key}`, 'header');
      for (const c of s.credentials.filter((x) => !x.literal && x.reference)) {
        const ref = c.reference!.slice(c.reference!.indexOf(':') + 1);
        if (c.where === 'bearer_token_env_var') {
          const v = variable(`${name}_AUTHORIZATION`, name, `"Bearer " followed by the value of $${ref} (${where} bearer_token_env_var)`);
          headers.Authorization = `env:${v}`;
        } else if (c.where.startsWith('env_http_headers.')) {
          headers[c.where.slice('env_http_headers.'.length)] = `env:${envName(ref)}`;
          if (!variables.has(envName(ref))) variables.set(envName(ref), { name: envName(ref), what: `as the client had it (${where} ${c.where})` });
        } else if (c.kind === 'oauth') {
          serverNotes.push('the client signs in to this server with OAuth; the gateway does not sign in upstream for it: give it a token header (env: reference) or keep it out of the gateway');
        }
      }
      if (Object.keys(headers).length > 0) out.headers = headers;
    }
    if (s.disabled) out.disabled = true;
    const ordered: Record<string, unknown> = {};
    for (const k of ['command', 'args', 'cwd', 'env', 'url', 'transport', 'headers', 'pin', 'disabled']) if (out[k] !== undefined) ordered[k] = out[k];
    const filesystem = isFilesystemServer(s.command, s.args);
    let roots = filesystem ? filesystemRoots(out.args as string[], typeof out.cwd === 'string' ? out.cwd : (project ?? home)) : [];
    if (project !== undefined && file.scope === 'project') {
      // A project's own (checked-in) file may give its filesystem server only folders of the project
      // (F16); the user's own files (home, Claude Code's per-project entries in ~/.claude.json) may name any.
      const outside = rootsOutside(roots, project);
      if (outside.length > 0) {
        serverNotes.push(`the project file gives this filesystem server ${outside.join(', ')}, outside the project ${project} (through .. or a symbolic link): left out of the allowed roots; add them yourself only if you meant them`);
        roots = roots.filter((r) => !outside.includes(r));
      }
    }
    return { server: ordered, notes: serverNotes, roots, filesystem };
  };

  for (const file of report.clients) {
    for (const s of file.servers) {
      const from = `${file.client} ${displayPath(file.path, home)}`;
      if (s.throughGateway) {
        skipped.push({ name: s.name, from, why: 'already goes through Portcullis' });
        continue;
      }
      // Entries merge only when they run the same thing the same way and the clients allowed the same tools.
      const key = `${targetKey({ ...(s.command !== null ? { command: s.command } : {}), args: s.args, ...(s.url !== null ? { url: s.url } : {}) })}\u0000${JSON.stringify(s.env)}\u0000${JSON.stringify(s.headers)}\u0000${s.cwd ?? ''}\u0000${s.project ?? ''}\u0000${JSON.stringify(s.tools)}`;
      const same = byKey.get(key);
      if (same) {
        origins.get(same)!.push(`${from} "${s.name}"`);
        continue;
      }
      const name = serverName(s.name, new Set(Object.keys(servers)));
      const built = build(file, s, name);
      if (typeof built === 'string') {
        skipped.push({ name: s.name, from, why: built });
        continue;
      }
      servers[name] = built.server;
      byKey.set(key, name);
      origins.set(name, [`${from} "${s.name}"`]);
      for (const note of built.notes) notes.push({ server: name, note });
      if (s.tools.allow !== null && s.tools.allow.length === 0) {
        // The client enables none of its tools: no rule allows any (the policy denies by default).
        notes.push({ server: name, note: 'the client enabled none of its tools (an empty allowlist): no rule allows it' });
        if (s.tools.deny.length > 0) denyRules.push({ name: `deny-${name}-client-disabled`, effect: 'deny', servers: [name], tools: s.tools.deny, reason: 'disabled in the client configuration it was imported from' });
        continue;
      }
      const rule: Record<string, unknown> = { name: `allow-${name}`, effect: 'allow', servers: [name] };
      if (s.tools.allow && s.tools.allow.length > 0) rule.tools = s.tools.allow;
      if (built.filesystem) {
        if (built.roots.length > 0) {
          rule.description = 'Every tool, with every path confined to the folders the client gave the server';
          rule.guards = { paths: { args: [...FILESYSTEM_PATH_ARGS], roots: built.roots } };
          if (built.roots.some((r) => r === '/' || r === home || r === `${home}/`)) notes.push({ server: name, note: `the filesystem roots include ${built.roots.filter((r) => r === '/' || r === home || r === `${home}/`).join(', ')}: narrow them` });
        } else {
          // A filesystem server with no folder given: confine it to nothing until the admin names one.
          rule.effect = 'deny';
          rule.reason = 'no folder was given to this filesystem server; name its roots before allowing it';
          notes.push({ server: name, note: 'a filesystem server without folders: denied until you name roots' });
        }
      }
      rules.push(rule);
      if (s.tools.deny.length > 0) denyRules.push({ name: `deny-${name}-client-disabled`, effect: 'deny', servers: [name], tools: s.tools.deny, reason: 'disabled in the client configuration it was imported from' });
    }
  }

  const config = {
    listen: { host: '127.0.0.1', port: 8787 },
    supply: { allowUnpinned: false },
    servers,
    policy: { mode: 'enforce', rules: [...denyRules, ...rules], limits: [{ name: 'per-agent', per: 'agent', rate: '20/s', burst: 40 }] },
  };
  const doc = new Document(config, { aliasDuplicateObjects: false });
  const serversNode = doc.get('servers');
  if (isMap(serversNode)) {
    for (const pair of serversNode.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const lines = [`from ${origins.get(key)?.join('; ') ?? '?'}`, ...notes.filter((n) => n.server === key).map((n) => n.note)];
      if (isScalar(pair.key)) pair.key.commentBefore = lines.map((l) => ` ${displayText(l)}`).join('\n');
    }
  }
  const vars = [...variables.values()];
  const header = [
    ` Written by portcullis import${options.now ? ` on ${options.now.toISOString().slice(0, 10)}` : ''} from ${report.summary.files} client file(s).`,
    ' Check it: portcullis config check -c <this file>',
    ...(vars.length > 0 ? [' Set these variables where the gateway runs (values were never written here):', ...vars.map((v) => `   ${v.name}: ${v.what}`)] : []),
    ...(skipped.length > 0 ? [' Not imported:', ...skipped.map((s) => `   ${s.name} (${s.from}): ${s.why}`)] : []),
  ];
  doc.commentBefore = header.map(displayText).join('\n');
  return { yaml: doc.toString({ lineWidth: 0 }), servers: Object.keys(servers), variables: vars.map(({ name, what }) => ({ name, what })), notes, skipped };
}

/** The client's home and workspace variables, which the gateway does not expand, filled in. */
function expandHome(value: string, home: string, project: string | undefined): string {
  return value
    .replace(/\$\{userHome\}|\$\{HOME\}|\$\{env:HOME\}|\$HOME\b/g, home)
    .replace(/^~(?=\/|$)/, home)
    .replace(/\$\{workspaceFolder\}/g, project ?? '${workspaceFolder}');
}

/** True when the whole value is one reference (not a template around one). */
function referencesWhole(value: string): boolean {
  return /^(?:\$\{\{\s*secrets\.[A-Za-z0-9_-]+\s*\}\}|\$\{(?:env|input|secret|keychain):[A-Za-z0-9_.-]+\}|\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}|\$[A-Z_][A-Z0-9_]*|env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/.test(value.trim());
}
