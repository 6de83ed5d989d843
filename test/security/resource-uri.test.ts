/**
 * Red-team finding F2 — resource rules judged the raw URI string: a rule `mem://public/*` let
 * `mem://public/../secret/keys`, `%2e%2e` dot segments and `%2F`-encoded separators through to a server
 * that resolves them (WHATWG URL parsing, URI template expansion) to a place outside `public/`.
 * A resource URI is now accepted only in canonical form; asserted on the server's side (the recorder):
 * nothing of the attack arrives, on both endpoints and both eras, for reads and subscriptions; nor does
 * a spelling (`%70rivate`, `./private`) that dodged a deny rule.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, everyEndpoint, forwarded, recordedServer, type RawSession } from '../helpers/security.ts';

/** Spellings of a place outside `mem://public/` that a glob over the raw string reads as inside it. */
const ESCAPES = [
  'mem://public/files/../../secret/keys', // dot segments under a {+path} template
  'mem://public/files/./../../secret/keys',
  'mem://public/files/%2e%2e/%2e%2e/secret/keys', // %-encoded dot segments (WHATWG reads them as `..`)
  'mem://public/files/.%2E/.%2e/secret/keys',
  'mem://public/notes/%2E%2E%2F%2E%2E%2Fsecret%2Fkeys', // a {id} expansion that decodes to ../../secret/keys
  'mem://public/notes/..%5C..%5Csecret%5Ckeys', // encoded backslashes
  'mem://public/files/%252e%252e/secret/keys', // double encoding
  'mem://public/notes/%6Beys', // an unreserved letter encoded: the same URI as .../keys to RFC 3986
  'MEM://public/readme', // case a parser folds
  // Past a deny rule on mem://public/files/private/*: the same place, spelled so the glob misses it.
  'mem://public/files/%70rivate/plan',
  'mem://public/files/./private/plan',
  'mem://public/files/x/../private/plan',
  // Red team E8: an empty segment (a file-backed server's kernel collapses `//`), and other forms a
  // server may read otherwise than the glob: fragments, queries holding dot segments, overlong UTF-8
  // dots, full-width dots that NFKC makes `.`.
  'mem://public/files//private/plan',
  'mem://public//files/private/plan',
  'file:///srv/pub//private/key.txt',
  'file:///srv/pub/a?p=/../../private/key.txt',
  'file:///srv/pub/a#/../private/key.txt',
  'mem://public/files/a#/../../secret/keys',
  'mem://public/files/a?p=/../../secret/keys',
  'mem://public/files/%C0%AE%C0%AE/secret/keys',
  'mem://public/files/%EF%BC%8E%EF%BC%8E/secret/keys',
];

describe('resource URIs are judged in canonical form', () => {
  let gw: TestGateway;
  let log: string;
  let sessions: Record<string, RawSession> = {};

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-res-uri-')), 'gov.log');
    const rules = [
      { name: 'public-resources', effect: 'allow', servers: ['gov'], resources: ['mem://public/*'] },
      { name: 'private-files', effect: 'deny', servers: ['gov'], resources: ['mem://public/files/private/*'] },
      { name: 'pub-files', effect: 'allow', servers: ['gov'], resources: ['file:///srv/pub/*'] },
      { name: 'no-private', effect: 'deny', servers: ['gov'], resources: ['file:///srv/pub/private/*'] },
    ];
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: { rules } });
    sessions = await everyEndpoint(gw.url, 'gov');
  });
  after(async () => gw?.close());

  it('refuses every non-canonical spelling before it reaches the server, and records the refusal', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      for (const uri of ESCAPES) {
        const seen = forwarded(log).length;
        const trail = auditRecords(gw).length;
        const answer = await session.send({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri } });
        assert.equal(codeOf(answer), 'PC_PROTOCOL_INVALID_PARAMS', `${label} ${uri}: ${JSON.stringify(answer.json)}`);
        assert.deepEqual(forwarded(log).slice(seen), [], `${label} ${uri} reached the server`);
        const record = auditRecords(gw).slice(trail).find((r) => r.method === 'resources/read');
        assert.equal(record?.decision, 'denied', `${label} ${uri}`);
      }
    }
  });

  it('refuses them on resources/subscribe and unsubscribe too', async () => {
    const session = sessions['legacy /mcp/gov']!;
    for (const method of ['resources/subscribe', 'resources/unsubscribe']) {
      for (const uri of ESCAPES) {
        const seen = forwarded(log).length;
        const answer = await session.send({ jsonrpc: '2.0', id: 2, method, params: { uri } });
        assert.equal(codeOf(answer), 'PC_PROTOCOL_INVALID_PARAMS', `${method} ${uri}`);
        assert.deepEqual(forwarded(log).slice(seen), [], `${method} ${uri} reached the server`);
      }
    }
  });

  it('serves canonical URIs as before, forwarded exactly as judged', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      const denied = await session.send({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'mem://public/files/private/plan' } });
      assert.equal(codeOf(denied), 'PC_POLICY_DENIED', `${label}: the deny rule holds for the canonical spelling`);
      for (const uri of ['mem://public/readme', 'mem://public/files/docs/a.txt', 'mem://public/notes/7']) {
        const seen = forwarded(log).length;
        const answer = await session.send({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri } });
        assert.match(JSON.stringify(answer.json.result), /public text/, `${label} ${uri}: ${JSON.stringify(answer.json)}`);
        assert.deepEqual(forwarded(log).slice(seen).map((m) => m.params?.uri), [uri], label);
      }
    }
  });
});
