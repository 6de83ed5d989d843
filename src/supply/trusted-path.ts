/**
 * Whether a local user other than the gateway's own and root could change what a path leads to
 * between the moment a pin check reads it and the moment the server's process reads it again
 * (redteam F18: a start-time TOCTOU). A pin check hashes files, then the server is spawned and its
 * interpreter opens them by name: if another uid can write a file, replace it (a directory it may
 * write on the way, without the sticky bit), or re-point a symbolic link on the way, it can swap the
 * code in that window. When no component can be changed by another uid, nothing but the gateway's
 * own uid and root can — and the gateway's own uid can attach a debugger to the gateway anyway, so
 * a file that only it and root can change is as trusted as the gateway itself.
 *
 * Judged, component by component from `/`, symbolic links followed (each link's own folder judged,
 * then its target): every directory passed must belong to root or the gateway's uid and not be
 * writable by group or others unless it has the sticky bit (then others may add entries but not
 * rename or remove ours: rename(2)/unlink(2) EPERM); the final entry must belong to root or the
 * gateway's uid and not be writable by group or others. POSIX ACLs are judged through the mode: a
 * named user or group with write access shows as the group write bit (the ACL mask, acl(5)).
 *
 * Not judged: a descriptor another process opened for writing before the file became read-only to
 * it, a filesystem whose content another uid controls whatever the owner shown (FUSE, NFS), Windows
 * (no uid: nothing is judged there), and the uid's group memberships (a group-writable entry is
 * refused even when the group has one member: `chmod g-w`).
 */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

/** How many symbolic links one path may pass through (Linux's own limit, path_resolution(7)). */
const MAX_LINKS = 40;

export interface TrustedPaths {
  /** Why something on the way to `path` (absolute) could be changed by another uid, or undefined. */
  problem(path: string): string | undefined;
  /** Why the entry `path`, already stat'ed (not followed), could be changed by another uid; its folders are judged by `problem`. */
  entryProblem(path: string, stats: Stats): string | undefined;
}

/** A judge for the gateway's uid (`uid`, default this process'); it remembers the folders it judged. */
export function createTrustedPaths(uid: number | undefined = process.getuid?.()): TrustedPaths {
  const folders = new Map<string, string | undefined>();
  const entryProblem = (path: string, stats: Stats): string | undefined => {
    if (uid === undefined) return undefined;
    if (stats.isSymbolicLink()) return undefined; // a link cannot be rewritten in place, only replaced in its folder
    if (stats.uid !== 0 && stats.uid !== uid) return `${path} belongs to uid ${stats.uid}, not to root or the gateway's uid ${uid} (that user could change it after the check: chown it)`;
    const writable = (stats.mode & 0o022) !== 0;
    if (writable && !(stats.isDirectory() && (stats.mode & 0o1000) !== 0)) {
      return `${path} is ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}: ${stats.isDirectory() ? 'a folder' : 'a file'} group or others may write (it could be changed after the check: chmod go-w ${path})`;
    }
    return undefined;
  };
  const walk = (path: string, links: number): string | undefined => {
    if (!isAbsolute(path)) return `${path} is not an absolute path`;
    const parts = path.split(sep).filter((p) => p !== '' && p !== '.');
    let current: string = sep;
    const root = judgeFolder(current);
    if (root) return root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '..') {
        current = resolve(current, '..');
        continue;
      }
      const next = join(current, part);
      const last = i === parts.length - 1;
      let stats: Stats;
      try {
        stats = lstatSync(next);
      } catch (error) {
        return `${next} cannot be examined (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
      }
      if (stats.isSymbolicLink()) {
        // The link's folder (`current`) is judged: nobody else can re-point it. Its target is judged next.
        if (links >= MAX_LINKS) return `${path} passes through more than ${MAX_LINKS} symbolic links`;
        const target = resolve(current, readlinkSync(next));
        return walk(join(target, ...parts.slice(i + 1)), links + 1);
      }
      if (!last && !stats.isDirectory()) return `${next} is not a folder`;
      const problem = last ? entryProblem(next, stats) : judgeFolder(next, stats);
      if (problem) return problem;
      current = next;
    }
    return undefined;
  };
  const judgeFolder = (folder: string, stats?: Stats): string | undefined => {
    if (folders.has(folder)) return folders.get(folder);
    let problem: string | undefined;
    try {
      problem = entryProblem(folder, stats ?? lstatSync(folder));
    } catch (error) {
      problem = `${folder} cannot be examined (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    folders.set(folder, problem);
    return problem;
  };
  return {
    problem: (path) => (uid === undefined ? undefined : walk(path, 0)),
    entryProblem,
  };
}
