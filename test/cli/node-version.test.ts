/**
 * An old Node gets one line saying what is needed, not a stack trace: the version rule itself, and, where
 * the machine has an older Node on hand (Debian's /usr/bin/node 20 here), the real launcher under it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { nodeProblem } from '../../bin/check-node.js';

const LAUNCHER = new URL('../../bin/portcullis.js', import.meta.url).pathname;
const OLD_NODE = '/usr/bin/node';

describe('the Node.js version check', () => {
  it('accepts 22.18 and later, refuses older with a way to get a newer one', () => {
    assert.equal(nodeProblem('22.18.0'), undefined);
    assert.equal(nodeProblem('24.1.0'), undefined);
    assert.equal(nodeProblem('23.0.0'), undefined);
    for (const old of ['22.17.9', '20.20.2', '18.0.0']) assert.match(nodeProblem(old) ?? '', /needs Node\.js >= 22\.18.*nvm install 24/);
  });

  const old = existsSync(OLD_NODE) ? execFileSync(OLD_NODE, ['--version']).toString().trim() : '';
  it('makes the launcher exit 2 with one line on an old Node', { skip: !old || nodeProblem(old.slice(1)) === undefined ? 'no Node older than 22.18 on this machine' : false }, () => {
    const run = spawnSync(OLD_NODE, [LAUNCHER, 'serve'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.match(run.stderr, /needs Node\.js >= 22\.18/);
  });
});
