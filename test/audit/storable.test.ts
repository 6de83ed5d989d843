/**
 * `sealStorable` decides from the record's JSON text that nothing needs making storable; whatever it
 * decides, the sealed record must be the one `sealRecord(storable(body))` makes: same fields, hash and
 * stored text. Bodies with a NUL, lone surrogates, a surrogate pair, an over-long string, the same in a
 * key, and text that only looks like the escapes (a backslash the value holds).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordJson, sealRecord, type UnsignedRecord } from '../../src/audit/record.ts';
import { MAX_AUDIT_TEXT, sealStorable, storable } from '../../src/audit/storable.ts';

/** Keys in canonical order at every level, as log.ts builds records (else sealing takes the slow path anyway). */
const sorted = (value: unknown): unknown =>
  Array.isArray(value) ? value.map(sorted) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])])) : value;

const base = (extra: Record<string, unknown>): UnsignedRecord =>
  sorted({
    v: 1,
    instance: 'default',
    seq: 3,
    gatewayId: 'g',
    time: '2026-12-08T00:00:00.000Z',
    requestId: 1,
    correlationId: 'c',
    principal: { subject: 'key:k', agent: 'a' },
    endpoint: '/mcp',
    method: 'tools/call',
    scopes: [],
    decision: 'allowed',
    latencyMs: 1,
    prevHash: '0'.repeat(64),
    ...extra,
  }) as UnsignedRecord;

const VALUES = [
  'plain',
  'x\u0000y',
  'lone\ud800',
  'tail\udc00x',
  'pair\ud83d\ude00',
  'b'.repeat(MAX_AUDIT_TEXT + 1),
  'looks like \\u0000 and \\ud800 but is text',
  '\\',
  'é€',
];

describe('sealStorable', () => {
  for (const value of VALUES) {
    for (const where of ['target', 'args', 'key', 'agent'] as const) {
      it(`seals ${JSON.stringify(value.slice(0, 40))} in ${where} as sealRecord(storable(body)) does`, () => {
        const extra =
          where === 'target' ? { target: value } : where === 'args' ? { args: { text: value, n: [value] } } : where === 'key' ? { args: { [value]: 1 } } : { principal: { subject: 'key:k', agent: value } };
        const expected = sealRecord(storable(structuredClone(base(extra))));
        const got = sealStorable(structuredClone(base(extra)));
        assert.deepEqual(got, expected);
        assert.equal(recordJson(got), recordJson(expected));
        assert.doesNotMatch(recordJson(got), /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
      });
    }
  }
});
