/**
 * A paths root that contains the gateway's own state (red team F16): a filesystem server on a directory
 * that holds the gateway's data directory (the everyday case: a server on the home directory, the data
 * directory under ~/.local/share) and the audit signing key. Through ordinary allowed file tools the agent
 * tried to lift its kill switch, read the trail and the keys. Every paths guard now refuses a path into
 * the data directory or into a file the configuration reads a secret from, whatever its roots; asserted
 * on the server's log and on disk, and the kill switch still holds.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, FILESYSTEM, legacyClient, runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

describe("path guard: the gateway's own state is out of every root", () => {
  let gw: TestGateway;
  let home: string;
  let state: string;
  let keyFile: string;
  let filesLog: string;
  let config: string;

  before(async () => {
    home = realpathSync(mkdtempSync(join(tmpdir(), 'pc-ownstate-')));
    state = join(home, '.local', 'share', 'portcullis');
    mkdirSync(state, { recursive: true });
    mkdirSync(join(home, 'keys'));
    keyFile = join(home, 'keys', 'audit-ed25519.pem');
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    writeFileSync(join(home, 'notes.txt'), 'mine\n');
    filesLog = join(home, '..', `${home.split('/').at(-1)}-files.log`);
    gw = await startSecureGateway({
      dataDir: state,
      audit: { store: 'sqlite', signingKey: `file:${keyFile}` },
      servers: { files: recordedServer(filesLog, FILESYSTEM, [home]), every: recordedServer(join(home, '..', `${home.split('/').at(-1)}-every.log`), EVERYTHING) },
      policy: {
        rules: [
          { name: 'home', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [home] } } },
          { name: 'echo', effect: 'allow', servers: ['every'], tools: ['echo'] },
        ],
      },
    });
    config = join(home, '..', `${home.split('/').at(-1)}.yaml`);
    writeFileSync(config, `dataDir: ${JSON.stringify(state)}\nservers: { every: { command: node } }\n`);
  });
  after(async () => gw?.close());

  it('refuses reads and writes of the data directory and key files; the kill switch holds', async () => {
    const killed = await runCli(['kill', '--server', 'every', '--reason', 'incident 9', '-c', config]);
    assert.equal(killed.code, 0, killed.stderr);
    const switchFile = join(state, 'killswitch.json');
    const before = readFileSync(switchFile, 'utf8');
    const client = await legacyClient(`${gw.url}/mcp`);
    try {
      const mine = await client.callTool({ name: 'files__read_text_file', arguments: { path: join(home, 'notes.txt') } });
      assert.match(JSON.stringify(mine.content), /mine/, 'the rest of the root is served');
      const refused = (error: { data?: { code?: string; reason?: string } }) => error.data?.code === 'PC_POLICY_GATEWAY_STATE' && /the gateway's own state/.test(String(error.data?.reason ?? (error as { message?: string }).message));
      for (const path of [switchFile, join(state, 'audit.db'), join(state, 'oauth-secrets.json'), state, join(home, '.local/share/./portcullis/killswitch.json'), join(home, 'keys/../.local/share/portcullis/pins.json'), keyFile]) {
        await assert.rejects(client.callTool({ name: 'files__read_text_file', arguments: { path } }), refused, path);
      }
      await assert.rejects(client.callTool({ name: 'files__write_file', arguments: { path: switchFile, content: '{"switches":[]}' } }), refused);
      await assert.rejects(client.callTool({ name: 'files__edit_file', arguments: { path: switchFile, edits: [{ oldText: 'incident 9', newText: 'x' }] } }), refused);
      await assert.rejects(client.callTool({ name: 'files__list_directory', arguments: { path: state } }), refused);
      await assert.rejects(client.callTool({ name: 'files__move_file', arguments: { source: switchFile, destination: join(home, 'moved.json') } }), refused);
      await assert.rejects(client.callTool({ name: 'files__read_multiple_files', arguments: { paths: [join(home, 'notes.txt'), keyFile] } }), refused);
      await assert.rejects(client.callTool({ name: 'every__echo', arguments: { message: 'still killed?' } }), (error: { data?: { code?: string } }) => error.data?.code === 'PC_KILL_SWITCH');
    } finally {
      await client.close();
      await runCli(['unkill', '--server', 'every', '-c', config]);
    }
    assert.deepEqual(callsReceived(filesLog).map((c) => c.arguments.path), [join(home, 'notes.txt')], 'only the call outside the state reached the server');
    assert.equal(before.includes('incident 9'), true);
  });
});
