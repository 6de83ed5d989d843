/**
 * Red-team finding F8 — `logging/setLevel` on `/mcp`, which the gateway answers itself, was recorded
 * with whatever `target` the client put in an undefined `params.name`, so a caller could plant
 * `allowed` records naming a tool it may not call. A record's target is the judged target, or, for a
 * request refused before routing, the field the spec defines for its method — never another field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, forwarded, legacySession, recordedServer, type RawSession } from '../helpers/security.ts';

describe('the audit record\'s target comes only from the field the spec defines', () => {
  let gw: TestGateway;
  let log: string;
  let session: RawSession;

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-audit-target-')), 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: { rules: [{ name: 'gov-server', effect: 'allow', servers: ['gov'] }] } });
    session = await legacySession(`${gw.url}/mcp`);
  });
  after(async () => gw?.close());

  /** Sends one request and returns its records (intent and outcome). */
  async function recordsOf(method: string, params: Record<string, unknown>) {
    const trail = auditRecords(gw).length;
    await session.send({ jsonrpc: '2.0', id: 1, method, params });
    return auditRecords(gw).slice(trail).filter((r) => r.method === method);
  }

  it('records no target for what the gateway answers itself, whatever the client names', async () => {
    for (const [method, params] of [
      ['logging/setLevel', { level: 'info', name: 'gov__delete_record' }],
      ['tools/list', { name: 'gov__delete_record', uri: 'mem://secret/keys' }],
      ['ping', { name: 'gov__delete_record' }],
    ] as const) {
      const records = await recordsOf(method, params);
      for (const record of records) assert.equal(record.target, undefined, `${method}: ${JSON.stringify(record)}`);
    }
    const setLevel = await recordsOf('logging/setLevel', { level: 'debug', name: 'whatever-I-like' });
    assert.ok(setLevel.length > 0, 'setLevel is recorded');
    assert.equal(setLevel.some((r) => JSON.stringify(r).includes('whatever-I-like')), false);
    assert.ok(forwarded(log).some((m) => m.method === 'logging/setLevel'), 'setLevel went to the server the rule gives the caller');
  });

  it('records a request refused before routing by its own target field, not a decoy', async () => {
    const [read] = await recordsOf('resources/read', { uri: 'mem://public/%2e%2e/secret/keys', name: 'gov__echo' });
    assert.equal(read?.decision, 'denied');
    assert.equal(read?.target, 'mem://public/%2e%2e/secret/keys');
    const [call] = await recordsOf('tools/call', { name: 'gov__nope', uri: 'mem://public/readme' });
    assert.equal(call?.target, 'gov__nope');
  });
});
