/**
 * The pins store on its own: two processes on one data dir share one key, approvals by name or by
 * exact key, and a store never writes over a file that failed its integrity check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PinStore, pinsKeyPath } from '../../src/supply/pins.ts';

function store(dir: string): PinStore {
  return new PinStore({ path: join(dir, 'pins.json'), key: { kind: 'file', path: pinsKeyPath(dir) }, create: true });
}

describe('pins store', () => {
  it('lets two stores on one data dir (serve and stdio) share the key and read each other\'s writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-pins-'));
    const a = store(dir);
    const b = store(dir);
    a.pin('s', 'tools:x', { name: 'x' }, 'first-use');
    a.save();
    b.reload(0);
    assert.ok(b.integrity().ok);
    assert.ok(b.pinned('s', 'tools:x'));
  });

  it('approves pending definitions by name or by exact key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-pins-'));
    const pins = store(dir);
    pins.hold('s', 'tools:instructions', { name: 'instructions' }, 'new definition, not approved');
    pins.hold('s', 'server:instructions', { instructions: 'Use x.' }, 'definition changed');
    const hash = (key: string) => pins.pending('s')[key]!.hash.slice(0, 12);
    assert.deepEqual(pins.approve('s', [{ name: 'server:instructions', hash: hash('server:instructions') }], 'alice'), { approved: ['server:instructions'] });
    assert.deepEqual(pins.approve('s', [{ name: 'instructions', hash: hash('tools:instructions') }], 'alice'), { approved: ['tools:instructions'] });
    assert.equal(pins.pinned('s', 'server:instructions')?.approvedBy, 'alice');
  });

  it('approves nothing when a named hash is not what is pending, or a flagged definition is not acknowledged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-pins-'));
    const pins = store(dir);
    pins.hold('s', 'tools:a', { name: 'a', description: 'one' }, 'definition changed');
    const reviewed = pins.pending('s')['tools:a']!.hash.slice(0, 12);
    pins.hold('s', 'tools:b', { name: 'b' }, 'poisoning: hidden-instructions in description');
    const flagged = pins.pending('s')['tools:b']!.hash.slice(0, 12);
    pins.hold('s', 'tools:a', { name: 'a', description: 'two' }, 'definition changed');
    assert.ok('problems' in pins.approve('s', [{ name: 'a', hash: reviewed }], 'alice'), 'swapped after review');
    assert.ok('problems' in pins.approve('s', [{ name: 'b', hash: flagged }], 'alice'), 'flagged, not acknowledged');
    assert.ok('problems' in pins.approve('s', [{ name: 'b', hash: 'abc' }], 'alice'), 'too short to bind');
    assert.deepEqual(pins.approve('s', [{ name: 'b', hash: flagged }], 'alice', { acceptFindings: true }), { approved: ['tools:b'] });
    assert.equal(pins.pinned('s', 'tools:a'), undefined);
  });

  it('refuses to write over a file that failed its integrity check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-pins-'));
    store(dir).save();
    writeFileSync(join(dir, 'pins.json'), '{"version":2,"servers":{},"mac":"00"}');
    const pins = store(dir);
    assert.equal(pins.integrity().ok, false);
    assert.throws(() => pins.save(), /untrusted/);
    assert.equal(readFileSync(join(dir, 'pins.json'), 'utf8'), '{"version":2,"servers":{},"mac":"00"}');
  });
});
