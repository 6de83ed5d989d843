/**
 * The directories that hold the gateway's state are state too, for calls that may move or delete what
 * they name (red team E2/E3): moving the configuration's directory away and another in its place rewrote
 * the policy on hot reload; moving the data directory's parent dropped the kill switches and exposed
 * pins.key at the new path. The real gateway (`serve -c`) in front of the real server-filesystem on a
 * directory holding both; asserted on the server's side (it received no move naming them) and on disk.
 * Read-only tools may still list those directories. A kill-switch file that vanishes while switches are in
 * force stops every call until it is back.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, runCli, serveChild } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; reason?: string } };

describe('directories holding the gateway state behind a filesystem server', () => {
  let home: string;
  let config: string;
  let dataDir: string;
  let log: string;
  let configText: string;
  let gw: Awaited<ReturnType<typeof serveChild>>;
  let client: Awaited<ReturnType<typeof legacyClient>>;

  before(async () => {
    home = realpathSync(mkdtempSync(join(tmpdir(), 'pc-state-anc-')));
    mkdirSync(join(home, 'conf'));
    mkdirSync(join(home, 'state'));
    mkdirSync(join(home, 'projects'));
    dataDir = join(home, 'state', 'pc');
    log = join(home, 'files.log');
    config = join(home, 'conf', 'portcullis.yaml');
    configText = JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir,
      servers: { files: recordedServer(log, FILESYSTEM, [home]) },
      policy: { rules: [{ name: 'files-in-home', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [home] } } }] },
    }, null, 2);
    writeFileSync(config, configText);
    gw = await serveChild(config);
    client = await legacyClient(`${gw.base}/mcp`);
    const killed = await runCli(['kill', '--tool', 'files.no-such-tool', '--reason', 'incident', '-c', config]);
    assert.equal(killed.code, 0, killed.stderr);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
  const refused = (error: Rejection) => {
    assert.equal(error.data?.code, 'PC_POLICY_GATEWAY_STATE', JSON.stringify(error.data));
    assert.match(error.data?.reason ?? '', /a directory holding/);
    return true;
  };
  const moves = () => callsReceived(log).filter((c) => c.name === 'move_file');

  it('refuses moving the configuration directory, the data directory, their parents or the root away', async () => {
    for (const source of [join(home, 'conf'), join(home, 'state'), join(home, 'projects', '..', 'state'), home, `file://${join(home, 'conf')}`]) {
      await assert.rejects(call('files__move_file', { source, destination: join(home, 'projects', 'moved') }), refused, source);
    }
    assert.deepEqual(moves(), [], 'server-filesystem received no move');
    assert.equal(readFileSync(config, 'utf8'), configText);
    assert.ok(existsSync(join(dataDir, 'killswitch.json')));
  });

  it('refuses moving another directory into the configuration directory’s place', async () => {
    await call('files__create_directory', { path: join(home, 'projects', 'newconf') });
    await call('files__write_file', { path: join(home, 'projects', 'newconf', 'portcullis.yaml'), content: '{}' });
    await assert.rejects(call('files__move_file', { source: join(home, 'projects', 'newconf'), destination: join(home, 'conf') }), refused);
    assert.deepEqual(moves(), []);
    assert.equal(readFileSync(config, 'utf8'), configText);
  });

  it('still lists the home directory and writes ordinary files beside the state', async () => {
    const listed = await call('files__list_directory', { path: home });
    assert.match(JSON.stringify(listed.content), /projects/);
    await call('files__write_file', { path: join(home, 'projects', 'notes.txt'), content: 'ordinary' });
    assert.equal(readFileSync(join(home, 'projects', 'notes.txt'), 'utf8'), 'ordinary');
    await call('files__move_file', { source: join(home, 'projects', 'notes.txt'), destination: join(home, 'projects', 'notes2.txt') });
    assert.equal(moves().length, 1, 'an ordinary move reaches the server');
  });

  it('stops every call when the kill-switch file vanishes while a switch is in force', async () => {
    const file = join(dataDir, 'killswitch.json');
    renameSync(file, `${file}.gone`);
    try {
      const before = callsReceived(log).length;
      await assert.rejects(call('files__list_directory', { path: join(home, 'projects') }), (error: Rejection) => {
        assert.equal(error.data?.code, 'PC_KILL_SWITCH', JSON.stringify(error.data));
        assert.match(error.data?.reason ?? JSON.stringify(error.data), /disappeared/);
        return true;
      });
      assert.equal(callsReceived(log).length, before, 'nothing reached the server');
    } finally {
      renameSync(`${file}.gone`, file);
    }
    const listed = await call('files__list_directory', { path: join(home, 'projects') });
    assert.match(JSON.stringify(listed.content), /notes2/);
  });
});

describe('~ read with the server\'s own HOME (red team F1)', () => {
  let home: string;
  let config: string;
  let log: string;
  let configText: string;
  let gw: Awaited<ReturnType<typeof serveChild>>;
  let client: Awaited<ReturnType<typeof legacyClient>>;

  before(async () => {
    home = realpathSync(mkdtempSync(join(tmpdir(), 'pc-state-home-')));
    mkdirSync(join(home, 'conf'));
    mkdirSync(join(home, 'pub'));
    log = join(home, 'files.log');
    config = join(home, 'conf', 'portcullis.yaml');
    configText = JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: join(home, 'data'),
      // The server is given its own HOME: server-filesystem expands `~` with it, not with the gateway's.
      servers: { files: recordedServer(log, FILESYSTEM, [home], { env: { HOME: home } }) },
      policy: { rules: [{ name: 'files', effect: 'allow', servers: ['files'] }] },
    }, null, 2);
    writeFileSync(config, configText);
    gw = await serveChild(config);
    client = await legacyClient(`${gw.base}/mcp`);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses ~/conf and ~ for a tool that may move them, and the server moves nothing', async () => {
    for (const source of ['~/conf', '~', '~/data', '~/pub/../conf']) {
      await assert.rejects(client.callTool({ name: 'files__move_file', arguments: { source, destination: join(home, 'pub', 'moved') } }), (error: Rejection) => {
        assert.equal(error.data?.code, 'PC_POLICY_GATEWAY_STATE', `${source}: ${JSON.stringify(error.data)}`);
        return true;
      });
    }
    assert.deepEqual(callsReceived(log).filter((c) => c.name === 'move_file'), []);
    assert.equal(readFileSync(config, 'utf8'), configText);
  });
});
