/**
 * Issue 12 "Data at rest", the audit part: the trail is private to the user the gateway runs as, also
 * under a permissive umask (the test harness runs the gateway in-process, without main.ts's umask 077).
 * SQLite: audit.db and its -wal and -shm files 0600. JSON Lines: the file, its checkpoints and the
 * witness 0600. The chain locks: directory 0700, files 0600.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startGateway } from '../helpers/gateway.ts';
import { legacySession, recordedServer } from '../helpers/security.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

async function run(audit: (dir: string) => Record<string, unknown>, check: (dir: string) => void): Promise<void> {
  const previous = process.umask(0o022);
  const dir = mkdtempSync(join(tmpdir(), 'pc-audit-rest-'));
  try {
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const gw = await startGateway({
      dataDir: join(dir, 'data'),
      audit: { ...audit(dir), signingKey: `file:${keyFile}`, checkpointEvery: 2 },
      servers: { gov: recordedServer(join(dir, 'gov.log')) },
      policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] },
    });
    try {
      const session = await legacySession(`${gw.url}/mcp/gov`);
      for (let i = 0; i < 3; i++) await session.send({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'echo', arguments: { text: `t${i}` } } });
      const locks = join(dir, 'data', 'audit-chains');
      assert.equal(mode(locks), 0o700, 'the chain lock directory');
      const held = readdirSync(locks);
      assert.equal(held.filter((name) => name.endsWith('.lock')).length, 1);
      for (const name of held) assert.equal(mode(join(locks, name)), 0o600, `the chain lock and head note (${name})`);
      check(dir);
    } finally {
      await gw.close();
    }
  } finally {
    process.umask(previous);
  }
}

describe('the audit trail at rest is private', () => {
  it('SQLite: audit.db, -wal and -shm are 0600', async () => {
    await run(
      () => ({ store: 'sqlite' }),
      (dir) => {
        const data = join(dir, 'data');
        for (const file of ['audit.db', 'audit.db-wal', 'audit.db-shm']) {
          assert.ok(existsSync(join(data, file)), file);
          assert.equal(mode(join(data, file)).toString(8), '600', file);
        }
      },
    );
  });

  it('JSON Lines: the trail, its checkpoints and the witness are 0600, a new directory 0700', async () => {
    await run(
      (dir) => ({ store: 'jsonl', path: join(dir, 'trail', 'audit.jsonl'), witness: join(dir, 'witness.jsonl') }),
      (dir) => {
        assert.equal(mode(join(dir, 'trail')).toString(8), '700', 'the trail directory it created');
        for (const file of [join(dir, 'trail', 'audit.jsonl'), join(dir, 'trail', 'audit.jsonl.checkpoints'), join(dir, 'witness.jsonl')]) {
          assert.ok(existsSync(file), file);
          assert.equal(mode(file).toString(8), '600', file);
        }
      },
    );
  });
});

