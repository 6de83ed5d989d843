/**
 * The folders a filesystem MCP server (server-filesystem and its look-alikes) is given on its command
 * line, and which of them lie outside the project whose client file configured it (red team F16). A
 * checked-in project file (`.mcp.json`, `.cursor/mcp.json`, …) is written by whoever wrote the
 * project: a root of `..`, an absolute path elsewhere, or a folder of the project that is a symbolic
 * link out of it would hand the rest of the disk to the server once the file is imported or installed.
 * Symbolic links are resolved for folders that exist; a folder that does not exist yet is judged as
 * written (a link created there later is the path guard's to judge at call time).
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

const FILESYSTEM_SERVER = /server-filesystem|filesystem-mcp|mcp-filesystem/i;

/** Whether a stdio command line runs a filesystem server. */
export function isFilesystemServer(command: string | null, args: readonly string[]): boolean {
  return command !== null && [command, ...args].some((a) => FILESYSTEM_SERVER.test(a));
}

/** The roots a filesystem server's arguments name (the words after the package that are not options), absolute against `base`. */
export function filesystemRoots(args: readonly string[], base: string): string[] {
  const specAt = args.findIndex((a) => /filesystem/i.test(a));
  return args
    .slice(specAt + 1)
    .filter((a) => !a.startsWith('-'))
    .map((a) => (isAbsolute(a) ? a : resolve(base, a)));
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The roots that are not the project folder or inside it, symbolic links resolved where they exist. */
export function rootsOutside(roots: readonly string[], project: string): string[] {
  const top = real(project);
  return roots.filter((root) => {
    const rel = relative(top, real(root));
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  });
}
