/**
 * Redteam2 G1 — a caller-chosen string the store cannot hold. PostgreSQL `text` refuses a NUL, and a
 * lone UTF-16 surrogate has no UTF-8 form; a tool name or self-declared agent name carrying one once
 * made the insert fail: the refusal went unrecorded, every other caller was refused
 * PC_AUDIT_UNAVAILABLE and the chain verified as broken. Attacked through the real gateway on real
 * PostgreSQL (own schema) and real SQLite: the attacker's calls are refused and recorded (with U+FFFD
 * in place of what cannot be stored), the victim's calls go through meanwhile, and the chain verifies
 * from what each store holds.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { verifyChain, type AuditRecord } from '../../src/audit/record.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, legacySession, modernSession, recordedServer } from '../helpers/security.ts';

const PG_BASE = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POLICY = { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] };
const HOSTILE = ['x\u0000', 'lone\ud800', 'tail\udc00x', 'mal\u0000lory\ud83d'];

async function attack(gw: TestGateway, log: string, records: () => Promise<AuditRecord[]>): Promise<void> {
  const victim = modernSession(`${gw.url}/mcp`);
  const call = (name: string, text = 'hi') => ({ jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name, arguments: { text } } });
  const attacker = await legacySession(`${gw.url}/mcp`, '2025-11-25', 'mallory');
  const answers: Array<Promise<{ json: any }>> = [];
  for (const name of HOSTILE) {
    // Concurrent with the victim's calls, so a failing batch would take the victim's records with it.
    answers.push(attacker.send(call(name)), victim.send(call('gov__echo', `victim-${name.length}`)));
  }
  for (const agent of HOSTILE) {
    const session = await legacySession(`${gw.url}/mcp`, '2025-11-25', agent);
    answers.push(session.send(call('gov__echo', 'from-hostile-agent')), victim.send(call('gov__echo', 'victim-agent')));
  }
  const settled = await Promise.all(answers);
  for (const answer of settled) assert.notEqual(codeOf(answer), 'PC_AUDIT_UNAVAILABLE', JSON.stringify(answer.json));
  // A NUL or a lone surrogate in params is refused before routing (parser differentials); either refusal counts.
  const REFUSED = new Set(['PC_ROUTE_UNKNOWN_TOOL', 'PC_ARGS_INVALID']);
  const refused = settled.filter((a) => REFUSED.has(codeOf(a) ?? ''));
  assert.equal(refused.length, HOSTILE.length, 'every hostile tool name was refused');
  assert.equal(forwarded(log).length, HOSTILE.length * 3, 'the victim and the allowed calls of hostile agents all reached the server');

  const trail = await records();
  const unknown = trail.filter((r) => REFUSED.has(r.code ?? ''));
  assert.deepEqual(unknown.map((r) => r.target).sort(), ['lone\ufffd', 'mal\ufffdlory\ufffd', 'tail\ufffdx', 'x\ufffd'], 'each refusal is recorded, unstorable characters as U+FFFD');
  const agents = new Set(trail.map((r) => r.principal.agent));
  for (const agent of ['x\ufffd', 'lone\ufffd', 'tail\ufffdx', 'mal\ufffdlory\ufffd']) assert.ok(agents.has(agent), `the calls of agent ${JSON.stringify(agent)} are recorded`);
  const verdict = await verifyChain(trail);
  assert.equal(verdict.broken, undefined, JSON.stringify(verdict.broken));
  assert.equal(gw.gateway.audit?.healthy, true);
}

describe('G1: caller-chosen strings the store cannot hold are made storable before hashing', () => {
  it('PostgreSQL: NUL and lone surrogates in tool and agent names are recorded, nobody is refused, the chain verifies', async () => {
    const schema = `hardening_g1_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: PG_BASE });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = `${PG_BASE}?options=-c%20search_path%3D${schema}`;
    const dir = mkdtempSync(join(tmpdir(), 'pc-g1-'));
    const log = join(dir, 'gov.log');
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({ servers: { gov: recordedServer(log) }, policy: POLICY, audit: { store: 'postgres', url } });
      await attack(gw, log, async () => {
        const { rows } = await admin.query(`SELECT record, agent, target FROM ${schema}.portcullis_audit ORDER BY instance, seq`);
        for (const row of rows as Array<{ record: string; agent: string; target: string | null }>) {
          const record = JSON.parse(row.record) as AuditRecord;
          assert.equal(row.agent, record.principal.agent, 'the agent column holds what the record holds');
          assert.equal(row.target, record.target ?? null);
        }
        return rows.map((r: { record: string }) => JSON.parse(r.record) as AuditRecord);
      });
    } finally {
      await gw?.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('SQLite: the same attack records the same storable values, the chain verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-g1-'));
    const log = join(dir, 'gov.log');
    const gw = await startGateway({ servers: { gov: recordedServer(log) }, policy: POLICY });
    try {
      await attack(gw, log, async () => auditRecords(gw));
    } finally {
      await gw.close();
    }
  });
});
