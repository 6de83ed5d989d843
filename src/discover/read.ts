/**
 * Reading client files that may hold secrets, safely: only regular files (a FIFO or a device behind a
 * config path would block or never end), at most `maxBytes`, opened once and checked on the open
 * descriptor. Parse errors say where (line and column) and what kind of error, never the text around
 * it: parser messages quote the source, and the source may be a secret.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { parseDocument } from 'yaml';
import type { Format } from './clients.ts';

/** Larger files are reported, not read (a client config is kilobytes; ~/.claude.json a few megabytes). */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024;

export type ReadResult =
  | { ok: true; bytes: Buffer; stat: Stats; realPath: string; symlink: boolean }
  | { ok: false; missing: boolean; problem: 'unreadable' | 'not-a-file' | 'too-large'; detail: string };

export function readConfigFile(path: string, maxBytes = MAX_CONFIG_BYTES): ReadResult {
  let symlink = false;
  try {
    symlink = lstatSync(path).isSymbolicLink();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, missing: code === 'ENOENT' || code === 'ENOTDIR', problem: 'unreadable', detail: code };
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, missing: code === 'ENOENT', problem: 'unreadable', detail: code };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, missing: false, problem: 'not-a-file', detail: stat.isDirectory() ? 'a directory' : 'not a regular file' };
    if (stat.size > maxBytes) return { ok: false, missing: false, problem: 'too-large', detail: `${stat.size} bytes (limit ${maxBytes})` };
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, bytes, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    let realPath = path;
    try {
      realPath = realpathSync(path);
    } catch {
      // keep the path as given
    }
    return { ok: true, bytes: bytes.subarray(0, read), stat, realPath, symlink };
  } catch (error) {
    return { ok: false, missing: false, problem: 'unreadable', detail: (error as NodeJS.ErrnoException).code ?? 'error' };
  } finally {
    closeSync(fd);
  }
}

export type ParseResult = { ok: true; doc: unknown } | { ok: false; line: number; column: number; reason: string };

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/** Parses a client document. JSON files are read as the client reads them (strict); JSONC allows comments and trailing commas. */
export function parseConfig(text: string, format: Format): ParseResult {
  try {
    if (format === 'json' || format === 'jsonc') {
      const errors: ParseError[] = [];
      const strict = format === 'json';
      const doc = parseJsonc(text, errors, { allowTrailingComma: !strict, disallowComments: strict, allowEmptyContent: true });
      if (errors.length > 0) {
        const first = errors[0]!;
        return { ok: false, ...position(text, first.offset), reason: printParseErrorCode(first.error) };
      }
      // jsonc-parser assigns "__proto__" keys as prototypes; JSON.parse keeps them as data.
      return { ok: true, doc: strict && text.trim() !== '' ? JSON.parse(text) : doc };
    }
    if (format === 'toml') return { ok: true, doc: parseToml(text) };
    const document = parseDocument(text, { uniqueKeys: false });
    if (document.errors.length > 0) {
      const first = document.errors[0]!;
      return { ok: false, line: first.linePos?.[0]?.line ?? 0, column: first.linePos?.[0]?.col ?? 0, reason: first.code };
    }
    return { ok: true, doc: document.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    const e = error as { line?: unknown; column?: unknown; name?: string };
    // smol-toml's TomlError carries line and column; its message quotes the source, so it is dropped.
    return { ok: false, line: typeof e.line === 'number' ? e.line : 0, column: typeof e.column === 'number' ? e.column : 0, reason: e.name === 'RangeError' ? 'nested too deeply' : (e.name ?? 'error') };
  }
}
