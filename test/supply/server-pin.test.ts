/**
 * Server pinning: a server whose file, package or image is not what the admin pinned does not start;
 * the other servers do.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PORTCULLIS_ROOT } from '../../src/config/defaults.ts';
import type { PackageRecords } from '../../src/supply/npm-pin.ts';
import { checkServerPin } from '../../src/supply/server-pin.ts';
import { EVERYTHING, FILESYSTEM, legacyClient, startGateway } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorder.ts';

/** npm packages' file records kept in memory (the gateway keeps them in the sealed pins file). */
function memoryRecords(): PackageRecords {
  const kept = new Map<string, { integrity?: string; files: Record<string, string> }>();
  return { untrusted: () => undefined, recorded: (spec) => kept.get(spec), record: (spec, integrity, files) => void kept.set(spec, { ...(integrity ? { integrity } : {}), files }) };
}
const context = { cwd: process.cwd(), pathEnv: process.env.PATH, packageRoots: [PORTCULLIS_ROOT], allowUnpinned: false, packages: memoryRecords() };
const lock = JSON.parse(readFileSync(join(PORTCULLIS_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
const fsEntry = lock.packages['node_modules/@modelcontextprotocol/server-filesystem']!;
const stdio = (extra: Record<string, unknown>) => ({ command: process.execPath, args: [FILESYSTEM, '/tmp'], env: {}, restart: { initialDelayMs: 500, maxDelayMs: 30_000, maxRestarts: 100 }, namespace: true, disabled: false, auditArguments: 'redacted' as const, pinning: 'quarantine' as const, ...extra });

describe('server pinning', () => {
  it('accepts a file hash, an installed npm package with its integrity, and an image digest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-pin-'));
    const script = join(dir, 'server.js');
    writeFileSync(script, 'console.log(1)');
    const sha256 = createHash('sha256').update(readFileSync(script)).digest('hex');
    assert.equal(checkServerPin('a', stdio({ args: [script], pin: { sha256, file: script } }), context).ok, true);
    assert.equal(checkServerPin('b', stdio({ pin: { npm: `@modelcontextprotocol/server-filesystem@${fsEntry.version}`, integrity: fsEntry.integrity } }), context).ok, true);
    const image = `ghcr.io/acme/mcp@sha256:${'a'.repeat(64)}`;
    assert.equal(checkServerPin('c', stdio({ command: 'docker', args: ['run', '-i', image], pin: { image } }), context).ok, true);
    assert.deepEqual(checkServerPin('d', { url: 'https://mcp.example.com/mcp', transport: 'auto', era: 'auto', headers: {}, namespace: true, disabled: false, auditArguments: 'redacted', pinning: 'quarantine' }, context), { ok: true, pinned: true, what: 'URL https://mcp.example.com/mcp' });
  });

  it('refuses a changed file, another version or integrity, a command that runs something else, and an unpinned server', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-pin-'));
    const script = join(dir, 'server.js');
    writeFileSync(script, 'console.log(1)');
    const sha256 = createHash('sha256').update('something else').digest('hex');
    const refused = (server: ReturnType<typeof stdio>) => {
      const result = checkServerPin('s', server, context);
      assert.equal(result.ok, false);
      return (result as { problem: string }).problem;
    };
    assert.match(refused(stdio({ args: [script], pin: { sha256, file: script } })), /refusing to start/);
    assert.match(refused(stdio({ pin: { npm: '@modelcontextprotocol/server-filesystem@1.0.0' } })), /the pin says 1\.0\.0/);
    assert.match(refused(stdio({ pin: { npm: `@modelcontextprotocol/server-filesystem@${fsEntry.version}`, integrity: 'sha512-AAAA' } })), /integrity differs/);
    assert.match(refused(stdio({ args: [EVERYTHING], pin: { npm: `@modelcontextprotocol/server-filesystem@${fsEntry.version}` } })), /not a file of the pinned package/);
    assert.match(refused(stdio({})), /not pinned/);
    assert.equal(checkServerPin('s', stdio({}), { ...context, allowUnpinned: true }).ok, true);
  });

  it('verifies a Python package installed in a virtualenv against its RECORD', async () => {
    const venv = mkdtempSync(join(tmpdir(), 'pc-venv-'));
    const site = join(venv, 'lib', 'python3.12', 'site-packages');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(site, 'weather_mcp'), { recursive: true });
    mkdirSync(join(site, 'weather_mcp-1.4.2.dist-info'));
    mkdirSync(join(venv, 'bin'));
    writeFileSync(join(venv, 'bin', 'weather-mcp'), '#!/usr/bin/env python\n');
    const files = { 'weather_mcp/__init__.py': 'print("weather")\n', 'weather_mcp/server.py': 'def main(): pass\n' };
    const b64 = (text: string) => createHash('sha256').update(text).digest('base64url');
    for (const [file, text] of Object.entries(files)) writeFileSync(join(site, file), text);
    const record = `${Object.entries(files).map(([f, t]) => `${f},sha256=${b64(t)},${t.length}`).join('\n')}\nweather_mcp-1.4.2.dist-info/RECORD,,\n`;
    writeFileSync(join(site, 'weather_mcp-1.4.2.dist-info', 'RECORD'), record);
    const recordHash = createHash('sha256').update(record).digest('hex');
    const server = stdio({ command: join(venv, 'bin', 'weather-mcp'), args: [], pin: { pypi: 'weather-mcp==1.4.2', record: recordHash } });
    assert.deepEqual(checkServerPin('w', server, context), { ok: true, pinned: true, what: 'pypi weather-mcp==1.4.2 (2 files verified)' });
    assert.match((checkServerPin('w', stdio({ ...server, pin: { pypi: 'weather-mcp==1.5.0' } }), context) as { problem: string }).problem, /1\.4\.2 is installed/);
    writeFileSync(join(site, 'weather_mcp/server.py'), 'def main(): steal()\n');
    assert.match((checkServerPin('w', server, context) as { problem: string }).problem, /does not match its RECORD/);
  });

  it('starts the pinned servers and reports the refused one, which answers every call with the reason', async () => {
    // An npm pin covers the package's own file run by Node, not a wrapper in front of it: those two run
    // bare (a server that starts lists its tools); the unpinned one behind the recorder never runs.
    const good = { command: process.execPath, args: [FILESYSTEM, '/tmp'], pin: { npm: `@modelcontextprotocol/server-filesystem@${fsEntry.version}`, integrity: fsEntry.integrity } };
    const tampered = { command: process.execPath, args: [FILESYSTEM, '/tmp'], pin: { npm: '@modelcontextprotocol/server-filesystem@0.0.1' } };
    const unpinned = recordedServer(EVERYTHING, ['stdio']);
    const gw = await startGateway({
      supply: { allowUnpinned: false },
      servers: { good, tampered, unpinned: { ...unpinned.server, pin: undefined } },
    });
    try {
      const health = (await (await fetch(`${gw.url}/healthz`)).json()) as { servers: Record<string, string> };
      assert.deepEqual(health.servers, { good: 'ready', tampered: 'failed', unpinned: 'failed' });
      const client = await legacyClient(`${gw.url}/mcp`);
      const tools = (await client.listTools()).tools;
      assert.ok(tools.length > 0 && tools.every((t) => t.name.startsWith('good__')), 'the pinned server was started, only it');
      await client.close();
      const refused = await fetch(`${gw.url}/mcp/tampered`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      });
      const body = (await refused.json()) as { error: { message: string; data: { code: string } } };
      assert.equal(body.error.data.code, 'PC_SUPPLY_PIN_FAILED');
      assert.match(body.error.message, /was not started: .*the pin says 0\.0\.1/);
      assert.deepEqual(received(unpinned.log), [], 'nor the unpinned one');
    } finally {
      await gw.close();
    }
  });
});
