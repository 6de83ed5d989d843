/**
 * State on disk is private to the user the gateway runs as: directories 0700, files 0600. The process
 * umask (set to 077 at start in main.ts) covers what libraries create; these helpers cover what the
 * gateway creates itself, whatever the umask, and tighten what an older version left looser.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and its parents) as 0700, or narrows an existing one to 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  narrow(dir, PRIVATE_DIR_MODE);
}

/**
 * Makes sure `file` exists as a 0600 file before anything else opens it (SQLite gives its -wal and -shm
 * files the mode of the database file), narrowing an existing one.
 */
export function ensurePrivateFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  narrow(file, PRIVATE_FILE_MODE);
}

/** Writes `file` with mode 0600 (also when it already existed with a looser mode). */
export function writePrivateFile(file: string, data: string): void {
  writeFileSync(file, data, { mode: PRIVATE_FILE_MODE });
  narrow(file, PRIVATE_FILE_MODE);
}

/** Writes `data` to a new file that must not exist yet (never through a symlink), mode `mode`. */
export function createExclusive(path: string, data: Buffer | string, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `target` with `data` by rename from a fresh temporary file beside it. */
export function replaceFile(target: string, data: Buffer | string, mode: number): void {
  const temporary = join(dirname(target), `.${basename(target)}.portcullis-${randomBytes(6).toString('hex')}`);
  createExclusive(temporary, data, mode);
  try {
    renameSync(temporary, target);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
}

function narrow(path: string, mode: number): void {
  // Only ever removes permission bits; a file owned by someone else is left alone (and reported by
  // looseModes, since chmod would fail).
  try {
    const current = statSync(path).mode & 0o777;
    if ((current & ~mode) !== 0) chmodSync(path, current & mode);
  } catch {
    // reported by looseModes
  }
}

/**
 * Files and directories under `dataDir` (one level of files, the directory itself) that group or others
 * may read, write or enter, as "path: mode" lines for `status` and `config check`.
 */
export function looseModes(dataDir: string): string[] {
  if (!existsSync(dataDir)) return [];
  const problems: string[] = [];
  const check = (path: string, wanted: number): void => {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      return;
    }
    if ((mode & 0o077) !== 0) problems.push(`${path} is ${mode.toString(8).padStart(4, '0')} (want ${wanted.toString(8).padStart(4, '0')}; chmod ${wanted.toString(8)} ${path})`);
  };
  check(dataDir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
    if (entry.isFile()) check(join(dataDir, entry.name), PRIVATE_FILE_MODE);
    else if (entry.isDirectory()) check(join(dataDir, entry.name), PRIVATE_DIR_MODE);
  }
  return problems;
}
