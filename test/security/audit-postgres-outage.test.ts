/**
 * A brief PostgreSQL outage under concurrent calls: the gateway's connections to the database are
 * killed (pg_terminate_backend) again and again while many calls are in flight, then the outage ends.
 * Asserted on the database's side: the trail verifies (no record chained onto one that was never
 * stored, none stored twice); every call the server received has exactly one intent record, written
 * before it was forwarded; every call answered with a result has its intent and its outcome; calls
 * during the outage were refused (PC_AUDIT_UNAVAILABLE) or recorded; and calls go through again after.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { verifyChain, type AuditRecord } from '../../src/audit/record.ts';
import { startGateway, waitFor } from '../helpers/gateway.ts';
import { codeOf, forwarded, modernSession, recordedServer } from '../helpers/security.ts';

const PG_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POLICY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };
/** How long connections keep being killed, and how many calls are kept in flight meanwhile. */
const OUTAGE_MS = 1500;
const IN_FLIGHT = 24;

const textOf = (r: AuditRecord): string | undefined => (r.args as { text?: string } | undefined)?.text;

describe('the PostgreSQL audit chain survives an outage under concurrent writes', () => {
  it('verifies after recovery; each forwarded call recorded exactly once; calls during the outage refused or recorded', async () => {
    const instance = `outage-${randomUUID().slice(0, 8)}`;
    const app = `pc-${instance}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const log = join(mkdtempSync(join(tmpdir(), 'pc-pg-outage-')), 'gov.log');
    const gw = await startGateway({ servers: { gov: recordedServer(log) }, policy: POLICY, audit: { store: 'postgres', url: `${PG_URL}?application_name=${app}`, instance } });
    try {
      const session = modernSession(`${gw.url}/mcp/gov`);
      const call = (text: string) => session.send({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name: 'echo', arguments: { text } } });
      assert.equal((await call('before')).json?.result?.content?.[0]?.text, 'echo: before');

      let killing = true;
      let killed = 0;
      const killer = (async () => {
        while (killing) {
          const { rows } = await admin.query('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]);
          killed += (rows[0] as { n: number }).n;
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
      })();
      const answers = new Map<string, unknown>();
      let n = 0;
      const worker = async () => {
        while (killing) {
          const text = `during-${n++}`;
          const answer = await call(text);
          answers.set(text, answer.json);
        }
      };
      const started = Date.now();
      const workers = Array.from({ length: IN_FLIGHT }, worker);
      await waitFor(async () => (Date.now() - started >= OUTAGE_MS ? true : undefined), OUTAGE_MS + 5000, 'the outage to last');
      killing = false;
      await Promise.all([killer, ...workers]);
      assert.ok(killed > 0, 'connections were killed');

      // Recovery: calls go through again.
      await waitFor(
        async () => {
          const answer = await call('after');
          return answer.json?.result?.content?.[0]?.text === 'echo: after' ? true : undefined;
        },
        10_000,
        'the gateway to take calls again',
      );
      for (let k = 0; k < 5; k++) assert.equal((await call(`after-${k}`)).json?.result?.content?.[0]?.text, `echo: after-${k}`);
      await gw.close();

      const { rows } = await admin.query('SELECT record FROM portcullis_audit WHERE instance = $1 ORDER BY seq', [instance]);
      const trail = rows.map((r: { record: string }) => JSON.parse(r.record) as AuditRecord);
      const verdict = await verifyChain(trail);
      assert.equal(verdict.broken, undefined, `the chain is broken at ${JSON.stringify(verdict.broken)}`);
      assert.deepEqual(trail.map((r) => r.seq), trail.map((_, i) => i + 1), 'no gap and no duplicate in the sequence');

      const intents = new Map<string, number>();
      for (const r of trail) if (r.decision === 'intent' && textOf(r) !== undefined) intents.set(textOf(r)!, (intents.get(textOf(r)!) ?? 0) + 1);
      const arrived = forwarded(log).map((m) => (m.params?.arguments as { text?: string }).text!);
      assert.equal(new Set(arrived).size, arrived.length, 'no call reached the server twice');
      for (const text of arrived) assert.equal(intents.get(text), 1, `call ${text} reached the server with ${intents.get(text) ?? 0} intent records`);
      let refused = 0;
      for (const [text, json] of answers) {
        const answered = (json as { result?: { content?: Array<{ text?: string }> } }).result?.content?.[0]?.text;
        if (answered !== undefined) {
          assert.equal(answered, `echo: ${text}`);
          assert.ok(trail.some((r) => textOf(r) === text && r.decision === 'allowed'), `${text} answered without its outcome on record`);
          assert.equal(intents.get(text), 1, `${text} answered with ${intents.get(text) ?? 0} intent records`);
        } else {
          assert.equal(codeOf({ json }), 'PC_AUDIT_UNAVAILABLE', `${text}: ${JSON.stringify(json)}`);
          assert.ok((intents.get(text) ?? 0) <= 1, `${text} refused but recorded more than once`);
          refused++;
        }
      }
      assert.ok(refused > 0, 'some calls met the outage');
    } finally {
      await gw.close().catch(() => undefined);
      await admin.query('DELETE FROM portcullis_audit WHERE instance = $1', [instance]).catch(() => undefined);
      await admin.query('DELETE FROM portcullis_audit_checkpoints WHERE instance = $1', [instance]).catch(() => undefined);
      await admin.end();
    }
  });
});
