/**
 * Ajv, loaded when the first schema is compiled rather than at start (docs/performance.md, "Memory"):
 * the protocol's method schemas compile on the first message of each method, tool argument schemas on
 * the first list or call of each tool, so a gateway that no request has reached never loads it.
 *
 * One instance per option set, made on first use with the formats plugin added. A library that cannot
 * be loaded throws an error that names it; callers turn that into a refusal (fail closed), never into
 * a message let through unchecked.
 */
import { createRequire } from 'node:module';
import type { Ajv, Options } from 'ajv';

type AjvClass = new (options: Options) => Ajv;

const require = createRequire(import.meta.url);

/** The draft a schema is compiled as: `draft-07` (Ajv's default class) or `2020-12`. */
export type Draft = 'draft-07' | '2020-12';

const instances = new Map<string, Ajv>();

/**
 * The Ajv instance for `draft` and `options` (`key` names the option set, one instance each), with
 * ajv-formats added. Throws, naming the library, when it cannot be loaded; the next call tries again.
 */
export function ajvFor(key: string, draft: Draft, options: Options): Ajv {
  const id = `${key} ${draft}`;
  let ajv = instances.get(id);
  if (!ajv) {
    try {
      const Class = (draft === '2020-12' ? (require('ajv/dist/2020.js') as { Ajv2020: AjvClass }).Ajv2020 : (require('ajv') as { Ajv: AjvClass }).Ajv);
      const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
      ajv = addFormats(new Class(options));
    } catch (error) {
      throw new Error(`the JSON Schema library (ajv) could not be loaded: ${(error as Error).message.split('\n')[0]}`);
    }
    instances.set(id, ajv);
  }
  return ajv;
}
