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
  test: () => assert.match(scripts.test!, /node --test/),
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
  'test:shared': (command) => {
    assert.match(command, /node scripts\/test\.ts$/);
    const result = run('node scripts/test.ts --shards 1 test/dlp/wrapped-base64.test.ts', []);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^suite: 2 passed, 0 failed, 0 skipped$/m);
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
