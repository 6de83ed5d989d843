/**
 * `portcullis install` / `--undo`: round trips on real client files (Claude Code and Cursor JSON, VS Code
 * JSON with comments, Codex TOML), and a client entry written by install reaching a real server through
 * a real gateway, over HTTP and over the stdio front.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parse as parseToml } from 'smol-toml';
import { applyPlan, planInstall } from '../../src/discover/install.ts';
import { discover } from '../../src/discover/discover.ts';
import { legacyClient, MEMORY, runCli, serveChild } from '../helpers/gateway.ts';
import { fixtureTrees } from '../helpers/discover-fixtures.ts';

const read = (path: string): string => readFileSync(path, 'utf8');
const backups = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('.portcullis-'));

describe('portcullis install', () => {
  it('routes Claude Code servers (user and per-project) through the gateway, keeps the rest of ~/.claude.json byte for byte, and undoes it', async () => {
    const t = fixtureTrees(['home', 'project']);
    const file = join(t.home, '.claude.json');
    const before = read(file);
    const result = await runCli(['install', '--client', 'claude-code', '--home', t.home, '--gateway', 'http://127.0.0.1:8787']);
    assert.equal(result.code, 0, result.stderr);
    const after = read(file);
    const doc = JSON.parse(after);
    assert.deepEqual(doc.mcpServers.github, { type: 'http', url: 'http://127.0.0.1:8787/mcp/github' });
    assert.deepEqual(doc.mcpServers.tickets, { type: 'http', url: 'http://127.0.0.1:8787/mcp/tickets' });
    assert.deepEqual(doc.projects[t.project].mcpServers.files, { type: 'http', url: 'http://127.0.0.1:8787/mcp/files' });
    assert.equal(doc.numStartups, 42);
    assert.deepEqual(doc.projects[t.project].allowedTools, []);
    // Outside the entries, the text is what it was.
    const head = before.slice(0, before.indexOf('"github"'));
    assert.ok(after.startsWith(head));
    assert.ok(after.includes('      "allowedTools": [],\n'));
    const backup = backups(t.home).find((f) => f.startsWith('.claude.json.portcullis-backup-'))!;
    assert.equal(read(join(t.home, backup)), before);
    assert.equal(statSync(join(t.home, backup)).mode & 0o777, 0o600);
    assert.equal(statSync(join(t.home, '.claude.json.portcullis-install.json')).mode & 0o777, 0o600);
    assert.ok(discover({ home: t.home }).report.clients.find((f) => f.path === file)!.servers.every((s) => s.throughGateway));
    const again = await runCli(['install', '--client', 'claude-code', '--home', t.home, '--gateway', 'http://127.0.0.1:8787']);
    assert.match(again.stdout, /nothing to change/);
    const undo = await runCli(['install', '--undo', '--client', 'claude-code', '--home', t.home]);
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal(read(file), before, 'byte for byte');
    assert.deepEqual(backups(t.home), [], 'backup and record removed');
  });

  it('keeps comments and layout of VS Code JSON with comments', async () => {
    const t = fixtureTrees(['home']);
    const file = join(t.home, '.config', 'Code', 'User', 'mcp.json');
    const before = read(file);
    const result = await runCli(['install', '--client', 'vscode', '--home', t.home, '--gateway', 'http://127.0.0.1:8787', '--api-key-env', 'PORTCULLIS_KEY']);
    assert.equal(result.code, 0, result.stderr);
    const after = read(file);
    assert.ok(after.startsWith('// VS Code user MCP servers (JSON with comments)\n{\n  "inputs": ['));
    assert.ok(after.includes('    /* Jira through uvx */\n    "jira": {'));
    assert.match(after, /"url": "http:\/\/127\.0\.0\.1:8787\/mcp\/stripe"/);
    assert.match(after, /"Authorization": "Bearer \$\{env:PORTCULLIS_KEY\}"/, "VS Code's syntax for an environment variable");
    assert.equal((await runCli(['install', '--undo', '--client', 'vscode', '--home', t.home])).code, 0);
    assert.equal(read(file), before);
  });

  it('rewrites Codex TOML tables in place (sub-tables too), keeps comments and other tables, and undoes it', async () => {
    const t = fixtureTrees(['home']);
    const file = join(t.home, '.codex', 'config.toml');
    const before = read(file);
    const result = await runCli(['install', '--client', 'codex', '--home', t.home, '--gateway', 'http://127.0.0.1:8787/', '--api-key-env', 'PORTCULLIS_KEY']);
    assert.equal(result.code, 0, result.stderr);
    const after = read(file);
    assert.ok(after.startsWith('# Codex configuration\nmodel = "gpt-5-codex"\napproval_policy = "on-request"\n\n[mcp_servers.search]\nurl = "http://127.0.0.1:8787/mcp/search"\nbearer_token_env_var = "PORTCULLIS_KEY"\n'));
    assert.ok(after.endsWith('[profiles.fast]\nmodel = "gpt-5-mini"\n'));
    const doc = parseToml(after) as { mcp_servers: Record<string, unknown>; profiles: unknown; model: string };
    assert.deepEqual({ ...(doc.mcp_servers.memory as object) }, { url: 'http://127.0.0.1:8787/mcp/memory', bearer_token_env_var: 'PORTCULLIS_KEY' }, 'the env sub-table (with its secret) is gone');
    assert.deepEqual(JSON.parse(JSON.stringify(doc.profiles)), { fast: { model: 'gpt-5-mini' } });
    assert.equal((await runCli(['install', '--undo', '--client', 'codex', '--home', t.home])).code, 0);
    assert.equal(read(file), before);
  });

  it('--dry-run prints the diff with secrets masked and writes nothing', async () => {
    const t = fixtureTrees(['home']);
    const file = join(t.home, '.cursor', 'mcp.json');
    const before = read(file);
    const result = await runCli(['install', '--client', 'cursor', '--home', t.home, '--gateway', 'http://127.0.0.1:8787', '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^-.*"SLACK_BOT_TOKEN": "\[redacted slack-token [0-9a-f]{8}\]"/m);
    assert.match(result.stdout, /^\+ {6}"url": "http:\/\/127\.0\.0\.1:8787\/mcp\/slack"/m);
    assert.ok(!result.stdout.includes(t.secrets.slack!));
    assert.equal(read(file), before);
    assert.deepEqual(backups(join(t.home, '.cursor')), []);
  });

  it('exits non-zero when it installs nothing: no file of the client, a --project that is not a folder (F16)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pc-install-empty-'));
    const none = await runCli(['install', '--client', 'cursor', '--home', empty, '--gateway', 'http://127.0.0.1:8787']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no cursor configuration file under .*; nothing installed/);
    const missing = await runCli(['install', '--client', 'cursor', '--home', empty, '--project', join(empty, 'nope'), '--gateway', 'http://127.0.0.1:8787']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--project .*nope is not a folder/);
  });

  it('refuses to send an API key over plain http to another machine unless told to (F16)', async () => {
    const t = fixtureTrees(['home']);
    const file = join(t.home, '.cursor', 'mcp.json');
    const before = read(file);
    const clear = await runCli(['install', '--client', 'cursor', '--home', t.home, '--gateway', 'http://gateway.example:8787', '--api-key-env', 'PORTCULLIS_KEY']);
    assert.equal(clear.code, 2);
    assert.match(clear.stderr, /plain http to another machine: the clients would send the API key from \$PORTCULLIS_KEY in clear/);
    assert.equal(read(file), before);
    for (const gateway of ['https://gateway.example:8787', 'http://127.0.0.1:8787', 'http://[::1]:8787', 'http://localhost:8787']) {
      const ok = await runCli(['install', '--client', 'cursor', '--home', t.home, '--gateway', gateway, '--api-key-env', 'PORTCULLIS_KEY', '--dry-run']);
      assert.equal(ok.code, 0, `${gateway}: ${ok.stderr}`);
    }
    const overridden = await runCli(['install', '--client', 'cursor', '--home', t.home, '--gateway', 'http://gateway.example:8787', '--api-key-env', 'PORTCULLIS_KEY', '--allow-plain-http', '--dry-run']);
    assert.equal(overridden.code, 0, overridden.stderr);
    const noKey = await runCli(['install', '--client', 'cursor', '--home', t.home, '--gateway', 'http://gateway.example:8787', '--dry-run']);
    assert.equal(noKey.code, 0, 'without a key nothing secret travels');
  });

  it('refuses a file it cannot parse, a route the client cannot use, and a file changed since it was read', async () => {
    const t = fixtureTrees(['malformed-home']);
    const file = join(t.home, '.cursor', 'mcp.json');
    const before = read(file);
    const bad = await runCli(['install', '--client', 'cursor', '--home', t.home, '--gateway', 'http://127.0.0.1:8787']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /does not parse as JSON \(line 3, column \d+: [A-Za-z]+\); not touched/);
    assert.equal(read(file), before);
    assert.equal((await runCli(['install', '--client', 'claude-desktop', '--home', t.home, '--gateway', 'http://127.0.0.1:8787'])).code, 2, 'Claude Desktop files are stdio only');
    assert.equal((await runCli(['install', '--client', 'cursor', '--home', t.home])).code, 2, 'neither --gateway nor --stdio');
    assert.equal((await runCli(['install', '--client', 'nope', '--home', t.home, '--stdio'])).code, 2);

    const t2 = fixtureTrees(['home']);
    const plan = planInstall({ client: 'cursor', home: t2.home, projects: [], route: { mode: 'http', base: 'http://127.0.0.1:8787' } }).plans[0]!;
    const cursor = join(t2.home, '.cursor', 'mcp.json');
    writeFileSync(cursor, `${read(cursor)}\n`);
    const applied = applyPlan(plan);
    assert.ok('problem' in applied && /changed since it was read/.test(applied.problem));
    assert.ok(read(cursor).endsWith('}\n\n'), 'the newer file is kept');
    assert.deepEqual(backups(join(t2.home, '.cursor')), []);
  });

  it('undo refuses to overwrite edits made after the install, unless --force (which keeps them beside it)', async () => {
    const t = fixtureTrees(['home']);
    const file = join(t.home, '.cursor', 'mcp.json');
    const before = read(file);
    assert.equal((await runCli(['install', '--client', 'cursor', '--home', t.home, '--gateway', 'http://127.0.0.1:8787'])).code, 0);
    const edited = read(file).replace('"mcpServers"', '"extra": 1,\n  "mcpServers"');
    writeFileSync(file, edited);
    const refused = await runCli(['install', '--undo', '--client', 'cursor', '--home', t.home]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /changed since the install/);
    assert.equal(read(file), edited);
    const forced = await runCli(['install', '--undo', '--force', '--client', 'cursor', '--home', t.home]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(read(file), before);
    const kept = backups(join(t.home, '.cursor')).find((f) => f.includes('before-undo'))!;
    assert.equal(read(join(t.home, '.cursor', kept)), edited);
  });

  describe('end to end: the written entries reach a real server through a real gateway', () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'pc-install-e2e-')));
    const home = join(root, 'home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    mkdirSync(join(home, '.codex'), { recursive: true });
    writeFileSync(join(home, '.cursor', 'mcp.json'), `${JSON.stringify({ mcpServers: { memory: { command: process.execPath, args: [MEMORY] } } }, null, 2)}\n`);
    writeFileSync(join(home, '.codex', 'config.toml'), `# mine\n[mcp_servers.memory]\ncommand = ${JSON.stringify(process.execPath)}\nargs = [${JSON.stringify(MEMORY)}]\n`);
    const config = join(root, 'portcullis.yaml');
    let stop: (() => Promise<void>) | undefined;
    // `serve` (serveChild inherits this process's environment) keeps its state under the test's root.
    // Set for these tests only: the suite runs files in one process (scripts/test.ts).
    const dataDirBefore = process.env.PORTCULLIS_DATA_DIR;
    before(() => {
      process.env.PORTCULLIS_DATA_DIR = join(root, 'data');
    });
    after(async () => {
      await stop?.();
      if (dataDirBefore === undefined) delete process.env.PORTCULLIS_DATA_DIR;
      else process.env.PORTCULLIS_DATA_DIR = dataDirBefore;
    });

    it('import, serve, install --gateway: Cursor lists the server\'s tools through the gateway', async () => {
      const imported = await runCli(['import', '--home', home, '-o', config]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(read(config), /sha256: [0-9a-f]{64}/, 'the server script is pinned by hash');
      const gateway = await serveChild(config);
      stop = gateway.stop;
      const installed = await runCli(['install', '--client', 'cursor', '--home', home, '--gateway', gateway.base, '-c', config]);
      assert.equal(installed.code, 0, installed.stderr);
      const entry = JSON.parse(read(join(home, '.cursor', 'mcp.json'))).mcpServers.memory;
      assert.equal(entry.url, `${gateway.base}/mcp/memory`);
      const client = await legacyClient(entry.url);
      const tools = (await client.listTools()).tools.map((x) => x.name);
      await client.close();
      assert.ok(tools.includes('create_entities'), `tools through the gateway: ${tools.join(', ')}`);
    });

    it('install --stdio: Codex launches the stdio front, which serves the same server', async () => {
      const installed = await runCli(['install', '--client', 'codex', '--home', home, '--stdio', '-c', config]);
      assert.equal(installed.code, 0, installed.stderr);
      const text = read(join(home, '.codex', 'config.toml'));
      assert.ok(text.startsWith('# mine\n[mcp_servers.memory]\n'));
      const entry = (parseToml(text) as { mcp_servers: { memory: { command: string; args: string[] } } }).mcp_servers.memory;
      assert.deepEqual(entry.args.slice(1), ['stdio', '-c', config, '--server', 'memory']);
      const client = new Client({ name: 'codex-like', version: '1.0.0' });
      await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, env: { PATH: process.env.PATH ?? '', PORTCULLIS_DATA_DIR: join(root, 'data-stdio') }, stderr: 'ignore' }));
      const tools = (await client.listTools()).tools.map((x) => x.name);
      await client.close();
      assert.ok(tools.includes('create_entities'), `tools through the stdio front: ${tools.join(', ')}`);
      assert.ok(existsSync(join(home, '.codex', 'config.toml.portcullis-install.json')));
    });
  });
});
