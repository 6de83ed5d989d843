/**
 * `npm run test:shared`: the test files in shards that run side by side, each shard one Node process that
 * imports its files and runs them one after the other (`--test-isolation=none`). `npm test` still runs
 * a process per file: this runner is not the default until a whole run passes on a quiet machine.
 *
 * Why: a process per file pays again, in every file, for what one process loads once: the gateway's
 * modules (about 0.8 s of CPU), the definition scanner's regular expressions built at import and compiled
 * on the first listing (0.3 s + about 1.3 s), the DLP tables, the SDKs. On test/inspect and test/dlp
 * this runner took 29 s of CPU where a process per file took 51 s. Files still start their own servers
 * and gateways, on their own ports and data dirs; what one file sets in the shared process (environment
 * variables, umask, mocked timers) it must set in a hook and restore.
 *
 * Each shard's output is shown as it comes, its lines prefixed with the shard; the last line sums the
 * shards ("suite: N passed, N failed, N skipped"). The exit code is non-zero when a shard failed.
 *
 *   node scripts/test.ts [--shards N] [glob or file ...]   (default: as many shards as cores, 2 to 4; every test file)
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const args = process.argv.slice(2);
let shards = Math.max(2, Math.min(availableParallelism(), 4));
const patterns: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--shards') {
    shards = Number(args[++i]);
    if (!Number.isInteger(shards) || shards < 1 || shards > 16) {
      process.stderr.write(`--shards takes a whole number from 1 to 16, not ${JSON.stringify(args[i])}\n`);
      process.exit(2);
    }
  } else patterns.push(args[i]!);
}
if (patterns.length === 0) patterns.push('test/**/*.test.ts');

interface Counts {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
}

/** One shard: its output goes out line by line with a prefix; the spec reporter's closing counts are kept. */
function runShard(index: number): Promise<{ code: number; counts: Partial<Counts> }> {
  const label = shards > 1 ? `[${index}/${shards}] ` : '';
  const child = spawn(
    process.execPath,
    ['--test', '--test-isolation=none', `--test-shard=${index}/${shards}`, '--test-timeout=120000', '--test-reporter=spec', ...patterns],
    // Run from inside a test (test/docs/scripts.test.ts), NODE_TEST_CONTEXT would make the shard report to that test's runner.
    { stdio: ['ignore', 'pipe', 'pipe'], env: Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_TEST_CONTEXT')) },
  );
  const counts: Partial<Counts> = {};
  const relay = (stream: NodeJS.ReadableStream, out: NodeJS.WritableStream) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const m = /^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
        if (m) counts[m[1] as keyof Counts] = Number(m[2]);
        out.write(`${label}${line}\n`);
      }
    });
    stream.on('end', () => {
      if (pending) out.write(`${label}${pending}\n`);
    });
  };
  relay(child.stdout!, process.stdout);
  relay(child.stderr!, process.stderr);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), counts })));
}

const results = await Promise.all(Array.from({ length: shards }, (_, i) => runShard(i + 1)));
const sum = (key: keyof Counts) => results.reduce((total, r) => total + (r.counts[key] ?? 0), 0);
const failed = sum('fail') + sum('cancelled');
// A shard that ended without its counts (a crash) fails the run even when every count it printed passed.
const broken = results.filter((r) => r.code !== 0 || r.counts.tests === undefined).length;
if (broken > 0 && failed === 0) process.stdout.write(`${broken} shard(s) ended with an error and no failed test counted: see above\n`);
process.stdout.write(`suite: ${sum('pass')} passed, ${failed + (failed === 0 ? broken : 0)} failed, ${sum('skipped') + sum('todo')} skipped\n`);
process.exit(broken > 0 || failed > 0 ? 1 : 0);
