/**
 * `portcullis policy test` decides as the running gateway does for the same configuration (red team):
 * the dry run compiled the policy without the gateway's own state in view, so it answered ALLOW for a
 * move of the data directory or a write to killswitch.json that the gateway refuses — an operator
 * checking a policy with it was told a lie. Both now take one path (src/policy/state-decision.ts):
 * each call below is decided by the CLI and sent to the real gateway (`serve -c`) in front of the real
 * server-filesystem, the two answers must agree, and nothing naming the state reached the server.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, runCli, serveChild } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string } };

describe('policy test and the gateway agree on calls naming the gateway state', () => {
  let home: string;
  let config: string;
  let dataDir: string;
  let logs: Record<string, string>;
  let gw: Awaited<ReturnType<typeof serveChild>>;

  before(async () => {
    home = realpathSync(mkdtempSync(join(tmpdir(), 'pc-policy-state-')));
    for (const dir of ['conf', 'state', 'projects']) mkdirSync(join(home, dir));
    dataDir = join(home, 'state', 'pc');
    logs = { guarded: join(home, 'guarded.log'), plain: join(home, 'plain.log') };
    config = join(home, 'conf', 'portcullis.yaml');
    writeFileSync(config, JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir,
      servers: { guarded: recordedServer(logs.guarded!, FILESYSTEM, [home]), plain: recordedServer(logs.plain!, FILESYSTEM, [home]) },
      policy: {
        rules: [
          // A path guard (decides with the state as the gateway compiles it) and a rule without one
          // (only the exposed-server check stands between the call and the state).
          { name: 'guarded-in-home', effect: 'allow', servers: ['guarded'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [home] } } },
          { name: 'plain-anything', effect: 'allow', servers: ['plain'] },
        ],
      },
    }));
    gw = await serveChild(config);
    // The pinned catalog (read-only annotations) the dry run reads, as the gateway pinned it.
    for (const server of ['guarded', 'plain']) {
      const client = await legacyClient(`${gw.base}/mcp/${server}`);
      await client.listTools();
      await client.close();
    }
    const killed = await runCli(['kill', '--tool', 'plain.no-such-tool', '-c', config]);
    assert.equal(killed.code, 0, killed.stderr);
  });
  after(async () => {
    await gw?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const cases = (): Array<[string, Record<string, unknown>, 'deny' | 'allow']> => [
    ['move_file', { source: join(home, 'state'), destination: join(home, 'projects', 'moved') }, 'deny'],
    ['move_file', { source: join(home, 'projects', 'x'), destination: join(home, 'conf') }, 'deny'],
    ['write_file', { path: join(dataDir, 'killswitch.json'), content: '{"switches":[]}' }, 'deny'],
    ['write_file', { path: join(home, 'projects', '..', 'state', 'pc', 'pins.json'), content: '{}' }, 'deny'],
    ['read_text_file', { path: join(dataDir, 'pins.key') }, 'deny'],
    ['create_directory', { path: join(home, 'conf') }, 'deny'],
    ['list_directory', { path: join(home, 'state') }, 'allow'],
    ['write_file', { path: join(home, 'projects', 'notes.txt'), content: 'ordinary' }, 'allow'],
  ];

  for (const server of ['guarded', 'plain']) {
    it(`${server}: the dry run's decision and code are the gateway's, call by call`, async () => {
      const client = await legacyClient(`${gw.base}/mcp/${server}`);
      // The dry runs first (they change nothing), side by side.
      const dry = await Promise.all(cases().map(([tool, args]) => runCli(['policy', 'test', '-c', config, '--json', '--call', `${server}.${tool} ${JSON.stringify(args)}`])));
      try {
        for (const [index, [tool, args, expected]] of cases().entries()) {
          const said = JSON.parse(dry[index]!.stdout) as { decision: string; code: string | null };
          let live: { decision: string; code: string | null };
          try {
            await client.callTool({ name: tool, arguments: args });
            live = { decision: 'allow', code: null };
          } catch (error) {
            live = { decision: 'deny', code: (error as Rejection).data?.code ?? 'none' };
          }
          const what = `${server}.${tool} ${JSON.stringify(args)}`;
          assert.deepEqual({ decision: said.decision, code: said.code }, live, `policy test and the gateway disagree on ${what}`);
          assert.equal(live.decision, expected, what);
          if (expected === 'deny') assert.equal(live.code, 'PC_POLICY_GATEWAY_STATE', what);
        }
      } finally {
        await client.close();
      }
      const received = callsReceived(logs[server]!);
      assert.deepEqual(received.map((c) => c.name), ['list_directory', 'write_file'], 'only the ordinary calls reached the server');
      assert.match(readFileSync(join(dataDir, 'killswitch.json'), 'utf8'), /no-such-tool/);
    });
  }
});
