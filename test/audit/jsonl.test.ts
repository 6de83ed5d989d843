/**
 * The JSON Lines store: rotation by size keeps each file verifiable on its own, the chain continues
 * across files, and `verify --since` checks recent history only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JsonlAuditStore } from '../../src/audit/jsonl-store.ts';
import { verifyTrail } from '../../src/audit/verify.ts';
import { chain } from '../helpers/audit.ts';
import { runCli } from '../helpers/gateway.ts';

describe('JSON Lines audit store', () => {
  it('rotates by size; every file verifies on its own and the chain runs on across them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-jsonl-'));
    const path = join(dir, 'audit.jsonl');
    const store = new JsonlAuditStore(path, { rotateBytes: 4096 });
    const records = chain('a', 30);
    for (const r of records) await store.append(r);
    await store.close();
    const files = readdirSync(dir).filter((f) => /^audit\.jsonl(\.\d{4}-[^.]*\.\d+)?$/.test(f));
    assert.ok(files.length >= 3, `rotated into ${files.length} files`);
    for (const file of files) {
      const config = join(dir, `${file}.yaml`);
      writeFileSync(config, `audit: { store: jsonl, path: ${JSON.stringify(join(dir, file))} }\nservers: {}\n`);
      const verified = await runCli(['audit', 'verify', '-c', config]);
      assert.equal(verified.code, 0, `${file}: ${verified.stdout}${verified.stderr}`);
    }
    const reopened = new JsonlAuditStore(path, { rotateBytes: 4096 });
    assert.deepEqual(await reopened.head('a'), { seq: 30, hash: records[29]!.hash });
    const current = [];
    for await (const r of reopened.all()) current.push(r);
    assert.ok(current[0]!.seq > 1, 'the current file starts past record 1');
    assert.equal((await verifyTrail(current, await reopened.checkpoints(), undefined)).broken, undefined);
    await reopened.close();
  });

  it('verify --since checks only recent records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-since-'));
    const path = join(dir, 'audit.jsonl');
    const store = new JsonlAuditStore(path);
    for (const r of chain('a', 10)) await store.append(r);
    await store.close();
    const lines = (await import('node:fs')).readFileSync(path, 'utf8').trim().split('\n');
    // Damage an old record: a full verify fails, a verify of later records passes.
    lines[1] = lines[1]!.replace('"target":"read_2"', '"target":"edited"');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `audit: { store: jsonl, path: ${JSON.stringify(path)} }\nservers: {}\n`);
    assert.equal((await runCli(['audit', 'verify', '-c', config])).code, 1);
    const recent = await runCli(['audit', 'verify', '-c', config, '--since', '2027-01-15T08:00:00.005Z']);
    assert.equal(recent.code, 0, recent.stdout + recent.stderr);
    assert.match(recent.stdout, /OK: 6 records/);
  });
});
