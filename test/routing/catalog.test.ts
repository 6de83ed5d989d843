import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Catalog, matchesTemplate, MAX_EXPOSED_NAME } from '../../src/routing/catalog.ts';

describe('aggregated names', () => {
  const catalog = new Catalog(new Map([['github', { upstream: {} as never, prefix: 'github' }], ['bare', { upstream: {} as never, prefix: '' }]]), '__', pino({ level: 'silent' }));

  it('prefixes names with the server and keeps them within 64 characters, uniquely', () => {
    assert.equal(catalog.exposedName('github', 'create_issue'), 'github__create_issue');
    assert.equal(catalog.exposedName('bare', 'create_issue'), 'create_issue');
    const a = catalog.exposedName('github', `${'x'.repeat(70)}_alpha`);
    const b = catalog.exposedName('github', `${'x'.repeat(70)}_beta`);
    assert.equal(a.length, MAX_EXPOSED_NAME);
    assert.equal(b.length, MAX_EXPOSED_NAME);
    assert.notEqual(a, b);
    assert.match(a, /^github__x+-[0-9a-f]{8}$/);
  });

  it('matches resource URIs against RFC 6570 templates', () => {
    assert.ok(matchesTemplate('demo://resource/dynamic/text/{resourceId}', 'demo://resource/dynamic/text/42'));
    assert.ok(!matchesTemplate('demo://resource/dynamic/text/{resourceId}', 'demo://resource/dynamic/text/42/more'));
    assert.ok(matchesTemplate('file://{+path}', 'file:///srv/data/a.txt'));
    assert.ok(!matchesTemplate('repo://{owner}/x', 'other://a/x'));
  });
});
