/**
 * Every directory a stdio server is given counts for the gateway's own state, not only its directory
 * arguments (red team L4): its working directory (`cwd`), a directory its declared environment names,
 * and the roots the gateway answers `roots/list` with. Before, a project server working in a folder that
 * held the data dir and the configuration read `pins.key` and rewrote the policy (hot reload: a denied
 * tool ran), and server-filesystem given such a folder as a root read the key; `config check` said OK.
 * The real gateway (`serve -c`), a project server reading relative to its folder, the real
 * server-filesystem, the official SDK client; asserted on the servers' side and on disk.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, runCli, serveChild } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

const WORKDIR_SERVER = new URL('../fixtures/workdir-server.ts', import.meta.url).pathname;

type Rejection = { data?: { code?: string } };

describe('security: the gateway\'s state in a folder a server is given other than by its arguments', () => {
  let base: string;
  let dataDir: string;
  let config: string;
  let configText: string;
  const logs = { proj: '', envdir: '', envrel: '', rooted: '' };
  let gw: Awaited<ReturnType<typeof serveChild>>;
  let client: Awaited<ReturnType<typeof legacyClient>>;

  before(async () => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-server-dirs-')));
    dataDir = join(base, '.pc');
    mkdirSync(join(base, 'work'));
    writeFileSync(join(base, 'notes.txt'), 'ordinary file\n');
    for (const name of Object.keys(logs) as (keyof typeof logs)[]) logs[name] = join(base, `${name}.log`);
    config = join(base, 'pc.yaml');
    configText = JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir,
      servers: {
        proj: recordedServer(logs.proj, WORKDIR_SERVER, [], { cwd: base }),
        envdir: recordedServer(logs.envdir, WORKDIR_SERVER, [], { env: { PROJECT_DIR: base } }),
        // The same folder named relatively, against the server's working directory (red team N2).
        envrel: recordedServer(logs.envrel, WORKDIR_SERVER, [], { cwd: join(base, 'work'), env: { PROJECT_DIR: '..', SERVER_OPTS: '--root=..' } }),
        // Its argument is a narrow folder; the root it is given (and adopts) is the whole base.
        rooted: recordedServer(logs.rooted, FILESYSTEM, [join(base, 'work')], { roots: [pathToFileURL(base).href] }),
      },
      policy: { rules: [{ name: 'projects', effect: 'allow', servers: ['proj', 'envdir', 'envrel', 'rooted'] }] },
    }, null, 2);
    writeFileSync(config, configText);
    gw = await serveChild(config);
    client = await legacyClient(`${gw.base}/mcp`);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
  });

  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
  const refused = (error: Rejection) => {
    assert.equal(error.data?.code, 'PC_POLICY_GATEWAY_STATE', JSON.stringify(error.data));
    return true;
  };

  it('config check and start-up name the cwd, the environment variable and the root that hold the state', async () => {
    const checked = await runCli(['config', 'check', '-c', config]);
    assert.match(checked.stderr, /warning servers\.proj\.cwd: .* holds the gateway's own state/);
    assert.match(checked.stderr, /warning servers\.envdir\.env\.PROJECT_DIR: .* holds the gateway's own state/);
    assert.match(checked.stderr, /warning servers\.envrel\.env\.PROJECT_DIR: .* holds the gateway's own state/);
    assert.match(checked.stderr, /warning servers\.envrel\.env\.SERVER_OPTS: .* holds the gateway's own state/);
    assert.match(checked.stderr, /warning servers\.rooted\.roots\[0\]: .* holds the gateway's own state/);
    assert.doesNotMatch(checked.stderr, /secret file .*roots/, 'a root is not a secret reference');
    assert.match(gw.stderr(), /servers\.proj\.cwd/);
  });

  it('an ordinary file in the same folder still works', async () => {
    assert.match(JSON.stringify((await call('proj__read_file', { file: 'notes.txt' })).content), /ordinary file/);
    assert.match(JSON.stringify((await call('envdir__read_file', { file: 'notes.txt' })).content), /ordinary file/);
  });

  it('the pins key cannot be read and the configuration cannot be rewritten, through any of them', async () => {
    for (const server of ['proj', 'envdir', 'envrel']) {
      for (const file of ['.pc/pins.key', join(dataDir, 'pins.key'), 'work/../.pc/killswitch.json']) {
        await assert.rejects(call(`${server}__read_file`, { file }), refused, `${server} ${file}`);
      }
      await assert.rejects(call(`${server}__write_file`, { file: 'pc.yaml', text: '{}' }), refused, server);
    }
    await assert.rejects(call('rooted__read_text_file', { path: join(dataDir, 'pins.key') }), refused);
    await assert.rejects(call('rooted__write_file', { path: config, content: '{}' }), refused);
    assert.equal(readFileSync(config, 'utf8'), configText);
  });

  it('no server received a call naming the state', () => {
    for (const [server, log] of Object.entries(logs)) {
      const named = callsReceived(log).filter((c) => /\.pc|pins|killswitch|pc\.yaml/.test(JSON.stringify(c.arguments)));
      assert.deepEqual(named, [], server);
    }
  });
});
