/**
 * Generated coverage check (issue 21): every error code of `ERROR_MAP` is asserted somewhere in test/,
 * and every key of the config schema (the JSON Schema generated from src/config/, as in schema/config.json) — and every value
 * of a key that takes a fixed set of values — appears in at least one test config.
 *
 * What counts, read statically from the test sources (comments stripped):
 * - a code counts when its quoted literal ('PC_X', "PC_X" or `PC_X`) stands in a statement that asserts
 *   (`assert…`, `.equal`, `.match`, `expect`) or compares a code (`code`), in a test file other than this folder's check;
 * - a key `a.b.c` counts when a test source writes `c` as an object or YAML key (`c:`, `"c":`) and, in the
 *   same file, its nearest named ancestor `b` as a key too (record and array levels are skipped), so a
 *   `url:` of some unrelated object does not count for `audit.sinks[].url` unless `sinks:` is there as well;
 * - an enumerated value counts when some test source writes it against its key (`store: 'stdout'`,
 *   `store: stdout`, `"store":"stdout"`).
 * The few exclusions below are codes no request from outside can produce, each with its reason.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { configJsonSchema } from '../../src/cli/config.ts';
import { ERROR_MAP } from '../../src/errors.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const TEST_DIR = join(ROOT, 'test');
const SELF_DIR = join(TEST_DIR, 'coverage');

/** Codes that nothing outside the gateway can cause; keep this tiny, one reason each. */
const UNREACHABLE: Readonly<Record<string, string>> = {
  PC_INTERNAL: 'a bug (an exception a stage threw); mapped to -32603 with a correlation id, never reachable by design',
};

interface Source {
  readonly path: string;
  /** The text with comments blanked out (string contents kept). */
  readonly code: string;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    // TypeScript only: every Portcullis test config is built in test code; the YAML and JSON files under
    // test/ are other programs' configs (test/fixtures/discover) and corpora, which must not count.
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Blanks `//` and `/* *\/` comments outside string and template literals (enough for our sources). */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let quote: string | undefined;
  while (i < text.length) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === quote) quote = undefined;
      i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      quote = c;
      out += c;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/' && text[i - 1] !== ':') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

const SELF = new URL(import.meta.url).pathname;
const sources: Source[] = listSources(TEST_DIR)
  .filter((path) => path !== SELF)
  .map((path) => ({ path, code: stripComments(readFileSync(path, 'utf8')) }));
const testFiles = sources.filter((s) => s.path.endsWith('.test.ts'));

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Before a key: a line start, a space, `{`, `,`, `(`, `[`, or a `\n` escape (YAML written in a string). */
const BEFORE_KEY = '(?:^|[\\s{,(\\[]|\\\\n)';
const keyPattern = (key: string): RegExp => new RegExp(`${BEFORE_KEY}(?:${escape(key)}|"${escape(key)}"|'${escape(key)}')\\s*:(?!:)`, 'm');

/** Whether `source` asserts `code` as a code. */
function asserts(source: Source, code: string): boolean {
  const literal = new RegExp(`['"\`]${code}['"\`]`, 'g');
  for (const m of source.code.matchAll(literal)) {
    // The statement around the literal: from the previous ';' or blank line to the next.
    const start = Math.max(source.code.lastIndexOf(';', m.index), source.code.lastIndexOf('\n\n', m.index), 0);
    const endSemi = source.code.indexOf(';', m.index);
    const statement = source.code.slice(start, endSemi === -1 ? undefined : endSemi);
    if (/assert|\.equal|\.match|expect|code/i.test(statement.replace(literal, ''))) return true;
  }
  return false;
}

interface SchemaKey {
  /** Dotted path; `*` for a record level, `[]` for an array level. */
  readonly path: string;
  readonly values: readonly string[];
}

type JsonSchema = Record<string, any>;

/** Every key of the JSON schema, with its fixed values when it has any. */
function schemaKeys(schema: JsonSchema): SchemaKey[] {
  const keys = new Map<string, Set<string>>();
  const resolve = (node: JsonSchema): JsonSchema => {
    if (typeof node.$ref !== 'string') return node;
    let target: any = schema;
    for (const part of node.$ref.replace(/^#\//, '').split('/')) target = target[part];
    return target as JsonSchema;
  };
  const valuesOf = (node: JsonSchema, into: Set<string>, depth = 0): void => {
    if (depth > 20) return;
    const n = resolve(node);
    if (Array.isArray(n.enum)) for (const v of n.enum) if (typeof v === 'string') into.add(v);
    if (typeof n.const === 'string') into.add(n.const);
    for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(n[k])) for (const c of n[k]) valuesOf(c, into, depth + 1);
  };
  const walk = (node: JsonSchema, prefix: string[], depth: number): void => {
    if (depth > 40) return;
    const n = resolve(node);
    for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(n[k])) for (const c of n[k]) walk(c, prefix, depth + 1);
    if (n.properties) {
      for (const [name, child] of Object.entries<JsonSchema>(n.properties)) {
        const path = [...prefix, name].join('.');
        const values = keys.get(path) ?? new Set<string>();
        valuesOf(child, values);
        keys.set(path, values);
        walk(child, [...prefix, name], depth + 1);
      }
    }
    if (n.additionalProperties && typeof n.additionalProperties === 'object') walk(n.additionalProperties, [...prefix, '*'], depth + 1);
    if (n.items && typeof n.items === 'object') walk(n.items, [...prefix, '[]'], depth + 1);
  };
  walk(schema, [], 0);
  return [...keys].map(([path, values]) => ({ path, values: [...values] }));
}

/** The nearest named ancestor of a key path (skipping `*` and `[]` levels), or undefined at the top. */
function namedParent(path: string): string | undefined {
  const parts = path.split('.').slice(0, -1).filter((p) => p !== '*' && p !== '[]');
  return parts[parts.length - 1];
}

const leafOf = (path: string): string => path.split('.').pop()!;

function keyCovered(path: string): boolean {
  const leaf = keyPattern(leafOf(path));
  const parent = namedParent(path);
  const parentPattern = parent === undefined ? undefined : keyPattern(parent);
  return sources.some((s) => leaf.test(s.code) && (parentPattern === undefined || parentPattern.test(s.code)));
}

function valueCovered(path: string, value: string): boolean {
  const k = escape(leafOf(path));
  const v = escape(value);
  const pattern = new RegExp(`${BEFORE_KEY}(?:${k}|"${k}"|'${k}')\\s*:\\s*(?:'${v}'|"${v}"|${v}(?![\\w-]))`, 'm');
  return sources.some((s) => pattern.test(s.code));
}

describe('coverage of error codes and config keys', () => {
  it('asserts every error code somewhere in test/', () => {
    const codes = Object.keys(ERROR_MAP);
    assert.ok(codes.length > 40, 'the code map was read');
    for (const code of Object.keys(UNREACHABLE)) assert.ok(codes.includes(code), `exclusion ${code} names no code`);
    const missing = codes.filter((code) => !(code in UNREACHABLE) && !testFiles.some((s) => asserts(s, code)));
    assert.deepEqual(missing, [], `error codes no test asserts:\n  ${missing.join('\n  ')}`);
  });

  it('puts every config key, and every value of an enumerated key, in some test config', () => {
    // Generated from the zod schema in src/config/ (what `npm run schema` writes to schema/config.json), so a
    // key added there counts even before the file is regenerated.
    const schema = JSON.parse(configJsonSchema()) as JsonSchema;
    const keys = schemaKeys(schema);
    assert.ok(keys.length > 200, `the schema was read (${keys.length} keys)`);
    const missingKeys = keys.filter((k) => !keyCovered(k.path)).map((k) => k.path);
    // A value is looked for against its key's name, so it is reported once per name (first path shown).
    const missingValues = [...new Map(keys.flatMap((k) => k.values.filter((v) => !valueCovered(k.path, v)).map((v) => [`${leafOf(k.path)}: ${v}`, `${k.path}: ${v}`] as const))).values()];
    const missing = [...missingKeys, ...missingValues];
    assert.deepEqual(missing, [], `config keys or values no test config uses:\n  ${missing.join('\n  ')}`);
  });

  it('reads sources the way it claims to', () => {
    // The check itself must be able to fail: a key only in a comment, or a code outside an assertion, does not count.
    const probe: Source = { path: 'probe', code: stripComments("// allowedOrigins: ['x']\nconst a = 'PC_X_Y';\nassert.equal(b, 'PC_Z');") };
    assert.equal(keyPattern('allowedOrigins').test(probe.code), false);
    assert.equal(asserts(probe, 'PC_X_Y'), false);
    assert.equal(asserts(probe, 'PC_Z'), true);
    assert.equal(namedParent('audit.sinks.[].url'), 'sinks');
    assert.ok(relative(ROOT, SELF_DIR) === join('test', 'coverage'));
  });
});
