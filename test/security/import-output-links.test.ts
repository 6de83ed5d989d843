/**
 * `import -o PATH` in a shared folder where someone planted a symbolic link: a dangling one (without
 * --force) or one to an existing file (with --force). Import never writes through the link: refused,
 * the link's target is neither created nor changed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/gateway.ts';

describe('import -o: never through a link', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pc-import-link-')));
  const home = join(root, 'home');
  mkdirSync(join(home, '.cursor'), { recursive: true });
  writeFileSync(join(home, '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { e: { command: '/bin/echo', args: ['x'] } } }));

  it('refuses a dangling link: its target is not created', async () => {
    const link = join(root, 'dangling.yaml');
    symlinkSync(join(root, 'target1'), link);
    const run = await runCli(['import', '--home', home, '-o', link]);
    assert.equal(run.code, 2, run.stdout);
    assert.equal(existsSync(join(root, 'target1')), false);
  });

  it('refuses a link to an existing file, even with --force: the file is untouched', async () => {
    const target = join(root, 'precious');
    writeFileSync(target, 'precious\n', { mode: 0o644 });
    const link = join(root, 'link.yaml');
    symlinkSync(target, link);
    const run = await runCli(['import', '--home', home, '-o', link, '--force']);
    assert.equal(run.code, 2, run.stdout);
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
    assert.equal(statSync(target).mode & 0o777, 0o644);
  });

  it('writes a regular file (mode 600), and replaces one with --force', async () => {
    const out = join(root, 'out.yaml');
    assert.equal((await runCli(['import', '--home', home, '-o', out])).code, 0);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.equal((await runCli(['import', '--home', home, '-o', out, '--force'])).code, 0);
  });
});
