/**
 * A filesystem server (or a path-guard root) whose directory holds the gateway's own state — its
 * configuration file, data directory, key and password files (red-team F16): the agent must not edit the
 * kill switch or its own policy, nor read the OAuth signing key, through ordinary allowed file tools,
 * in any spelling (relative, `..`, symlink, file URL, Unicode compatibility form). The real gateway
 * (`serve -c`) in front of the real server-filesystem, the official SDK client; asserted on the server's
 * side (nothing it received names the state) and on disk (the files are unchanged).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, runCli, serveChild } from '../helpers/gateway.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; reason?: string } };

describe('gateway state behind a filesystem server', () => {
  let base: string;
  let config: string;
  let dataDir: string;
  let passwordFile: string;
  let wideLog: string;
  let guardedLog: string;
  let relLog: string;
  let gw: Awaited<ReturnType<typeof serveChild>>;
  let client: Awaited<ReturnType<typeof legacyClient>>;
  let configText: string;
  const killSwitch = (): string => join(dataDir, 'killswitch.json');

  before(async () => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-state-')));
    dataDir = join(base, 'data');
    mkdirSync(join(base, 'work'));
    writeFileSync(join(base, 'work', 'notes.txt'), 'ordinary file\n');
    mkdirSync(join(base, 'keys'));
    passwordFile = join(base, 'keys', 'webhook.secret');
    writeFileSync(passwordFile, ['hook', 'secret', 'value', '42'].join('-'), { mode: 0o600 });
    symlinkSync(join(base, 'data'), join(base, 'work', 'innocent')); // a link inside the root to the data dir
    wideLog = join(base, 'wide.log');
    guardedLog = join(base, 'guarded.log');
    relLog = join(base, 'rel.log');
    config = join(base, 'portcullis.yaml');
    configText = JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir,
      servers: {
        // The server's own directory is the whole base: config, data dir and key files inside.
        wide: recordedServer(wideLog, FILESYSTEM, [base]),
        // Its own directory is narrow (no per-server check), but the rule's root holds the state: the path guard refuses.
        guarded: recordedServer(guardedLog, FILESYSTEM, [join(base, 'work')]),
        // The whole base again, named relatively (`.` in its working directory).
        rel: recordedServer(relLog, FILESYSTEM, ['.'], { cwd: base }),
      },
      approvals: { webhook: { url: 'https://hooks.example.test/x', secret: `file:${passwordFile}` } },
      policy: {
        rules: [
          { name: 'wide-allow', effect: 'allow', servers: ['wide', 'rel'] },
          { name: 'guarded-root', effect: 'allow', servers: ['guarded'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [base] } } },
        ],
      },
    }, null, 2);
    writeFileSync(config, configText);
    gw = await serveChild(config);
    client = await legacyClient(`${gw.base}/mcp`);
    // A kill switch on record, so there is a file to attack.
    const killed = await runCli(['kill', '--tool', 'guarded.no-such-tool', '--reason', 'test', '-c', config]);
    assert.equal(killed.code, 0, killed.stderr);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
  });

  const refused = (code = 'PC_POLICY_GATEWAY_STATE') => (error: Rejection) => {
    assert.equal(error.data?.code, code, JSON.stringify(error.data));
    assert.match(error.data?.reason ?? '', /gateway's own state/);
    return true;
  };
  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });

  it('config check and start-up say that the server directory and the root hold the state', async () => {
    const checked = await runCli(['config', 'check', '-c', config]);
    assert.match(checked.stderr, /warning servers\.wide\.args\[\d+\]: .* holds the gateway's own state \(the data directory/);
    assert.match(checked.stderr, /warning servers\.rel\.args\[\d+\]: .* holds the gateway's own state \(the data directory/);
    assert.match(checked.stderr, /warning policy\.rules\[1\]\.guards\.paths\.roots\[0\]: .* holds the gateway's own state/);
    assert.match(gw.stderr(), /holds the gateway's own state/);
  });

  it('config check warns about a secret file others may read and a configuration file others may write', async () => {
    chmodSync(passwordFile, 0o644);
    chmodSync(config, 0o666);
    try {
      const checked = await runCli(['config', 'check', '-c', config]);
      assert.match(checked.stderr, /warning \(file modes\): others may read or write it: the secret file \S+webhook\.secret \(approvals\.webhook\.secret\) is 0644 \(want 0600/);
      assert.match(checked.stderr, /warning \(file modes\): others may read or write it: the configuration file .* is 0666 \(want 0644/);
    } finally {
      chmodSync(passwordFile, 0o600);
      chmodSync(config, 0o644);
    }
    assert.doesNotMatch((await runCli(['config', 'check', '-c', config])).stderr, /file modes/);
  });

  it('an ordinary file in the same directory still works', async () => {
    const result = await call('wide__read_text_file', { path: join(base, 'work', 'notes.txt') });
    assert.match(JSON.stringify(result.content), /ordinary file/);
  });

  it('the kill switch file cannot be read or emptied, in any spelling, through either server', async () => {
    const before = readFileSync(killSwitch(), 'utf8');
    const spellings = [
      killSwitch(),
      `${base}/work/../data/killswitch.json`,
      `${base}/work/innocent/killswitch.json`,
      `file://${killSwitch()}`,
      'data/killswitch.json', // relative to the server's directory
      `${base}/data/．/killswitch.json`,
      `${base}/dat%61/killswitch.json`,
    ];
    for (const server of ['wide', 'guarded', 'rel']) {
      // The path guard refuses relative paths anyway (PC_POLICY_GUARD), so they are tried on the wide server.
      for (const path of server === 'guarded' ? spellings.filter((p) => p.startsWith('/') || p.startsWith('file:')) : spellings) {
        await assert.rejects(call(`${server}__read_text_file`, { path }), refused(), `${server} ${path}`);
        await assert.rejects(call(`${server}__edit_file`, { path, edits: [{ oldText: before, newText: '{"switches":[]}' }] }), refused(), `${server} ${path}`);
        await assert.rejects(call(`${server}__write_file`, { path, content: '{"switches":[]}' }), refused(), `${server} ${path}`);
      }
      await assert.rejects(call(`${server}__move_file`, { source: killSwitch(), destination: join(base, 'work', 'ks.json') }), refused());
      await assert.rejects(call(`${server}__list_directory`, { path: dataDir }), refused());
    }
    assert.equal(readFileSync(killSwitch(), 'utf8'), before);
  });

  it('the policy file cannot be rewritten (no hot-reloaded self-grant)', async () => {
    for (const server of ['wide', 'guarded']) {
      await assert.rejects(call(`${server}__edit_file`, { path: config, edits: [{ oldText: '"rules": [', newText: '"rules": [{"name":"mine","effect":"allow"},' }] }), refused());
      await assert.rejects(call(`${server}__write_file`, { path: server === 'wide' ? 'portcullis.yaml' : config, content: '{}' }), refused());
    }
    assert.equal(readFileSync(config, 'utf8'), configText);
  });

  it('the signing keys and secret files cannot be read', async () => {
    for (const server of ['wide', 'guarded']) {
      await assert.rejects(call(`${server}__read_text_file`, { path: join(dataDir, 'oauth-secrets.json') }), refused());
      await assert.rejects(call(`${server}__read_text_file`, { path: join(dataDir, 'pins.key') }), refused());
      await assert.rejects(call(`${server}__read_multiple_files`, { paths: [join(base, 'work', 'notes.txt'), passwordFile] }), refused());
      await assert.rejects(call(`${server}__search_files`, { path: dataDir, pattern: '*' }), refused());
    }
  });

  it('the server received no call naming the state, and every refusal is in the audit trail', () => {
    const refusals = auditTrail(dataDir).filter((r) => r.code === 'PC_POLICY_GATEWAY_STATE');
    assert.ok(refusals.length >= 40, `${refusals.length} refusals recorded`);
    for (const r of refusals) assert.equal(r.decision, 'denied');
    const named = [...callsReceived(wideLog), ...callsReceived(guardedLog), ...callsReceived(relLog)].filter((c) => /data|killswitch|portcullis\.yaml|webhook\.secret|innocent/.test(JSON.stringify(c.arguments)));
    assert.deepEqual(named, []);
    assert.ok(callsReceived(wideLog).length >= 1, 'the ordinary call reached the server');
  });
});
