/**
 * `npm run bench`: regenerates every figure of README.md and docs/ (after `npm run build`, which the
 * npm script runs first, so the gateway measured is the compiled one `npm start` runs).
 *
 *   npm run bench                          everything (about 20 minutes on 2 cores)
 *   npm run bench -- --quick               shorter runs of each (a smoke test, not for the docs)
 *   npm run bench -- --only memory,dlp     some of: performance, memory, conformance, dlp, hostile, scan, scan-loso
 *   npm run bench -- --key                 performance: only the cells of the summary table, 5 rounds each
 *
 * Each benchmark replaces its bench/results/<name>.jsonl; then bench/figures.ts re-renders the tables
 * of the documents from them. Commit the results with the documents: test/docs/figures.test.ts fails
 * when a document and the committed results disagree.
 */
import { spawnSync } from 'node:child_process';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const only = argv.includes('--only') ? new Set(argv[argv.indexOf('--only') + 1]!.split(',')) : undefined;
const STEPS: Array<[string, string[]]> = [
  ['performance', ['bench/run.ts', ...(QUICK ? ['--quick'] : []), ...(argv.includes('--key') ? ['--key'] : [])]],
  ['memory', ['bench/memory.ts', '--load', ...(QUICK ? ['--quick'] : [])]],
  ['conformance', ['bench/conformance.ts']],
  ['dlp', ['bench/dlp.ts', ...(QUICK ? ['--quick'] : [])]],
  // The README shows the quick volumes of the hostile run (the full one is in docs/limits.md).
  ['hostile', ['bench/hostile.ts', '--quick']],
  ['scan', ['bench/scan.ts']],
  ['scan-loso', ['bench/scan-loso.ts']],
];
const unknown = [...(only ?? [])].filter((name) => !STEPS.some(([step]) => step === name));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}: use ${STEPS.map(([s]) => s).join(', ')}\n`);
  process.exit(2);
}
const ROOT = new URL('..', import.meta.url).pathname;
for (const [name, args] of STEPS) {
  if (only && !only.has(name)) continue;
  process.stdout.write(`\n== ${name}: node ${args.join(' ')}\n`);
  const run = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) {
    process.stderr.write(`${name} failed (exit ${run.status}); its results were not replaced\n`);
    process.exit(1);
  }
}
const render = spawnSync(process.execPath, ['bench/figures.ts'], { cwd: ROOT, stdio: 'inherit' });
process.exit(render.status ?? 1);
