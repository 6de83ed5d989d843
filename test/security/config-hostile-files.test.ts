/**
 * Attacks on the configuration file and what it references: a YAML document whose aliases multiply
 * (a "billion laughs"), tags the schema does not know, and `file:` secrets that are not files of secrets
 * (a FIFO that would hang start-up, a device that never ends, the process's own environment). Each is a
 * clear error with a path and exit code 2 — and a running gateway keeps its policy when the file it
 * watches turns into one (the server behind it still answers, and a call the old policy denies stays denied).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { legacyClient, runCli, serveChild, waitFor } from '../helpers/gateway.ts';
import { COMPILE_CACHE, RECORDER, received } from '../helpers/recorded.ts';

const fresh = (prefix: string): string => realpathSync(mkdtempSync(join(tmpdir(), prefix)));

/** Seven levels of eight aliases each: 8^7 strings when expanded. */
const ALIAS_BOMB = ['x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol]', ...Array.from({ length: 6 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(8).fill(`*a${i}`).join(', ')}]`)].join('\n');

describe('hostile configuration files', () => {
  it('an alias bomb and an unknown tag are errors with a path, not a crash', async () => {
    const bomb = parseConfigText(`servers: {}\n${ALIAS_BOMB}\n`);
    assert.equal(bomb.ok, false);
    assert.match(JSON.stringify(!bomb.ok && bomb.problems), /cannot be expanded/);
    const tagged = parseConfigText('servers: {}\npolicy: { mode: !custom enforce }\n');
    assert.equal(tagged.ok, false);
    assert.match(JSON.stringify(!tagged.ok && tagged.problems), /no tags/);
    const dir = fresh('pc-config-bomb-');
    writeFileSync(join(dir, 'bomb.yaml'), `servers: {}\n${ALIAS_BOMB}\n`);
    const checked = await runCli(['config', 'check', '-c', join(dir, 'bomb.yaml')]);
    assert.equal(checked.code, 2, checked.stderr + checked.stdout);
    assert.doesNotMatch(checked.stderr + checked.stdout, /at parseConfigText|Node\.js v/);
  });

  it('file: secrets that are a FIFO, a device or /proc are refused at once, and no value is read', () => {
    const dir = fresh('pc-config-fifo-');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir, 'big');
    writeFileSync(big, 'x'.repeat(70 * 1024));
    const env = { PATH: process.env.PATH };
    for (const [reference, why] of [
      [`file:${fifo}`, /not a regular file/],
      ['file:/dev/zero', /under dev/],
      ['file:/proc/self/environ', /under proc/],
      [`file:${big}`, /larger than 65536 bytes/],
    ] as const) {
      const loaded = parseConfigText(`servers: { s: { command: /bin/true, env: { A: "${reference}" } } }\n`, processSecretSource(env));
      assert.equal(loaded.ok, false, reference);
      assert.match(JSON.stringify(!loaded.ok && loaded.problems), why, reference);
    }
  });

  it('a running gateway keeps its policy when the watched file becomes an alias bomb', async () => {
    const dir = fresh('pc-config-reload-');
    const log = join(dir, 'server.log');
    const file = join(dir, 'gateway.yaml');
    const server = { command: process.execPath, args: [RECORDER, log, process.execPath, new URL('../fixtures/governed-server.ts', import.meta.url).pathname], env: COMPILE_CACHE };
    const yaml = (extra: string): string =>
      `listen: { port: 0 }\ndataDir: ${JSON.stringify(join(dir, 'data'))}\nsupply: { allowUnpinned: true }\nservers: { s: ${JSON.stringify(server)} }\npolicy: { rules: [{ name: echo-only, effect: allow, tools: [echo] }] }\n${extra}`;
    writeFileSync(file, yaml(''));
    const gateway = await serveChild(file, []);
    try {
      const client = await legacyClient(`${gateway.base}/mcp/s`);
      try {
        await client.callTool({ name: 'echo', arguments: { text: 'before' } });
        writeFileSync(file, yaml(`${ALIAS_BOMB}\n`));
        await waitFor(() => (/configuration change rejected/.test(gateway.stderr()) ? true : undefined), 15_000, 'the reload to be rejected');
        assert.equal(gateway.child.exitCode, null);
        // The old policy is in force: echo reaches the server, delete_record does not.
        await client.callTool({ name: 'echo', arguments: { text: 'after' } });
        await assert.rejects(client.callTool({ name: 'delete_record', arguments: { id: '1' } }), /no rule allows/);
      } finally {
        await client.close();
      }
      assert.deepEqual(received(log, 'tools/call').map((m) => m.params?.name), ['echo', 'echo']);
    } finally {
      await gateway.stop();
    }
  });
});

describe('credentials in an HTTP server URL query', () => {
  it('load with a warning naming the parameters, never their values', () => {
    const loaded = parseConfigText('servers: { h: { url: "https://mcp.example/mcp?api_key=QuerySecret98&token=QuerySecret97&mode=x" } }\npolicy: { rules: [{ name: all, effect: allow }] }\n');
    assert.equal(loaded.ok, true);
    const warning = loaded.ok ? loaded.warnings.find((w) => w.path === 'servers.h.url') : undefined;
    assert.match(warning?.message ?? '', /carries api_key, token in its query/);
    assert.doesNotMatch(JSON.stringify(loaded.ok && loaded.warnings), /QuerySecret/);
  });
});
