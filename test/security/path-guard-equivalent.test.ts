/**
 * The path guard against Unicode-equivalent names (red team F1): server-filesystem, when a path does not
 * exist, takes the directory entry whose NFC form equals the requested name. A symlink leaving the rule's
 * root, named in NFD (`cafe\u0301`), is then reached by the NFC spelling (`caf\u00e9`) — a name the guard
 * used to find missing and so allowed. The guard now resolves a missing name through every equivalent
 * entry beside it; here the server's own root is wider than the rule's, so only the guard stands between
 * the caller and the secret, and the test asserts on the server's log and on disk that nothing got through.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; rule?: string } };
const refusedBy = (rule: string) => (error: Rejection) => {
  assert.equal(error.data?.code, 'PC_POLICY_GUARD', JSON.stringify(error.data));
  assert.equal(error.data?.rule, rule);
  return true;
};

const NFC = 'caf\u00e9';
const NFD = 'cafe\u0301';

describe('path guard: Unicode-equivalent names on disk', () => {
  let gw: TestGateway;
  let sandbox: string;
  let pub: string;
  let secret: string;
  let filesLog: string;
  let canonLog: string;

  before(async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-pathequiv-')));
    sandbox = join(base, 'sandbox');
    pub = join(sandbox, 'pub');
    secret = join(sandbox, 'secret', 's.txt');
    mkdirSync(join(pub, 'sub'), { recursive: true });
    mkdirSync(join(sandbox, 'secret'));
    writeFileSync(secret, 'TOPSECRET\n');
    symlinkSync('../secret', join(pub, NFD)); // only the NFD name exists on disk
    symlinkSync('../../secret', join(pub, 'sub', NFC)); // and the other way round, one level down
    mkdirSync(join(pub, `r${NFD}sum${NFD}`)); // a harmless NFD directory inside the root
    writeFileSync(join(pub, `r${NFD}sum${NFD}`, 'cv.txt'), 'inside\n');
    filesLog = join(base, 'files.log');
    canonLog = join(base, 'canon.log');
    const guard = { args: ['path', 'paths', 'source', 'destination'], roots: [pub] };
    gw = await startSecureGateway({
      servers: {
        // The server may touch the whole sandbox: the rule narrows it to pub/.
        files: recordedServer(filesLog, FILESYSTEM, [sandbox]),
        canon: recordedServer(canonLog, FILESYSTEM, [sandbox]),
      },
      policy: {
        rules: [
          { name: 'files-pub', effect: 'allow', servers: ['files'], guards: { paths: guard } },
          { name: 'canon-pub', effect: 'allow', servers: ['canon'], guards: { paths: { ...guard, forward: 'resolved' } } },
        ],
      },
    });
  });
  after(async () => gw?.close());

  const attacks = (): string[] => [
    join(pub, NFC, 's.txt'), // NFC request, NFD symlink
    join(pub, NFD, 's.txt'), // the symlink itself
    join(pub, 'sub', NFD, 's.txt'), // NFD request, NFC symlink
    join(pub, 'sub', '..', NFC, 's.txt'),
    `file://${encodeURI(join(pub, NFC, 's.txt'))}`,
    join(pub, NFC),
  ];

  for (const [server, rule] of [['files', 'files-pub'], ['canon', 'canon-pub']] as const) {
    it(`${server}: refuses every spelling that reaches the symlink out of the root, reads and writes; serves the equivalent name inside`, async () => {
      const log = server === 'files' ? filesLog : canonLog;
      const client = await legacyClient(`${gw.url}/mcp/${server}`);
      try {
        const inside = await client.callTool({ name: 'read_text_file', arguments: { path: join(pub, 'sub', '..', `r${NFD}sum${NFD}`, 'cv.txt') } });
        assert.match(JSON.stringify(inside.content), /inside/, 'a path inside the root is served');
        // An equivalent spelling of a name inside the root is not refused by the guard (whatever the server makes of it).
        await client.callTool({ name: 'read_text_file', arguments: { path: join(pub, `r\u00e9sum\u00e9`, 'cv.txt') } });
        for (const path of attacks()) {
          await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path } }), refusedBy(rule), JSON.stringify(path));
          await assert.rejects(client.callTool({ name: 'edit_file', arguments: { path, edits: [{ oldText: 'TOPSECRET', newText: 'OWNED' }] } }), refusedBy(rule), JSON.stringify(path));
        }
        await assert.rejects(client.callTool({ name: 'write_file', arguments: { path: join(pub, NFC, 'new.txt'), content: 'x' } }), refusedBy(rule));
        await assert.rejects(client.callTool({ name: 'read_multiple_files', arguments: { paths: [join(pub, `r\u00e9sum\u00e9`, 'cv.txt'), join(pub, NFC, 's.txt')] } }), refusedBy(rule));
        await assert.rejects(client.callTool({ name: 'move_file', arguments: { source: join(pub, NFC, 's.txt'), destination: join(pub, 'got.txt') } }), refusedBy(rule));
      } finally {
        await client.close();
      }
      const reached = callsReceived(log);
      assert.equal(reached.length, 2, `only the calls inside the root reached the server: ${JSON.stringify(reached)}`);
      assert.equal(readFileSync(secret, 'utf8'), 'TOPSECRET\n', 'the file outside the root is untouched');
    });
  }
});
