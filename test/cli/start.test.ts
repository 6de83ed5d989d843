/**
 * `npm start` as a new user runs it: the embedded default, no config file, fronting the bundled
 * filesystem server on a sandbox under the data dir.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAIN, firstMatch, legacyClient, post, runCli, waitFor } from '../helpers/gateway.ts';

describe('portcullis serve with the embedded default', () => {
  it('starts, fronts the filesystem server on its sandbox, prints how to connect, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-data-'));
    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', HOME: dataDir, PORTCULLIS_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stderr.resume();
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // The child is stopped in `finally` whatever happens, so a slow start cannot leave it running.
    try {
      const url = await waitFor(() => (/VS Code/.test(stdout) ? /All servers, namespaced:\s+(http:\/\/\S+)\n/.exec(stdout)?.[1] : undefined), 60_000, `the URL to be printed (output so far: ${stdout})`);
      assert.match(stdout, /claude mcp add --transport http portcullis http:\/\/127\.0\.0\.1:\d+\/mcp/);
      assert.match(stdout, /"mcpServers"/);
      const sandbox = join(dataDir, 'sandbox');
      assert.ok(existsSync(sandbox), 'sandbox created under the data dir');
      writeFileSync(join(sandbox, 'welcome.txt'), 'hi');
      // Authentication is on in the embedded default: the sign-in is explained, never the password.
      const password = readFileSync(join(dataDir, 'login-password'), 'utf8').trim();
      assert.match(stdout, /password in the file .*login-password/);
      assert.ok(!stdout.includes(password), 'the password is never printed');
      const anonymous = await post(`${url}`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
      const metadata = await (await fetch(new URL('/.well-known/oauth-authorization-server', url))).json();
      assert.equal(metadata.issuer, new URL(url).origin);
      assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
      const key = await runCli(['key', 'create', '--agent', 'start-test', '--expires', '1h', '--json', '--data-dir', dataDir], { HOME: dataDir });
      assert.equal(key.code, 0, key.stderr);
      const client = await legacyClient(url, { headers: { authorization: `Bearer ${JSON.parse(key.stdout).key}` } });
      const listed = await client.callTool({ name: 'files__list_directory', arguments: { path: sandbox } });
      assert.match(JSON.stringify(listed.content), /welcome\.txt/);
      // The starter policy confines every path to the sandbox before the server sees the call.
      await assert.rejects(client.callTool({ name: 'files__read_text_file', arguments: { path: '/etc/passwd' } }), (error: { data?: { code?: string; rule?: string } }) => {
        assert.equal(error.data?.code, 'PC_POLICY_GUARD');
        assert.equal(error.data?.rule, 'files-in-sandbox');
        return true;
      });
      await client.close();
    } finally {
      const exited = child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });

  it('loads only what the embedded default uses: no config schema library, no JSON Schema validator, no JWT library, no authorization server, no YAML, no database client, no CEL, no RE2', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-data-'));
    const record = join(dataDir, 'loaded.txt');
    const child = spawn(process.execPath, ['--import', fileURLToPath(new URL('../fixtures/record-loads.mjs', import.meta.url)), MAIN, 'serve', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', HOME: dataDir, PORTCULLIS_DATA_DIR: dataDir, RECORD_LOADS: record },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.resume();
    try {
      await firstMatch(child, /All servers, namespaced:\s+(http:\/\/\S+)\n/);
      const loaded = readFileSync(record, 'utf8');
      assert.match(loaded, /\/cli\/serve\.ts/, 'the record holds what serve loads');
      for (const library of ['zod', 'ajv', 'ajv-formats', 'jose', 'oidc-provider', 'koa', 'yaml', 'pg', 'undici', '@marcbachmann/cel-js', 're2js']) {
        assert.ok(!loaded.includes(`/node_modules/${library}/`), `${library} is not loaded at start`);
      }
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
