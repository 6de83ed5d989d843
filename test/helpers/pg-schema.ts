/**
 * A PostgreSQL schema of a test's own (through search_path), so that what the test writes and reads —
 * a whole audit trail, verified — is its own and not other tests' rows in the shared `test` database.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function pgSchema(prefix: string): { url: string; sql: (text: string, values?: unknown[]) => Promise<pg.QueryResult>; drop: () => Promise<void> } {
  const schema = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const client = new pg.Client({ connectionString: url });
  let ready: Promise<void> | undefined;
  const sql = async (text: string, values: unknown[] = []) => {
    ready ??= client.connect().then(() => client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)).then(() => undefined);
    await ready;
    return client.query(text, values);
  };
  return {
    url,
    sql,
    async drop() {
      await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await client.end();
    },
  };
}
