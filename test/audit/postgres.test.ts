/**
 * The PostgreSQL audit store against the running PostgreSQL (127.0.0.1:5432, trust auth, database
 * `test`; `.ci/run` makes sure it is up). Each test run writes its own table rows under a unique chain
 * name and removes them afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { AuditLog } from '../../src/audit/log.ts';
import { argsHasher } from '../../src/audit/args-hash.ts';
import { PostgresAuditStore } from '../../src/audit/postgres-store.ts';
import type { AuditStore } from '../../src/audit/store.ts';
import { holdsBuiltInSecret } from '../../src/dlp/create.ts';
import type { MessageContext } from '../../src/pipeline/context.ts';
import { verifyChain, type AuditRecord } from '../../src/audit/record.ts';
import { chain } from '../helpers/audit.ts';
import { legacyClient, runCli, startGateway } from '../helpers/gateway.ts';
import { startModernServer } from '../fixtures/modern-server.ts';

const URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('PostgreSQL audit store', () => {
  const instances: string[] = [];
  after(async () => {
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query('DELETE FROM portcullis_audit WHERE instance = ANY($1)', [instances]);
    await client.end();
  });

  it('appends in group commits, continues a chain, queries and verifies', async () => {
    const instance = `test-${randomUUID()}`;
    instances.push(instance);
    const store = new PostgresAuditStore(URL);
    const records = chain(instance, 6);
    await Promise.all(records.map((r) => store.append(r)));
    assert.deepEqual(await store.head(instance), { seq: 6, hash: records[5]!.hash });
    const denied = await store.query({ decision: 'denied' });
    assert.ok(denied.some((r) => r.instance === instance && r.seq === 3));
    const beta = (await store.query({ agent: 'beta', target: 'read_?' })).filter((r) => r.instance === instance);
    assert.deepEqual(beta.map((r) => r.seq), [2, 4, 6]);
    const mine: AuditRecord[] = [];
    for await (const r of store.all()) if (r.instance === instance) mine.push(r);
    const result = await verifyChain(mine);
    assert.equal(result.checked, 6);
    assert.equal(result.broken, undefined);

    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    // The index column edited with the record (the table is shared: a row whose column disagrees would
    // make every other test's query report it).
    await client.query(`UPDATE portcullis_audit SET record = replace(record, '"decision":"denied"', '"decision":"allowed"'), decision = 'allowed' WHERE instance = $1 AND seq = 3`, [instance]);
    await client.end();
    const tampered: AuditRecord[] = [];
    for await (const r of store.all()) if (r.instance === instance) tampered.push(r);
    assert.equal((await verifyChain(tampered)).broken?.seq, 3);
    await store.close();
  });

  it('records gateway calls to PostgreSQL and fails closed when the database is unreachable', async () => {
    const instance = `gw-${randomUUID()}`;
    instances.push(instance);
    const upstream = await startModernServer();
    const gw = await startGateway({ audit: { store: 'postgres', url: URL, instance }, servers: { modern: { url: upstream.url } } });
    const client = await legacyClient(`${gw.url}/mcp/modern`);
    await client.callTool({ name: 'echo', arguments: { text: 'to postgres' } });
    await client.close();
    await gw.close();
    const store = new PostgresAuditStore(URL);
    const rows = (await store.query({ target: 'echo' })).filter((r) => r.instance === instance);
    await store.close();
    assert.deepEqual(rows.map((r) => r.decision), ['intent', 'allowed'], 'the write-ahead intent, then the outcome');

    const down = await startGateway({ audit: { store: 'postgres', url: 'postgres://postgres@127.0.0.1:1/test', instance }, servers: { modern: { url: upstream.url } } });
    try {
      const before = upstream.bodies().length;
      const c = await legacyClient(`${down.url}/mcp/modern`);
      await assert.rejects(c.callTool({ name: 'echo', arguments: { text: 'unrecorded' } }), (error: Error & { data?: { code?: string } }) => {
        assert.equal(error.data?.code, 'PC_AUDIT_UNAVAILABLE');
        return true;
      });
      const calls = upstream.bodies().slice(before).filter((b) => b.includes('"tools/call"'));
      assert.deepEqual(calls, [], 'the call never reached the server');
      await c.close();
    } finally {
      await down.close();
      await upstream.close();
    }
  });

  it('refuses to write a record that does not extend the stored chain (no gap, whatever the caller sends)', async () => {
    const instance = `gap-${randomUUID()}`;
    instances.push(instance);
    const store = new PostgresAuditStore(URL);
    const records = chain(instance, 5);
    await Promise.all(records.slice(0, 2).map((r) => store.append(r)));
    // Record 4 without record 3 (built on a record whose write failed) is refused; 3 then 4 go in.
    await assert.rejects(store.append(records[3]!), /does not extend the stored chain/);
    await assert.rejects(Promise.all([store.append(records[1]!)]));
    await Promise.all(records.slice(2, 5).map((r) => store.append(r)));
    const mine: AuditRecord[] = [];
    for await (const r of store.all()) if (r.instance === instance) mine.push(r);
    assert.deepEqual(mine.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.equal((await verifyChain(mine)).broken, undefined);
    await store.close();
  });

  it('resumes the chain after a write whose answer was lost although its commit landed', async () => {
    const instance = `lost-${randomUUID()}`;
    instances.push(instance);
    const store = new PostgresAuditStore(URL);
    let loseAnswerOf = 2;
    // The real store, whose answer for record 2 is lost on the way back (as when the connection drops after COMMIT).
    const lossy: AuditStore = {
      kind: store.kind,
      append: async (record) => {
        await store.append(record);
        if (record.seq === loseAnswerOf) {
          loseAnswerOf = -1;
          throw new Error('connection terminated');
        }
      },
      head: (name) => store.head(name),
      query: (filter) => store.query(filter),
      all: () => store.all(),
      addCheckpoint: (checkpoint) => store.addCheckpoint(checkpoint),
      checkpoints: () => store.checkpoints(),
      lastBefore: (name, time) => store.lastBefore(name, time),
      prune: (name, seq) => store.prune(name, seq),
      close: () => store.close(),
    };
    const log = new AuditLog({ openStore: async () => lossy, kind: 'postgres', instance, gatewayId: 'g', redactFields: [], holdsSecret: holdsBuiltInSecret, argumentsModeFor: () => 'redacted', argsHash: argsHasher(randomBytes(32)), logger: pino({ level: 'silent' }), retryMs: 0 });
    await log.open();
    const ctx = (text: string) =>
      ({
        route: { kind: 'upstream', server: 's', name: 'echo', params: { name: 'echo', arguments: { text } } },
        request: { jsonrpc: '2.0', id: text, method: 'tools/call', params: { name: 'echo', arguments: { text } } },
        endpoint: { kind: 'server', server: 's' },
        principal: { agent: 'a', subject: 'a', scopes: [] },
        client: { protocolVersion: '2026-07-28', key: 'modern:test' },
        correlationId: text,
        startedAt: performance.now(),
        receivedAtMs: Date.now(),
      }) as unknown as MessageContext;
    assert.equal(await log.intent(ctx('one')), undefined);
    assert.equal((await log.intent(ctx('two')))?.code, 'PC_AUDIT_UNAVAILABLE', 'the lost answer counts as a failure');
    // The next call is the probe: it reads where the stored chain ends (record 2 landed) and goes on from there.
    assert.equal(await log.intent(ctx('three')), undefined);
    assert.equal(await log.intent(ctx('four')), undefined);
    await log.close();
    const reader = new PostgresAuditStore(URL);
    const mine: AuditRecord[] = [];
    for await (const r of reader.all()) if (r.instance === instance) mine.push(r);
    await reader.close();
    assert.deepEqual(mine.map((r) => r.correlationId), ['one', 'two', 'three', 'four'], 'each record once, in order');
    assert.equal((await verifyChain(mine)).broken, undefined);
  });

  it('audit query reads the PostgreSQL trail from the CLI', async () => {
    const instance = `cli-${randomUUID()}`;
    instances.push(instance);
    const store = new PostgresAuditStore(URL);
    await Promise.all(chain(instance, 3).map((r) => store.append(r)));
    await store.close();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'pc-pgcli-')), 'portcullis.yaml');
    writeFileSync(file, `audit: { store: postgres, url: "${URL}" }\nservers: {}\n`);
    const result = await runCli(['audit', 'query', '-c', file, '--decision', 'denied', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.split('\n').some((l) => l.includes(instance)));
  });
});
