/**
 * `allowRelative: true` (red team F10): the guard judges a relative path against its first root, while
 * server-filesystem resolves one against its own directories. With a server root wider than the rule's,
 * `secret/s.txt` was judged as `<pub>/secret/s.txt` and read as `<sandbox>/secret/s.txt`. The server now
 * receives the absolute path the guard judged, never the relative one; asserted on the server's log.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

describe('path guard: relative paths reach the server as the absolute path judged', () => {
  let gw: TestGateway;
  let sandbox: string;
  let pub: string;
  let filesLog: string;

  before(async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-pathrel-')));
    sandbox = join(base, 'sandbox');
    pub = join(sandbox, 'pub');
    mkdirSync(pub, { recursive: true });
    mkdirSync(join(sandbox, 'secret'));
    writeFileSync(join(sandbox, 'secret', 's.txt'), 'TOPSECRET\n');
    writeFileSync(join(pub, 'a.txt'), 'public\n');
    filesLog = join(base, 'files.log');
    gw = await startSecureGateway({
      servers: { files: recordedServer(filesLog, FILESYSTEM, [sandbox]) },
      policy: { rules: [{ name: 'files-pub', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [pub], allowRelative: true } } }] },
    });
  });
  after(async () => gw?.close());

  it('reads the relative path under the rule root, on both eras; nothing outside is read or written', async () => {
    const legacy = await legacyClient(`${gw.url}/mcp/files`);
    const modern = await modernClient(`${gw.url}/mcp`);
    const texts: string[] = [];
    try {
      const a = await legacy.callTool({ name: 'read_text_file', arguments: { path: 'a.txt' } });
      assert.match(JSON.stringify(a.content), /public/, 'a relative path is read under the rule root');
      for (const path of ['secret/s.txt', './secret/s.txt', 'pub/../secret/s.txt']) {
        texts.push(JSON.stringify((await legacy.callTool({ name: 'read_text_file', arguments: { path } })).content));
        texts.push(JSON.stringify((await modern.callTool({ name: 'files__read_text_file', arguments: { path } })).content));
      }
      texts.push(JSON.stringify((await legacy.callTool({ name: 'read_multiple_files', arguments: { paths: ['a.txt', 'secret/s.txt'] } })).content));
      await legacy.callTool({ name: 'write_file', arguments: { path: 'secret/new.txt', content: 'x' } }).catch(() => undefined);
      await assert.rejects(legacy.callTool({ name: 'read_text_file', arguments: { path: '../secret/s.txt' } }), (error: { data?: { code?: string } }) => error.data?.code === 'PC_POLICY_GUARD');
    } finally {
      await legacy.close();
      await modern.close();
    }
    for (const text of texts) assert.doesNotMatch(text, /TOPSECRET/, 'the file outside the rule root was not read');
    const paths = callsReceived(filesLog).flatMap((c) => [c.arguments.path ?? c.arguments.paths].flat()) as string[];
    assert.ok(paths.length >= 9, JSON.stringify(paths));
    for (const path of paths) {
      assert.ok(isAbsolute(path) && path.startsWith(`${pub}/`), `the server received only absolute paths under the rule root: ${path}`);
    }
  });
});
