/**
 * Stdio servers and the gateway's trust domain (red team rt-h, H1/H2/L2). A malicious stdio server
 * (fixtures/trust-probe-server.ts) reads the gateway's /proc/<pid>/environ and duplicates the gateway's
 * end of a sibling server's stdin with pidfd_getfd(2) to send it a tools/call the policy denies.
 * Under `runAs: nobody` it gets neither: the sibling's file stays as it was, the secret is not read.
 * The same probe under the gateway's own uid (the control, in the same gateway) does both — so the
 * attack is real and the test can fail. Also: a runAs the gateway cannot switch to refuses the start
 * (PC_CONFIG_RUN_AS), and a server without cwd starts in an empty directory of its own.
 *
 * Needs root (the suite runs as root here) and Linux; skipped otherwise, saying why.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, MAIN, MEMORY, serveChild, startGateway, stdioServer, waitFor } from '../helpers/gateway.ts';

const PROBE = new URL('../fixtures/trust-probe-server.ts', import.meta.url).pathname;
const NOBODY = 65534;
const rootOnLinux = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/python3');
const skip = rootOnLinux ? false : 'needs root on Linux with /usr/bin/python3 (switching user; pidfd_getfd)';

interface ProbeReport {
  uid: number;
  cwd: string;
  home: string;
  environ: { ok: boolean; text?: string; error?: string };
  cmdline: { ok: boolean; error?: string };
  inject: { duplicated: number; wrote: number; errors: string[] } | { ok: false; error: string };
}

/** A folder others can traverse (mkdtemp makes 0700), for what a server under another uid must reach. */
function openDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  chmodSync(dir, 0o755);
  return dir;
}

const yaml = JSON.stringify;

describe('stdio servers under runAs are outside the gateway\'s trust domain', { skip }, () => {
  before(() => {
    // The servers under runAs must reach this checkout (node_modules, the fixtures, the CLI): a parent
    // directory without search permission for others would fail every case below for another reason.
    for (const path of [PROBE, MAIN, FILESYSTEM]) {
      const reach = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path)}, require('fs').constants.R_OK)`], { uid: NOBODY, gid: NOBODY, stdio: 'pipe' });
      if (reach.status !== 0) throw new Error(`uid ${NOBODY} cannot read ${path}: a directory above the checkout lacks search permission for others; run the suite from a checkout every user can traverse (.ci/run makes its clone so)`);
    }
  });

  it('a server under runAs nobody cannot read the gateway\'s environ nor write into a sibling\'s stdin; the same server as the gateway\'s uid can (control)', async () => {
    const dir = openDir('pc-trust-');
    const sandbox = join(dir, 'sandbox');
    mkdirSync(sandbox);
    const target = join(sandbox, 'target.txt');
    writeFileSync(target, 'original\n');
    const token = `sibling-${randomBytes(12).toString('hex')}`;
    const config = join(dir, 'gw.yaml');
    const node = yaml(process.execPath);
    writeFileSync(
      config,
      `listen: { port: 0 }\ndataDir: ${yaml(join(dir, 'data'))}\naudit: { store: jsonl }\nsupply: { allowUnpinned: true }\n` +
        'policy:\n  rules:\n    - { name: probes, effect: allow, servers: [insider, jailed] }\n    - { name: read-files, effect: allow, servers: [files], tools: [read_text_file] }\n' +
        `servers:\n  files:\n    command: ${node}\n    args: [${yaml(FILESYSTEM)}, ${yaml(sandbox)}]\n    env: { SIBLING_TOKEN: env:PC_TEST_SIBLING_TOKEN }\n` +
        `  insider:\n    command: ${node}\n    args: [${yaml(PROBE)}]\n` +
        `  jailed:\n    command: ${node}\n    args: [${yaml(PROBE)}]\n    runAs: nobody\n`,
    );
    const served = await serveChild(config, [], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PC_TEST_SIBLING_TOKEN: token });
    try {
      const line = JSON.stringify({ jsonrpc: '2.0', id: 990001, method: 'tools/call', params: { name: 'write_file', arguments: { path: target, content: 'OWNED via the sibling\'s stdin\n' } } });
      const probe = async (server: string): Promise<ProbeReport> => {
        const client = await legacyClient(`${served.base}/mcp/${server}`);
        try {
          const result = await client.callTool({ name: 'probe', arguments: { match: FILESYSTEM, line } });
          return JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as ProbeReport;
        } finally {
          await client.close();
        }
      };

      const jailed = await probe('jailed');
      assert.equal(jailed.uid, NOBODY);
      assert.equal(jailed.environ.ok, false);
      assert.equal(jailed.environ.error, 'EACCES');
      // (The command line is world-readable on Linux, for every user: it carries no secret, only the config path.)
      assert.ok(!('ok' in jailed.inject), JSON.stringify(jailed.inject));
      const inject = jailed.inject as { duplicated: number; wrote: number; errors: string[] };
      assert.equal(inject.duplicated, 0, JSON.stringify(inject));
      assert.equal(inject.wrote, 0);
      // Its own empty folder, neither the gateway's working directory nor its data dir; HOME it can use.
      assert.notEqual(jailed.cwd, process.cwd());
      assert.ok(!jailed.cwd.startsWith(join(dir, 'data')));
      assert.equal(statSync(jailed.cwd).uid, NOBODY);
      assert.equal(statSync(jailed.home).uid, NOBODY);
      // On the sibling's side: a read through the gateway, queued behind anything that got in, sees the file unchanged.
      const files = await legacyClient(`${served.base}/mcp/files`);
      const read = await files.callTool({ name: 'read_text_file', arguments: { path: target } });
      assert.match(JSON.stringify(read.content), /original/);
      await files.close();
      assert.equal(readFileSync(target, 'utf8'), 'original\n');

      // The control: the same code under the gateway's own uid reads the secret and writes the file.
      const insider = await probe('insider');
      assert.equal(insider.uid, 0);
      assert.equal(insider.environ.ok, true);
      assert.ok(insider.environ.text!.includes(token), 'the sibling\'s env: secret sits in the gateway\'s environ');
      await waitFor(() => readFileSync(target, 'utf8').startsWith('OWNED') || undefined, 10_000, 'the control attack to reach the sibling');

      // serve said so at start: the insider runs in the gateway's trust domain as root; the jailed one does not.
      const warnings = served.stderr().split('\n').filter((l) => l.includes('"alert":"trust-domain"'));
      assert.ok(warnings.some((l) => l.includes('\\"insider\\"') && l.includes('\\"files\\"') && l.includes('AS ROOT')), served.stderr());
      assert.ok(warnings.some((l) => l.includes('PC_TEST_SIBLING_TOKEN')), 'the env: secret is named as exposed');
      assert.ok(!warnings.some((l) => l.includes('jailed')), served.stderr());
      assert.ok(!served.stderr().includes(token), 'the secret itself is never logged');
    } finally {
      await served.stop();
    }
  });

  it('refuses to start when a runAs cannot be honoured (PC_CONFIG_RUN_AS): no privilege to switch, or an unknown user', async () => {
    const dir = openDir('pc-trust-priv-');
    chownSync(dir, NOBODY, NOBODY);
    const log = join(dir, 'started.log');
    const config = join(dir, 'gw.yaml');
    const server = (runAs: string) =>
      `listen: { port: 0 }\ndataDir: ${yaml(join(dir, 'data'))}\naudit: { store: jsonl }\nsupply: { allowUnpinned: true }\n` +
      `policy: { rules: [{ name: all, effect: allow }] }\nservers:\n  helper:\n    command: /bin/sh\n    args: ['-c', ${yaml(`echo started > ${log}`)}]\n    runAs: ${runAs}\n`;
    writeFileSync(config, server('daemon'));
    chownSync(config, NOBODY, NOBODY);
    // The gateway itself as nobody: it cannot become daemon, so it does not start (rather than run helper as nobody).
    const asNobody = spawn(process.execPath, [MAIN, 'serve', '-c', config], { uid: NOBODY, gid: NOBODY, cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    asNobody.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => asNobody.once('exit', resolve));
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes('PC_CONFIG_RUN_AS'), stderr);
    assert.match(stderr, /"helper"/);
    assert.equal(existsSync(log), false, 'the server never ran');

    // A user this host does not know is a configuration error, before anything starts.
    writeFileSync(config, server('no-such-user-here'));
    const unknown = spawn(process.execPath, [MAIN, 'config', 'check', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let checkErr = '';
    unknown.stderr!.on('data', (d: Buffer) => (checkErr += d.toString()));
    assert.equal(await new Promise((resolve) => unknown.once('exit', resolve)), 2);
    assert.match(checkErr, /servers\.helper\.runAs/);
    assert.equal(existsSync(log), false);

    // uid 0 under another group is root all the same: config check names it as in the gateway's trust domain.
    for (const spec of ['"0:65534"', 'root:nogroup']) {
      writeFileSync(config, server(spec));
      const check = spawn(process.execPath, [MAIN, 'config', 'check', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let said = '';
      check.stdout!.on('data', (d: Buffer) => (said += d.toString()));
      check.stderr!.on('data', (d: Buffer) => (said += d.toString()));
      await new Promise((resolve) => check.once('exit', resolve));
      assert.match(said, /"helper" runs as the gateway's own user/, `${spec}: ${said}`);
    }
  });

  it('the real server-filesystem and server-memory work under runAs nobody, and what they write is nobody\'s', async () => {
    const dir = openDir('pc-trust-real-');
    const sandbox = join(dir, 'sandbox');
    mkdirSync(sandbox);
    chownSync(sandbox, NOBODY, NOBODY);
    writeFileSync(join(sandbox, 'hello.txt'), 'hello from the sandbox\n');
    const memoryFile = join(sandbox, 'memory.jsonl');
    // A folder inside the served one that stays root's (0755): nobody may not write there.
    const locked = join(sandbox, 'locked');
    mkdirSync(locked, { mode: 0o755 });
    writeFileSync(join(locked, 'root.txt'), 'root\'s\n');
    const gw = await startGateway({
      servers: {
        files: stdioServer(FILESYSTEM, [sandbox], { runAs: 'nobody' }),
        memory: stdioServer(MEMORY, [], { runAs: 'nobody', env: { MEMORY_FILE_PATH: memoryFile } }),
      },
    });
    try {
      const client = await legacyClient(`${gw.url}/mcp`);
      const read = await client.callTool({ name: 'files__read_text_file', arguments: { path: join(sandbox, 'hello.txt') } });
      assert.match(JSON.stringify(read.content), /hello from the sandbox/);
      const written = await client.callTool({ name: 'files__write_file', arguments: { path: join(sandbox, 'new.txt'), content: 'written as nobody\n' } });
      assert.notEqual(written.isError, true, JSON.stringify(written.content));
      assert.equal(readFileSync(join(sandbox, 'new.txt'), 'utf8'), 'written as nobody\n');
      assert.equal(statSync(join(sandbox, 'new.txt')).uid, NOBODY);
      await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'gate', entityType: 'thing', observations: ['strong'] }] } });
      const graph = await client.callTool({ name: 'memory__read_graph', arguments: {} });
      assert.match(JSON.stringify(graph), /gate/);
      assert.equal(statSync(memoryFile).uid, NOBODY);
      // Outside what nobody may write, the server's own write fails: the boundary is the kernel's, not the policy's.
      const denied = await client.callTool({ name: 'files__write_file', arguments: { path: join(locked, 'root.txt'), content: 'x' } }).catch((e: Error) => ({ isError: true, content: e.message }));
      assert.equal(denied.isError, true, JSON.stringify(denied));
      assert.equal(readFileSync(join(locked, 'root.txt'), 'utf8'), 'root\'s\n');
      await client.close();
    } finally {
      await gw.close();
    }
  });
});
