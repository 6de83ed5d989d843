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
