/**
 * `file:` references read regular files only, of bounded size, never from /proc, /sys or /dev: a FIFO
 * would hang `config check` and every start, `/dev/zero` would read until memory runs out, and
 * `/proc/self/environ` would hand a server the gateway's whole environment. Each is a clear error
 * (exit 2, naming the reference), promptly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/gateway.ts';

describe('config: what a file: reference may read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-secret-file-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const big = join(dir, 'big');
  writeFileSync(big, 'x'.repeat(70 * 1024));
  const ok = join(dir, 'token');
  writeFileSync(ok, 'a-short-secret\n', { mode: 0o600 });

  for (const [what, path] of [['a FIFO', fifo], ['a device', '/dev/zero'], ['the process environment', '/proc/self/environ'], ['a file over 64 KiB', big]] as const) {
    it(`refuses ${what}`, async () => {
      const config = join(dir, 'c.yaml');
      writeFileSync(config, `dataDir: ${JSON.stringify(join(dir, 'data'))}\nsupply: { allowUnpinned: true }\nservers:\n  s: { command: /bin/true, env: { A: "file:${path}" } }\npolicy: { rules: [{ name: all, effect: allow }] }\n`);
      const check = await runCli(['config', 'check', '-c', config]);
      assert.equal(check.code, 2, `${check.stdout}${check.stderr}`);
      assert.match(check.stderr, /servers\.s\.env\.A: cannot read secret file/);
    });
  }

  it('reads a small regular file', async () => {
    const config = join(dir, 'ok.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(join(dir, 'data'))}\nsupply: { allowUnpinned: true }\nservers:\n  s: { command: /bin/true, env: { A: "file:${ok}" } }\npolicy: { rules: [{ name: all, effect: allow }] }\n`);
    const check = await runCli(['config', 'check', '-c', config]);
    assert.equal(check.code, 0, check.stderr);
  });
});
