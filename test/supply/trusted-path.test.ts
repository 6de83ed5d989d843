import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTrustedPaths } from '../../src/supply/trusted-path.ts';

const ME = process.getuid!();

function tree(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pc-trust-'));
  mkdirSync(join(dir, 'a'));
  const file = join(dir, 'a', 'f.js');
  writeFileSync(file, 'x');
  return { dir, file };
}

describe('trusted paths: what another uid could change between a check and a start', () => {
  it('accepts a file only root and the gateway can change, through a sticky world-writable folder (/tmp)', () => {
    const { file } = tree();
    assert.equal(createTrustedPaths().problem(file), undefined);
  });

  it('refuses a file group or others may write, and a folder on the way that they may write without the sticky bit', () => {
    const { dir, file } = tree();
    chmodSync(file, 0o664);
    assert.match(createTrustedPaths().problem(file) ?? '', /f\.js is 0664: a file group or others may write .*chmod go-w/);
    chmodSync(file, 0o644);
    chmodSync(join(dir, 'a'), 0o777);
    assert.match(createTrustedPaths().problem(file) ?? '', /\/a is 0777: a folder group or others may write/);
    chmodSync(join(dir, 'a'), 0o1777);
    assert.equal(createTrustedPaths().problem(file), undefined, 'a sticky folder: others cannot rename our entry');
  });

  it('refuses a file or folder that belongs to another uid', () => {
    const { dir, file } = tree();
    if (ME === 0) {
      chownSync(join(dir, 'a'), 65534, 65534);
      assert.match(createTrustedPaths().problem(file) ?? '', /\/a belongs to uid 65534, not to root or the gateway's uid 0/);
    } else {
      // Judged as if the gateway ran as another uid: the files of this uid are someone else's.
      assert.match(createTrustedPaths(ME + 1).problem(file) ?? '', new RegExp(`belongs to uid ${ME}`));
    }
  });

  it('follows symbolic links: the folder holding each link and every folder on the way to its target are judged', () => {
    const { dir, file } = tree();
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    // A link in a private folder whose target lies in a folder others may write.
    writeFileSync(join(open, 'g.js'), 'x');
    symlinkSync(join(open, 'g.js'), join(dir, 'to-open.js'));
    assert.match(createTrustedPaths().problem(join(dir, 'to-open.js')) ?? '', /\/open is 0777/);
    // A link that others could re-point (it sits in that folder), to a private file.
    symlinkSync(file, join(open, 'to-private.js'));
    assert.match(createTrustedPaths().problem(join(open, 'to-private.js')) ?? '', /\/open is 0777/);
    // A chain through a linked folder: judged at its target.
    symlinkSync(join(dir, 'a'), join(dir, 'b'));
    symlinkSync(join(dir, 'b'), join(dir, 'c'));
    assert.equal(createTrustedPaths().problem(join(dir, 'c', 'f.js')), undefined);
    chmodSync(join(dir, 'a'), 0o775);
    assert.match(createTrustedPaths().problem(join(dir, 'c', 'f.js')) ?? '', /\/a is 0775/);
  });

  it('names a path it cannot examine, and a loop of links', () => {
    const { dir } = tree();
    assert.match(createTrustedPaths().problem(join(dir, 'missing.js')) ?? '', /missing\.js cannot be examined \(ENOENT\)/);
    symlinkSync(join(dir, 'loop2'), join(dir, 'loop1'));
    symlinkSync(join(dir, 'loop1'), join(dir, 'loop2'));
    assert.match(createTrustedPaths().problem(join(dir, 'loop1')) ?? '', /more than 40 symbolic links/);
  });
});
