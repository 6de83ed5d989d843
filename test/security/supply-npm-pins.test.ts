/**
 * npm pins bind the code that runs (redteam-a F8, F19). The attacks, each checked on the server's
 * side (a marker file the attacker's code would write does not exist):
 * - the installed package's code is edited after the pin was first used (F8: the lockfile still holds);
 * - `npx -y name@version` with a user `.npmrc` pointing at a loopback registry that serves other code
 *   under the pinned name and version (F19: the pin held against Portcullis' lockfile while npx ran the
 *   registry's tarball);
 * - the command runs a look-alike copy in another `node_modules/<name>/` than the verified one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PORTCULLIS_ROOT } from '../../src/config/defaults.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { launchGateway, legacyClient, runCli, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { refusalCode } from '../helpers/supply.ts';

const MEMORY = '@modelcontextprotocol/server-memory';
const lock = JSON.parse(readFileSync(join(PORTCULLIS_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
const entry = lock.packages[`node_modules/${MEMORY}`]!;
const SPEC = `${MEMORY}@${entry.version}`;
const PIN = { npm: SPEC, integrity: entry.integrity };

const health = async (gw: TestGateway): Promise<string | undefined> => ((await (await fetch(`${gw.url}/healthz`)).json()) as { servers: Record<string, string> }).servers.mem;

/** Code that writes `marker` when it runs (an ES module statement, placed after the `#!` line). */
const markerLine = (marker: string): string => `import { writeFileSync as __pcMark } from 'node:fs'; __pcMark(${JSON.stringify(marker)}, 'attacker code ran\\n');\n`;

/**
 * A project folder with its own lockfile and a *copy* of server-memory (the rest of its dependencies
 * linked to Portcullis' own), as `npm install` would leave it.
 */
function project(dir: string, lockEntry: { version: string; integrity: string } = entry): string {
  const root = join(dir, 'project');
  const modules = join(root, 'node_modules');
  mkdirSync(join(modules, '@modelcontextprotocol'), { recursive: true });
  for (const name of readdirSync(join(PORTCULLIS_ROOT, 'node_modules'))) {
    if (name === '@modelcontextprotocol' || name.startsWith('.')) continue;
    symlinkSync(join(PORTCULLIS_ROOT, 'node_modules', name), join(modules, name));
  }
  for (const name of readdirSync(join(PORTCULLIS_ROOT, 'node_modules', '@modelcontextprotocol'))) {
    if (name === 'server-memory') continue;
    symlinkSync(join(PORTCULLIS_ROOT, 'node_modules', '@modelcontextprotocol', name), join(modules, '@modelcontextprotocol', name));
  }
  cpSync(join(PORTCULLIS_ROOT, 'node_modules', MEMORY), join(modules, MEMORY), { recursive: true });
  writeFileSync(join(modules, '.package-lock.json'), JSON.stringify({ name: 'project', lockfileVersion: 3, packages: { [`node_modules/${MEMORY}`]: lockEntry } }));
  return root;
}

function insertAfterShebang(file: string, line: string): void {
  const text = readFileSync(file, 'utf8');
  const cut = text.startsWith('#!') ? text.indexOf('\n') + 1 : 0;
  writeFileSync(file, text.slice(0, cut) + line + text.slice(cut));
}

function configYaml(file: string, dataDir: string, server: Record<string, unknown>): string {
  writeFileSync(file, `${JSON.stringify({ listen: { port: 0 }, dataDir, audit: { store: 'jsonl' }, servers: { mem: server }, policy: { rules: [{ name: 'all', effect: 'allow', servers: ['mem'] }] } })}\n`);
  return file;
}

/** Starts a gateway with `server` as "mem": it must end failed, and the code that writes `marker` must never have run. */
async function assertRefusedUnrun(dataDir: string, server: Record<string, unknown>, marker: string, what: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const gw = await launchGateway({ dataDir, servers: { mem: server }, policy: { rules: [{ name: 'all', effect: 'allow', servers: ['mem'] }] } }, processSecretSource(env));
  try {
    await waitFor(async () => ((await health(gw)) === 'failed' || existsSync(marker) ? true : undefined), 30_000, 'the server to fail');
    assert.equal(await health(gw), 'failed');
  } finally {
    await gw.close();
  }
  assert.equal(existsSync(marker), false, `${what} never ran`);
}

describe('supply chain: an npm pin binds the code that runs', () => {
  it('refuses to start a package whose installed code was edited after its first start, naming the file (F8)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npmpin-'));
    const root = project(dir);
    const script = join(root, 'node_modules', MEMORY, 'dist', 'index.js');
    const marker = join(dir, 'tampered.marker');
    const dataDir = join(dir, 'data');
    const server = { command: process.execPath, args: [script], cwd: root, env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }, pin: PIN };
    const document = { dataDir, servers: { mem: server }, policy: { rules: [{ name: 'all', effect: 'allow', servers: ['mem'] }] } };

    // First start: the files are recorded, the server runs.
    const first = await launchGateway(document);
    try {
      const client = await legacyClient(`${first.url}/mcp/mem`);
      assert.ok((await client.listTools()).tools.some((t) => t.name === 'read_graph'));
      await client.close();
    } finally {
      await first.close();
    }

    insertAfterShebang(script, markerLine(marker));
    const second = await launchGateway(document);
    try {
      const client = await legacyClient(`${second.url}/mcp/mem`).catch((error: unknown) => error);
      if (!(client instanceof Error)) assert.equal(await refusalCode((client as Awaited<ReturnType<typeof legacyClient>>).listTools()), 'PC_SUPPLY_PIN_FAILED');
      assert.equal(await health(second), 'failed');
    } finally {
      await second.close();
    }
    assert.equal(existsSync(marker), false, 'the edited code never ran');

    // config check reports the same refusal, naming the file.
    const check = await runCli(['config', 'check', '-c', configYaml(join(dir, 'c.yaml'), dataDir, server)]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /servers\.mem\.pin: .*dist\/index\.js was modified/);
    assert.equal(existsSync(marker), false);
  });

  it('does not let npx fetch the pinned name from a registry: the verified install runs, the registry is never asked (F19)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npmpin-npx-'));
    const marker = join(dir, 'registry.marker');
    // The registry's tarball: same name and version, other code, its own (consistent) integrity.
    const pkg = join(dir, 'tarball', 'package');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: MEMORY, version: entry.version, type: 'module', bin: { 'mcp-server-memory': 'index.js' } }));
    writeFileSync(join(pkg, 'index.js'), `#!/usr/bin/env node\n${markerLine(marker)}`);
    const tgz = join(dir, 't.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', join(dir, 'tarball'), 'package']);
    const tarball = readFileSync(tgz);
    const requests: string[] = [];
    const registry: Server = createServer((request, response) => {
      requests.push(request.url ?? '');
      if (requests.length > 50) return response.destroy();
      const port = (registry.address() as AddressInfo).port;
      if (request.url?.endsWith('/t.tgz')) return response.end(tarball);
      if (request.url?.includes('server-memory')) {
        const version = { name: MEMORY, version: entry.version, bin: { 'mcp-server-memory': 'index.js' }, dist: { tarball: `http://127.0.0.1:${port}/t.tgz`, integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}` } };
        response.setHeader('content-type', 'application/json');
        return response.end(JSON.stringify({ name: MEMORY, 'dist-tags': { latest: entry.version }, versions: { [entry.version]: version } }));
      }
      response.statusCode = 404;
      response.end();
    });
    await new Promise<void>((done) => registry.listen(0, '127.0.0.1', done));
    after(() => registry.close());
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.npmrc'), `registry=http://127.0.0.1:${(registry.address() as AddressInfo).port}/\nupdate-notifier=false\naudit=false\nfund=false\n`);
    const work = join(dir, 'work');
    mkdirSync(work);

    const gw = await launchGateway(
      { dataDir: join(dir, 'data'), servers: { mem: { command: 'npx', args: ['-y', SPEC], cwd: work, env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }, pin: PIN } }, policy: { rules: [{ name: 'all', effect: 'allow', servers: ['mem'] }] } },
      processSecretSource({ ...process.env, HOME: home }),
    );
    try {
      // Whatever runs must get the chance to: wait until the server is up, failed, or the marker exists.
      const state = await waitFor(async () => (existsSync(marker) ? 'marker' : ['ready', 'failed'].includes((await health(gw)) ?? '') ? await health(gw) : undefined), 60_000, 'the server to settle');
      assert.equal(existsSync(marker), false, 'the registry-served code never ran');
      assert.equal(state, 'ready');
      const client = await legacyClient(`${gw.url}/mcp/mem`);
      assert.ok((await client.listTools()).tools.some((t) => t.name === 'read_graph'), 'the verified server-memory runs');
      await client.close();
    } finally {
      await gw.close();
    }
    assert.deepEqual(requests, [], 'the registry was never asked');
    assert.equal(existsSync(marker), false);
  });

  it('checks the first start against the registry tarball npm cached with the pinned integrity: code edited before it never runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npmpin-first-'));
    // The package as published: a tarball, in npm's content-addressed cache under $HOME, and its integrity.
    const published = join(dir, 'published', 'package');
    cpSync(join(PORTCULLIS_ROOT, 'node_modules', MEMORY), published, { recursive: true });
    const tgz = join(dir, 'package.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', join(dir, 'published'), 'package']);
    const digest = createHash('sha512').update(readFileSync(tgz)).digest();
    const hex = digest.toString('hex');
    const home = join(dir, 'home');
    const cached = join(home, '.npm', '_cacache', 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4));
    mkdirSync(cached, { recursive: true });
    cpSync(tgz, join(cached, hex.slice(4)));
    const integrity = `sha512-${digest.toString('base64')}`;
    const root = project(dir, { version: entry.version, integrity });
    const script = join(root, 'node_modules', MEMORY, 'dist', 'index.js');
    const marker = join(dir, 'first.marker');
    insertAfterShebang(script, markerLine(marker));
    const server = { command: process.execPath, args: [script], cwd: root, env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }, pin: { npm: SPEC, integrity } };
    await assertRefusedUnrun(join(dir, 'data'), server, marker, 'the code edited before the first start', { ...process.env, HOME: home });
    const check = await runCli(['config', 'check', '-c', configYaml(join(dir, 'c.yaml'), join(dir, 'data'), server)], { HOME: home });
    assert.match(check.stderr, /differ from its registry tarball .*: dist\/index\.js was modified/);
  });

  it('refuses a look-alike copy in another node_modules/<name>/ than the verified install', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npmpin-alike-'));
    const root = project(dir);
    const script = join(root, 'node_modules', MEMORY, 'dist', 'index.js');
    const marker = join(dir, 'alike.marker');
    insertAfterShebang(script, markerLine(marker));
    // No cwd: the pin is judged against Portcullis' own (intact) install, while the copy would run.
    await assertRefusedUnrun(join(dir, 'data'), { command: process.execPath, args: [script], pin: PIN }, marker, 'the look-alike');
  });
});
