/**
 * Secret references: `env:NAME` reads the gateway's environment, `file:/path` reads a file (trailing
 * newline dropped). Resolved values are only handed to the connector that needs them; they are never
 * logged, printed or put in an error message — errors name the reference, not the value.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { SECRET_REF } from './names.ts';

export interface SecretSource {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

/** A secret is short; a larger file is not one (and reading `/dev/zero` would never end). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * Reads a secret file: a regular file of at most MAX_SECRET_FILE_BYTES, not under /proc, /sys or /dev
 * (a FIFO would block the gateway forever, a device never ends, `/proc/self/environ` is the gateway's
 * whole environment). Opened without blocking and checked on the descriptor, so what is checked is
 * what is read.
 */
function readSecretFile(path: string): string {
  if (/^\/(?:proc|sys|dev)(?:\/|$)/.test(path)) throw Object.assign(new Error(`${path} is not a secret file`), { code: 'ENOTREGULAR' });
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREGULAR' });
    if (stat.size > MAX_SECRET_FILE_BYTES) throw Object.assign(new Error(`${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes`), { code: 'ETOOLARGE' });
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

export const processSecretSource = (env: Readonly<Record<string, string | undefined>>): SecretSource => ({
  env,
  readFile: readSecretFile,
});

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
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOTREGULAR' ? 'not a regular file (a secret file must be one, outside /proc, /sys and /dev)' : code === 'ETOOLARGE' ? `larger than ${MAX_SECRET_FILE_BYTES} bytes` : code ?? 'error';
      return { problem: `cannot read secret file ${path} (from "${value}"): ${why}` };
    }
  }
  return { value };
}
