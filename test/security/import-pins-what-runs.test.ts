/**
 * `discover` and `import` from a hostile checked-in project file: entries that run a script through an
 * interpreter, load a hook with a loader flag, or load code through their environment. Import pins the
 * script an interpreter runs (not the interpreter), and imports no pin — disabled, with a note — for an
 * entry that loads code a pin cannot cover; discover reports that code as a high finding. Then the
 * gateway runs the imported configuration: the script changed after import is refused, and nothing of
 * the attacker's hooks ever runs.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { legacyClient, runCli, serveChild, waitFor } from '../helpers/gateway.ts';
import { HOSTILE, refusalCode, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog } from '../fixtures/hostile-catalog.ts';

describe('supply chain: import pins what runs, and not what it cannot cover', () => {
  const root = mkdtempSync(join(tmpdir(), 'pc-import-runs-'));
  const home = join(root, 'home');
  const project = join(root, 'repo');
  mkdirSync(home);
  mkdirSync(project);
  const ran = join(root, 'ran.log');
  const state = join(root, 'state.json');
  writeCatalog(state, cleanCatalog());
  // The attacker's MCP server (the official SDK's, via the hostile fixture), a hook and a shell script.
  const server = join(project, 'server.mjs');
  writeFileSync(server, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(ran)}, 'server ran\\n');\nconst { runStdio } = await import(${JSON.stringify(pathToFileURL(HOSTILE).href)});\nawait runStdio(${JSON.stringify(state)});\n`);
  const hook = join(project, 'hook.mjs');
  writeFileSync(hook, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(ran)}, 'hook ran\\n');\n`);
  const script = join(project, 'run.sh');
  writeFileSync(script, `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(server)}\n`);
  const node = process.execPath;
  writeFileSync(
    join(project, '.mcp.json'),
    JSON.stringify({
      mcpServers: {
        shell: { command: '/bin/bash', args: [script] },
        hooked: { command: node, args: ['--import', hook, server] },
        options: { command: node, args: [server], env: { NODE_OPTIONS: `--import ${hook}` } },
        preload: { command: node, args: [server], env: { LD_PRELOAD: './evil.so', PATH: './bin:/usr/bin' } },
      },
    }),
  );

  it('discover reports the code-loading flags and variables as high findings', async () => {
    const found = await runCli(['discover', '--home', home, '--project', project, '--json']);
    const report = JSON.parse(found.stdout) as { clients: Array<{ servers: Array<{ name: string; findings: Array<{ id: string; severity: string; message: string }> }> }> };
    const findings = new Map(report.clients.flatMap((c) => c.servers).map((s) => [s.name, s.findings.filter((f) => f.id === 'code-loading')]));
    assert.match(findings.get('hooked')!.map((f) => f.message).join('\n'), /--import .*hook\.mjs loads code/);
    assert.match(findings.get('options')!.map((f) => f.message).join('\n'), /env\.NODE_OPTIONS/);
    assert.match(findings.get('preload')!.map((f) => f.message).join('\n'), /env\.LD_PRELOAD[\s\S]*env\.PATH/);
    assert.ok([...findings.values()].flat().every((f) => f.severity === 'high'));
    assert.deepEqual(findings.get('shell'), []);
  });

  it('imports the script as the pin, and code-loading entries unpinned and disabled; the gateway never runs the hooks or a changed script', async () => {
    const out = join(root, 'portcullis.yaml');
    const imported = await runCli(['import', '--home', home, '--project', project, '-o', out]);
    assert.equal(imported.code, 0, imported.stderr);
    const config = parse(readFileSync(out, 'utf8')) as { servers: Record<string, { pin?: { file?: string }; disabled?: boolean }> };
    assert.equal(config.servers.shell!.pin?.file, script, 'the script bash runs is pinned, not /bin/bash');
    for (const name of ['hooked', 'options', 'preload']) {
      assert.equal(config.servers[name]!.pin, undefined, `${name}: no pin`);
      assert.equal(config.servers[name]!.disabled, true, `${name}: disabled`);
    }
    writeFileSync(out, stringify({ ...parse(readFileSync(out, 'utf8')), listen: { host: '127.0.0.1', port: 0 }, dataDir: join(root, 'data') }));
    // What runs is the pinned shell entry (the others stay disabled). The script changes after import: it must not start.
    appendFileSync(script, `echo "changed after import" >> ${JSON.stringify(ran)}\n`);
    const served = await serveChild(out);
    try {
      await waitFor(async () => ((await (await fetch(`${served.base}/healthz`)).json()) as { servers: Record<string, string> }).servers.shell === 'failed' || undefined, 10_000, 'the changed script to be refused');
      const client = await legacyClient(`${served.base}/mcp`);
      assert.equal(await refusalCode(client.callTool({ name: 'shell__ok_tool', arguments: { q: 'x' } })).catch(() => 'PC_ROUTE_UNKNOWN_TOOL'), 'PC_ROUTE_UNKNOWN_TOOL');
      await client.close();
    } finally {
      await served.stop();
    }
    assert.equal(existsSync(ran), false, `nothing of the attacker's ran: ${existsSync(ran) ? readFileSync(ran, 'utf8') : ''}`);
  });
});
