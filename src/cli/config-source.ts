/**
 * Where `serve` and `stdio` get their configuration: a file (`-c`), or the embedded default.
 */
import { defaultDataDir, embeddedDefault } from '../config/defaults.ts';
import { loadConfigFile, validateConfig, type ConfigProblem, type LoadResult } from '../config/load.ts';
import type { SecretSource } from '../config/secrets.ts';

export function loadForRun(file: string | undefined, dataDir: string | undefined, secrets: SecretSource): LoadResult & { source: string } {
  if (file) return { ...loadConfigFile(file, secrets), source: file };
  const dir = dataDir ?? defaultDataDir(secrets.env);
  return { ...validateConfig(embeddedDefault(dir), secrets), source: 'embedded default' };
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  ${p.severity === 'error' ? 'error  ' : 'warning'} ${p.path}: ${p.message}`).join('\n');
}
