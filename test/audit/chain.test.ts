/**
 * The hash chain against each kind of tampering, on a real SQLite file edited behind the store's back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/audit/canonical.ts';
import { recordHash, recordJson, sealRecord, verifyChain, type AuditRecord, type UnsignedRecord } from '../../src/audit/record.ts';
import { chain } from '../helpers/audit.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';

async function storeWith(records: AuditRecord[]): Promise<{ path: string; store: SqliteAuditStore }> {
  const path = join(mkdtempSync(join(tmpdir(), 'pc-audit-')), 'audit.db');
  const store = new SqliteAuditStore(path);
  await Promise.all(records.map((r) => store.append(r)));
  return { path, store };
}

const tamper = (path: string, sql: string, ...params: Array<string | number>) => {
  const db = new DatabaseSync(path);
  db.prepare(sql).run(...params);
  db.close();
};

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys at every depth and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson({ n: 1e21, f: 0.1 }), '{"f":0.1,"n":1e+21}');
  });

  it('writes the same text whether the keys already come in order (written natively) or not', () => {
    // The reference: RFC 8785 spelled out, every level sorted by hand.
    const reference = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : reference(item))).join(',')}]`;
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      const object = value as Record<string, unknown>;
      return `{${Object.keys(object).sort().filter((k) => object[k] !== undefined).map((k) => `${JSON.stringify(k)}:${reference(object[k])}`).join(',')}}`;
    };
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const KEYS = ['a', 'b', 'B', 'é', '\u{1F600}', '\ud800', '1', '10', '9', '', 'a b', 'ab', 'toJSON_'];
    const grow = (depth: number): unknown => {
      const pick = random(depth > 3 ? 6 : 9);
      if (pick === 0) return 'text "quoted" \n ✓ \ud800';
      if (pick === 1) return [0, -0, 1.5, -1e-7, 1e21, 2 ** 53][random(6)];
      if (pick === 2) return [true, false, null][random(3)];
      if (pick === 3) return undefined;
      if (pick === 4 || pick === 5) return 'x';
      if (pick === 6) return Array.from({ length: random(4) }, () => grow(depth + 1));
      const keys = Array.from({ length: random(5) }, () => KEYS[random(KEYS.length)]!);
      // Half the objects list their keys in order (the native path), half as they come.
      if (random(2) === 0) keys.sort();
      const object: Record<string, unknown> = pick === 7 ? {} : Object.create(null);
      for (const key of keys) object[key] = grow(depth + 1);
      return object;
    };
    for (let i = 0; i < 3000; i++) {
      const value = { ...(grow(0) as object), z: grow(1) };
      assert.equal(canonicalJson(value), reference(value), JSON.stringify(value));
    }
    // What JSON.stringify would write differently is never taken as already canonical.
    assert.equal(canonicalJson({ a: new Date(0) }), '{"a":{}}');
    assert.equal(canonicalJson({ a: [() => 1] }), '{"a":[null]}');
    assert.equal(canonicalJson({ a: { toJSON: () => 'x' } }), '{"a":{"toJSON":null}}');
    assert.throws(() => canonicalJson({ a: Number.NaN }), /non-finite/);
  });
});

describe('sealed records', () => {
  it('keep the text JSON.stringify writes, with a hash that verifies, whatever the order of their fields', () => {
    const [sample] = chain('a', 1);
    const { hash: _hash, ...fields } = sample!;
    const sorted = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))) as UnsignedRecord;
    const unsorted = Object.fromEntries(Object.entries(fields).reverse()) as UnsignedRecord;
    for (const body of [sorted, unsorted]) {
      const record = sealRecord({ ...body });
      assert.equal(record.hash, sample!.hash);
      assert.equal(recordHash(record), record.hash);
      assert.equal(recordJson(record), JSON.stringify(record));
    }
  });
});

describe('audit hash chain', () => {
  it('verifies an intact chain, across instances and restarts', async () => {
    const { store } = await storeWith([...chain('a', 5), ...chain('b', 3)]);
    const result = await verifyChain(store.all());
    assert.equal(result.checked, 8);
    assert.equal(result.broken, undefined);
    assert.deepEqual(await store.head('a'), { seq: 5, hash: chain('a', 5)[4]!.hash });
    store.close();
  });

  it('finds an edited record', async () => {
    const { path, store } = await storeWith(chain('a', 5));
    tamper(path, "UPDATE audit_records SET record = replace(record, '\"decision\":\"denied\"', '\"decision\":\"allowed\"') WHERE seq = 3");
    assert.deepEqual((await verifyChain(store.all())).broken, { instance: 'a', seq: 3, problem: 'content does not match its hash: the record was edited' });
    store.close();
  });

  it('finds a record edited together with its own hash, at the next link', async () => {
    const records = chain('a', 5);
    const forged = { ...records[2]!, target: 'innocent' };
    forged.hash = recordHash(forged);
    const { path, store } = await storeWith(records);
    // The forger updates the index column too (a column left as it was is caught at record 3 itself).
    tamper(path, 'UPDATE audit_records SET record = ?, target = ? WHERE seq = 3', JSON.stringify(forged), 'innocent');
    assert.equal((await verifyChain(store.all())).broken?.seq, 4);
    store.close();
  });

  it('finds a row whose index column was edited alone (its record and hash intact), at that row', async () => {
    const { path, store } = await storeWith(chain('a', 5));
    tamper(path, "UPDATE audit_records SET decision = 'allowed' WHERE seq = 3");
    const broken = (await verifyChain(store.all())).broken;
    assert.equal(broken?.seq, 3);
    assert.match(broken!.problem, /decision column disagrees/);
    store.close();
  });

  it('finds a deleted record, a deleted head and an inserted record', async () => {
    const deleted = await storeWith(chain('a', 5));
    tamper(deleted.path, 'DELETE FROM audit_records WHERE seq = 2');
    assert.equal((await verifyChain(deleted.store.all())).broken?.seq, 2, 'the position of the missing record');
    const head = await storeWith(chain('a', 5));
    tamper(head.path, 'DELETE FROM audit_records WHERE seq = 1');
    assert.match((await verifyChain(head.store.all())).broken!.problem, /deleted/);
    const inserted = await storeWith(chain('a', 5));
    const extra = { ...chain('a', 5)[1]!, seq: 6, correlationId: 'forged' };
    await inserted.store.append({ ...extra, hash: recordHash(extra) });
    assert.equal((await verifyChain(inserted.store.all())).broken?.seq, 6);
    for (const s of [deleted, head, inserted]) s.store.close();
  });

  it('finds reordered records', async () => {
    const { path, store } = await storeWith(chain('a', 5));
    tamper(path, 'UPDATE audit_records SET seq = 99 WHERE seq = 2');
    tamper(path, 'UPDATE audit_records SET seq = 2 WHERE seq = 3');
    tamper(path, 'UPDATE audit_records SET seq = 3 WHERE seq = 99');
    assert.equal((await verifyChain(store.all())).broken?.seq, 2);
    store.close();
  });
});
