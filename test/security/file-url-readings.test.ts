/**
 * A `file:` URL (and `~`) is one string that servers read in several ways (red team K1): as a URL (its
 * path: query and fragment dropped), as the text after the scheme (query and fragment kept), or, by a
 * server that does not know URLs (server-filesystem), as a path relative to its directory. The path guard
 * and the gateway-state check judged only the first: `file://<home>/sandbox/ok.txt?/../../…/secret.txt`
 * was "inside the sandbox" to them and `<home>/secret.txt` to server-filesystem — the sandbox escaped,
 * pins.key read, the policy file rewritten to `mode: monitor` (hot reload). Every reading is judged now,
 * and what makes them differ (`?`, `#`, tabs in a file URL) is refused outright.
 *
 * The real gateway (`serve -c`, the aggregated endpoint, the 2026-07-28 era and the stdio front) in front
 * of the real server-filesystem on a home directory that holds the configuration and the data dir;
 * asserted on the server's side (it received none of the calls) and on disk. The control runs the same
 * strings against server-filesystem directly, where they do reach the secret: without the fix they pass.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { FILESYSTEM, legacyClient, MAIN, stdioClientEnv, modernClient, runCli, serveChild } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; reason?: string } };

describe('file: URLs and ~ judged in every reading a server may give them (red team K1)', () => {
  let home: string;
  let config: string;
  let configText: string;
  let dataDir: string;
  let logs: { guarded: string; plain: string };
  let gw: Awaited<ReturnType<typeof serveChild>>;
  const marker = ['TOP', 'SECRET', '-', 'K1'].join('');

  before(async () => {
    home = realpathSync(mkdtempSync(join(tmpdir(), 'pc-file-url-')));
    mkdirSync(join(home, 'sandbox'));
    writeFileSync(join(home, 'sandbox', 'ok.txt'), 'inside\n');
    writeFileSync(join(home, 'secret.txt'), `${marker}\n`);
    dataDir = join(home, '.local', 'share', 'portcullis');
    logs = { guarded: join(home, 'guarded.log'), plain: join(home, 'plain.log') };
    config = join(home, 'portcullis.yaml');
    configText = `${JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir,
      reload: { settleMs: 200 },
      servers: { guarded: recordedServer(logs.guarded, FILESYSTEM, [home]), plain: recordedServer(logs.plain, FILESYSTEM, [home]) },
      policy: {
        rules: [
          // The server's folder is wider than the guard's root (the set-up docs/policy.md describes).
          { name: 'guarded-sandbox', effect: 'allow', servers: ['guarded'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [join(home, 'sandbox')] } } },
          // No path guard: only the gateway-state check stands between the call and the state.
          { name: 'plain-anything', effect: 'allow', servers: ['plain'] },
        ],
      },
    }, null, 2)}\n`;
    writeFileSync(config, configText);
    gw = await serveChild(config);
  });
  after(async () => {
    await gw?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  /** A file URL naming ok.txt in the sandbox whose query/fragment climbs back to `<home>/rel` for server-filesystem. */
  const via = (rel: string, mark = '?', scheme = 'file://'): string => {
    const depth = 1 + home.split('/').filter(Boolean).length + 2; // `file:`, the home's components, sandbox, `ok.txt?`
    return `${scheme}${home}/sandbox/ok.txt${mark}/${'../'.repeat(depth)}${rel}`;
  };
  const escapes = (): Array<[string, Record<string, unknown>]> => [
    ['read_text_file', { path: via('secret.txt') }],
    ['read_text_file', { path: via('secret.txt', '#') }],
    ['read_text_file', { path: via('secret.txt', '?', 'FILE://') }],
    ['read_text_file', { path: via('secret.txt', '\t?') }],
    ['read_text_file', { path: `file://localhost${home}/sandbox/ok.txt?/${'../'.repeat(home.split('/').filter(Boolean).length + 4)}secret.txt` }],
    ['read_text_file', { path: via('.local/share/portcullis/pins.key') }],
    ['list_directory', { path: via('.local/share/portcullis') }],
    ['write_file', { path: via('outside.txt'), content: 'escaped' }],
    ['edit_file', { path: via('portcullis.yaml', '#'), edits: [{ oldText: '"rules": [', newText: '"mode": "monitor", "rules": [' }] }],
    // A file URL read as a relative path lands in <home>/file:/…, outside the sandbox; `~` read unexpanded too.
    ['create_directory', { path: `file://${home}/sandbox/made` }],
    ['create_directory', { path: '~/made' }],
    // Strings the state check skipped: a line break, a path longer than PATH_MAX until `..` is resolved.
    ['read_text_file', { path: 'x\n/../.local/share/portcullis/pins.key' }],
    ['read_text_file', { path: `${'a/../'.repeat(1000)}.local/share/portcullis/pins.key` }],
  ];

  it('control: server-filesystem itself reads these strings as paths outside the sandbox', async () => {
    const client = new Client({ name: 'k1-control', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [FILESYSTEM, home], stderr: 'ignore' }));
    try {
      const read = await client.callTool({ name: 'read_text_file', arguments: { path: via('secret.txt') } });
      assert.match(JSON.stringify(read.content), new RegExp(marker), 'the query climbs out of the sandbox on the server');
      const listed = await client.callTool({ name: 'list_directory', arguments: { path: via('sandbox', '#') } });
      assert.match(JSON.stringify(listed.content), /ok\.txt/, 'so does the fragment');
      for (const path of ['x\n/../secret.txt', `${'a/../'.repeat(1000)}secret.txt`]) {
        const other = await client.callTool({ name: 'read_text_file', arguments: { path } });
        assert.match(JSON.stringify(other.content), new RegExp(marker), 'a line break or a long path is no obstacle to the server');
      }
    } finally {
      await client.close();
    }
  });

  const refused = (codes: string[]) => (error: Rejection) => {
    assert.ok(codes.includes(error.data?.code ?? ''), JSON.stringify(error.data ?? error));
    return true;
  };

  for (const [server, codes] of [['guarded', ['PC_POLICY_GUARD', 'PC_POLICY_GATEWAY_STATE']], ['plain', ['PC_POLICY_GATEWAY_STATE']]] as const) {
    it(`${server}: refuses every reading that leaves ${server === 'guarded' ? 'the root or names the state' : 'for the state'}, and policy test agrees`, async () => {
      // Without a path guard, creating <home>/file:/… is the server's business (it names no state).
      const attacks = escapes().filter(([tool]) => server === 'guarded' || tool !== 'create_directory');
      const dry = await Promise.all(attacks.map(([tool, args]) => runCli(['policy', 'test', '-c', config, '--json', '--call', `${server}.${tool} ${JSON.stringify(args)}`])));
      const client = await legacyClient(`${gw.base}/mcp/${server}`);
      try {
        for (const [index, [tool, args]] of attacks.entries()) {
          const what = `${server}.${tool} ${JSON.stringify(args)}`;
          await assert.rejects(client.callTool({ name: tool, arguments: args }), refused([...codes]), what);
          const said = JSON.parse(dry[index]!.stdout) as { decision: string; code: string | null };
          assert.equal(said.decision, 'deny', `policy test says ${JSON.stringify(said)} for ${what}`);
        }
        const inside = await client.callTool({ name: 'read_text_file', arguments: { path: join(home, 'sandbox', 'ok.txt') } });
        assert.match(JSON.stringify(inside.content), /inside/, 'a plain path inside the sandbox is served');
      } finally {
        await client.close();
      }
      assert.deepEqual(callsReceived(logs[server]).map((c) => c.arguments.path), [join(home, 'sandbox', 'ok.txt')], 'only the plain read reached the server');
      assert.equal(readFileSync(config, 'utf8'), configText, 'the policy file is untouched');
      assert.equal(existsSync(join(home, 'outside.txt')), false);
      assert.equal(existsSync(join(home, 'file:')), false);
    });
  }

  it('the aggregated endpoint, the 2026-07-28 era and the stdio front refuse them too', async () => {
    const before = { guarded: callsReceived(logs.guarded).length, plain: callsReceived(logs.plain).length };
    const legacy = await legacyClient(`${gw.base}/mcp`);
    const modern = await modernClient(`${gw.base}/mcp`);
    const stdio = new Client({ name: 'k1-stdio', version: '1' });
    await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, 'stdio', '-c', config, '--server', 'guarded'], env: stdioClientEnv(), stderr: 'ignore' }));
    try {
      for (const [tool, args] of escapes()) {
        await assert.rejects(legacy.callTool({ name: `guarded__${tool}`, arguments: args }), refused(['PC_POLICY_GUARD', 'PC_POLICY_GATEWAY_STATE']), `legacy ${tool} ${JSON.stringify(args)}`);
        await assert.rejects(stdio.callTool({ name: tool, arguments: args }), refused(['PC_POLICY_GUARD', 'PC_POLICY_GATEWAY_STATE']), `stdio ${tool} ${JSON.stringify(args)}`);
        // The modern client may answer with an error result or a rejection: what counts is the server's log.
        await modern.callTool({ name: `guarded__${tool}`, arguments: args }).catch(() => undefined);
        if (tool !== 'create_directory') await modern.callTool({ name: `plain__${tool}`, arguments: args }).catch(() => undefined);
      }
    } finally {
      await Promise.all([legacy.close(), modern.close(), stdio.close()]);
    }
    assert.equal(callsReceived(logs.guarded).length, before.guarded, 'nothing reached the guarded server');
    assert.equal(callsReceived(logs.plain).length, before.plain, 'nothing reached the plain server');
    assert.equal(existsSync(join(home, 'outside.txt')), false);
    assert.equal(existsSync(join(home, 'file:')), false);
    assert.equal(readFileSync(config, 'utf8'), configText, 'the policy file is untouched');
  });
});
