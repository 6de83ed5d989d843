/**
 * Server pinning: a configured server starts only if what would run is what the admin pinned.
 *
 * - `pin: { sha256, file? }` — the SHA-256 of a local executable or script (`file`, default the
 *   command as found on PATH).
 * - `pin: { npm: "name@version", integrity: "sha512-…" }` — an npm package installed in a
 *   `node_modules` (the project's, or Portcullis' own): its lockfile entry must have exactly that
 *   version and integrity (npm verified the integrity when it installed the files), the command must
 *   run a file of that directory (a fetching runner such as npx is replaced by the package's bin), and
 *   its code files must be those recorded at the first start (npm-pin.ts).
 * - `pin: { image: "registry/name@sha256:…" }` — a container image by digest, which the args must name.
 * - `pin: { pypi: "name==version", venv?, record? }` — a Python package installed in a virtualenv: the
 *   installed version must match, every file its RECORD lists must still have the SHA-256 recorded
 *   there (PEP 376/627), and RECORD itself the pinned hash. Ephemeral environments (`uvx`) cannot be
 *   pinned this way: install the server into a virtualenv.
 * - HTTP servers are pinned by their exact URL.
 * An unpinned stdio server starts only with `supply.allowUnpinned: true`, and is flagged.
 *
 * A pinned stdio server starts only if no uid other than the gateway's and root could change what the
 * check read before the process reads it again (trusted-path.ts, redteam F18).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { isStdioServer } from '../config/names.ts';
import type { ServerConfig, StdioServerConfig } from '../config/schema.ts';
import { isSecretRef } from '../config/secrets.ts';
import { analyseLaunch, unpinnedCode } from './launch.ts';
import { findInstall, npmLaunch, verifyPackageFiles, type Launch, type PackageRecords } from './npm-pin.ts';
import { createTrustedPaths, type TrustedPaths } from './trusted-path.ts';

/** `launch`: how to start the server instead of its command (an npm runner replaced by the verified package's bin). */
export type PinCheck = { ok: true; pinned: boolean; what: string; launch?: Launch } | { ok: false; problem: string };

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function whichCommand(command: string, cwd: string, pathEnv: string | undefined): string | undefined {
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(cwd, command);
    return existsSync(full) ? full : undefined;
  }
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, command);
    // As execvp(3) searches: a file it may not execute is passed over.
    if (isExecutableFile(full)) return full;
  }
  return undefined;
}

/**
 * Why a pinned stdio server's pin does not cover what it runs, judged from its command line and
 * environment alone (no file is read): code loaded by flags or variables, inline code, a module, a
 * `pin.file` that is neither the command nor the script the command's interpreter runs, an interpreter
 * pinned instead of its script (npm pins: src/supply/npm-pin.ts). `config check` and every
 * start ask; undefined when it covers.
 */
export function pinCoverageProblem(server: StdioServerConfig, cwd: string): string | undefined {
  const pin = server.pin;
  if (!pin) return undefined;
  const outside = unpinnedCode(server, isSecretRef);
  if (outside.length > 0) return `${outside.map((o) => `${o.where}: ${o.why}`).join('; ')}: the pin does not cover that code (remove it, or run the server unpinned)`;
  const launch = analyseLaunch(server.command, server.args);
  const here = server.cwd ? resolve(cwd, server.cwd) : cwd;
  if (launch.module !== undefined && !pin.pypi) return `runs the module ${launch.module} from a search path: only a pypi pin covers it`;
  if (pin.sha256) {
    if (launch.interpreter) {
      if (launch.script === undefined) return `${server.command} runs no script file a sha256 pin could cover`;
      if (!pin.file) return `pin.sha256 would hash the interpreter ${server.command}, not the script ${launch.script} it runs: set pin.file: ${launch.script} and the sha256 of that file`;
      if (resolve(here, pin.file) !== resolve(here, launch.script)) return `pin.file ${pin.file} is not the script the interpreter runs (${launch.script}): pin that file`;
    } else if (pin.file && server.command.includes('/') && resolve(here, pin.file) !== resolve(here, server.command)) {
      return `pin.file ${pin.file} is not the command ${server.command}: pin the file that runs`;
    }
  }
  return undefined;
}

/**
 * Why a file the pin covers (or the program that runs it) could be swapped between its check and its
 * use by a local user other than the gateway's and root (trusted-path.ts), or undefined. The pinned
 * file itself must not be a symbolic link (pin the file it points to), so the pin names what is read.
 */
function swappableFile(file: string, trust: TrustedPaths, pinned: boolean): string | undefined {
  if (pinned && lstatSync(file).isSymbolicLink()) return 'is a symbolic link (it can be re-pointed after the check): pin the file it points to';
  const problem = trust.problem(file);
  return problem === undefined ? undefined : `could be swapped after the check: ${problem}`;
}

/**
 * Why what the start opens by name — the program (as found on PATH) and, for an interpreter, its
 * script — could be swapped after the check by another uid, or undefined. `launch`: the command that
 * replaces the configured one (an npm runner started as the package's bin).
 */
function swappableLaunch(server: StdioServerConfig, cwd: string, pathEnv: string | undefined, trust: TrustedPaths, launch?: Launch): string | undefined {
  const command = launch?.command ?? server.command;
  const args = launch?.args ?? server.args;
  const program = whichCommand(command, cwd, pathEnv);
  const script = analyseLaunch(command, args).script;
  const opened = [program, script === undefined ? undefined : resolve(cwd, script)];
  for (const path of opened) {
    const problem = path === undefined ? undefined : swappableFile(path, trust, false);
    if (problem) return `${path} ${problem}`;
  }
  return undefined;
}

export function checkServerPin(
  name: string,
  server: ServerConfig,
  context: { cwd: string; pathEnv: string | undefined; packageRoots: readonly string[]; allowUnpinned: boolean; packages?: PackageRecords | undefined; npmCacheDir?: string | undefined; trust?: TrustedPaths },
): PinCheck {
  if (!isStdioServer(server)) return { ok: true, pinned: true, what: `URL ${new URL(server.url).origin}${new URL(server.url).pathname}` };
  const pin = server.pin;
  if (!pin) {
    if (context.allowUnpinned) return { ok: true, pinned: false, what: 'unpinned (allowed by supply.allowUnpinned)' };
    return { ok: false, problem: `server "${name}" is not pinned (add servers.${name}.pin, or set supply.allowUnpinned: true to run unpinned servers)` };
  }
  const cwd = server.cwd ? resolve(context.cwd, server.cwd) : context.cwd;
  const trust = context.trust ?? createTrustedPaths();
  // The child looks its command up on its own PATH (the server's env.PATH when set, spawn(2) via
  // options.env): the program judged must be the one it finds (a PATH reference is refused above).
  const pathEnv = server.env?.PATH ?? context.pathEnv;
  const coverage = pinCoverageProblem(server, context.cwd);
  if (coverage !== undefined) return { ok: false, problem: `server "${name}": ${coverage}; refusing to start it` };
  if (pin.sha256) {
    const file = pin.file ? resolve(cwd, pin.file) : whichCommand(server.command, cwd, pathEnv);
    if (!file || !existsSync(file)) return { ok: false, problem: `server "${name}": pinned file ${pin.file ?? server.command} was not found` };
    // The file is hashed here and read again by the interpreter a moment later: nothing on its way
    // may be changeable by another uid (F18), nor the program that reads it.
    const swappable = swappableFile(file, trust, true);
    if (swappable) return { ok: false, problem: `server "${name}": pinned file ${file} ${swappable}; refusing to start it` };
    const opened = swappableLaunch(server, cwd, pathEnv, trust);
    if (opened) return { ok: false, problem: `server "${name}": ${opened}; refusing to start it` };
    // A command found on PATH: the pinned file must be the one that runs (symbolic links followed).
    const runs = analyseLaunch(server.command, server.args).interpreter ? undefined : whichCommand(server.command, cwd, pathEnv);
    if (runs !== undefined && realpathSync(runs) !== realpathSync(file)) return { ok: false, problem: `server "${name}": pin.file ${file} is not the command that runs (${runs}); refusing to start it` };
    const actual = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (actual !== pin.sha256.toLowerCase()) return { ok: false, problem: `server "${name}": ${file} has SHA-256 ${actual.slice(0, 16)}…, the pin says ${pin.sha256.slice(0, 16)}…; refusing to start it` };
    return { ok: true, pinned: true, what: `sha256 of ${file}` };
  }
  if (pin.npm) {
    const install = findInstall(pin.npm, pin.integrity, [cwd, ...context.packageRoots]);
    if ('problem' in install) return { ok: false, problem: `server "${name}": ${install.problem}; refusing to start it` };
    const runs = npmLaunch(install, pin.npm, server, cwd, whichCommand(server.command, cwd, pathEnv));
    if ('problem' in runs) return { ok: false, problem: `server "${name}": ${runs.problem}; refusing to start it` };
    if (!context.packages) return { ok: false, problem: `server "${name}": the files of ${pin.npm} cannot be verified here (no pins file); refusing to start it` };
    const opened = swappableLaunch(server, cwd, pathEnv, trust, runs.launch);
    if (opened) return { ok: false, problem: `server "${name}": ${opened}; refusing to start it` };
    const files = verifyPackageFiles(install, pin.npm, context.packages, context.npmCacheDir, trust);
    if ('problem' in files) return { ok: false, problem: `server "${name}": ${files.problem}; refusing to start it` };
    const how = runs.launch ? `, run as its bin ${runs.launch.args[0]}` : '';
    return { ok: true, pinned: true, what: `npm ${pin.npm}${pin.integrity ? ' with integrity' : ''} (${files.files} files ${files.firstUse ? (files.anchored ? 'recorded, matching the registry tarball' : 'recorded') : 'verified'}${how})`, ...(runs.launch ? { launch: runs.launch } : {}) };
  }
  if (pin.pypi) {
    const [pkg = '', version = ''] = pin.pypi.split('==');
    const command = whichCommand(server.command, cwd, pathEnv);
    const venv = pin.venv ? resolve(cwd, pin.venv) : command ? resolve(command, '..', '..') : undefined;
    if (!venv) return { ok: false, problem: `server "${name}": no virtualenv for ${pin.pypi} (set pin.venv)` };
    const opened = swappableLaunch(server, cwd, pathEnv, trust);
    if (opened) return { ok: false, problem: `server "${name}": ${opened}; refusing to start it` };
    const result = checkPythonRecord(venv, pkg, version, trust);
    if ('problem' in result) return { ok: false, problem: `server "${name}": ${result.problem}; refusing to start it` };
    if (pin.record && result.recordSha256 !== pin.record.toLowerCase()) return { ok: false, problem: `server "${name}": the RECORD of ${pin.pypi} differs from the pin; refusing to start it` };
    return { ok: true, pinned: true, what: `pypi ${pin.pypi} (${result.files} files verified)` };
  }
  if (pin.image) {
    if (!/@sha256:[0-9a-f]{64}$/.test(pin.image)) return { ok: false, problem: `server "${name}": pin.image must name a digest (…@sha256:<64 hex>)` };
    if (!server.args.includes(pin.image)) return { ok: false, problem: `server "${name}": the args do not run the pinned image ${pin.image}` };
    return { ok: true, pinned: true, what: `image ${pin.image}` };
  }
  return { ok: false, problem: `server "${name}": pin needs sha256, npm, pypi or image` };
}

/** Normalized distribution name (PEP 503): lowercase, runs of -_. become _ in dist-info directory names. */
function distName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}

/** Verifies an installed Python distribution against its RECORD (with `trust`: each file beyond other uids' reach); returns the RECORD's own hash. */
export function checkPythonRecord(venv: string, pkg: string, version: string, trust?: TrustedPaths): { files: number; recordSha256: string } | { problem: string } {
  const lib = join(venv, 'lib');
  if (!existsSync(lib)) return { problem: `no virtualenv at ${venv}` };
  for (const python of readdirSync(lib)) {
    const site = join(lib, python, 'site-packages');
    if (!existsSync(site)) continue;
    const info = readdirSync(site).find((d) => d.endsWith('.dist-info') && distName(d.slice(0, d.indexOf('-'))) === distName(pkg));
    if (!info) continue;
    const installed = info.slice(info.indexOf('-') + 1, -'.dist-info'.length);
    if (installed !== version) return { problem: `${pkg} ${installed} is installed in ${venv}, the pin says ${version}` };
    const recordPath = join(site, info, 'RECORD');
    if (!existsSync(recordPath)) return { problem: `${pkg} has no RECORD to verify` };
    const record = readFileSync(recordPath);
    let files = 0;
    for (const line of record.toString('utf8').split('\n')) {
      const [file, hash] = line.split(',');
      if (!file || !hash) continue; // RECORD lists itself (and .pyc files) without a hash
      const [algorithm, expected] = hash.split('=');
      if (algorithm !== 'sha256' || !expected) continue;
      const full = resolve(site, file);
      if (!existsSync(full)) return { problem: `${file} of ${pkg} is missing` };
      const reach = trust?.problem(full);
      if (reach !== undefined) return { problem: `${file} of ${pkg} could be changed after its check: ${reach}` };
      const actual = createHash('sha256').update(readFileSync(full)).digest('base64url');
      if (actual !== expected.replace(/=+$/, '')) return { problem: `${file} of ${pkg} does not match its RECORD (modified after install)` };
      files += 1;
    }
    return { files, recordSha256: createHash('sha256').update(record).digest('hex') };
  }
  return { problem: `${pkg} is not installed in ${venv}` };
}
