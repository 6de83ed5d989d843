/**
 * An npm pin on a server started by a package runner: `npx -y name@version` runs what the registry (or
 * npx's cache) serves, not the files a lockfile vouches for, unless the package is installed in the
 * folder npx runs in. A pin that would be checked against Portcullis' own lockfile while npx fetches
 * from an attacker's registry (a user `.npmrc`) does not hold: the server is not started, and the
 * registry is never asked. `pnpm dlx`, `yarn dlx` and `bunx` always fetch: refused at load.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PORTCULLIS_ROOT } from '../../src/config/defaults.ts';
import { legacyClient, runCli, serveChild } from '../helpers/gateway.ts';

const lock = JSON.parse(readFileSync(join(PORTCULLIS_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
const memory = lock.packages['node_modules/@modelcontextprotocol/server-memory']!;
const spec = `@modelcontextprotocol/server-memory@${memory.version}`;

describe('supply chain: an npm pin does not vouch for what a package runner fetches', () => {
  it('does not start npx for a package not installed where it runs; the registry is never asked', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pc-npm-runner-'));
    const asked: string[] = [];
    const registry = createServer((request, response) => {
      asked.push(request.url ?? '');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    writeFileSync(join(root, '.npmrc'), `registry=http://127.0.0.1:${(registry.address() as AddressInfo).port}/\n`);
    const config = join(root, 'portcullis.yaml');
    writeFileSync(
      config,
      `listen: { host: 127.0.0.1, port: 0 }\ndataDir: ${JSON.stringify(join(root, 'data'))}\npolicy: { rules: [{ name: all, effect: allow }] }\n` +
        `servers:\n  mem: { command: npx, args: [-y, ${JSON.stringify(spec)}], cwd: ${JSON.stringify(root)}, pin: { npm: ${JSON.stringify(spec)}, integrity: ${JSON.stringify(memory.integrity)} } }\n`,
    );
    const home = process.env.HOME;
    process.env.HOME = root;
    const served = await serveChild(config);
    try {
      const health = (await (await fetch(`${served.base}/healthz`)).json()) as { servers: Record<string, string> };
      assert.equal(health.servers.mem, 'failed');
      const client = await legacyClient(`${served.base}/mcp`);
      assert.deepEqual((await client.listTools()).tools, []);
      await client.close();
      assert.match(served.stderr(), /not installed in the server's cwd/);
    } finally {
      await served.stop();
      process.env.HOME = home;
      await new Promise((resolve) => registry.close(resolve));
    }
    assert.deepEqual(asked, [], 'npx never reached the registry');
  });

  it('refuses runners that always fetch at load', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pc-npm-runner-'));
    for (const [command, args] of [['bunx', [spec]], ['pnpm', ['dlx', spec]], ['yarn', ['dlx', spec]]] as const) {
      const config = join(root, `${command}.yaml`);
      writeFileSync(config, `dataDir: ${JSON.stringify(join(root, 'data'))}\npolicy: { rules: [{ name: all, effect: allow }] }\nservers:\n  mem: { command: ${command}, args: ${JSON.stringify(args)}, pin: { npm: ${JSON.stringify(spec)} } }\n`);
      const check = await runCli(['config', 'check', '-c', config]);
      assert.equal(check.code, 2, `${command}: ${check.stdout}${check.stderr}`);
      assert.match(check.stderr, /fetches the package from the registry/);
    }
  });
});
