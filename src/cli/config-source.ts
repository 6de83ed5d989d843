/**
 * Where `serve` and `stdio` get their configuration: a file (`-c`), or the embedded default.
 *
 * The loader and the schema it validates with (zod) are loaded when a file is read or the embedded
 * default must be validated, not with this module: `npm start` takes the embedded default already
 * validated (../config/embedded-config.ts) and never holds the schema in memory.
 */
import { createRequire } from 'node:module';
import { defaultDataDir, embeddedDefault } from '../config/defaults.ts';
import { validatedEmbeddedDefault } from '../config/embedded-config.ts';
import type { ConfigProblem, LoadResult } from '../config/load.ts';
import type { SecretSource } from '../config/secrets.ts';

const require = createRequire(import.meta.url);
// Run from the sources the loader is load.ts, from the build load.js: the same extension as this file.
const LOADER = `../config/load${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`;

/** The config loader, or a problem saying it could not be loaded (nothing runs on an unvalidated config). */
function loader(): typeof import('../config/load.ts') | LoadResult {
  try {
    return require(LOADER) as typeof import('../config/load.ts');
  } catch (error) {
    return { ok: false, problems: [{ path: '(root)', message: `the configuration loader could not be loaded: ${(error as Error).message.split('\n')[0]}`, severity: 'error' }] };
  }
}

export function loadForRun(file: string | undefined, dataDir: string | undefined, secrets: SecretSource): LoadResult & { source: string } {
  if (file) {
    const load = loader();
    return { ...('ok' in load ? load : load.loadConfigFile(file, secrets)), source: file };
  }
  const document = embeddedDefault(dataDir ?? defaultDataDir(secrets.env));
  const validated = validatedEmbeddedDefault(document, secrets);
  if (validated) return { ...validated, source: 'embedded default' };
  const load = loader();
  return { ...('ok' in load ? load : load.validateConfig(document, secrets)), source: 'embedded default' };
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  ${p.severity === 'error' ? 'error  ' : 'warning'} ${p.path}: ${p.message}`).join('\n');
}
