/**
 * The published package works without a checkout: `npm pack` the project, install the tarball in an
 * empty folder (dependencies from the registry, as a user would get them), and run the installed
 * `portcullis` — `--version`, `init`, `config check`, and `serve` on its embedded default until
 * /healthz answers with the bundled filesystem server ready.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../helpers/gateway.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the npm package, installed from its tarball', { timeout: 300_000 }, () => {
  let work: string;
  let bin: string;
  // The whole environment: npm needs the machine's proxy and CA settings to reach the registry.
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PORTCULLIS_DATA_DIR: join(work, 'data'), npm_config_update_notifier: 'false' });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pc-pack-'));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    const tarball = join(work, stdout.trim().split('\n').pop()!);
    assert.ok(existsSync(tarball), `npm pack wrote ${tarball}`);
    await run('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], { cwd: work, env: env(), maxBuffer: 16 * 1024 * 1024, timeout: 200_000 });
    bin = join(work, 'node_modules', '.bin', 'portcullis');
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('prints its version', async () => {
    const { stdout } = await run(bin, ['--version'], { cwd: work, env: env() });
    assert.equal(stdout.trim(), VERSION);
  });

  it('writes a starter config that its own check accepts', async () => {
    await run(bin, ['init', '-o', 'portcullis.yaml'], { cwd: work, env: env() });
    assert.ok(existsSync(join(work, 'portcullis.yaml')));
    const { stdout, stderr } = await run(bin, ['config', 'check', '-c', 'portcullis.yaml'], { cwd: work, env: env() });
    assert.doesNotMatch(`${stdout}${stderr}`, /\berror\b/);
  });

  it('serves the embedded default with the bundled filesystem server', async () => {
    const child = spawn(bin, ['serve', '--port', '0'], { cwd: work, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const base = await waitFor(() => /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/.exec(out)?.[1], 60_000, `serve to listen (output: ${out})`);
      const health = await waitFor(async () => {
        const body = (await (await fetch(`${base}/healthz`)).json()) as { servers: Record<string, string> };
        return body.servers.files === 'ready' ? body : undefined;
      }, 30_000, 'the files server to be ready');
      assert.equal(health.servers.files, 'ready');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
