/**
 * The launcher starts the long-running commands with the heap flags of bin/portcullis.js (by replacing
 * itself once), leaves one-shot commands and a user's own heap flags alone, and passes the command's
 * output and exit code through.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const LAUNCHER = new URL('../../bin/portcullis.js', import.meta.url).pathname;
// Runs before the launcher in every process image: prints that image's node options and its
// GLIBC_TUNABLES on one line each.
const SHOW = `data:text/javascript,process.stderr.write('execArgv='+JSON.stringify(process.execArgv.filter((a)=>!a.startsWith('--import')&&!a.startsWith('data:')))+'\\ntunables='+JSON.stringify(process.env.GLIBC_TUNABLES??null)+'\\nstart='+JSON.stringify(process.env.PORTCULLIS_START_FLAGS??null)+'\\n')`;
const HEAP = ['--max-semi-space-size=8', '--heap-growing-percent=50', '--no-single-threaded-gc-in-background'];
const START = ['--efficiency-mode', '--maglev-filter=-*', '--turbo-filter=-*'];
const FLAGS = [...HEAP, ...START];

const launch = (nodeFlags: string[], args: string[], env: Record<string, string> = {}) => {
  const run = spawnSync(process.execPath, ['--import', SHOW, ...nodeFlags, LAUNCHER, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  const images = [...run.stderr.matchAll(/^execArgv=(.*)$/gm)].map((m) => JSON.parse(m[1]!) as string[]);
  const tunables = [...run.stderr.matchAll(/^tunables=(.*)$/gm)].map((m) => JSON.parse(m[1]!) as string | null);
  const start = [...run.stderr.matchAll(/^start=(.*)$/gm)].map((m) => JSON.parse(m[1]!) as string | null);
  return { ...run, images, tunables, start };
};

describe('the launcher', () => {
  it('re-runs serve once with the heap flags and the allocator\'s arena cap, keeping its exit code and error', { skip: process.platform === 'win32' ? 'no execve on Windows' : false }, () => {
    const run = launch([], ['serve', '--port', 'nope']);
    assert.deepEqual(run.images, [[], FLAGS]);
    assert.deepEqual(run.tunables, [null, 'glibc.malloc.arena_max=2']);
    assert.deepEqual(run.start, [null, START.join(' ')], 'the gateway is told which flags to undo once started');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--port must be an integer/);
    const own = launch([], ['stdio'], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' });
    assert.deepEqual(own.images, [[], FLAGS]);
    assert.deepEqual(own.tunables, ['glibc.malloc.arena_max=8', 'glibc.malloc.arena_max=8'], 'a GLIBC_TUNABLES of the user\'s own is kept');
  });

  it('leaves one-shot commands and a user\'s own heap flags alone', () => {
    assert.deepEqual(launch([], ['--version']).images, [[]]);
    const own = launch(['--max-semi-space-size=4'], ['serve', '--port', 'nope']);
    assert.deepEqual(own.images, [['--max-semi-space-size=4']]);
    assert.equal(own.status, 2);
  });

  it('leaves out a start-up-only flag the user set either way, so the gateway does not undo it', { skip: process.platform === 'win32' ? 'no execve on Windows' : false }, () => {
    const run = launch(['--maglev-filter=foo'], ['serve', '--port', 'nope']);
    assert.deepEqual(run.images, [['--maglev-filter=foo'], [...HEAP, '--efficiency-mode', '--turbo-filter=-*', '--maglev-filter=foo']]);
    assert.deepEqual(run.start, [null, '--efficiency-mode --turbo-filter=-*']);
    assert.deepEqual(launch(['--no_efficiency_mode'], ['serve', '--port', 'nope']).start, [null, '--maglev-filter=-* --turbo-filter=-*'], 'V8 spells flags with _ too');
  });
});
