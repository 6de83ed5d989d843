/**
 * npm pins: which command lines run the verified install (a fetching runner becomes the package's bin,
 * or is refused), and the package's code files against the record kept in the sealed pins file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PORTCULLIS_ROOT } from '../../src/config/defaults.ts';
import { cachedTarballFiles, fetchingRunner, filesDiffer, findInstall, npmLaunch, packageEntry, packageFiles, pinStoreRecords, tarballFiles, verifyPackageFiles, type NpmInstall } from '../../src/supply/npm-pin.ts';
import { PinStore, pinsKeyPath } from '../../src/supply/pins.ts';

const lock = JSON.parse(readFileSync(join(PORTCULLIS_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
const NAME = '@modelcontextprotocol/server-filesystem';
const entry = lock.packages[`node_modules/${NAME}`]!;
const SPEC = `${NAME}@${entry.version}`;

function install(): NpmInstall {
  const found = findInstall(SPEC, entry.integrity, [PORTCULLIS_ROOT]);
  assert.ok(!('problem' in found), JSON.stringify(found));
  return found;
}

describe('npm pins: what runs', () => {
  it('recognises the runners that fetch: npx, npm exec / x, pnpm dlx, pnpx, bunx, bun x, yarn dlx', () => {
    for (const [command, args] of [['npx', []], ['/usr/bin/npx', []], ['npm', ['exec']], ['npm', ['x']], ['pnpm', ['dlx']], ['pnpx', []], ['bunx', []], ['bun', ['x']], ['yarn', ['dlx']]] as const) {
      assert.ok(fetchingRunner(command, [...args, SPEC]), `${command} ${args.join(' ')}`);
    }
    for (const [command, args] of [['node', ['x.js']], ['npm', ['start']], ['yarn', ['start']], ['bun', ['run', 'x.js']]] as const) {
      assert.equal(fetchingRunner(command, args), undefined, `${command} ${args.join(' ')}`);
    }
  });

  it('starts a runner that names exactly the pinned spec as the package bin of the verified install, with this Node', () => {
    const found = install();
    const bin = join(found.dir, 'dist', 'index.js');
    for (const [command, args] of [['npx', ['-y', SPEC, '/tmp']], ['npm', ['exec', '--yes', SPEC, '--', '/tmp']], ['pnpm', ['dlx', SPEC, '/tmp']], ['bunx', [SPEC, '/tmp']], ['yarn', ['dlx', '-q', SPEC, '/tmp']]] as const) {
      assert.deepEqual(npmLaunch(found, SPEC, { command, args }, process.cwd(), undefined), { launch: { command: process.execPath, args: [bin, '/tmp'] } }, `${command} ${args.join(' ')}`);
    }
  });

  it('refuses runner forms that could resolve something else, and commands that run files outside the verified directory', () => {
    const found = install();
    const problem = (command: string, args: string[]): string => {
      const result = npmLaunch(found, SPEC, { command, args }, process.cwd(), undefined);
      assert.ok('problem' in result, `${command} ${args.join(' ')} was accepted`);
      return result.problem;
    };
    assert.match(problem('npx', ['-y', NAME, '/tmp']), /names @modelcontextprotocol\/server-filesystem:/, 'a bare name resolves to whatever is newest');
    assert.match(problem('npx', ['--registry', 'http://127.0.0.1:1/', SPEC]), /option --registry/);
    assert.match(problem('npx', ['-p', SPEC, 'mcp-server-filesystem']), /option -p/);
    assert.match(problem('npm', ['exec', '-c', 'mcp-server-filesystem']), /option -c/);
    assert.match(problem('npx', ['-y', `${NAME}@0.0.1`]), /names .*@0\.0\.1/);
    assert.match(problem('npx', ['-y']), /names no package/);
    const copy = mkdtempSync(join(tmpdir(), 'pc-npm-alike-'));
    cpSync(found.dir, join(copy, 'node_modules', NAME), { recursive: true });
    assert.match(problem(process.execPath, [join(copy, 'node_modules', NAME, 'dist', 'index.js')]), /not a file of the pinned package/);
    assert.match(problem('sh', ['-c', 'true']), /does not run the pinned package/);
    assert.deepEqual(npmLaunch(found, SPEC, { command: process.execPath, args: [join(found.dir, 'dist', 'index.js'), '/tmp'] }, process.cwd(), undefined), {});
    // Inside the directory but not verified: a nested dependency, a file kind the check does not hash.
    const own = mkdtempSync(join(tmpdir(), 'pc-npm-own-'));
    cpSync(found.dir, own, { recursive: true });
    mkdirSync(join(own, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(own, 'node_modules', 'dep', 'x.js'), '');
    writeFileSync(join(own, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    const ownInstall = { ...found, dir: own };
    assert.ok('problem' in npmLaunch(ownInstall, SPEC, { command: process.execPath, args: [join(own, 'node_modules', 'dep', 'x.js')] }, process.cwd(), undefined));
    assert.ok('problem' in npmLaunch(ownInstall, SPEC, { command: join(own, 'run.sh'), args: [] }, process.cwd(), join(own, 'run.sh')));
    const link = join(PORTCULLIS_ROOT, 'node_modules', '.bin', 'mcp-server-filesystem');
    assert.deepEqual(npmLaunch(found, SPEC, { command: link, args: ['/tmp'] }, process.cwd(), link), {}, 'the bin link resolves into the directory');
  });
});

describe('npm pins: the installed files', () => {
  it('hashes the code files and names each changed, removed or added one (data files beside the code are not compared)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npm-files-'));
    cpSync(install().dir, dir, { recursive: true });
    const before = packageFiles(dir);
    assert.ok('files' in before);
    assert.ok('dist/index.js' in before.files && 'package.json' in before.files);
    assert.ok(!('README.md' in before.files));
    writeFileSync(join(dir, 'dist', 'memory.jsonl'), '{}\n');
    const withData = packageFiles(dir);
    assert.ok('files' in withData);
    assert.equal(filesDiffer(before.files, withData.files), undefined, 'a data file the server writes is not code');
    writeFileSync(join(dir, 'dist', 'lib.js'), `${readFileSync(join(dir, 'dist', 'lib.js'), 'utf8')}\n// changed\n`);
    writeFileSync(join(dir, 'dist', 'extra.mjs'), 'export {};\n');
    writeFileSync(join(dir, 'hook'), '// an extensionless file can be required\n');
    const after = packageFiles(dir);
    assert.ok('files' in after);
    assert.equal(filesDiffer(before.files, after.files), 'dist/lib.js was modified, dist/extra.mjs was added, hook was added');
  });

  it('records the files at first use in the sealed pins file, refuses a difference (kept for review), and fails closed on an untrusted file', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-npm-pins-'));
    const dir = join(dataDir, 'pkg');
    cpSync(install().dir, dir, { recursive: true });
    const copy: NpmInstall = { ...install(), dir };
    const pins = new PinStore({ path: join(dataDir, 'pins.json'), key: { kind: 'file', path: pinsKeyPath(dataDir) }, create: true });
    const first = verifyPackageFiles(copy, SPEC, pinStoreRecords(pins, true));
    assert.ok('files' in first && first.firstUse);
    assert.equal(pins.pinned(packageEntry(SPEC), 'files')?.approvedBy, 'first-use');
    // A read-only reader (config check) verifies against the same record and writes nothing.
    const reader = new PinStore({ path: join(dataDir, 'pins.json'), key: { kind: 'file', path: pinsKeyPath(dataDir) } });
    assert.deepEqual(verifyPackageFiles(copy, SPEC, pinStoreRecords(reader, false)), { files: first.files, firstUse: false });

    writeFileSync(join(dir, 'dist', 'index.js'), `${readFileSync(join(dir, 'dist', 'index.js'), 'utf8')}\nprocess.exit(3);\n`);
    const refused = verifyPackageFiles(copy, SPEC, pinStoreRecords(pins, true));
    assert.ok('problem' in refused);
    assert.match(refused.problem, /dist\/index\.js was modified/);
    assert.deepEqual(Object.keys(pins.pending(packageEntry(SPEC))), ['files'], 'kept for `pin diff` and `pin approve`');

    // An edited pins file (say, the record replaced with the modified files) is untrusted: nothing starts.
    const text = readFileSync(join(dataDir, 'pins.json'), 'utf8');
    writeFileSync(join(dataDir, 'pins.json'), text.replace('"first-use"', '"admin"'));
    const untrusted = verifyPackageFiles(copy, SPEC, pinStoreRecords(pins, true));
    assert.ok('problem' in untrusted);
    assert.match(untrusted.problem, /pins file is untrusted/);
  });

  it('reads a package tarball as npm extracts it (long paths included) and finds it in the npm cache by integrity', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npm-tar-'));
    const pkg = join(dir, 'src', 'package');
    cpSync(install().dir, pkg, { recursive: true });
    const deep = join(pkg, 'dist', 'a-rather-long-folder-name-for-testing', 'another-quite-long-folder-name-here', 'and-a-third-one');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'module-with-a-long-name.js'), 'export const x = 1;\n');
    const tgz = join(dir, 'p.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', join(dir, 'src'), 'package']);
    const installed = packageFiles(pkg);
    assert.ok('files' in installed);
    const inTarball = Object.fromEntries(Object.entries(tarballFiles(readFileSync(tgz))).filter(([file]) => file in installed.files || /\.(?:js|json)$/.test(file)));
    assert.deepEqual(inTarball, installed.files);
    const digest = createHash('sha512').update(readFileSync(tgz)).digest();
    const hex = digest.toString('hex');
    const cache = join(dir, 'cache');
    mkdirSync(join(cache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4)), { recursive: true });
    cpSync(tgz, join(cache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)));
    assert.deepEqual(cachedTarballFiles(cache, `sha512-${digest.toString('base64')}`), installed.files);
    assert.equal(cachedTarballFiles(cache, `sha512-${Buffer.alloc(64).toString('base64')}`), undefined, 'not cached');
  });
});

