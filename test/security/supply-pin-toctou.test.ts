/**
 * Red team F18: the start-time pin check hashes the files a pin covers, then the server is spawned and
 * its interpreter opens them again by name. A local user other than the gateway's (uid 65534 here when
 * the tests run as root; otherwise the same uid through group/other-writable modes) who can write a
 * covered file, or a folder on its way, swaps it in that window: an attacker process watches the file's
 * access time and, the moment the gateway has read it, writes or renames its own code over it — in
 * place, in the file's folder, through the folder above, and inside an npm package's tree. The gateway
 * must refuse such a start, and the attacker's code (which would write a marker file) must never run.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { PORTCULLIS_ROOT } from '../../src/config/defaults.ts';
import { launchGateway, post, waitFor } from '../helpers/gateway.ts';
import { HOSTILE, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog } from '../fixtures/hostile-catalog.ts';

const AS_ROOT = process.getuid?.() === 0;
/** The other local user the attacker runs as (when the tests can switch users). */
const OTHER = 65534;
const MEMORY = '@modelcontextprotocol/server-memory';
const lock = JSON.parse(readFileSync(join(PORTCULLIS_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
const entry = lock.packages[`node_modules/${MEMORY}`]!;
const NPM_PIN = { npm: `${MEMORY}@${entry.version}`, integrity: entry.integrity };

/**
 * The attacker: waits (bounded) until `watched` is read (its access time moves), then puts `evil` in
 * place of `target` — `write` rewrites the file, `rename` renames a copy over it, `folder` renames the
 * target folder away and a copy holding `evil` at `file` into its place — and writes `swapped`. It
 * writes `ready` once it watches.
 */
const ATTACKER = `
import { cpSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [how, watched, target, evil, file, swapped, ready] = process.argv.slice(2);
const first = statSync(watched).atimeMs;
writeFileSync(ready, 'watching\\n');
const deadline = Date.now() + 20_000;
while (Date.now() < deadline && statSync(watched).atimeMs === first) {}
if (Date.now() < deadline) {
  const code = readFileSync(evil);
  if (how === 'write') writeFileSync(target, code);
  if (how === 'rename') { writeFileSync(target + '.new', code); renameSync(target + '.new', target); }
  if (how === 'folder') { cpSync(target, target + '.new', { recursive: true }); writeFileSync(join(target + '.new', file), code); renameSync(target, target + '.old'); renameSync(target + '.new', target); }
  writeFileSync(swapped, 'swapped\\n');
}
`;

// One describe for the file: its hooks run before and after its own tests, also when files share a process.
describe('supply chain: pin TOCTOU', () => {
  const attackers: ChildProcess[] = [];
  after(() => {
    for (const child of attackers) child.kill();
  });

  /** Gives `path` to the other user (as root), or opens it to group and others (otherwise). */
  function handOver(path: string, fileMode: number): void {
    if (AS_ROOT) chownSync(path, OTHER, OTHER);
    else chmodSync(path, fileMode);
  }

  /** Starts the attacker and waits until it watches `watched` (the gateway must not read it before). */
  async function startAttacker(dir: string, how: 'write' | 'rename' | 'folder', watched: string, target: string, evil: string, file = ''): Promise<ChildProcess> {
    const script = join(dir, 'attacker.mjs');
    writeFileSync(script, ATTACKER);
    const ready = join(dir, 'evil', 'ready');
    const child = spawn(process.execPath, [script, how, watched, target, evil, file, join(dir, 'evil', 'swapped'), ready], { stdio: 'ignore', ...(AS_ROOT ? { uid: OTHER, gid: OTHER } : {}) });
    attackers.push(child);
    await waitFor(() => existsSync(ready) || undefined, 20_000, 'the attacker to watch the file');
    return child;
  }

  /** A test folder the other user can pass through, with a folder `evil/` it owns holding the attacker's code. */
  function arena(prefix: string): { dir: string; evilCode: string; marker: string } {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const marker = join(dir, 'swapped-code-ran.marker');
    chmodSync(dir, 0o755);
    const evilDir = join(dir, 'evil');
    mkdirSync(evilDir, { mode: 0o777 });
    chmodSync(evilDir, 0o777);
    const evilCode = join(evilDir, 'code.mjs');
    writeFileSync(evilCode, `#!/usr/bin/env node\nimport { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'the swapped code ran\\n');\n`);
    chmodSync(evilCode, 0o644);
    return { dir, evilCode, marker };
  }

  async function assertRefusedUnrun(server: Record<string, unknown>, marker: string, attacker: ChildProcess): Promise<void> {
    const gw = await launchGateway({ servers: { s: server }, policy: { rules: [{ name: 'all', effect: 'allow', servers: ['s'] }] } });
    try {
      const health = async (): Promise<string | undefined> => ((await (await fetch(`${gw.url}/healthz`)).json()) as { servers: Record<string, string> }).servers.s;
      await waitFor(async () => ((await health()) === 'failed' || existsSync(marker) ? true : undefined), 30_000, 'the server to fail');
      assert.equal(existsSync(marker), false, 'the swapped code never ran');
      assert.equal(await health(), 'failed');
      const initialize = await post(`${gw.url}/mcp/s`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
      assert.equal(initialize.json.error.data.code, 'PC_SUPPLY_PIN_FAILED');
      assert.match(initialize.json.error.message, AS_ROOT ? /belongs to uid 65534/ : /group or others may write/);
    } finally {
      await gw.close();
    }
    attacker.kill();
    assert.equal(existsSync(marker), false, 'the swapped code never ran');
  }

  describe(`supply chain: a covered file another user could swap between the check and the start (F18${AS_ROOT ? ', attacker uid 65534' : ', attacker through group/other write'})`, () => {
    for (const how of ['write', 'rename', 'folder'] as const) {
      const shape = { write: 'the pinned file, written in place by its owner', rename: 'the pinned file, renamed over in its folder', folder: 'the folder holding the pinned file, renamed over through the folder above it' }[how];
      it(`refuses a sha256 pin when another user can change ${shape}: the swapped code never runs`, async () => {
        const { dir, evilCode, marker } = arena(`pc-toctou-${how}-`);
        const state = join(dir, 'state.json');
        writeCatalog(state, cleanCatalog());
        // outer/ (handed over for `folder`) → inner/ (handed over for `rename`) → run.mjs (handed over for `write`).
        const outer = join(dir, 'outer');
        const inner = join(outer, 'inner');
        mkdirSync(inner, { recursive: true });
        const run = join(inner, 'run.mjs');
        const code = `const { runStdio } = await import(${JSON.stringify(pathToFileURL(HOSTILE).href)});\nawait runStdio(${JSON.stringify(state)});\n`;
        writeFileSync(run, code);
        if (how === 'write') handOver(run, 0o666);
        if (how === 'rename') handOver(inner, 0o777);
        if (how === 'folder') handOver(outer, 0o777);
        // Hashed from the text, not the file: under relatime only the first read moves the access time the attacker watches.
        const sha256 = createHash('sha256').update(code).digest('hex');
        const attacker = await startAttacker(dir, how, run, how === 'folder' ? inner : run, evilCode, 'run.mjs');
        await assertRefusedUnrun({ command: process.execPath, args: [run], pin: { sha256, file: run } }, marker, attacker);
      });
    }

    for (const how of ['rename', 'folder'] as const) {
      const shape = how === 'rename' ? 'a code file of the package, renamed over in its dist/ folder' : 'the package folder, renamed over through its scope folder';
      it(`refuses an npm pin when another user can change ${shape}: the swapped code never runs`, async () => {
        const { dir, evilCode, marker } = arena(`pc-toctou-npm-${how}-`);
        // A project with its own copy of server-memory (the other dependencies linked to Portcullis' own).
        const root = join(dir, 'project');
        const modules = join(root, 'node_modules');
        const scope = join(modules, '@modelcontextprotocol');
        mkdirSync(scope, { recursive: true });
        for (const name of readdirSync(join(PORTCULLIS_ROOT, 'node_modules'))) if (name !== '@modelcontextprotocol' && !name.startsWith('.')) symlinkSync(join(PORTCULLIS_ROOT, 'node_modules', name), join(modules, name));
        const pkg = join(modules, MEMORY);
        cpSync(join(PORTCULLIS_ROOT, 'node_modules', MEMORY), pkg, { recursive: true });
        writeFileSync(join(modules, '.package-lock.json'), JSON.stringify({ name: 'project', lockfileVersion: 3, packages: { [`node_modules/${MEMORY}`]: entry } }));
        const script = join(pkg, 'dist', 'index.js');
        if (how === 'rename') handOver(dirname(script), 0o777);
        else handOver(scope, 0o777);
        const attacker = await startAttacker(dir, how, script, how === 'rename' ? script : pkg, evilCode, join('dist', 'index.js'));
        await assertRefusedUnrun({ command: process.execPath, args: [script], cwd: root, env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }, pin: NPM_PIN }, marker, attacker);
      });
    }
  });
});
