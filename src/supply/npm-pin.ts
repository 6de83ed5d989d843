/**
 * npm pins bind the code that runs (redteam-a F8, F19): the package must be installed where its
 * lockfile says, the command must run a file of *that* directory, and the directory's code files must
 * be the ones recorded when the pin was first used.
 *
 * - **Where it is installed.** `<root>/node_modules/<name>` of the first root (the server's `cwd`, else
 *   Portcullis' own folder) whose `node_modules/.package-lock.json` lists the package; the entry must
 *   have the pinned version and integrity (npm checked the integrity when it extracted the tarball).
 * - **What runs.** A command that resolves (symbolic links followed) to a file of that directory, or an
 *   interpreter (`node`, `bun`) whose script does. A fetching runner (`npx`, `npm exec`/`npm x`,
 *   `pnpm dlx`, `pnpx`, `bunx`, `bun x`, `yarn dlx`) would resolve the spec itself — through whatever
 *   registry, mirror, `.npmrc`, `npm_config_*` variable or cache it is given — so it is never started:
 *   the form `<runner> [-y] name@version [args]` naming exactly the pinned spec is launched as the
 *   package's own bin from the verified directory with this Node (`process.execPath`); any other runner
 *   form (other options, another spec, several packages) is refused.
 * - **Its files.** Every file Node can load as code or module metadata (`CODE_FILE`) under the
 *   directory, nested `node_modules` left out, is hashed (SHA-256) at every start and compared with the
 *   record made at the first start (kept in the sealed pins file): a changed, removed or added code
 *   file refuses the start and is named. At the first start, if npm's cache still holds the tarball
 *   with the pinned integrity, the installed files must first match it.
 *
 * Not checked: the files of the package's dependencies (their lockfile entries are npm's; hashing the
 * whole closure of server-filesystem is 107 packages, see docs/supply-chain.md), files that are not
 * code (README, data a server keeps beside its code), a directory modified before the first start
 * when the cache no longer holds its tarball. A file swapped between this check and Node reading it
 * is out of reach: every folder and code file of the package, and every folder on the way to it, must
 * be unchangeable by other uids (trusted-path.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { analyseLaunch } from './launch.ts';
import type { PinStore } from './pins.ts';
import { createTrustedPaths, type TrustedPaths } from './trusted-path.ts';

export interface NpmInstall {
  name: string;
  version: string;
  integrity?: string;
  /** The package's directory, symbolic links resolved. */
  dir: string;
}

/** How to start the server instead of its configured command (a runner replaced by the package's bin). */
export interface Launch {
  command: string;
  args: string[];
}

/** Splits `name@version` (the name may be scoped: `@scope/name@1.2.3`). */
export function splitSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name: spec, version: '' };
}

/** The installed package of a pin, or why there is none that matches. */
export function findInstall(spec: string, integrity: string | undefined, roots: readonly string[]): NpmInstall | { problem: string } {
  const { name, version } = splitSpec(spec);
  for (const root of roots) {
    const lock = join(root, 'node_modules', '.package-lock.json');
    if (!existsSync(lock)) continue;
    const packages = (JSON.parse(readFileSync(lock, 'utf8')) as { packages?: Record<string, { version?: string; integrity?: string }> }).packages ?? {};
    const entry = packages[`node_modules/${name}`];
    if (!entry) continue;
    if (entry.version !== version) return { problem: `${name} ${entry.version ?? '?'} is installed in ${root}, the pin says ${version}` };
    if (integrity && entry.integrity !== integrity) return { problem: `${spec} in ${root}: its integrity differs from the pin` };
    const dir = join(root, 'node_modules', name);
    if (!existsSync(join(dir, 'package.json'))) return { problem: `${spec} is in the lockfile of ${root} but its folder ${dir} is missing` };
    return { name, version, ...(entry.integrity ? { integrity: entry.integrity } : {}), dir: realpathSync(dir) };
  }
  return { problem: `npm package ${name} is not installed in ${roots.join(' or ')}` };
}

/**
 * Whether `file` is one of the package's own verified files: inside `dir`, not in a nested
 * `node_modules` (a dependency, not hashed) and of a kind the file check hashes (CODE_FILE).
 */
function isVerifiedFile(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return false;
  const parts = rel.split(sep);
  return !parts.includes('node_modules') && CODE_FILE.test(parts.join('/'));
}

function realFile(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

/** Options a runner may carry before the spec: they change no resolution (anything else is refused). */
const QUIET_OPTIONS = new Set(['-y', '--yes', '-q', '--quiet', '--silent']);

/**
 * The runner of `command args`, when it is one that fetches: its name and the arguments after the
 * subcommand (`npm exec`, `pnpm dlx`, `bun x`, `yarn dlx`).
 */
export function fetchingRunner(command: string, args: readonly string[]): { runner: string; rest: readonly string[] } | undefined {
  const program = basename(command).replace(/\.(?:cmd|exe|js|cjs|mjs)$/i, '').replace(/-cli$/, '');
  if (program === 'npx' || program === 'pnpx' || program === 'bunx') return { runner: program, rest: args };
  const sub = args[0];
  if (program === 'npm' && (sub === 'exec' || sub === 'x')) return { runner: `npm ${sub}`, rest: args.slice(1) };
  if (program === 'pnpm' && sub === 'dlx') return { runner: 'pnpm dlx', rest: args.slice(1) };
  if (program === 'bun' && sub === 'x') return { runner: 'bun x', rest: args.slice(1) };
  if (program === 'yarn' && sub === 'dlx') return { runner: 'yarn dlx', rest: args.slice(1) };
  return undefined;
}

/** The bin npm would run for a package (its only bin, else the one named like the package). */
function packageBin(dir: string, name: string): string | { problem: string } {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const plain = name.slice(name.indexOf('/') + 1);
  const bins = typeof manifest.bin === 'string' ? { [plain]: manifest.bin } : (manifest.bin ?? {});
  const entries = Object.entries(bins);
  const chosen = entries.length === 1 ? entries[0]![1] : bins[plain];
  if (chosen === undefined) return { problem: `${name} has ${entries.length === 0 ? 'no bin' : `several bins (${Object.keys(bins).join(', ')}) and none named ${plain}`} to run` };
  const file = realFile(resolve(dir, chosen));
  if (!file || !isVerifiedFile(file, dir)) return { problem: `the bin ${chosen} of ${name} is not a code file of the package in ${dir} (the files verified are listed in docs/supply-chain.md)` };
  return file;
}

/** Whether a file runs under Node: a JavaScript extension, or a `#!` line naming node. */
function isNodeScript(file: string): boolean {
  if (/\.(?:c|m)?js$/.test(file)) return true;
  const head = readFileSync(file, { encoding: 'utf8', flag: 'r' }).slice(0, 200);
  return /^#!.*\bnode\b/.test(head);
}


/**
 * How the server runs the installed package: unchanged (its command or script is a file of the
 * directory), as the package's bin (a fetching runner named the pinned spec), or refused.
 */
export function npmLaunch(
  install: NpmInstall,
  spec: string,
  server: { command: string; args: readonly string[] },
  cwd: string,
  /** The command as found (on PATH, or relative to `cwd`), if it was. */
  commandFile: string | undefined,
): { launch?: Launch } | { problem: string } {
  const runner = fetchingRunner(server.command, server.args);
  if (runner) {
    let i = 0;
    while (i < runner.rest.length && QUIET_OPTIONS.has(runner.rest[i]!)) i += 1;
    const named = runner.rest[i];
    if (named !== spec) {
      const why = named === undefined ? 'names no package' : named.startsWith('-') ? `has the option ${named}, which may change what it resolves` : `names ${named}`;
      return { problem: `${runner.runner} resolves and fetches packages itself and ${why}: run it as "${runner.runner} -y ${spec} [args]" (started from the verified install), or run node with a file of ${install.dir}` };
    }
    const bin = packageBin(install.dir, install.name);
    if (typeof bin !== 'string') return bin;
    if (!isNodeScript(bin)) return { problem: `the bin ${relative(install.dir, bin)} of ${spec} is not a Node script; run it directly as the command instead of through ${runner.runner}` };
    const rest = runner.rest.slice(i + 1);
    return { launch: { command: process.execPath, args: [bin, ...(rest[0] === '--' ? rest.slice(1) : rest)] } };
  }
  const command = commandFile === undefined ? undefined : realFile(commandFile);
  if (command && isVerifiedFile(command, install.dir)) return {};
  const launch = analyseLaunch(server.command, server.args);
  if (launch.interpreter === 'node' || launch.interpreter === 'bun') {
    // The script as the interpreter reads its command line (flags that load other code are judged elsewhere).
    const script = launch.script;
    const file = script === undefined ? undefined : realFile(resolve(cwd, script));
    if (file && isVerifiedFile(file, install.dir)) return {};
    return { problem: `the command runs ${file ?? script ?? 'no script'}, which is not a file of the pinned package in ${install.dir} (its own code files, outside nested node_modules)` };
  }
  return { problem: `the command does not run the pinned package ${spec} (run a file of ${install.dir}, or "npx -y ${spec}")` };
}

/**
 * Files Node can load as code or module metadata (`require`/`import` of a name without an extension
 * tries the bare name, so extensionless files count too). Other files are not compared.
 */
const CODE_FILE = /(?:\.(?:c|m)?[jt]s|\.json|\.node|\.wasm|(?:^|[/\\])[^./\\]+)$/;
/** No package has this many files; a directory that does is not walked to the end. */
const MAX_FILES = 50_000;

/**
 * SHA-256 (hex) of every code file of an installed package, by path relative to it; nested
 * node_modules left out. With `trust`, refused when another uid could change a folder or code file.
 */
export function packageFiles(dir: string, trust?: TrustedPaths): { files: Record<string, string> } | { problem: string } {
  const files: Record<string, string> = {};
  let count = 0;
  const walk = (folder: string): string | undefined => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      const rel = relative(dir, full).split(sep).join('/');
      // `trust`: every folder and code file must be beyond the reach of other uids (F18), so what is
      // hashed is what Node reads; a nested node_modules folder is judged but not entered.
      const judged = trust !== undefined && (entry.isDirectory() || CODE_FILE.test(rel));
      const untrusted = !judged ? undefined : entry.isSymbolicLink() ? trust.problem(full) : trust.entryProblem(full, lstatSync(full));
      if (untrusted) return `${untrusted}; the package could be changed after its check`;
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules') continue;
        const problem = walk(full);
        if (problem) return problem;
        continue;
      }
      if (!CODE_FILE.test(rel)) continue;
      if (++count > MAX_FILES) return `more than ${MAX_FILES} files under ${dir}`;
      if (entry.isSymbolicLink()) files[rel] = `symlink:${readlinkSync(full)}`;
      else if (entry.isFile()) files[rel] = createHash('sha256').update(readFileSync(full)).digest('hex');
      else files[rel] = `special:${lstatSync(full).mode.toString(8)}`;
    }
    return undefined;
  };
  const problem = walk(dir);
  return problem ? { problem } : { files };
}

/** The largest unpacked tarball read from the npm cache (a package past it is recorded unanchored). */
const MAX_TARBALL_BYTES = 256 * 1024 * 1024;

/**
 * SHA-256 of each regular file of a package tarball (gzip + ustar, pax and GNU long names), by path
 * with the first component (`package/`) removed, as npm extracts it (POSIX.1-2001 pax, ustar header
 * layout: name 0–100, size 124–136 octal, type 156, prefix 345–500).
 */
export function tarballFiles(tgz: Buffer): Record<string, string> {
  // node:zlib is required here, on the first tarball read, not at start: ~1–2 MB resident that a
  // gateway whose servers need no tarball (the embedded default, with no npm cache) never uses.
  const { gunzipSync } = createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  const tar = gunzipSync(tgz, { maxOutputLength: MAX_TARBALL_BYTES });
  const text = (from: number, to: number): string => {
    const slice = tar.subarray(from, to);
    const end = slice.indexOf(0);
    return slice.subarray(0, end < 0 ? slice.length : end).toString('utf8');
  };
  const files: Record<string, string> = {};
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length; ) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    const size = Number.parseInt(text(at + 124, at + 136).trim() || '0', 8);
    const type = String.fromCharCode(tar[at + 156] ?? 0);
    const prefix = text(at + 257, at + 263).startsWith('ustar') ? text(at + 345, at + 500) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(at, at + 100)}` : text(at, at + 100));
    const body = tar.subarray(at + 512, at + 512 + size);
    longName = undefined;
    if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    else if (type === 'L') longName = body.toString('utf8').replace(/\0+$/, '');
    else if (type === '0' || type === '\0') files[name.replace(/^[^/]*\//, '')] = createHash('sha256').update(body).digest('hex');
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * The code files of the tarball with the pinned integrity, read from npm's content-addressed cache
 * (`<cache>/content-v2/<algorithm>/<hex digest split 2/2/rest>`) after checking its digest; undefined
 * when the cache does not hold it.
 */
export function cachedTarballFiles(cacheDir: string, integrity: string): Record<string, string> | undefined {
  const match = /^(sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/.exec(integrity);
  if (!match) return undefined;
  const [, algorithm, digest] = match as unknown as [string, string, string];
  const hex = Buffer.from(digest, 'base64').toString('hex');
  const file = join(cacheDir, 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  if (!existsSync(file)) return undefined;
  const tgz = readFileSync(file);
  if (createHash(algorithm).update(tgz).digest('base64') !== digest) return undefined;
  try {
    return Object.fromEntries(Object.entries(tarballFiles(tgz)).filter(([rel]) => CODE_FILE.test(rel)));
  } catch {
    return undefined;
  }
}

/** What differs between the recorded files and the ones installed now (each file named), or undefined. */
export function filesDiffer(recorded: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string | undefined {
  const differences: string[] = [];
  for (const [file, hash] of Object.entries(recorded)) {
    if (!(file in now)) differences.push(`${file} was removed`);
    else if (now[file] !== hash) differences.push(`${file} was modified`);
  }
  for (const file of Object.keys(now)) if (!(file in recorded)) differences.push(`${file} was added`);
  if (differences.length === 0) return undefined;
  const shown = differences.slice(0, 3).join(', ');
  return differences.length > 3 ? `${shown} and ${differences.length - 3} more` : shown;
}

/** Where the file records of npm pins live: an entry of the sealed pins file per package version. */
export interface PackageRecords {
  /** Why the pins file cannot be relied on (untrusted), or undefined. */
  untrusted(): string | undefined;
  recorded(spec: string): { integrity?: string; files: Record<string, string> } | undefined;
  /** Records the files at first use; absent in commands that write nothing (`config check`, `scan`). */
  record?: (spec: string, integrity: string | undefined, files: Record<string, string>, by: string) => void;
  /** Keeps files that differ for review (`portcullis pin diff | approve npm:<spec>`); absent where nothing is written. */
  hold?: (spec: string, integrity: string | undefined, files: Record<string, string>, reason: string) => void;
}

/** The pins-file entry (a pseudo-server no server name can take: names have no colon) and key of a package's files. */
export const packageEntry = (spec: string): string => `npm:${spec}`;
export const PACKAGE_FILES_KEY = 'files';

/** A package's files verified against their record (made now if there is none and the store may write). */
export function verifyPackageFiles(
  install: NpmInstall,
  spec: string,
  records: PackageRecords,
  npmCacheDir?: string,
  trust: TrustedPaths = createTrustedPaths(),
): { files: number; firstUse: boolean; anchored?: boolean } | { problem: string } {
  const untrusted = records.untrusted();
  if (untrusted !== undefined) return { problem: `the files of ${spec} cannot be verified: the pins file is untrusted (${untrusted})` };
  const reach = trust.problem(install.dir);
  if (reach !== undefined) return { problem: `the package ${spec} in ${install.dir} could be changed after its check: ${reach}` };
  const walked = packageFiles(install.dir, trust);
  if ('problem' in walked) return walked;
  const { files } = walked;
  const count = Object.keys(files).length;
  const recorded = records.recorded(spec);
  if (!recorded) {
    // First use: where npm's cache still holds the tarball with the pinned integrity, the installed
    // files must be the tarball's (files added by an install script are recorded as found).
    const tarball = npmCacheDir !== undefined && install.integrity ? cachedTarballFiles(npmCacheDir, install.integrity) : undefined;
    if (tarball) {
      const differs = filesDiffer(tarball, Object.fromEntries(Object.entries(files).filter(([file]) => file in tarball)));
      if (differs !== undefined) return { problem: `the installed files of ${spec} in ${install.dir} differ from its registry tarball (the one with the pinned integrity, in the npm cache): ${differs}` };
    }
    records.record?.(spec, install.integrity, files, tarball ? 'first-use, matched the registry tarball' : 'first-use');
    return { files: count, firstUse: true, ...(tarball ? { anchored: true } : {}) };
  }
  if (recorded.integrity !== install.integrity) return { problem: `the files of ${spec} were recorded for integrity ${recorded.integrity ?? '(none)'}, the installed package has ${install.integrity ?? '(none)'} (portcullis pin reset ${packageEntry(spec)} to record again)` };
  const differs = filesDiffer(recorded.files, files);
  if (differs === undefined) return { files: count, firstUse: false };
  const problem = `the installed files of ${spec} in ${install.dir} differ from those recorded at its first start: ${differs}`;
  records.hold?.(spec, install.integrity, files, problem);
  return { problem };
}

/** Package file records kept in the sealed pins file; `write` false for commands that change nothing. */
export function pinStoreRecords(pins: PinStore, write: boolean): PackageRecords {
  const definition = (integrity: string | undefined, files: Record<string, string>): Record<string, unknown> => ({ ...(integrity ? { integrity } : {}), files });
  return {
    untrusted() {
      pins.reload(0);
      const integrity = pins.integrity();
      return integrity.ok ? undefined : integrity.problem;
    },
    recorded(spec) {
      const pin = pins.pinned(packageEntry(spec), PACKAGE_FILES_KEY);
      if (!pin) return undefined;
      const { integrity, files } = pin.definition as { integrity?: unknown; files?: unknown };
      const map = typeof files === 'object' && files !== null ? (files as Record<string, string>) : {};
      return { ...(typeof integrity === 'string' ? { integrity } : {}), files: map };
    },
    ...(write
      ? {
          record(spec: string, integrity: string | undefined, files: Record<string, string>, by: string) {
            pins.pin(packageEntry(spec), PACKAGE_FILES_KEY, definition(integrity, files), by);
            pins.save();
          },
          hold(spec: string, integrity: string | undefined, files: Record<string, string>, reason: string) {
            if (pins.hold(packageEntry(spec), PACKAGE_FILES_KEY, definition(integrity, files), reason)) pins.save();
          },
        }
      : {}),
  };
}
