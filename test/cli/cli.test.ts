/**
 * The command line as a user runs it: a real `node src/main.ts` process.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FILESYSTEM, runCliProcess } from '../helpers/gateway.ts';
import { configJsonSchema } from '../../src/cli/config.ts';

// Real processes: this file is about the command line as a user starts it (elsewhere runCli runs it in-process).
const run = runCliProcess;

describe('portcullis CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-cli-'));

  it('init writes a commented config that config check accepts', async () => {
    const file = join(dir, 'portcullis.yaml');
    const init = await run(['init', '-o', file]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(readFileSync(file, 'utf8'), /^# Portcullis configuration/);
    const check = await run(['config', 'check', '-c', file]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /OK \(1 server: files\)/);
    // The starter draws no warning but the one about its stdio server sharing the gateway's user (no runAs).
    const warnings = check.stderr.split('\n').filter((l) => l.trim());
    assert.ok(warnings.length > 0 && warnings.every((l) => l.startsWith('  warning servers: ') && l.includes('"files"')), check.stderr);
    // The folder its filesystem server serves exists (the server refuses to start on a missing one), and
    // the server and the path guard name it absolutely, whatever folder the gateway starts in.
    const data = join(dir, 'data');
    assert.ok(statSync(data).isDirectory(), init.stdout);
    const starter = readFileSync(file, 'utf8');
    assert.ok(starter.includes(`"@modelcontextprotocol/server-filesystem", ${JSON.stringify(data)}]`), starter);
    assert.ok(starter.includes(`roots: [${JSON.stringify(data)}]`), starter);
    const allowed = await run(['policy', 'test', '-c', file, '--call', `files.read_text_file ${JSON.stringify({ path: join(data, 'notes.txt') })}`]);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    const again = await run(['init', '-o', file]);
    assert.equal(again.code, 2, 'refuses to overwrite');
  });

  it('config check lists every problem with its path and exits 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'servers:\n  github: { url: "http://api.github.com/mcp", headers: { Authorization: "Bearer literal-secret" } }\n  x: { command: ls, bogus: 1 }\n');
    const check = await run(['config', 'check', '-c', file]);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /servers\.github\.url: must be an https URL/);
    assert.match(check.stderr, /servers\.github\.headers\.Authorization: looks like a credential/);
    assert.match(check.stderr, /servers\.x: unknown key\(s\) "bogus"/);
    assert.doesNotMatch(check.stderr + check.stdout, /literal-secret/);
  });

  it('serve refuses an invalid config and starts nothing', async () => {
    const file = join(dir, 'bad2.yaml');
    writeFileSync(file, 'listen: { port: 99999 }\n');
    const serve = await run(['serve', '-c', file]);
    assert.equal(serve.code, 2);
    assert.match(serve.stderr, /listen\.port/);
    assert.doesNotMatch(serve.stdout, /listening/);
  });

  it('identity commands refuse a configuration without identity, say what to enable, and create nothing', async () => {
    const state = join(dir, 'no-identity-state');
    const file = join(dir, 'no-identity.yaml');
    writeFileSync(file, `dataDir: ${JSON.stringify(state)}\nservers: {}\n`);
    const expected: Array<[string[], RegExp]> = [
      [['key', 'create', '--agent', 'a', '--expires', '1d'], /API keys are not enabled; add `identity: \{ apiKeys: \{\} \}`/],
      [['agent', 'add', 'ci-bot'], /agent credentials are issued by the embedded authorization server; enable identity\.embedded/],
      [['client', 'add', 'app', '--redirect-uri', 'http://127.0.0.1:3/cb'], /clients are registered with the embedded authorization server; enable identity\.embedded/],
      [['user', 'signout', 'alice'], /users sign in to the embedded authorization server; enable identity\.embedded/],
    ];
    for (const [args, message] of expected) {
      const result = await run([...args, '-c', file]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '', 'nothing claims success');
    }
    assert.equal(existsSync(state), false, 'no identity store was created');
  });

  it('pin diff and approve refuse a server neither the configuration nor its pins have', async () => {
    const file = join(dir, 'pins.yaml');
    writeFileSync(file, `dataDir: ${JSON.stringify(join(dir, 'pins-state'))}\nservers:\n  files: { url: "http://127.0.0.1:9/mcp" }\n`);
    const known = await run(['pin', 'diff', '-c', file, 'files']);
    assert.equal(known.code, 0, known.stderr);
    assert.match(known.stdout, /files: nothing waiting for approval/);
    for (const args of [['pin', 'diff', '-c', file, 'fils'], ['pin', 'approve', '-c', file, 'fils', '--by', 'alice']]) {
      const typo = await run(args);
      assert.equal(typo.code, 2, args.join(' '));
      assert.match(typo.stderr, /no server named "fils" in .*pins\.yaml or its pins \(servers: files\)/);
      assert.equal(typo.stdout, '');
    }
  });

  it('config check warns when a pin does not hold here (the server would not start), and not when it does', async () => {
    const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
    const installed = lock.packages['node_modules/@modelcontextprotocol/server-filesystem']!;
    const pin = `{ npm: "@modelcontextprotocol/server-filesystem@${installed.version}", integrity: "${installed.integrity}" }`;
    const write = (name: string, args: string, command = 'node'): string => {
      const file = join(dir, name);
      writeFileSync(file, `dataDir: ${JSON.stringify(join(dir, 'pin-state'))}\nservers:\n  files: { command: ${command}, args: ${args}, pin: ${pin} }\npolicy: { rules: [{ name: all, effect: allow }] }\n`);
      return file;
    };
    const holds = await run(['config', 'check', '-c', write('pin-holds.yaml', `[${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(dir)}]`)]);
    assert.equal(holds.code, 0, holds.stderr);
    assert.doesNotMatch(holds.stderr, /servers\.files\.pin/);
    const other = await run(['config', 'check', '-c', write('pin-other.yaml', '[other-server.js]')]);
    assert.equal(other.code, 0, 'still valid: the pin is judged again at every start');
    assert.match(other.stderr, /warning servers\.files\.pin: server "files": the command runs other-server\.js, which is not a file of the pinned package in \S+\/node_modules\/@modelcontextprotocol\/server-filesystem .*; refusing to start it; the server will not start/);
    // npx naming the pinned spec is started as the verified install's bin; npx with its own registry is refused.
    const npx = await run(['config', 'check', '-c', write('pin-npx.yaml', `[-y, "@modelcontextprotocol/server-filesystem@${installed.version}", ${JSON.stringify(dir)}]`, 'npx')]);
    assert.doesNotMatch(npx.stderr, /servers\.files\.pin/);
    const registry = await run(['config', 'check', '-c', write('pin-registry.yaml', `[--registry, "http://127.0.0.1:9/", "@modelcontextprotocol/server-filesystem@${installed.version}"]`, 'npx')]);
    assert.match(registry.stderr, /warning servers\.files\.pin: .*the option --registry, which may change what it resolves/);
    const hook = await run(['config', 'check', '-c', write('pin-hook.yaml', `[--import, ./hook.mjs, ${JSON.stringify(FILESYSTEM)}]`)]);
    assert.equal(hook.code, 2, 'a loader flag in front of the pinned package is an error');
    assert.match(hook.stderr, /--import \.\/hook\.mjs loads code before the script/);
  });

  it('config schema prints the JSON Schema that schema/config.json holds', async () => {
    const printed = await run(['config', 'schema']);
    assert.equal(printed.code, 0);
    const committed = readFileSync(new URL('../../schema/config.json', import.meta.url), 'utf8');
    assert.equal(printed.stdout, committed, 'schema/config.json is stale: run npm run schema');
    assert.equal(configJsonSchema(), committed);
    const schema = JSON.parse(committed);
    assert.equal(schema.additionalProperties, false);
    assert.ok(schema.properties.servers);
  });
});
