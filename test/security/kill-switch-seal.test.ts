/**
 * The kill-switch file is sealed like pins.json (red team F5/F6): someone who can write the data dir
 * (an agent through a filesystem server that reached it outside the gateway, a careless script) could
 * lift a switch by editing killswitch.json or forge one, and the gateway believed it silently. The real
 * gateway (`serve -c`) in front of the real server-filesystem; asserted on the server's side (no write
 * reached it while the switch was in force), in the gateway's log (PC_KILL_UNTRUSTED) and in `status`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, runCli, serveChild } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; reason?: string } };

const stopped = (error: Rejection) => {
  assert.equal(error.data?.code, 'PC_KILL_SWITCH', JSON.stringify(error.data));
  return true;
};

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function setUp(prefix: string): { home: string; dataDir: string; log: string; config: string } {
  const home = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const dataDir = join(home, 'data');
  const log = join(home, 'files.log');
  const config = join(home, 'portcullis.yaml');
  writeFileSync(config, JSON.stringify({
    listen: { host: '127.0.0.1', port: 0 },
    dataDir,
    servers: { files: recordedServer(log, FILESYSTEM, [join(home, 'work')]) },
    policy: { rules: [{ name: 'files', effect: 'allow', servers: ['files'] }] },
  }));
  return { home, dataDir, log, config };
}

describe('kill-switch file edited outside portcullis (running gateway)', () => {
  let s: ReturnType<typeof setUp>;
  let gw: Awaited<ReturnType<typeof serveChild>>;
  let client: Awaited<ReturnType<typeof legacyClient>>;
  let file: string;

  before(async () => {
    s = setUp('pc-kill-seal-');
    file = join(s.dataDir, 'killswitch.json');
    mkdirSync(join(s.home, 'work'));
    gw = await serveChild(s.config);
    client = await legacyClient(`${gw.base}/mcp`);
    const killed = await runCli(['kill', '--tool', 'files.write_file', '--reason', 'incident 9', '-c', s.config]);
    assert.equal(killed.code, 0, killed.stderr);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
    rmSync(s.home, { recursive: true, force: true });
  });

  const write = (name: string) => client.callTool({ name: 'files__write_file', arguments: { path: join(s.home, 'work', name), content: 'x' } });
  const writes = () => callsReceived(s.log).filter((c) => c.name === 'write_file');

  it('seals the file the CLI writes', () => {
    const written = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; mac?: string };
    assert.equal(written.version, 1);
    assert.match(written.mac ?? '', /^[0-9a-f]{64}$/);
  });

  it('keeps a switch in force when the file is rewritten without it (unsealed, or the old seal kept)', async () => {
    await assert.rejects(write('a.txt'), stopped);
    const sealedText = readFileSync(file, 'utf8');
    const sealedDoc = JSON.parse(sealedText) as { switches: unknown[]; mac: string; version: number };
    for (const lifted of [{ switches: [] }, { version: 1, switches: [] }, { ...sealedDoc, switches: [] }, { ...sealedDoc, switches: [{ target: { tool: 'files.other' }, reason: 'x', by: 'y', at: '2025-01-01T00:00:00Z' }] }]) {
      writeFileSync(file, JSON.stringify(lifted));
      await assert.rejects(write('b.txt'), stopped, JSON.stringify(lifted));
    }
    assert.deepEqual(writes(), [], 'server-filesystem received no write');
    await until(() => /PC_KILL_UNTRUSTED/.test(gw.stderr()), 'the PC_KILL_UNTRUSTED log line');
    const status = await runCli(['status', '--json', '-c', s.config]);
    assert.match((JSON.parse(status.stdout) as { killSwitchFile: string }).killSwitchFile, /^UNTRUSTED: /);
    // One switch cannot be lifted while the file is not believed; the CLI says how to recover.
    const unkill = await runCli(['unkill', '--tool', 'files.write_file', '-c', s.config]);
    assert.equal(unkill.code, 1);
    assert.match(unkill.stderr, /kill --reseal|unkill --everything/);
    writeFileSync(file, sealedText);
  });

  it('believes no forged switch: an unsealed stop on everything stops nothing', async () => {
    writeFileSync(file, JSON.stringify({ version: 1, switches: [{ target: { all: true }, reason: 'forged', by: 'agent', at: new Date().toISOString() }], mac: '0'.repeat(64) }));
    const listed = await client.callTool({ name: 'files__list_directory', arguments: { path: join(s.home, 'work') } });
    assert.ok(Array.isArray(listed.content));
    await assert.rejects(write('c.txt'), stopped, 'the switch in force before holds');
    assert.deepEqual(writes(), []);
    // `status` shows what the untrusted file says, for review before `kill --reseal`, marked unverified.
    const shown = await runCli(['status', '-c', s.config]);
    assert.match(shown.stdout, /the file says \(NOT verified;[^\n]*\n\s+UNVERIFIED ON\s+all calls — forged/);
    const json = JSON.parse((await runCli(['status', '--json', '-c', s.config])).stdout) as { killSwitchFileSays?: Array<{ reason: string }> };
    assert.deepEqual(json.killSwitchFileSays?.map((k) => k.reason), ['forged']);
  });

  it('recovers with `unkill --everything` (the untrusted file is set aside), and a sealed file is believed again', async () => {
    const lifted = await runCli(['unkill', '--everything', '-c', s.config]);
    assert.equal(lifted.code, 0, lifted.stderr);
    assert.match(readFileSync(`${file}.untrusted`, 'utf8'), /forged/, 'kept for the investigation');
    await write('d.txt');
    assert.equal(writes().length, 1, 'the write reached the server once the switch was lifted');
    const status = await runCli(['status', '--json', '-c', s.config]);
    assert.equal((JSON.parse(status.stdout) as { killSwitchFile: string }).killSwitchFile, 'verified');
  });
});

describe('kill-switch file edited while the gateway was down', () => {
  let s: ReturnType<typeof setUp>;
  after(() => rmSync(s.home, { recursive: true, force: true }));

  it('stops every call at start until an admin reseals or starts over', async () => {
    s = setUp('pc-kill-seal-start-');
    mkdirSync(join(s.home, 'work'));
    const killed = await runCli(['kill', '--tool', 'files.write_file', '-c', s.config]);
    // No gateway runs yet: written for the one started next, and said so (exit 3, NOT IN EFFECT now).
    assert.equal(killed.code, 3, killed.stderr);
    assert.match(killed.stderr, /NOT IN EFFECT/);
    const file = join(s.dataDir, 'killswitch.json');
    // The switch lifted by hand while nothing watched: what was in force is unknown, so all stops.
    writeFileSync(file, JSON.stringify({ switches: [] }));
    let gw = await serveChild(s.config);
    let client = await legacyClient(`${gw.base}/mcp`);
    try {
      await assert.rejects(client.callTool({ name: 'files__list_directory', arguments: { path: join(s.home, 'work') } }), stopped);
      await assert.rejects(client.callTool({ name: 'files__write_file', arguments: { path: join(s.home, 'work', 'x'), content: 'x' } }), stopped);
      assert.deepEqual(callsReceived(s.log).filter((c) => c.name === 'write_file' || c.name === 'list_directory'), [], 'nothing reached the server');
      assert.match(gw.stderr(), /PC_KILL_UNTRUSTED/);
      // A kill of one more target is refused too: the state it would add to is not known.
      assert.equal((await runCli(['kill', '--all', '-c', s.config])).code, 1);
      // The admin reviews the file and accepts it as written.
      const resealed = await runCli(['kill', '--reseal', '-c', s.config]);
      assert.equal(resealed.code, 0, resealed.stderr);
      const listed = await client.callTool({ name: 'files__list_directory', arguments: { path: join(s.home, 'work') } });
      assert.ok(Array.isArray(listed.content));
      assert.equal(callsReceived(s.log).filter((c) => c.name === 'list_directory').length, 1);
    } finally {
      await client.close();
      await gw.stop();
    }
  });
});
