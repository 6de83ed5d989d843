/**
 * A pin holds only for what it covers. A config whose pinned server would run code the pin does not
 * cover is refused at load (`config check` exit 2, `serve` does not start) and by the start-time
 * check: a `pin.file` that is not the script the interpreter runs, an interpreter pinned instead of its
 * script, files loaded by interpreter flags (`--import`, `-r`, `--loader`), inline code, and code
 * loaded through the environment (`NODE_OPTIONS`, `LD_PRELOAD`, `BASH_ENV`, a relative `PATH`). The
 * attacker's files log when they run: none of them ever does.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { PORTCULLIS_ROOT } from '../../src/config/defaults.ts';
import { checkServerPin } from '../../src/supply/server-pin.ts';
import { runCli, serveChild } from '../helpers/gateway.ts';
import { HOSTILE, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog } from '../fixtures/hostile-catalog.ts';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'pc-pin-covers-'));
  const ran = join(dir, 'ran.log');
  const state = join(dir, 'state.json');
  writeCatalog(state, cleanCatalog());
  // The attacker's server (the official SDK's, via the hostile fixture) and a hook: each notes that it ran.
  const evil = join(dir, 'evil.mjs');
  writeFileSync(evil, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(ran)}, 'evil server ran\\n');\nconst { runStdio } = await import(${JSON.stringify(pathToFileURL(HOSTILE).href)});\nawait runStdio(${JSON.stringify(state)});\n`);
  const benign = join(dir, 'benign.mjs');
  writeFileSync(benign, `const { runStdio } = await import(${JSON.stringify(pathToFileURL(HOSTILE).href)});\nawait runStdio(${JSON.stringify(state)});\n`);
  const hook = join(dir, 'hook.mjs');
  writeFileSync(hook, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(ran)}, 'hook ran\\n');\n`);
  const script = join(dir, 'evil.sh');
  writeFileSync(script, `echo "shell script ran" >> ${JSON.stringify(ran)}\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(evil)}\n`);
  return { dir, ran, evil, benign, hook, script };
}

const node = process.execPath;

describe('supply chain: a pin must cover what runs', () => {
  const s = setup();
  const cases: Record<string, Record<string, unknown>> = {
    'pin.file names another file than the script': { command: node, args: [s.evil], pin: { sha256: sha256(s.benign), file: s.benign } },
    'the pinned script is an argument of an unpinned one': { command: node, args: [s.evil, s.benign], pin: { sha256: sha256(s.benign), file: s.benign } },
    'an interpreter pinned instead of its script': { command: '/bin/bash', args: [s.script], pin: { sha256: sha256('/bin/bash'), file: '/bin/bash' } },
    'an interpreter pinned by default (no pin.file)': { command: '/bin/bash', args: [s.script], pin: { sha256: sha256('/bin/bash') } },
    'node --import loads a hook before the pinned script': { command: node, args: ['--import', s.hook, s.benign], pin: { sha256: sha256(s.benign), file: s.benign } },
    'node -r (glued) loads a hook': { command: node, args: [`--require=${s.hook}`, s.benign], pin: { sha256: sha256(s.benign), file: s.benign } },
    'node --loader loads a hook': { command: node, args: ['--loader', s.hook, s.benign], pin: { sha256: sha256(s.benign), file: s.benign } },
    'node -e runs inline code': { command: node, args: ['-e', `import(${JSON.stringify(s.evil)})`, s.benign], pin: { sha256: sha256(s.benign), file: s.benign } },
    'sh -c runs inline code': { command: '/bin/sh', args: ['-ec', `. ${s.script}`, s.benign], pin: { sha256: sha256(s.benign), file: s.benign } },
    'env NODE_OPTIONS=--import': { command: node, args: [s.benign], env: { NODE_OPTIONS: `--import ${s.hook}` }, pin: { sha256: sha256(s.benign), file: s.benign } },
    'env LD_PRELOAD': { command: node, args: [s.benign], env: { LD_PRELOAD: join(s.dir, 'evil.so') }, pin: { sha256: sha256(s.benign), file: s.benign } },
    'env BASH_ENV': { command: '/bin/bash', args: [s.script], env: { BASH_ENV: s.script }, pin: { sha256: sha256(s.script), file: s.script } },
    'a relative PATH': { command: node, args: [s.benign], env: { PATH: `./bin:/usr/bin` }, pin: { sha256: sha256(s.benign), file: s.benign } },
    'an env wrapper that sets NODE_OPTIONS': { command: '/usr/bin/env', args: [`NODE_OPTIONS=--import ${s.hook}`, node, s.benign], pin: { sha256: sha256(s.benign), file: s.benign } },
    'an npm pin with a hook in front of the package': {
      command: node,
      args: ['--import', s.hook, join(PORTCULLIS_ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')],
      pin: { npm: `@modelcontextprotocol/server-memory@${(JSON.parse(readFileSync(join(PORTCULLIS_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> }).packages['node_modules/@modelcontextprotocol/server-memory']!.version}` },
    },
  };

  for (const [what, server] of Object.entries(cases)) {
    it(`refuses ${what}: config check, serve and the start-time check`, async () => {
      const config = join(s.dir, 'portcullis.yaml');
      writeFileSync(config, `listen: { port: 0 }\ndataDir: ${JSON.stringify(join(s.dir, 'data'))}\npolicy: { rules: [{ name: all, effect: allow }] }\nservers:\n  evil: ${JSON.stringify(server)}\n`);
      const check = await runCli(['config', 'check', '-c', config]);
      assert.equal(check.code, 2, `${check.stdout}${check.stderr}`);
      assert.match(check.stderr, /servers\.evil\.pin/);
      await assert.rejects(serveChild(config), /exited/);
      const context = { cwd: s.dir, pathEnv: process.env.PATH, packageRoots: [PORTCULLIS_ROOT], allowUnpinned: false };
      const start = checkServerPin('evil', { args: [], env: {}, restart: { initialDelayMs: 1, maxDelayMs: 1, maxRestarts: 0 }, namespace: true, disabled: false, auditArguments: 'redacted', pinning: 'quarantine', ...server } as never, context);
      assert.equal(start.ok, false, 'the start-time check refuses too');
      assert.equal(existsSync(s.ran), false, `nothing of the attacker's ran: ${existsSync(s.ran) ? readFileSync(s.ran, 'utf8') : ''}`);
    });
  }

  it('judges the command the child finds on its own PATH (env.PATH): a pin on the copy the gateway would find is refused, the other never runs', async () => {
    const pinnedDir = join(s.dir, 'bin-pinned');
    const childDir = join(s.dir, 'bin-child');
    mkdirSync(pinnedDir);
    mkdirSync(childDir);
    writeFileSync(join(pinnedDir, 'mcp-tool'), `#!/bin/sh\nexec ${JSON.stringify(node)} ${JSON.stringify(s.benign)}\n`, { mode: 0o755 });
    writeFileSync(join(childDir, 'mcp-tool'), `#!/bin/sh\necho "PATH copy ran" >> ${JSON.stringify(s.ran)}\nexec ${JSON.stringify(node)} ${JSON.stringify(s.evil)}\n`, { mode: 0o755 });
    const pinnedTool = join(pinnedDir, 'mcp-tool');
    const server = { command: 'mcp-tool', args: [], env: { PATH: `${childDir}:/usr/bin:/bin` }, pin: { sha256: sha256(pinnedTool), file: pinnedTool } };
    const config = join(s.dir, 'path.yaml');
    writeFileSync(config, `listen: { port: 0 }\ndataDir: ${JSON.stringify(join(s.dir, 'data-path'))}\npolicy: { rules: [{ name: all, effect: allow }] }\nservers:\n  tool: ${JSON.stringify(server)}\n`);
    const served = await serveChild(config);
    try {
      const health = (await (await fetch(`${served.base}/healthz`)).json()) as { servers: Record<string, string> };
      assert.equal(health.servers.tool, 'failed');
      assert.match(served.stderr(), /is not the command that runs/);
    } finally {
      await served.stop();
    }
    assert.equal(existsSync(s.ran), false, `the copy on the child's PATH never ran: ${existsSync(s.ran) ? readFileSync(s.ran, 'utf8') : ''}`);
  });

  it('accepts a pin on the script the interpreter runs, with harmless flags and variables', async () => {
    const config = join(s.dir, 'good.yaml');
    const server = { command: node, args: ['--no-warnings', '--max-old-space-size=256', s.benign], env: { NODE_OPTIONS: '--enable-source-maps', PATH: '/usr/bin:/bin' }, pin: { sha256: sha256(s.benign), file: s.benign } };
    writeFileSync(config, `listen: { port: 0 }\ndataDir: ${JSON.stringify(join(s.dir, 'data-good'))}\npolicy: { rules: [{ name: all, effect: allow }] }\nservers:\n  good: ${JSON.stringify(server)}\n`);
    const check = await runCli(['config', 'check', '-c', config]);
    assert.equal(check.code, 0, `${check.stdout}${check.stderr}`);
  });
});
