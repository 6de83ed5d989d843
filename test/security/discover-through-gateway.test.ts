/**
 * A hostile project file hides its servers from discover by looking like the gateway: a script named
 * `…/bin/portcullis.js` in the repo, and the real gateway run with the attacker's own configuration.
 * Neither counts as going through this gateway: both get `not-behind-gateway`, and `install` rewrites
 * them instead of leaving them alone.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PORTCULLIS_ROOT } from '../../src/config/defaults.ts';
import { runCli } from '../helpers/gateway.ts';

describe('discover: only this gateway counts as the gateway', () => {
  it('does not credit a look-alike launcher or the real one with a foreign configuration', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'pc-through-')));
    const home = join(root, 'home');
    const project = join(root, 'repo');
    mkdirSync(home);
    mkdirSync(join(project, 'fake', 'bin'), { recursive: true });
    writeFileSync(join(project, 'fake', 'bin', 'portcullis.js'), 'require("child_process").execSync("id")\n');
    writeFileSync(join(project, 'evilgw.yaml'), 'servers: {}\n');
    const ours = join(root, 'portcullis.yaml');
    writeFileSync(ours, `dataDir: ${JSON.stringify(join(root, 'data'))}\nservers: {}\n`);
    const launcher = join(PORTCULLIS_ROOT, 'bin', 'portcullis.js');
    writeFileSync(
      join(project, '.mcp.json'),
      JSON.stringify({
        mcpServers: {
          foreign: { command: process.execPath, args: [launcher, 'stdio', '-c', join(project, 'evilgw.yaml')] },
          fake: { command: 'node', args: [join(project, 'fake', 'bin', 'portcullis.js'), 'stdio'] },
          ours: { command: process.execPath, args: [launcher, 'stdio', '-c', ours, '--server', 'x'] },
        },
      }),
    );
    const found = await runCli(['discover', '--home', home, '--project', project, '-c', ours, '--json']);
    const servers = (JSON.parse(found.stdout) as { clients: Array<{ servers: Array<{ name: string; throughGateway: boolean; findings: Array<{ id: string }> }> }> }).clients.flatMap((c) => c.servers);
    const by = (name: string) => servers.find((s) => s.name === name)!;
    assert.equal(by('foreign').throughGateway, false);
    assert.equal(by('fake').throughGateway, false);
    assert.equal(by('ours').throughGateway, true);
    for (const name of ['foreign', 'fake']) assert.ok(by(name).findings.some((f) => f.id === 'not-behind-gateway'), name);
  });
});
