/**
 * The gateway's own state on disk — its configuration file, data directory (kill switches, OAuth signing
 * keys, pins and their key, the audit store, password files), and every file a `file:` secret reference,
 * `audit.path` or `audit.witness` names — must never be reachable through a server it governs: an agent
 * that can edit killswitch.json lifts the kill switch, one that can edit the configuration rewrites its own
 * policy (hot reload), one that can read oauth-secrets.json mints tokens as anyone.
 *
 * Two places refuse such paths (PC_POLICY_GATEWAY_STATE, whatever rule would allow the call):
 *   - the path guard (./path-guard.ts), on every path argument it judges, in the same resolution it
 *     judges the roots with (every encoded/Unicode form, `..`, symlinks);
 *   - for a server whose own arguments name a directory holding state (a filesystem server on the home
 *     directory: the default data dir is ~/.local/share/portcullis), every string argument of every call,
 *     resolved the same way, relative ones against each of the server's directories and working directory.
 * `config check` and start-up warn about both (see `exposures`): a filesystem server on the home
 * directory is the normal set-up, so it is not an error, but its calls into the state are refused.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.ts';
import { formsOf, resolvePhysical, SCRATCH, Unjudgeable, within } from './path-guard.ts';

export interface StateItem {
  /** Absolute, symlinks resolved. */
  readonly path: string;
  /** What it is, for messages: "the data directory /x". */
  readonly what: string;
  /** Directories inside it that are not state (the embedded default's <dataDir>/sandbox). */
  readonly except?: readonly string[];
  /** A `file:` secret (private to the gateway's user), the configuration file, or other state. */
  readonly kind?: 'secret' | 'config';
  /**
   * A file the gateway writes beside itself under longer names (`<path>.<time>.<n>` rotated out,
   * `<path>.checkpoints`, SQLite's `<path>-wal`, `-shm`, `-journal`): every file of that folder whose name
   * begins with this one's is state too.
   */
  readonly family?: boolean;
}

/** Case-insensitive file systems (macOS, Windows default): compare folded. */
const FOLD = process.platform === 'darwin' || process.platform === 'win32';
const fold = (p: string): string => (FOLD ? p.toLowerCase() : p);

/** Strings longer than this, even once `..` is resolved, are content, not paths (PATH_MAX is 4096 on Linux). */
const MAX_PATH = 4096;
/** Nesting walked in a call's arguments. */
const MAX_DEPTH = 8;

/** `path` lies in the folder of `file` under a name that begins with the file's (L3: its rotated segments, journal, checkpoints). */
const sibling = (path: string, file: string): boolean => posix.dirname(path) === posix.dirname(file) && posix.basename(path).startsWith(posix.basename(file));

const looksLikePath = (s: string): boolean => /^(?:[~/.]|file:)/i.test(s) || s.includes('/') || s.includes('\\');

function canonical(path: string): string {
  try {
    return resolvePhysical(resolve(path))[0]!;
  } catch {
    return resolve(path);
  }
}

export class GatewayState {
  readonly items: readonly StateItem[];
  readonly #folded: readonly { path: string; what: string; except: string[]; family: boolean }[];

  constructor(items: readonly StateItem[]) {
    const seen = new Map<string, StateItem>();
    for (const item of items) {
      const except = (item.except ?? []).flatMap((e) => [resolve(e), canonical(e)]);
      // Both the path as written and as resolved now: a state path reached through a symlink is
      // refused in either spelling.
      for (const path of new Set([resolve(item.path), canonical(item.path)])) if (!seen.has(path)) seen.set(path, { path, what: item.what, except, ...(item.kind ? { kind: item.kind } : {}), ...(item.family ? { family: true } : {}) });
    }
    this.items = [...seen.values()];
    this.#folded = this.items.map((i) => ({ path: fold(i.path), what: i.what, except: (i.except ?? []).map(fold), family: i.family === true }));
  }

  /**
   * What state `resolved` (absolute, canonical) is or lies inside, if any. `mutating` (a call that may
   * move, delete or replace what it names): a directory that holds state counts too — moving the
   * configuration's or the data directory's parent away and another in its place rewrites the policy or
   * drops the kill switches as surely as editing the files (red team E2/E3). Read-only calls may still
   * list such a directory (a home-wide filesystem server lists the home directory).
   */
  holding(resolved: string, mutating = false): string | undefined {
    const p = fold(resolved);
    const inside = this.#folded.find((item) => (within(p, item.path) || (item.family && sibling(p, item.path))) && !item.except.some((e) => within(p, e)))?.what;
    if (inside || !mutating) return inside;
    const held = this.#folded.find((item) => within(item.path, p));
    return held && `a directory holding ${held.what}`;
  }

  /** The state items inside directory `dir` (or equal to it; a file family when its folder is inside). */
  inside(dir: string): StateItem[] {
    const roots = new Set([fold(resolve(dir)), fold(canonical(dir))]);
    return this.items.filter((item) => [...roots].some((root) => within(fold(item.path), root)));
  }

  /** Why the path `raw` names the gateway's state, read in every form and against each base directory (`mutating`: see holding). */
  pathProblem(raw: string, bases: readonly string[], mutating = false): string | undefined {
    let forms: string[];
    try {
      // `~` and `file:` strings also as the server may read them unexpanded, against its bases (K1).
      forms = formsOf(raw, bases);
    } catch (error) {
      if (!(error instanceof Unjudgeable)) throw error;
      // A value that cannot be read as a path is refused only when it looks like one.
      return looksLikePath(raw) ? `cannot be checked against the gateway's own state (it ${error.message})` : undefined;
    }
    for (const form of forms) {
      if (form.includes('\0')) continue;
      const candidates = isAbsolute(form) ? [form] : bases.map((base) => `${base}/${form}`);
      for (const candidate of candidates) {
        let resolved: string[];
        try {
          resolved = [...resolvePhysical(posix.normalize(candidate)), ...resolvePhysical(candidate)];
        } catch (error) {
          if (!(error instanceof Unjudgeable)) throw error;
          return `cannot be checked against the gateway's own state (it ${error.message})`;
        }
        for (const r of resolved) {
          const owned = this.holding(r, mutating);
          if (owned) return `resolves into the gateway's own state (${owned})`;
        }
      }
    }
    return undefined;
  }

  /** Every string in a call's arguments (any depth), judged by pathProblem; names the argument. */
  argsProblem(args: unknown, bases: readonly string[], mutating = false): string | undefined {
    const walk = (value: unknown, where: string, depth: number): string | undefined => {
      if (typeof value === 'string') {
        if (value.length === 0) return undefined;
        // A server resolves `..` before it opens anything: `x\n/../state` and `a/../` ten thousand times
        // then `state` are short paths to it (red team K1's class: a reading the check skipped). A string
        // longer than a path is judged as it normalises; one that stays longer cannot be opened.
        const text = value.length > MAX_PATH ? posix.normalize(value) : value;
        if (text.length > MAX_PATH) return undefined;
        const problem = this.pathProblem(text, bases, mutating);
        return problem && `argument "${where}" ${problem}`;
      }
      if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return undefined;
      for (const [key, inner] of Object.entries(value)) {
        const found = walk(inner, where === '' ? key : Array.isArray(value) ? `${where}[${key}]` : `${where}.${key}`, depth + 1);
        if (found) return found;
      }
      return undefined;
    };
    return walk(args, '', 0);
  }
}

/** The gateway's own state for this configuration (dataDir already defaulted by the caller). */
export function gatewayStateOf(config: Pick<Config, 'audit' | 'policy' | 'servers'>, dataDir: string, configFile?: string): GatewayState {
  // Server directories and path-guard roots strictly inside the data dir are the user's (the embedded
  // default serves <dataDir>/sandbox), not state; the files of the state itself are not in them.
  const data = [resolve(dataDir), canonical(dataDir)];
  const nested = [...configuredDirectories(config)].filter((dir) => data.some((d) => within(dir, d) && dir !== d));
  const items: StateItem[] = [{ path: dataDir, what: `the data directory ${dataDir}`, except: nested }];
  if (configFile) items.push({ path: configFile, what: `the configuration file ${configFile}`, kind: 'config' });
  // Every `file:` secret reference (password files, signing keys, pins key, webhook secrets…); the
  // policy holds no references, only conditions and patterns.
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      // `servers.<name>.roots` are file: URIs the server is given (serverDirectories), not secret references.
      if (/^file:\//.test(value) && !/^servers\.[^.]+\.roots\./.test(where)) items.push({ path: value.slice('file:'.length), what: `the secret file ${value.slice('file:'.length)} (${where})`, kind: 'secret' });
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (where === '' && key === 'policy') continue;
      walk(inner, where === '' ? key : `${where}.${key}`);
    }
  };
  walk(config as unknown as Record<string, unknown>, '');
  // Every file the audit trail is written to, with the files written beside each (red team L3: a JSON
  // Lines sink is the SOC's copy; an agent that can rewrite it hides its traces from whoever reads it).
  const audit = config.audit as { path?: string; witness?: string; sinks?: readonly { type: string; path?: string }[] } | undefined;
  if (audit?.path) items.push({ path: audit.path, what: `the audit store ${audit.path}`, family: true });
  if (audit?.witness) items.push({ path: audit.witness, what: `the audit witness ${audit.witness}`, family: true });
  for (const sink of audit?.sinks ?? []) if (sink.path) items.push({ path: sink.path, what: `the audit copy ${sink.path} (audit.sinks)`, family: true });
  return new GatewayState(items);
}

/** Every directory a stdio server is given (serverDirectories) and every path-guard root, absolute. */
function configuredDirectories(config: Pick<Config, 'servers' | 'policy'>): Set<string> {
  const dirs = new Set<string>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('command' in server)) continue;
    for (const { dir } of serverDirectories(name, server)) dirs.add(resolve(dir)).add(canonical(dir));
  }
  for (const rule of config.policy?.rules ?? []) for (const root of rule.guards?.paths?.roots ?? []) dirs.add(resolve(root)).add(canonical(root));
  return dirs;
}

/**
 * A stdio server argument as the directory it may name (`~` expanded; a relative one that is an existing
 * directory, read against the server's working directory), or undefined.
 */
function directoryArg(arg: string, cwd: string | undefined, home: string | undefined): string | undefined {
  const value = arg.startsWith('--') && arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : arg;
  // The server expands `~` with its own HOME (its env), not the gateway's.
  if (value === '~' || value.startsWith('~/')) return (home !== undefined && isAbsolute(home) ? home : homedir()) + value.slice(1);
  if (/^file:\/\//i.test(value) || value === '' || value.startsWith('-')) return undefined;
  if (isAbsolute(value)) return value;
  const relative = resolve(cwd ?? '.', value);
  try {
    return statSync(relative).isDirectory() ? relative : undefined;
  } catch {
    return undefined;
  }
}

export interface Exposure {
  path: string;
  message: string;
  /** The server whose every call must be checked (a stdio server's own directory), if any. */
  server?: string;
}

/** Server directories and path-guard roots that hold the gateway's state: warned about, and checked per call. */
export function exposures(config: Pick<Config, 'servers' | 'policy'>, state: GatewayState): Exposure[] {
  const found: Exposure[] = [];
  const describe = (items: StateItem[]): string => [...new Set(items.map((i) => i.what))].join(', ');
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('command' in server) || server.disabled) continue;
    for (const { path, dir } of serverDirectories(name, server)) {
      const held = state.inside(dir);
      if (held.length > 0) {
        found.push({
          path,
          server: name,
          message: `${dir} holds the gateway's own state (${describe(held)}); an agent could use this server to edit its policy or kill switches or read its keys. Every call to "${name}" whose arguments resolve there is refused (PC_POLICY_GATEWAY_STATE); better: point the server at a narrower directory, or move dataDir and the configuration out of it`,
        });
      }
    }
    if (server.roots === 'client') {
      found.push({
        path: `servers.${name}.roots`,
        server: name,
        message: `roots: client lets the calling client choose the folders of "${name}", which may hold the gateway's own state; every call to "${name}" whose arguments resolve into it is refused (PC_POLICY_GATEWAY_STATE); better: list the roots`,
      });
    }
  }
  config.policy?.rules?.forEach((rule, r) => {
    rule.guards?.paths?.roots.forEach((root, i) => {
      const held = state.inside(root);
      if (held.length > 0) {
        found.push({
          path: `policy.rules[${r}].guards.paths.roots[${i}]`,
          message: `${root} holds the gateway's own state (${describe(held)}); paths into it are refused (PC_POLICY_GATEWAY_STATE), but a narrower root is safer`,
        });
      }
    });
  });
  return found;
}

/**
 * The directories a server resolves relative paths against: every directory it is given (serverDirectories),
 * and the gateway's own working directory.
 */
export function serverBases(config: Pick<Config, 'servers'>, server: string): string[] {
  const s = config.servers[server];
  const bases = s && 'command' in s ? serverDirectories(server, s).map((d) => resolve(d.dir)) : [];
  bases.push(process.cwd());
  return [...new Set(bases)];
}

type StdioServer = { args: readonly string[]; cwd?: string | undefined; env?: Record<string, string> | undefined; roots?: 'client' | readonly string[] | undefined };

/**
 * Every directory a stdio server is given, with where the configuration gives it (red team L4: not only
 * its directory arguments): those arguments, its working directory (`cwd`: a project, git or shell server
 * works relative to it), each directory its declared environment names (`PROJECT_DIR: /srv`, a
 * `PATH`-style list), and the roots the gateway answers `roots/list` with (server-filesystem adopts them
 * as its allowed folders).
 */
export function serverDirectories(name: string, s: StdioServer): { path: string; dir: string }[] {
  const found: { path: string; dir: string }[] = [];
  s.args.forEach((arg, i) => {
    const dir = directoryArg(arg, s.cwd, s.env?.HOME);
    if (dir !== undefined) found.push({ path: `servers.${name}.args[${i}]`, dir });
  });
  if (s.cwd) found.push({ path: `servers.${name}.cwd`, dir: resolve(s.cwd) });
  for (const [key, value] of Object.entries(s.env ?? {})) {
    // A secret reference names a file to read, not a directory the server is given.
    if (/^(?:env|file):/.test(value)) continue;
    for (const item of value.split(':')) {
      // `--root=DIR` in a variable the server passes on as flags is DIR, as in its arguments.
      const part = item.startsWith('--') && item.includes('=') ? item.slice(item.indexOf('=') + 1) : item;
      if (part === '') continue;
      // A relative one as the server reads it: against its working directory (red team N2: `PROJECT_DIR: ..`).
      const dir = part.startsWith('~') || isAbsolute(part) ? directoryArg(part, s.cwd, s.env?.HOME) : resolve(s.cwd ?? SCRATCH, part);
      if (dir !== undefined && isDirectory(dir)) found.push({ path: `servers.${name}.env.${key}`, dir });
    }
  }
  if (Array.isArray(s.roots)) {
    s.roots.forEach((uri, i) => {
      try {
        found.push({ path: `servers.${name}.roots[${i}]`, dir: fileURLToPath(uri) });
      } catch {
        // Not a file: URI: nothing on this host's disk.
      }
    });
  }
  return found;
}

/**
 * The directories a server reads an unexpanded `~` or `file:` string against, for the path guard
 * (path-guard.ts expansions): its directory arguments (those that are directories now, not a script or a log file)
 * and its working directory — its `cwd`; without one, a stdio server starts in an empty directory of its
 * own (src/upstream/stdio-channel.ts), stood for by SCRATCH; a remote server: the gateway's.
 */
export function serverReadBases(config: Pick<Config, 'servers'>, server: string): string[] {
  const s = config.servers[server];
  if (!s || !('command' in s)) return [process.cwd()];
  return [...new Set([...directoryArgs(s).filter(isDirectory), s.cwd ? resolve(s.cwd) : SCRATCH])];
}

/** A stdio server's arguments that may name directories (directoryArg). */
function directoryArgs(s: { args: readonly string[]; cwd?: string | undefined; env?: Record<string, string> | undefined }): string[] {
  return s.args.map((arg) => directoryArg(arg, s.cwd, s.env?.HOME)).filter((dir): dir is string => dir !== undefined);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The configuration file writable by others (anyone could rewrite the policy) and `file:` secrets
 * readable or writable by others, as "what: mode (want …)" lines for `config check`. The data dir's own
 * modes are src/util/private-files.ts's (looseModes).
 */
export function looseStateModes(state: GatewayState): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const item of state.items) {
    if (!item.kind || seen.has(item.what)) continue;
    let mode: number;
    try {
      mode = statSync(item.path).mode & 0o777;
    } catch {
      continue;
    }
    const loose = item.kind === 'config' ? mode & 0o022 : mode & 0o077;
    if (loose === 0) continue;
    seen.add(item.what);
    const want = item.kind === 'config' ? mode & ~0o022 : 0o600;
    found.push(`${item.what} is ${mode.toString(8).padStart(4, '0')} (want ${want.toString(8).padStart(4, '0')}: chmod ${want.toString(8)} ${item.path})`);
  }
  return found;
}
