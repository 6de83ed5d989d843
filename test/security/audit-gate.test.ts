/**
 * Issue 11 item 12 — the audit gate fails closed. A call is forwarded only once its write-ahead
 * `intent` record is in the store. The store is made to fail for real (SQLite: a trigger that aborts
 * every insert; JSON Lines: its directory removed; PostgreSQL: a trigger scoped to this gateway's
 * chain), calls keep coming across the retry window (so the one-per-second probe happens), and the
 * recorded server must have received none of them while every client got PC_AUDIT_UNAVAILABLE. Once
 * the store is repaired, calls go through again, each with its intent before its outcome.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import pg from 'pg';
import type { AuditRecord } from '../../src/audit/record.ts';
import { startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, modernSession, recordedServer, type RawSession } from '../helpers/security.ts';

const PG_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POLICY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };
/** The gateway retries a failing store once a second; calls keep coming a little longer than that. */
const RETRY_WINDOW_MS = 1300;

interface Store {
  config: Record<string, unknown>;
  /** Makes every write fail. */
  break(): Promise<void>;
  repair(): Promise<void>;
  records(): Promise<AuditRecord[]>;
  cleanup(): Promise<void>;
}

function sqliteStore(dataDir: () => string): Store {
  const db = () => new DatabaseSync(join(dataDir(), 'audit.db'));
  return {
    config: {},
    async break() {
      const d = db();
      d.exec("CREATE TRIGGER refuse_all BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'the disk refuses'); END;");
      d.close();
    },
    async repair() {
      const d = db();
      d.exec('DROP TRIGGER refuse_all');
      d.close();
    },
    records: async () => auditRecords(dataDir()),
    async cleanup() {},
  };
}

function jsonlStore(dir: string): Store {
  const path = join(dir, 'trail', 'audit.jsonl');
  return {
    config: { audit: { store: 'jsonl', path } },
    async break() {
      rmSync(join(dir, 'trail'), { recursive: true, force: true });
    },
    async repair() {
      mkdirSync(join(dir, 'trail'), { recursive: true });
    },
    async records() {
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AuditRecord);
    },
    async cleanup() {},
  };
}

function postgresStore(): Store {
  const instance = `gate-${randomUUID().slice(0, 8)}`;
  const fn = `refuse_${instance.replace(/-/g, '_')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  let connected = false;
  const sql = async (text: string, values: unknown[] = []) => {
    if (!connected) {
      await client.connect();
      connected = true;
    }
    return client.query(text, values);
  };
  return {
    config: { audit: { store: 'postgres', url: PG_URL, instance } },
    async break() {
      // Scoped to this test's chain: other tests share the table.
      await sql(`CREATE FUNCTION ${fn}() RETURNS trigger AS $$ BEGIN IF NEW.instance = '${instance}' THEN RAISE EXCEPTION 'the database refuses'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await sql(`CREATE TRIGGER ${fn} BEFORE INSERT ON portcullis_audit FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    },
    async repair() {
      await sql(`DROP TRIGGER IF EXISTS ${fn} ON portcullis_audit`);
      await sql(`DROP FUNCTION IF EXISTS ${fn}()`);
    },
    async records() {
      const { rows } = await sql('SELECT record FROM portcullis_audit WHERE instance = $1 ORDER BY seq', [instance]);
      return rows.map((r: { record: string }) => JSON.parse(r.record) as AuditRecord);
    },
    async cleanup() {
      await this.repair().catch(() => undefined);
      await sql('DELETE FROM portcullis_audit WHERE instance = $1', [instance]).catch(() => undefined);
      await sql('DELETE FROM portcullis_audit_checkpoints WHERE instance = $1', [instance]).catch(() => undefined);
      if (connected) await client.end();
    },
  };
}

const echo = (label: string, text: string) => ({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name: label.endsWith('/mcp') ? 'gov__echo' : 'echo', arguments: { text } } });

async function attack(kind: string, makeStore: (dir: string, dataDir: () => string) => Store): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `pc-gate-${kind}-`));
  const log = join(dir, 'gov.log');
  let gw: TestGateway | undefined;
  const store = makeStore(dir, () => gw!.gateway.config.dataDir!);
  try {
    gw = await startGateway({ servers: { gov: recordedServer(log) }, policy: POLICY, ...store.config });
    const sessions: Record<string, RawSession> = {
      'legacy /mcp/gov': await legacySession(`${gw.url}/mcp/gov`),
      'legacy /mcp': await legacySession(`${gw.url}/mcp`, '2025-03-26'),
      'modern /mcp/gov': modernSession(`${gw.url}/mcp/gov`),
      'modern /mcp': modernSession(`${gw.url}/mcp`),
    };
    const first = await sessions['legacy /mcp/gov']!.send(echo('legacy /mcp/gov', 'before'));
    assert.equal(first.json?.result?.content?.[0]?.text, 'echo: before', JSON.stringify(first.json));

    await store.break();
    const arrivedBefore = forwarded(log).length;
    const started = Date.now();
    let sent = 0;
    // Calls from every front and era, until the gateway's retry (whose write is the probe) was due twice over.
    while (Date.now() - started < RETRY_WINDOW_MS && sent < 400) {
      for (const [label, session] of Object.entries(sessions)) {
        const answer = await session.send(echo(label, `during-${sent}`));
        sent += 1;
        assert.equal(codeOf(answer), 'PC_AUDIT_UNAVAILABLE', `${label}: ${JSON.stringify(answer.json)}`);
      }
    }
    assert.ok(sent >= 8, `calls were sent while the store failed (${sent})`);
    assert.deepEqual(forwarded(log).slice(arrivedBefore), [], 'no call reached the server while its record could not be written');
    assert.equal(gw.gateway.audit?.healthy, false);

    await store.repair();
    const after = await waitFor(
      async () => {
        const answer = await sessions['modern /mcp']!.send(echo('modern /mcp', 'after'));
        return codeOf(answer) === 'PC_AUDIT_UNAVAILABLE' ? undefined : answer;
      },
      5000,
      'the gateway to take calls again once the store is repaired',
    );
    assert.equal(after.json?.result?.content?.[0]?.text, 'echo: after');
    assert.deepEqual(
      forwarded(log).slice(arrivedBefore).map((m) => (m.params?.arguments as { text?: string } | undefined)?.text),
      ['after'],
      'the server received only the call made after the repair',
    );
    const trail = await store.records();
    const last = trail.filter((r) => r.method === 'tools/call').slice(-2);
    assert.deepEqual(last.map((r) => r.decision), ['intent', 'allowed'], 'the intent is on record before the outcome');
    assert.equal(last[0]!.correlationId, last[1]!.correlationId);
    assert.ok(trail.every((r) => r.decision !== 'intent' || trail.some((o) => o.correlationId === r.correlationId && o.decision !== 'intent')), 'every intent has its outcome');
  } finally {
    await gw?.close();
    await store.cleanup();
  }
}

describe('the audit gate fails closed (write-ahead intent)', () => {
  it('SQLite: inserts abort — nothing reaches the server, every caller gets PC_AUDIT_UNAVAILABLE', async () => {
    await attack('sqlite', (_dir, dataDir) => sqliteStore(dataDir));
  });

  it('JSON Lines: the trail directory is removed — nothing reaches the server', async () => {
    await attack('jsonl', (dir) => jsonlStore(dir));
  });

  it('PostgreSQL: inserts fail — nothing reaches the server', async () => {
    await attack('postgres', () => postgresStore());
  });
});
