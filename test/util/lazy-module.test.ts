import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lazyModule } from '../../src/util/lazy-module.ts';

test('a lazy module loads once, on the first call, and is then returned without a promise', async () => {
  let imports = 0;
  const load = lazyModule('the thing', async () => ({ n: ++imports }));
  assert.equal(imports, 0, 'nothing is imported before the first call');
  const first = load();
  const second = load();
  assert.ok(first instanceof Promise);
  assert.equal(first, second, 'calls while it loads share one import');
  assert.deepEqual(await first, { n: 1 });
  const later = load();
  assert.ok(!(later instanceof Promise), 'once loaded, the module itself');
  assert.deepEqual(later, { n: 1 });
  assert.equal(imports, 1);
});

test('a module that fails to load rejects with an error naming it, and the next call tries again', async () => {
  let attempts = 0;
  const load = lazyModule('the JWT library (jose)', async () => {
    attempts++;
    if (attempts === 1) throw new Error("Cannot find package 'jose'");
    return { ok: true };
  });
  await assert.rejects(async () => load(), { message: "the JWT library (jose) could not be loaded: Cannot find package 'jose'" });
  assert.deepEqual(await load(), { ok: true });
  assert.equal(attempts, 2);
});
