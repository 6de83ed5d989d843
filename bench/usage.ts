/**
 * `--help` for the benchmark scripts: prints the script's leading doc comment (its usage) and exits 0.
 * `test/docs/scripts.test.ts` runs every npm script the documents name in such a smoke form, so a
 * documented command cannot rot unnoticed.
 */
import { readFileSync } from 'node:fs';

export function answerHelp(scriptUrl: string): void {
  if (!process.argv.slice(2).includes('--help')) return;
  const doc = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(new URL(scriptUrl), 'utf8'))?.[1] ?? '';
  const usage = doc
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

/** The value after `name` on the command line, if it is given. */
export function option(name: string): string | undefined {
  const argv = process.argv.slice(2);
  return argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined;
}

/** The value of `--base` (another tree to compare with), or the usage on stderr and exit 2. */
export function requiredBase(usage: string): string {
  const base = option('--base');
  if (base) return base;
  process.stderr.write(`usage: ${usage}\n`);
  process.exit(2);
}
