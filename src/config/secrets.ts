/**
 * Secret references: `env:NAME` reads the gateway's environment, `file:/path` reads a file (trailing
 * newline dropped). Resolved values are only handed to the connector that needs them; they are never
 * logged, printed or put in an error message — errors name the reference, not the value.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { SECRET_REF } from './names.ts';

export interface SecretSource {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

export const processSecretSource = (env: Readonly<Record<string, string | undefined>>): SecretSource => ({
  env,
  readFile: readSecretFile,
});

/** A secret is small: a key, a token, a PEM file. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Why a secret file is refused; its `code` is what the problem message shows. */
class SecretFileError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

/**
 * Reads a `file:` secret: a regular file (links followed, as mounted secrets are links) of at most
 * 64 KiB outside /proc, /sys and /dev — never a FIFO that would hang start-up, a device that never
 * ends, or the process's own environment. Opened without blocking and checked on the open descriptor.
 */
export function readSecretFile(path: string): string {
  const real = realpathSync(path);
  if (/^\/(?:proc|sys|dev)(?:\/|$)/.test(real)) throw new SecretFileError(`it is under ${real.split('/')[1]}, not a file of secrets`);
  const fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SecretFileError('not a regular file');
    if (stat.size > MAX_SECRET_FILE_BYTES) throw new SecretFileError(`larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    const buffer = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
    if (length > MAX_SECRET_FILE_BYTES) throw new SecretFileError(`larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

export function isSecretRef(value: string): boolean {
  return SECRET_REF.test(value);
}

/** Resolves a literal-or-reference value; a problem is returned as a message naming the reference. */
export function resolveValue(value: string, source: SecretSource): { value: string } | { problem: string } {
  if (value.startsWith('env:') && isSecretRef(value)) {
    const name = value.slice(4);
    const found = source.env[name];
    if (found === undefined || found === '') return { problem: `environment variable ${name} (from "${value}") is not set` };
    return { value: found };
  }
  if (value.startsWith('file:') && isSecretRef(value)) {
    const path = value.slice(5);
    try {
      return { value: source.readFile(path).replace(/\r?\n$/, '') };
    } catch (error) {
      return { problem: `cannot read secret file ${path} (from "${value}"): ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
    }
  }
  return { value };
}
