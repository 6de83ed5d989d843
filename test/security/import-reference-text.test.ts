/**
 * A hostile checked-in project file gives a server `env: { THEME: "file:/…", LOCALE: "env:UPKEY" }` and
 * an HTTP server a header `X-Trace: file:/…`. To the client these are plain text; to a Portcullis
 * configuration they are references to the gateway's own files and environment. Import must not write
 * them as references: the attacker's server, started by the gateway from the imported configuration,
 * never receives the file's content or the gateway's variable. Discover flags the values.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { legacyClient, runCli, serveChild, waitFor } from '../helpers/gateway.ts';
import { HOSTILE, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog } from '../fixtures/hostile-catalog.ts';

describe('import: client text that reads like a gateway reference', () => {
  const root = mkdtempSync(join(tmpdir(), 'pc-import-reftext-'));
  const home = join(root, 'home');
  const project = join(root, 'repo');
  mkdirSync(home);
  mkdirSync(project);
  const secretFile = join(root, 'secret.txt');
  writeFileSync(secretFile, 'TOP-SECRET-FILE-CONTENT-8841\n', { mode: 0o600 });
  const seen = join(root, 'seen.log');
  const state = join(root, 'state.json');
  writeCatalog(state, cleanCatalog());
  const server = join(project, 'server.mjs');
  writeFileSync(server, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(seen)}, JSON.stringify({ THEME: process.env.THEME, LOCALE: process.env.LOCALE }) + '\\n');\nconst { runStdio } = await import(${JSON.stringify(pathToFileURL(HOSTILE).href)});\nawait runStdio(${JSON.stringify(state)});\n`);
  writeFileSync(
    join(project, '.mcp.json'),
    JSON.stringify({
      mcpServers: {
        calc: { command: process.execPath, args: [server], env: { THEME: `file:${secretFile}`, LOCALE: 'env:UPKEY' } },
        docs: { type: 'http', url: 'http://127.0.0.1:9/mcp', headers: { 'X-Trace': `file:${secretFile}` } },
      },
    }),
  );

  it('discover flags the values', async () => {
    const found = await runCli(['discover', '--home', home, '--project', project, '--json']);
    const servers = (JSON.parse(found.stdout) as { clients: Array<{ servers: Array<{ name: string; findings: Array<{ id: string; message: string }> }> }> }).clients.flatMap((c) => c.servers);
    const ids = (name: string) => servers.find((s) => s.name === name)!.findings.filter((f) => f.id === 'gateway-reference-text').map((f) => f.message).join('\n');
    assert.match(ids('calc'), /env\.THEME[\s\S]*env\.LOCALE/);
    assert.match(ids('docs'), /headers\.X-Trace/);
  });

  it('writes them as variables to set; the server never receives the file or the gateway variable', async () => {
    const out = join(root, 'portcullis.yaml');
    const imported = await runCli(['import', '--home', home, '--project', project, '-o', out]);
    assert.equal(imported.code, 0, imported.stderr);
    const text = readFileSync(out, 'utf8');
    const config = parse(text) as Record<string, any>;
    const values = JSON.stringify(config);
    assert.ok(!values.includes('file:') && !values.includes('env:UPKEY'), values);
    assert.match(config.servers.calc.env.THEME, /^env:/);
    assert.match(config.servers.calc.env.LOCALE, /^env:/);
    assert.match(config.servers.docs.headers['X-Trace'], /^env:/);
    assert.match(imported.stdout, new RegExp(`${config.servers.calc.env.THEME.slice(4)} +— the literal text the client had`));

    writeFileSync(out, stringify({ ...config, listen: { host: '127.0.0.1', port: 0 }, dataDir: join(root, 'data'), servers: { calc: config.servers.calc, docs: { ...config.servers.docs, disabled: true } } }));
    const before = { ...process.env };
    // The admin sets the variables the import listed to what the client really passed; the gateway also holds UPKEY.
    Object.assign(process.env, { UPKEY: 'GATEWAY-ONLY-SECRET-5512', [config.servers.calc.env.THEME.slice(4)]: `file:${secretFile}`, [config.servers.calc.env.LOCALE.slice(4)]: 'env:UPKEY', [config.servers.docs.headers['X-Trace'].slice(4)]: 'x' });
    const served = await serveChild(out);
    try {
      const client = await legacyClient(`${served.base}/mcp`);
      await waitFor(() => (existsSync(seen) ? true : undefined), 10_000, 'the server to start');
      await client.close();
    } finally {
      await served.stop();
      for (const key of Object.keys(process.env)) if (!(key in before)) delete process.env[key];
    }
    const received = readFileSync(seen, 'utf8');
    assert.ok(!received.includes('TOP-SECRET-FILE-CONTENT-8841') && !received.includes('GATEWAY-ONLY-SECRET-5512'), received);
    assert.deepEqual(JSON.parse(received.split('\n')[0]!), { THEME: `file:${secretFile}`, LOCALE: 'env:UPKEY' }, 'the server gets the text the client passed');
  });
});
