/**
 * Call arguments against the tool's `inputSchema` (JSON Schema; draft 2020-12 unless the schema names
 * draft-07), compiled once per schema (by its text). Validation is as strict as the
 * schema: types, ranges, required, additionalProperties — nothing coerced, no defaults filled in. A
 * schema that cannot be compiled refuses the call (fail closed), saying so.
 *
 * Schema patterns (`pattern`, `patternProperties`, `propertyNames`) run on a linear-time engine
 * (./linear-regex.ts): a server cannot stall the gateway with a catastrophic pattern. A schema whose
 * pattern that engine cannot run, or that cannot be compiled at all, makes the tool *unsafe*: hidden
 * from lists and refused (PC_ARGS_SCHEMA_UNSAFE), never served with its checks skipped. So is every
 * tool while the schema library cannot be loaded (./ajv.ts loads it with the first schema); that
 * verdict is not kept, so the next list or call tries again.
 */
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { ajvFor, type Draft } from './ajv.ts';
import { linearRegExpEngine, UnsupportedPattern } from './linear-regex.ts';

const options = {
  strict: false,
  allErrors: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  logger: false,
  validateSchema: false,
  code: { regExp: linearRegExpEngine },
} as const;
type Compiled = ValidateFunction | { unsafe: string };

/** Why arguments were refused: they break the schema, or the schema itself cannot be used. */
export type ArgumentProblem = { invalid: string } | { unsafe: string };

/** Schema texts whose compilation is kept (past it, the table is dropped whole and fills again). */
const TEXTS_MAX = 10_000;

export class ArgumentValidator {
  readonly #bySchema = new WeakMap<object, Compiled>();
  /**
   * The same compilation by the schema's text: a listing fetched again (every few seconds from a server
   * that does not announce list changes) brings new objects for the same schemas, which would otherwise
   * be compiled again, each time — a pause on the calls waiting for the listing, and a validator more
   * in Ajv's own cache, which it never drops.
   */
  readonly #byText = new Map<string, Compiled>();

  #compiled(schema: object): Compiled {
    let compiled = this.#bySchema.get(schema);
    if (!compiled) {
      const draft = draftOf(schema as Record<string, unknown>);
      let ajv;
      try {
        ajv = ajvFor('arguments', draft, options);
      } catch (error) {
        return { unsafe: `the tool's arguments cannot be checked (${(error as Error).message}), so calls to it are refused` };
      }
      const text = `${draft} ${JSON.stringify(schema)}`;
      compiled = this.#byText.get(text);
      if (!compiled) {
        compiled = compile(ajv, schema as Record<string, unknown>);
        if (this.#byText.size >= TEXTS_MAX) this.#byText.clear();
        this.#byText.set(text, compiled);
      }
      this.#bySchema.set(schema, compiled);
    }
    return compiled;
  }

  /** Why a tool's `inputSchema` cannot be used to check its arguments, or undefined when it can. */
  unsafe(schema: unknown): string | undefined {
    if (typeof schema !== 'object' || schema === null) return 'the tool declares no inputSchema object, so its arguments cannot be checked';
    const compiled = this.#compiled(schema);
    return 'unsafe' in compiled ? compiled.unsafe : undefined;
  }

  /** undefined when the arguments are valid; otherwise what is wrong, naming the field. */
  check(schema: unknown, args: Record<string, unknown>): ArgumentProblem | undefined {
    const unsafe = this.unsafe(schema);
    if (unsafe !== undefined) return { unsafe };
    const compiled = this.#compiled(schema as object) as ValidateFunction;
    if (compiled(args)) return undefined;
    return { invalid: describe(compiled.errors?.[0]) };
  }
}

const draftOf = (schema: Record<string, unknown>): Draft => (typeof schema.$schema === 'string' && /draft-0[4-7]/.test(schema.$schema) ? 'draft-07' : '2020-12');

function compile(ajv: Ajv, schema: Record<string, unknown>): Compiled {
  try {
    // The $id is dropped so that two servers' schemas with the same $id never collide in the cache.
    const { $id: _id, ...rest } = schema;
    return ajv.compile(rest);
  } catch (error) {
    const why = error instanceof UnsupportedPattern ? `a pattern in it cannot run in linear time: ${error.message}` : `it cannot be compiled: ${(error as Error).message.split('\n')[0]}`;
    return { unsafe: `the tool's inputSchema is unsafe (${why}), so the tool is withheld and calls to it are refused` };
  }
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'the arguments do not match the tool\'s inputSchema';
  const at = error.instancePath ? `argument "${error.instancePath.slice(1).replaceAll('/', '.')}"` : 'the arguments';
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing required argument "${[error.instancePath.slice(1).replaceAll('/', '.'), p.missingProperty].filter(Boolean).join('.')}"`;
    case 'additionalProperties':
      return `unexpected argument "${[error.instancePath.slice(1).replaceAll('/', '.'), p.additionalProperty].filter(Boolean).join('.')}" (the tool's schema does not allow it)`;
    case 'type':
      return `${at} must be ${p.type}`;
    case 'enum':
      return `${at} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at} ${error.message ?? 'is invalid'}`;
  }
}
