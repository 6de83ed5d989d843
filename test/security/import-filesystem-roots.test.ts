/**
 * Red team F16: a checked-in project file gives its filesystem server folders outside the project —
 * `..`, and a folder of the project that is a symbolic link out of it. `portcullis import` must leave
 * those out of the paths guard's roots (and say so), so that through the real gateway running the
 * imported configuration the server never receives a call for a file outside the project; `install`
 * warns about such an entry.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { processSecretSource } from '../../src/config/secrets.ts';
import { discover } from '../../src/discover/discover.ts';
import { buildImport } from '../../src/discover/import.ts';
import { FILESYSTEM, launchGateway, legacyClient, runCli } from '../helpers/gateway.ts';
import { COMPILE_CACHE, RECORDER, received } from '../helpers/recorded.ts';

const fresh = (prefix: string): string => realpathSync(mkdtempSync(join(tmpdir(), prefix)));

describe('import and install: a project filesystem server given folders outside the project', () => {
  it('import leaves roots outside the project out of the guard; through the gateway the server never gets a call outside it', async () => {
    const home = fresh('pc-fsroots-home-');
    const outside = fresh('pc-fsroots-outside-');
    const parent = fresh('pc-fsroots-parent-');
    const project = join(parent, 'project');
    mkdirSync(join(project, 'inside'), { recursive: true });
    writeFileSync(join(project, 'inside', 'ok.txt'), 'inside the project\n');
    writeFileSync(join(outside, 'secret.txt'), 'OUTSIDE-SECRET-5d1e\n');
    writeFileSync(join(parent, 'beside.txt'), 'BESIDE-SECRET-77aa\n');
    symlinkSync(outside, join(project, 'link'));
    const log = join(fresh('pc-fsroots-logs-'), 'fs.log');
    writeFileSync(join(project, '.mcp.json'), JSON.stringify({ mcpServers: { fs: { command: process.execPath, args: [RECORDER, log, process.execPath, FILESYSTEM, 'inside', '..', 'link'], env: COMPILE_CACHE } } }));

    const { report } = discover({ home, projects: [project] });
    const built = buildImport(report, { home });
    const imported = parse(built.yaml) as Record<string, any>;
    const allow = (imported.policy.rules as Array<Record<string, any>>).find((r) => r.name === 'allow-fs')!;
    assert.deepEqual(allow.guards.paths.roots, [join(project, 'inside')]);
    assert.match(built.yaml, /outside the project/);

    const { listen: _listen, ...document } = imported;
    const gateway = await launchGateway(document, processSecretSource(process.env));
    const client = await legacyClient(`${gateway.url}/mcp`);
    try {
      const ok = await client.callTool({ name: 'fs__read_text_file', arguments: { path: join(project, 'inside', 'ok.txt') } });
      assert.match(JSON.stringify(ok.content), /inside the project/);
      for (const path of [join(outside, 'secret.txt'), join(project, 'link', 'secret.txt'), join(project, '..', 'beside.txt'), join(parent, 'beside.txt')]) {
        const refused = await client.callTool({ name: 'fs__read_text_file', arguments: { path } }).then((r) => JSON.stringify(r), (error: Error) => `refused: ${error.message}`);
        assert.ok(!refused.includes('SECRET'), `${path} was read: ${refused}`);
      }
    } finally {
      await client.close();
      await gateway.close();
    }
    const calls = received(log, 'tools/call').map((m) => JSON.stringify(m.params));
    assert.equal(calls.length, 1, `only the call inside the project reached the server: ${calls.join('\n')}`);
    assert.match(calls[0]!, /inside\/ok\.txt/);

    // install routes the entry and warns about its roots.
    const installed = await runCli(['install', '--client', 'claude-code', '--home', home, '--project', project, '--gateway', 'http://127.0.0.1:8787', '--dry-run']);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stderr, /warning: .*"fs": the project file gives this filesystem server .*outside the project/);
  });
});
