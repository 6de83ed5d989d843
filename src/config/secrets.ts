/**
 * Secret references: `env:NAME` reads the gateway's environment, `file:/path` reads a file (trailing
 * newline dropped). Resolved values are only handed to the connector that needs them; they are never
 * logged, printed or put in an error message — errors name the reference, not the value.
 */
import { readFileSync } from 'node:fs';
import { SECRET_REF } from './names.ts';

export interface SecretSource {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

export const processSecretSource = (env: Readonly<Record<string, string | undefined>>): SecretSource => ({
  env,
  readFile: (path) => readFileSync(path, 'utf8'),
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
      return { problem: `cannot read secret file ${path} (from "${value}"): ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
    }
  }
  return { value };
}
