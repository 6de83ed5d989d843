/**
 * Import must not widen what the clients allowed, nor let the gateway run another file than the one it
 * pinned: a Codex `enabled_tools = []` / Gemini `includeTools: []` (no tool enabled) allows nothing,
 * entries that run the same command with different restrictions stay apart, and a relative command or
 * script is written absolute (or with the folder the client starts it in), so the pin names what runs.
 * Server side: the imported server with no enabled tool receives no call.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { legacyClient, runCli, serveChild } from '../helpers/gateway.ts';
import { HOSTILE, messagesReceived, targetsReceived, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog } from '../fixtures/hostile-catalog.ts';

describe('import keeps the clients\' tool restrictions and pins what runs', () => {
  const root = mkdtempSync(join(tmpdir(), 'pc-import-restrict-'));
  const home = join(root, 'home');
  const project = join(root, 'repo');
  mkdirSync(join(home, '.codex'), { recursive: true });
  mkdirSync(join(home, '.gemini'), { recursive: true });
  mkdirSync(project);
  const log = join(root, 'received.log');
  const state = join(root, 'state.json');
  writeCatalog(state, cleanCatalog());
  const server = join(root, 'server.mjs');
  writeFileSync(server, `import { appendFileSync } from 'node:fs';\nprocess.stdin.on('data', (c) => appendFileSync(${JSON.stringify(log)}, c));\nconst { runStdio } = await import(${JSON.stringify(pathToFileURL(HOSTILE).href)});\nawait runStdio(${JSON.stringify(state)});\n`);
  const node = JSON.stringify(process.execPath);
  writeFileSync(
    join(home, '.codex', 'config.toml'),
    `[mcp_servers.fsx]\ncommand = ${node}\nargs = [${JSON.stringify(server)}]\nenabled_tools = []\n\n[mcp_servers.fsy]\ncommand = ${node}\nargs = [${JSON.stringify(server)}]\nenabled_tools = ["ok_tool"]\n`,
  );
  writeFileSync(join(home, '.gemini', 'settings.json'), JSON.stringify({ mcpServers: { ge: { command: process.execPath, args: [server, 'g'], includeTools: [] } } }));
  writeFileSync(join(project, 'run.sh'), 'exec true\n');
  writeFileSync(join(project, 'server.js'), '');
  writeFileSync(join(project, '.mcp.json'), JSON.stringify({ mcpServers: { rel: { command: './run.sh', args: [] }, rel2: { command: 'node', args: ['server.js'] } } }));

  it('writes no allow rule for an empty allowlist, keeps differently restricted entries apart, and makes relative paths absolute', async () => {
    const out = join(root, 'portcullis.yaml');
    const imported = await runCli(['import', '--home', home, '--project', project, '-o', out]);
    assert.equal(imported.code, 0, imported.stderr);
    const config = parse(readFileSync(out, 'utf8')) as { servers: Record<string, { command: string; cwd?: string; pin?: { file?: string } }>; policy: { rules: Array<{ effect: string; servers?: string[]; tools?: string[] }> } };
    assert.ok(config.servers.fsx && config.servers.fsy && config.servers.ge, Object.keys(config.servers).join(','));
    const allows = (name: string) => config.policy.rules.filter((r) => r.effect === 'allow' && r.servers?.includes(name));
    assert.deepEqual(allows('fsx'), [], 'enabled_tools = [] allows nothing');
    assert.deepEqual(allows('ge'), [], 'includeTools: [] allows nothing');
    assert.deepEqual(allows('fsy').map((r) => r.tools), [['ok_tool']]);
    assert.equal(config.servers.rel!.command, join(project, 'run.sh'));
    assert.equal(config.servers.rel!.pin?.file, join(project, 'run.sh'));
    assert.equal(config.servers.rel2!.cwd, project);
    assert.equal(config.servers.rel2!.pin?.file, join(project, 'server.js'));

    // The gateway runs the imported fsx and fsy: no tool of fsx may be called.
    const only = stringify({ ...config, listen: { host: '127.0.0.1', port: 0 }, dataDir: join(root, 'data'), servers: { fsx: config.servers.fsx, fsy: config.servers.fsy }, policy: { ...config.policy, rules: config.policy.rules.filter((r) => !r.servers || r.servers.every((s) => s === 'fsx' || s === 'fsy')) } });
    writeFileSync(out, only);
    const served = await serveChild(out);
    try {
      const client = await legacyClient(`${served.base}/mcp`);
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.deepEqual(names, ['fsy__ok_tool'], 'only what a client enabled is listed');
      await assert.rejects(client.callTool({ name: 'fsx__ok_tool', arguments: { q: 'x' } }));
      await client.close();
    } finally {
      await served.stop();
    }
    assert.deepEqual(targetsReceived(messagesReceived(log), 'tools/call'), [], 'the server received no call');
  });
});
