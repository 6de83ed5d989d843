/**
 * The embedded default, validated without loading the schema.
 *
 * The configuration schema is built with zod, which with the schema's objects is several MB of the
 * gateway's resident memory for as long as it runs (see docs/performance.md, "Memory"). The embedded
 * default (`npm start` with no file) is the same document on every machine except for a few strings:
 * the data dir, the Node binary, the bundled filesystem server's script and pin, the user's name. So
 * `npm run schema` validates it once with the schema and stores the document and what validation made
 * of it (defaults filled in, warnings) in `schema/embedded-default.json`, with those strings replaced
 * by placeholders. At start the document is built as always; when it equals a stored document once
 * its strings are replaced the same way, the stored result with the strings put back is the validated
 * config, and zod is never loaded. Anything else — a relative data dir, an edited default, a stale
 * file — returns undefined and the caller validates with the schema, as before.
 * test/config/embedded-config.test.ts checks that both ways give the same config.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { deepFreeze } from '../util/deep-freeze.ts';
import type { ConfigProblem, LoadResult } from './load.ts';
import type { Config } from './schema.ts';
import { resolveValue, type SecretSource } from './secrets.ts';

export const SNAPSHOT_FILE = new URL('../../schema/embedded-default.json', import.meta.url);

/** One stored variant: the document with placeholders, and its validated result. */
export interface EmbeddedVariant {
  document: unknown;
  result: { config: unknown; warnings: ConfigProblem[] };
}

/** The strings of the document that differ between machines, by placeholder name. */
type Values = Record<string, string>;

/** The machine-specific strings of an embedded default document, or undefined when it is not shaped like one. */
export function embeddedValues(document: Record<string, unknown>): Values | undefined {
  const files = (document.servers as { files?: { command?: unknown; args?: unknown[]; pin?: { npm?: unknown; integrity?: unknown } } } | undefined)?.files;
  const user = (document.identity as { embedded?: { users?: Array<{ username?: unknown }> } } | undefined)?.embedded?.users?.[0]?.username;
  const values: Record<string, unknown> = { dataDir: document.dataDir, node: files?.command, script: files?.args?.[0], user };
  if (files?.pin) Object.assign(values, { pinNpm: files.pin.npm, pinIntegrity: files.pin.integrity });
  for (const value of Object.values(values)) if (typeof value !== 'string' || value === '' || /[\0-\x1f]|\$\{/.test(value)) return undefined;
  // Paths as the schema would see them only when absolute and normal (a relative --data-dir is validated).
  for (const name of ['dataDir', 'node', 'script'] as const) {
    const path = values[name] as string;
    if (!isAbsolute(path) || normalize(path) !== path || path === '/') return undefined;
  }
  return values as Values;
}

/** Every string with the values replaced by `${name}` (the user's name only where it is the whole string). */
export function generalize(value: unknown, values: Values): unknown {
  const order = Object.entries(values)
    .filter(([name]) => name !== 'user')
    .sort((a, b) => b[1].length - a[1].length);
  return mapStrings(value, (text) => (text === values.user ? '${user}' : order.reduce((out, [name, v]) => out.replaceAll(v, `\${${name}}`), text)));
}

/** The reverse of generalize. */
export function specialize(value: unknown, values: Values): unknown {
  return mapStrings(value, (text) => text.replace(/\$\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole));
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map)]));
  return value;
}

let variants: EmbeddedVariant[] | undefined;

function storedVariants(): EmbeddedVariant[] {
  try {
    variants ??= (JSON.parse(readFileSync(SNAPSHOT_FILE, 'utf8')) as { variants: EmbeddedVariant[] }).variants;
  } catch {
    variants = [];
  }
  return variants;
}

/**
 * The validated embedded default for this document, or undefined when the stored validation does not
 * apply to it (the caller then validates it with the schema). Secret references are resolved here as
 * validation resolves them, so an unreadable password file is the same problem either way.
 */
export function validatedEmbeddedDefault(document: Record<string, unknown>, source: SecretSource): LoadResult | undefined {
  const values = embeddedValues(document);
  if (!values) return undefined;
  const general = generalize(document, values);
  if (JSON.stringify(specialize(general, values)) !== JSON.stringify(document)) return undefined;
  const text = JSON.stringify(general);
  const variant = storedVariants().find((v) => JSON.stringify(v.document) === text);
  if (!variant) return undefined;
  const { config, warnings } = specialize(variant.result, values) as { config: Config; warnings: ConfigProblem[] };
  const problems: ConfigProblem[] = [];
  config.identity?.embedded?.users.forEach((user, i) => {
    const resolved = resolveValue(user.password, source);
    if ('problem' in resolved) problems.push({ path: `identity.embedded.users[${i}].password`, message: resolved.problem, severity: 'error' });
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: deepFreeze(config), warnings };
}
