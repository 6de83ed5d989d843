/**
 * re2js (RE2's linear-time regular expressions), loaded on first use: the embedded default compiles
 * none at start (schema patterns compile with Ajv, resource templates on the first read through one),
 * and the library is ~0.7 MB resident (docs/performance.md, "Memory"). Its callers compile on the
 * request path, synchronously, so it is required rather than imported (its CommonJS build). If it
 * cannot be loaded the call throws, naming the library, and the caller refuses what needed it.
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

let loaded: typeof RE2JS | undefined;

export function re2(): typeof RE2JS {
  if (loaded) return loaded;
  try {
    loaded = (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS;
  } catch (error) {
    throw new Error(`re2js could not be loaded: ${(error as Error).message}`);
  }
  return loaded;
}
