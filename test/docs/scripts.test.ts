/**
 * Every npm script the documents name runs, at least in a smoke form: benchmarks answer `--help` with
 * their usage, the conformance script's file pattern finds the conformance tests (which `npm test`
 * runs in full), the schema script prints the committed schema. `npm start`, `npm test`, the build
 * and the typecheck run for real in test/cli/start.test.ts, this suite and test/cli/package.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { globSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The scripts the README and docs/ tell a reader to run. */
function documentedScripts(): Set<string> {
  const named = new Set<string>();
  for (const file of DOCS) {
    const markdown = readFileSync(join(ROOT, file), 'utf8');
    for (const match of markdown.matchAll(/npm run ([a-z][\w:-]*)/g)) named.add(match[1]!);
    if (/\bnpm start\b/.test(markdown)) named.add('start');
    if (/\bnpm test\b/.test(markdown)) named.add('test');
  }
  return named;
}

/** Runs a script's own command line (not through npm, so no pre-script runs) with extra arguments. */
function run(command: string, extra: string[]): { status: number | null; stdout: string; stderr: string } {
  const [program, ...args] = command.split(' ').map((part) => part.replace(/^'(.*)'$/, '$1'));
  const result = spawnSync(program === 'node' ? process.execPath : program!, [...args, ...extra], { cwd: ROOT, encoding: 'utf8', timeout: 90_000, env: process.env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SMOKE: Record<string, (command: string) => void> = {
  start: () => assert.ok(readFileSync(join(ROOT, 'test/cli/start.test.ts'), 'utf8').includes('serve'), 'npm start is exercised by test/cli/start.test.ts'),
  // `npm test` runs scripts/test.ts after the typecheck; the runner's verdicts are tested below.
  test: (command) => {
    assert.match(command, /node scripts\/test\.ts$/);
    const result = run('node scripts/test.ts test/dlp/wrapped-base64.test.ts test/fixtures/runner/passes.ts', []);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^suite: 3 passed, 0 failed, 0 skipped \(2 files in [12] processes, \d+ s(, \d+ s CPU)?\)$/m);
    // On Linux each batch and the run say what they cost in CPU (the servers and gateways they started included).
    if (process.platform === 'linux') assert.match(result.stdout, /^suite: .*, \d+ s CPU\)$/m);
  },
  // Both run for real elsewhere: `npm test` typechecks first, and the package test's `npm pack` runs
  // `prepare`, which builds.
  typecheck: () => assert.match(scripts.test!, /^npm run typecheck && /),
  build: () => {
    assert.equal(scripts.prepare, 'npm run build');
    assert.match(readFileSync(join(ROOT, 'test/cli/package.test.ts'), 'utf8'), /'npm', \['pack'/);
  },
  schema: () => {
    const result = run('node src/main.ts config schema', []);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), JSON.parse(readFileSync(join(ROOT, 'schema/config.json'), 'utf8')), 'schema/config.json is what `npm run schema` writes');
  },
  conformance: (command) => {
    const patterns = command.split(' ').filter((part) => part.startsWith("'") || part.startsWith('test/'));
    assert.ok(patterns.length > 0, `the conformance script names its test files: ${command}`);
    for (const pattern of patterns) assert.ok(globSync(pattern.replace(/^'(.*)'$/, '$1'), { cwd: ROOT }).some((file) => file.endsWith('.test.ts')), `${pattern} finds test files`);
  },
};

describe('documented npm scripts', () => {
  it('every documented script exists and has a smoke form here', () => {
    for (const name of documentedScripts()) {
      assert.ok(scripts[name], `the documents name npm run ${name}, which package.json does not define`);
      assert.ok(SMOKE[name] || scripts[name]!.startsWith('node bench/'), `npm run ${name} is documented but has no smoke form in this test`);
    }
  });

  for (const name of documentedScripts()) {
    it(`npm run ${name} runs (smoke form)`, () => {
      const command = scripts[name]!;
      if (SMOKE[name]) return SMOKE[name](command);
      const result = run(command, ['--help']);
      assert.equal(result.status, 0, `${command} --help: ${result.stderr}`);
      assert.match(result.stdout, /npm run|node bench\//, `${command} --help prints its usage`);
    });
  }
});

describe('the test runner (scripts/test.ts) fails the run for every way a file can fail', () => {
  const FIXTURES = 'test/fixtures/runner';
  const runner = (...files: string[]) => run('node scripts/test.ts', files.map((file) => `${FIXTURES}/${file}`));

  it('a failing test fails the run, and the other files still run', () => {
    const result = runner('fails.ts', 'passes.ts');
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^suite: 1 passed, 1 failed, 0 skipped \(2 files in [12] processes, \d+ s(, \d+ s CPU)?\)$/m);
    assert.match(result.stdout, /to run it again as it ran: node --test --test-isolation=none .*fails\.ts/);
  });

  it('a file that throws while it is imported fails the run', () => {
    const result = runner('passes.ts', 'throws-at-import.ts');
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^suite: 1 passed, 1 failed, 0 skipped/m);
  });

  it('a batch that ends without its counts (a file called process.exit) fails the run', () => {
    const result = runner('exits.ts', 'passes.ts');
    assert.equal(result.status, 1);
    assert.match(result.stdout, /ended without its counts/);
    assert.match(result.stdout, /^suite: \d+ passed, 1 failed/m);
  });

  it('a file that leaves a timer running does not keep its batch from ending (or from passing)', () => {
    const result = runner('leaves-a-timer.ts', 'passes.ts');
    assert.equal(result.status, 0, result.stdout);
    assert.match(result.stdout, /^suite: 2 passed, 0 failed, 0 skipped/m);
  });

  it('each file in a process of its own (--alone) gives the same verdicts', () => {
    const result = run('node scripts/test.ts', ['--alone', `${FIXTURES}/passes.ts`, `${FIXTURES}/fails.ts`]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^suite: 1 passed, 1 failed, 0 skipped \(2 files in 2 processes, \d+ s(, \d+ s CPU)?\)$/m);
  });

  it('refuses an unknown option and a pattern that matches no file, naming them', () => {
    const unknown = run('node scripts/test.ts', ['--shards', '2']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option "--shards"/);
    const none = run('node scripts/test.ts', ['test/nothing-here/*.test.ts']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no test file matches test\/nothing-here/);
  });
});
