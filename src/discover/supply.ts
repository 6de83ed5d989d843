/**
 * What a server entry would run, and whether the entry fixes it: an npm/PyPI package at an exact
 * version, a container image by digest, a local file (with its SHA-256 now), or a remote URL.
 * shared/reference/client-configs.md §10 and §12: a bare name, `@latest`, a tag or a range is unpinned.
 */
import { basename } from 'node:path';
import { analyseLaunch } from '../supply/launch.ts';
import type { ServerEntry } from './entries.ts';

export type SupplyKind = 'npm' | 'pypi' | 'oci' | 'local' | 'remote' | 'command' | 'unknown';

export interface Supply {
  kind: SupplyKind;
  runner?: string;
  package?: string;
  version?: string;
  /** The entry names an exact version, a digest, or a URL: what runs does not change under it. */
  exact: boolean;
  image?: string;
  /** A local executable or script, and its SHA-256 when it could be read. */
  file?: string;
  sha256?: string;
  /** Runner flags that install without asking (`npx -y`). */
  autoInstall: boolean;
  /** Container flags that hand the host over. */
  hostAccess: string[];
  /** `sh -c …` and the like: the real command is hidden in a string. */
  shellWrapper: boolean;
  /** A stdio proxy to a remote URL (`mcp-remote URL`). */
  remoteUrl?: string;
}

const EXACT_SEMVER = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;
const NPM_RUNNERS = new Set(['npx', 'bunx', 'pnpx']);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'fish', 'cmd', 'cmd.exe', 'powershell', 'powershell.exe', 'pwsh', 'pwsh.exe']);

/** `@scope/name@1.2.3` → name and version (undefined when absent). */
export function splitNpmSpec(spec: string): { name: string; version?: string } {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  if (at <= 0) return { name: spec };
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

/** `pkg==1.2.3`, `pkg@1.2.3`, `pkg>=1` → name and the exact version when there is one. */
export function splitPypiSpec(spec: string): { name: string; version?: string; exact: boolean } {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(==|@|>=|<=|~=|>|<|!=)?\s*(.*)$/.exec(spec);
  if (!m) return { name: spec, exact: false };
  const version = m[3] || undefined;
  return { name: m[1]!, ...(version ? { version } : {}), exact: (m[2] === '==' || m[2] === '@') && version !== undefined && /^[0-9][0-9A-Za-z.+!-]*$/.test(version) };
}

const base = (command: string): string => basename(command.replace(/\\/g, '/')).toLowerCase();

/** Positional words after the runner's own flags; `valued` flags take the next word. */
function positionals(args: readonly string[], valued: ReadonlySet<string>): { words: string[]; flags: Map<string, string | true> } {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (words.length > 0) {
      words.push(a);
      continue;
    }
    if (a === '--') {
      words.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
      else if (valued.has(a) && i + 1 < args.length) flags.set(a, args[++i]!);
      else flags.set(a, true);
      continue;
    }
    words.push(a);
  }
  return { words, flags };
}

const NPX_VALUED = new Set(['-p', '--package', '-c', '--call', '--registry', '--cache', '--prefix', '-w', '--workspace']);
const UVX_VALUED = new Set(['--from', '--with', '-w', '-p', '--python', '--index', '--index-url', '--extra-index-url', '--default-index', '--directory', '--project', '--with-requirements', '--spec', '-c', '--constraint']);
const DOCKER_VALUED = new Set(['-e', '--env', '-v', '--volume', '--name', '--network', '--net', '-p', '--publish', '--mount', '-w', '--workdir', '-u', '--user', '--entrypoint', '--env-file', '--platform', '-l', '--label', '--cap-add', '--cap-drop', '--security-opt', '--device', '--add-host', '-m', '--memory', '--cpus', '--pull', '--restart', '-h', '--hostname', '--ipc', '--pid', '--ulimit', '--tmpfs', '--log-driver', '--log-opt', '--runtime', '--gpus', '--dns', '--expose', '--label-file', '--link', '--cidfile', '--userns', '--uts', '--cgroupns', '--stop-signal', '--group-add']);

function npm(runner: string, args: readonly string[]): Supply {
  const { words, flags } = positionals(args, NPX_VALUED);
  const explicit = flags.get('-p') ?? flags.get('--package');
  const spec = typeof explicit === 'string' ? explicit : words[0];
  const autoInstall = flags.has('-y') || flags.has('--yes') || runner === 'bunx' || runner.endsWith('dlx');
  const supply: Supply = { kind: 'npm', runner, exact: false, autoInstall, hostAccess: [], shellWrapper: false };
  if (!spec) return { ...supply, kind: 'unknown' };
  if (/^(?:git\+|github:|gitlab:|https?:|file:|\.{0,2}\/)/.test(spec)) return { ...supply, package: spec, exact: /#[0-9a-f]{40}$/.test(spec) };
  const { name, version } = splitNpmSpec(spec);
  const remoteUrl = name === 'mcp-remote' ? words.slice(1).find((w) => /^[a-z]+:\/\//i.test(w)) : undefined;
  return { ...supply, package: name, ...(version ? { version } : {}), exact: version !== undefined && EXACT_SEMVER.test(version), ...(remoteUrl ? { remoteUrl } : {}) };
}

function pypi(runner: string, args: readonly string[]): Supply {
  const { words, flags } = positionals(args, UVX_VALUED);
  const from = flags.get('--from') ?? flags.get('--spec');
  const spec = typeof from === 'string' ? from : words[0];
  const supply: Supply = { kind: 'pypi', runner, exact: false, autoInstall: true, hostAccess: [], shellWrapper: false };
  if (!spec) return { ...supply, kind: 'unknown' };
  if (/^(?:git\+|https?:|file:|\.{0,2}\/)/.test(spec)) return { ...supply, package: spec, exact: /@[0-9a-f]{40}$/.test(spec) };
  const parsed = splitPypiSpec(spec);
  return { ...supply, package: parsed.name, ...(parsed.version ? { version: parsed.version } : {}), exact: parsed.exact };
}

function oci(runner: string, args: readonly string[]): Supply {
  const run = args.indexOf('run');
  const { words, flags } = positionals(run >= 0 ? args.slice(run + 1) : args, DOCKER_VALUED);
  const image = words[0];
  const hostAccess: string[] = [];
  if (flags.has('--privileged')) hostAccess.push('--privileged');
  for (const key of ['--network', '--net', '--pid', '--ipc', '--uts']) if (flags.get(key) === 'host') hostAccess.push(`${key} host`);
  const cap = flags.get('--cap-add');
  if (typeof cap === 'string' && /^(all|sys_admin)$/i.test(cap)) hostAccess.push(`--cap-add ${cap}`);
  // Every -v (the flag map keeps the last), so look at the raw words too.
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const mount = a === '-v' || a === '--volume' || a === '--mount' ? args[i + 1] : /^(?:-v|--volume|--mount)=(.*)$/.exec(a)?.[1];
    if (!mount) continue;
    if (/docker\.sock/.test(mount)) hostAccess.push(`mounts the Docker socket (${mount.split(':')[0]})`);
    else if (/^(?:\/|source=\/|src=\/)(?::|,|$)/.test(mount)) hostAccess.push('mounts the host root /');
  }
  if (!image) return { kind: 'unknown', runner, exact: false, autoInstall: false, hostAccess, shellWrapper: false };
  const digest = /@sha256:[0-9a-f]{64}$/.test(image);
  return { kind: 'oci', runner, image, exact: digest, autoInstall: flags.get('--pull') === 'always', hostAccess, shellWrapper: false };
}

/**
 * What `entry` runs. `hash(file)` gives the SHA-256 of a local file that exists (or undefined), so the
 * caller decides where relative paths start and how large a file may be read.
 */
export function analyseSupply(entry: ServerEntry, hash: (file: string) => { file: string; sha256: string } | undefined): Supply {
  if (entry.command === undefined) {
    return { kind: entry.url ? 'remote' : 'unknown', exact: entry.url !== undefined, autoInstall: false, hostAccess: [], shellWrapper: false };
  }
  const cmd = base(entry.command);
  const args = entry.args;
  const plain: Supply = { kind: 'command', exact: false, autoInstall: false, hostAccess: [], shellWrapper: false };
  if (NPM_RUNNERS.has(cmd.replace(/\.cmd$/, ''))) return npm(cmd.replace(/\.cmd$/, ''), args);
  if ((cmd === 'npm' || cmd === 'npm.cmd') && (args[0] === 'exec' || args[0] === 'x')) return npm('npm exec', args.slice(1));
  if ((cmd === 'pnpm' || cmd === 'yarn') && args[0] === 'dlx') return npm(`${cmd} dlx`, args.slice(1));
  if (cmd === 'bun' && args[0] === 'x') return npm('bunx', args.slice(1));
  if (cmd === 'uvx') return pypi('uvx', args);
  if (cmd === 'uv' && args[0] === 'tool' && args[1] === 'run') return pypi('uv tool run', args.slice(2));
  if (cmd === 'pipx' && args[0] === 'run') return pypi('pipx run', args.slice(1));
  if (cmd === 'docker' || cmd === 'podman' || cmd === 'nerdctl') return oci(cmd, args);
  if (SHELLS.has(cmd) && args.some((a) => /^(?:-c|\/c|-command|-encodedcommand)$/i.test(a))) return { ...plain, shellWrapper: true };
  // What an interpreter runs is its script (read as the interpreter reads its flags), and only when
  // nothing else loads code — loader flags, inline code, a module — can a file pin cover it.
  const launch = analyseLaunch(entry.command, args);
  if (launch.interpreter || cmd === 'env') {
    if (launch.script === undefined || launch.module !== undefined || launch.unpinned.length > 0 || Object.keys(launch.wrapperEnv).length > 0) return plain;
    const hashed = hash(launch.script);
    return { ...plain, kind: 'local', file: hashed?.file ?? launch.script, ...(hashed ? { sha256: hashed.sha256 } : {}) };
  }
  if (/[/\\]/.test(entry.command)) {
    const hashed = hash(entry.command);
    return { ...plain, kind: 'local', file: hashed?.file ?? entry.command, ...(hashed ? { sha256: hashed.sha256 } : {}) };
  }
  return plain;
}
