import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { newSpaceBytes, trimHeap } from '../../src/util/heap-trim.ts';

describe('heap trim', () => {
  it('gives a grown young generation back, and leaves no gc function on the global object', () => {
    // Grow the new space: objects that survive a few scavenges make V8 enlarge it.
    let keep: unknown[] = [];
    for (let round = 0; round < 40 && newSpaceBytes() <= 8 * 1024 * 1024; round++) {
      keep = Array.from({ length: 100_000 }, (_, i) => ({ i, text: `item ${i}` }));
    }
    assert.ok(newSpaceBytes() > 8 * 1024 * 1024, `new space grew (${newSpaceBytes()} bytes)`);
    keep = [];
    trimHeap();
    assert.ok(newSpaceBytes() <= 2 * 1024 * 1024, `new space after the trim: ${newSpaceBytes()} bytes`);
    assert.equal(keep.length, 0);
    assert.equal('gc' in globalThis, false);
  });

  it('ends the efficiency mode the launcher starts the gateway in, so that requests tier up as usual', () => {
    const script = `
      const { startHeapTrim } = await import(${JSON.stringify(new URL('../../src/util/heap-trim.ts', import.meta.url).href)});
      const during = %IsEfficiencyModeEnabled();
      const stop = startHeapTrim();
      stop();
      process.stdout.write(JSON.stringify({ during, after: %IsEfficiencyModeEnabled() }));
    `;
    const run = spawnSync(process.execPath, ['--efficiency-mode', '--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { during: true, after: false });
  });
});
