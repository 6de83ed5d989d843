/**
 * `npm test` (after the typecheck): the test files in batches, each batch one Node process that imports
 * its files and runs them one after the other (`node --test --test-isolation=none`), two batches at once.
 *
 * Why: a process per file pays again, in every file, for what one process loads once: the gateway's
 * modules (about 0.8 s of CPU), the definition scanner's regular expressions (about 1.5 s the first time a
 * listing is scanned), the DLP tables, the SDKs. Files still start their own servers and gateways, on their
 * own ports and data dirs; what one file sets in the shared process (environment variables, umask, mocked
 * timers) it sets in a hook and restores, and its hooks sit inside its own `describe` (a top-level `after`
 * would run at the end of the batch, not of the file).
 *
 * Batches are cut in file order, large first and smaller towards the end (a share of what is left), so the
 * two workers finish together; the cut depends only on the file list, so a batch can be run again alone:
 * its files are printed with it. Files in ALONE run in a process of their own.
 *
 * A batch's output is printed whole when it ends (never interleaved with the other's). The run fails when
 * any batch exits non-zero, reports a failed or cancelled test (a file that throws while it is imported is
 * a failed test), or ends without its counts (a crash, or a file that called process.exit). A batch exits
 * once its last test is done (`--test-force-exit`): in one process, a timer or socket one file left open
 * would otherwise keep the batch from ever printing its counts. The last line sums the batches:
 * "suite: N passed, N failed, N skipped (N files in N processes)".
 *
 *   node scripts/test.ts [--jobs N] [--alone] [glob or file ...]
 *     --jobs N   batches at once (default: the cores, 2 to 4)
 *     --alone    every file in a process of its own (as `node --test` does by default), for comparison
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Files that cannot share a process, each with why. */
const ALONE: ReadonlyMap<string, string> = new Map([
  // Time-windowed SHOULD checks (a list_changed on an open subscription stream) warned twice when it shared a
  // batch under load and never alone; it runs the official suites against its own servers, as CI does.
  ['test/conformance/conformance.test.ts', 'the official conformance suites, with time-windowed checks'],
  // It records the RegExp constructions of the scanner's modules as they load: loaded by an earlier file, they record none.
  ['test/inspect/word-boundary.test.ts', 'records the regular expressions the scanner builds at import'],
]);

/** The largest batch: a share of what is left, at most this many files. */
const MAX_BATCH = 24;

const args = process.argv.slice(2);
let jobs = Math.max(2, Math.min(availableParallelism(), 4));
let everyFileAlone = false;
const patterns: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jobs') {
    jobs = Number(args[++i]);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) {
      process.stderr.write(`--jobs takes a whole number from 1 to 16, not ${JSON.stringify(args[i])}\n`);
      process.exit(2);
    }
  } else if (args[i] === '--alone') everyFileAlone = true;
  else if (args[i]!.startsWith('--')) {
    process.stderr.write(`unknown option ${JSON.stringify(args[i])}: accepted are --jobs N and --alone, then globs or files\n`);
    process.exit(2);
  } else patterns.push(args[i]!);
}
if (patterns.length === 0) patterns.push('test/**/*.test.ts');

const files = [...new Set(patterns.flatMap((pattern) => globSync(pattern)))].sort();
if (files.length === 0) {
  process.stderr.write(`no test file matches ${patterns.join(' ')}\n`);
  process.exit(2);
}

/** Batches in file order: each takes a share of the files left (so the last ones are small), at least one file. */
function cut(shared: readonly string[]): string[][] {
  const batches: string[][] = [];
  let at = 0;
  while (at < shared.length) {
    const size = Math.max(1, Math.min(MAX_BATCH, Math.ceil((shared.length - at) / (jobs * 3))));
    batches.push(shared.slice(at, at + size));
    at += size;
  }
  return batches;
}

const batches = everyFileAlone
  ? files.map((file) => [file])
  : [...files.filter((file) => ALONE.has(file)).map((file) => [file]), ...cut(files.filter((file) => !ALONE.has(file)))];

interface Counts {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
}

interface Outcome {
  files: readonly string[];
  code: number | null;
  counts: Partial<Counts>;
  seconds: number;
  cpu: number | undefined;
}

/**
 * CPU seconds (user + system) of this process's children that have ended, with everything they waited for
 * (cutime + cstime of /proc/self/stat, in USER_HZ = 100 ticks a second); undefined off Linux. A batch's
 * share is what it adds by the time it has ended: its own time and that of the servers and gateways it
 * started. On a shared machine this, not the wall time, is what the suite costs.
 */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}
const cpuAtStart = childrenCpuSeconds();
let cpuSeen = cpuAtStart;
const startedAt = Date.now();

const running = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill(signal);
    process.exit(130);
  });
}
// Run from inside a test (test/docs/scripts.test.ts), NODE_TEST_CONTEXT would make a batch report to that test's runner.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_TEST_CONTEXT'));

function runBatch(batch: readonly string[]): Promise<Outcome> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--test', '--test-isolation=none', '--test-force-exit', '--test-timeout=120000', '--test-reporter=spec', ...batch], { stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(child);
  const counts: Partial<Counts> = {};
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      running.delete(child);
      for (const m of output.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) counts[m[1] as keyof Counts] = Number(m[2]);
      const cpuNow = childrenCpuSeconds();
      const cpu = cpuNow !== undefined && cpuSeen !== undefined ? cpuNow - cpuSeen : undefined;
      cpuSeen = cpuNow;
      const outcome = { files: batch, code, counts, seconds: (Date.now() - started) / 1000, cpu };
      report(outcome, output);
      resolve(outcome);
    }),
  );
}

const failedOf = (o: Outcome) => (o.counts.fail ?? 0) + (o.counts.cancelled ?? 0);
const brokenOf = (o: Outcome) => o.code !== 0 || o.counts.tests === undefined;
let done = 0;

function report(o: Outcome, output: string): void {
  done++;
  process.stdout.write(output.endsWith('\n') || output === '' ? output : `${output}\n`);
  const verdict = failedOf(o) > 0 || brokenOf(o) ? 'FAILED' : 'ok';
  const why =
    o.counts.tests === undefined
      ? `: ended without its counts (exit ${o.code})`
      : o.code !== 0 && failedOf(o) === 0
        ? `: exit ${o.code} with no failed test counted`
        : '';
  process.stdout.write(`── batch ${done}/${batches.length} ${verdict}${why}: ${o.counts.pass ?? 0} passed, ${failedOf(o)} failed, ${o.seconds.toFixed(1)} s${o.cpu === undefined ? '' : `, ${o.cpu.toFixed(1)} s CPU`} — ${o.files.join(' ')}\n\n`);
}

let next = 0;
async function worker(): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  while (next < batches.length) outcomes.push(await runBatch(batches[next++]!));
  return outcomes;
}

const outcomes = (await Promise.all(Array.from({ length: Math.min(jobs, batches.length) }, worker))).flat();
const sum = (key: keyof Counts) => outcomes.reduce((total, o) => total + (o.counts[key] ?? 0), 0);
const failed = sum('fail') + sum('cancelled');
const broken = outcomes.filter(brokenOf);
for (const o of outcomes.filter((x) => failedOf(x) > 0 || brokenOf(x))) {
  process.stdout.write(`failed batch; to run it again as it ran: node --test --test-isolation=none ${o.files.join(' ')}\n`);
}
const cpuAtEnd = childrenCpuSeconds();
const cost = `${((Date.now() - startedAt) / 1000).toFixed(0)} s${cpuAtEnd !== undefined && cpuAtStart !== undefined ? `, ${(cpuAtEnd - cpuAtStart).toFixed(0)} s CPU` : ''}`;
process.stdout.write(
  `suite: ${sum('pass')} passed, ${failed + (failed === 0 ? broken.length : 0)} failed, ${sum('skipped') + sum('todo')} skipped (${files.length} files in ${batches.length} processes, ${cost})\n`,
);
process.exit(broken.length > 0 || failed > 0 ? 1 : 0);
