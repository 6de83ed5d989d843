import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { releasable, releaseRegExpCode } from '../../src/util/regexp-code.ts';

describe('releasable regular expressions', () => {
  it('keep their source, flags, lastIndex and matches across a release', () => {
    const sticky = releasable(/(?<![\p{L}\p{N}_])(?:tell|ask)(?![\p{L}\p{N}_])/giu);
    const plain = releasable(/\bexfiltrat\w*/i);
    assert.equal(sticky.test('Please TELL them'), true);
    const lastIndex = sticky.lastIndex;
    assert.ok(lastIndex > 0);
    let collected = 0;
    releaseRegExpCode(() => collected++);
    assert.equal(collected, 1);
    assert.equal(sticky.source, String.raw`(?<![\p{L}\p{N}_])(?:tell|ask)(?![\p{L}\p{N}_])`);
    assert.equal(sticky.flags, 'giu');
    assert.equal(sticky.lastIndex, lastIndex);
    assert.equal(sticky.test('then ask'), false, 'the search goes on from lastIndex');
    assert.deepEqual('ask, tell, bask, Ténor'.match(sticky), ['ask', 'tell']);
    assert.equal(plain.test('EXFILTRATES data'), true);
    assert.equal(plain.test('ex filtrate'), false);
  });

  it('are restored even when the collection throws', () => {
    const pattern = releasable(/a+b/y);
    assert.throws(() => releaseRegExpCode(() => { throw new Error('collector failed'); }), /collector failed/);
    assert.equal(pattern.source, 'a+b');
    assert.equal(pattern.sticky, true);
    assert.equal(pattern.test('aab'), true);
  });

  it('let go of their machine code once a memory-reducing collection clears the compilation cache', () => {
    // In a fresh process: the heap of this one holds whatever other tests compiled.
    const script = `
      const { getHeapSpaceStatistics } = await import('node:v8');
      const { releasable, releaseRegExpCode } = await import(${JSON.stringify(new URL('../../src/util/regexp-code.ts', import.meta.url).href)});
      const code = () => getHeapSpaceStatistics().filter((s) => s.space_name.startsWith('code')).reduce((sum, s) => sum + s.space_used_size, 0);
      const words = Array.from({ length: 2000 }, (_, i) => 'w' + i.toString(36) + 'x');
      const patterns = Array.from({ length: 40 }, (_, k) => releasable(new RegExp('(?<![\\\\p{L}\\\\p{N}_])(?:' + words.slice(k * 50, k * 50 + 50).join('|') + ')(?![\\\\p{L}\\\\p{N}_])', 'iu')));
      const run = () => patterns.filter((p) => p.test('a text with w1x and W2X in it')).length;
      const base = code();
      const first = [run(), run()]; // the second run compiles to machine code
      const compiled = code() - base;
      releaseRegExpCode(() => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
      const released = code() - base;
      const again = [run(), run()];
      process.stdout.write(JSON.stringify({ compiled, released, first, again, recompiled: code() - base }));
    `;
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const r = JSON.parse(child.stdout) as { compiled: number; released: number; first: number[]; again: number[]; recompiled: number };
    assert.ok(r.compiled > 100_000, `machine code after two runs: ${r.compiled} bytes`);
    assert.ok(r.released < r.compiled / 4, `machine code after the release: ${r.released} of ${r.compiled} bytes`);
    assert.deepEqual(r.first, [1, 1]);
    assert.deepEqual(r.again, [1, 1], 'the patterns match as before');
    assert.ok(r.recompiled > r.compiled / 2, 'the next runs compile them again');
  });
});
