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

  it('undoes the start-up-only flags the launcher names, so that requests tier up as usual', () => {
    const script = `
      const { startHeapTrim } = await import(${JSON.stringify(new URL('../../src/util/heap-trim.ts', import.meta.url).href)});
      function hot(values) { let sum = 0; for (const v of values) sum += v * 2; return sum; }
      const values = Array.from({ length: 200 }, (_, i) => i);
      const optimized = () => (%GetOptimizationStatus(hot) & (32 | 64)) !== 0; // TurboFan or Maglev code
      for (let i = 0; i < 20000; i++) hot(values);
      const during = { efficiency: %IsEfficiencyModeEnabled(), optimized: optimized() };
      const stop = startHeapTrim();
      stop();
      for (let i = 0; i < 20000; i++) hot(values);
      process.stdout.write(JSON.stringify({ during, after: { efficiency: %IsEfficiencyModeEnabled(), optimized: optimized() }, env: process.env.PORTCULLIS_START_FLAGS ?? null }));
    `;
    const flags = ['--efficiency-mode', '--maglev-filter=-*', '--turbo-filter=-*'];
    const run = (env: Record<string, string>) => {
      const child = spawnSync(process.execPath, [...flags, '--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
      assert.equal(child.status, 0, child.stderr);
      return JSON.parse(child.stdout) as unknown;
    };
    assert.deepEqual(run({ PORTCULLIS_START_FLAGS: flags.join(' ') }), { during: { efficiency: true, optimized: false }, after: { efficiency: false, optimized: true }, env: null });
    // Flags the launcher did not name (the user's own) stay as they are.
    assert.deepEqual(run({ PORTCULLIS_START_FLAGS: '--efficiency-mode --no-such-flag' }), { during: { efficiency: true, optimized: false }, after: { efficiency: false, optimized: false }, env: null });
  });
});
