import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkResourceUri } from '../../src/protocol/resource-uri.ts';

describe('checkResourceUri', () => {
  it('accepts URIs that are their own canonical form', () => {
    for (const uri of ['mem://public/readme', 'file:///srv/data/a.txt', 'test://static/resource/1', 'https://example.com/a?b=c#d', 'urn:isbn:0451450523', 'mem://public/a%20b', 'mem://x/%3Fq']) {
      assert.equal(checkResourceUri(uri), undefined, uri);
    }
  });

  it('refuses dot segments, backslashes, case a parser folds and misleading escapes', () => {
    for (const uri of [
      'mem://public/../secret',
      'mem://public/./a',
      'file:///srv/data/%2e%2e/etc/passwd',
      'file:///srv/data\\..\\etc',
      'mem://public/%2F',
      'mem://public/%5c',
      'mem://public/%41',
      'mem://public/%7e',
      'mem://public/%252e',
      'HTTPS://example.com/',
      'https://example.com',
      'not a uri',
      'file:///srv/pub//private/key',
      'mem://public//a',
      'file:///srv/pub/a?x=1',
      'file:///srv/pub/a#x',
      'mem://public/a?p=/../../secret',
      'mem://public/a#/../secret',
      'mem://public/%C0%AE%C0%AE/secret',
      'mem://public/%EF%BC%8E/secret',
    ]) {
      assert.equal(checkResourceUri(uri)?.code, 'PC_PROTOCOL_INVALID_PARAMS', uri);
    }
  });
});
