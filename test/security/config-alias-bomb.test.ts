/**
 * A configuration with more YAML aliases than the parser allows (a billion-laughs shape) is a
 * configuration error, not a crash: `config check` exits 2 naming the problem, and a running gateway
 * keeps its configuration in force when the file is rewritten that way (it keeps serving; the server
 * behind it still gets the allowed call).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { legacyClient, runCli, serveChild, waitFor } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { GOVERNED } from '../helpers/security.ts';

const bomb = (): string => {
  const lines = ['x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 6; i++) lines.push(`x${i}: &a${i} [${Array.from({ length: 8 }, () => `*a${i - 1}`).join(',')}]`);
  return `${lines.join('\n')}\n`;
};

describe('config: YAML alias bombs', () => {
  it('config check reports them (exit 2) instead of crashing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-alias-'));
    const file = join(dir, 'bomb.yaml');
    writeFileSync(file, `servers: {}\n${bomb()}`);
    const check = await runCli(['config', 'check', '-c', file]);
    assert.equal(check.code, 2, check.stderr);
    assert.match(check.stderr, /too many YAML aliases|YAML cannot be expanded/);
    assert.doesNotMatch(check.stderr, /at parseConfigText|ReferenceError/);
  });

  it('a running gateway keeps its configuration when the file becomes one', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pc-alias-')));
    const files = recordedServer(GOVERNED, []);
    const file = join(dir, 'portcullis.yaml');
    writeFileSync(file, [`dataDir: ${JSON.stringify(join(dir, 'data'))}`, 'listen: { port: 0 }', 'reload: { settleMs: 300 }', 'servers:', `  gov: ${JSON.stringify(files.server)}`, 'policy: { rules: [{ name: all, effect: allow }] }', ''].join('\n'));
    const serve = await serveChild(file);
    try {
      // Once it serves (its watcher is set up by then), the file becomes a bomb.
      const first = await legacyClient(`${serve.base}/mcp/gov`);
      await first.callTool({ name: 'echo', arguments: { text: 'before' } });
      await first.close();
      appendFileSync(file, bomb());
      await waitFor(() => (/too many YAML aliases|YAML cannot be expanded/.test(serve.stderr()) ? true : undefined), 10_000, 'the reload to be refused').catch((e: Error) => assert.fail(`${e.message}: ${serve.stderr()}`));
      assert.equal(serve.child.exitCode, null, 'the gateway is still running');
      const client = await legacyClient(`${serve.base}/mcp/gov`);
      await client.callTool({ name: 'echo', arguments: { text: 'still served' } });
      await client.close();
    } finally {
      await serve.stop();
    }
    assert.equal(received(files.log).filter((m) => m.method === 'tools/call').length, 2, 'the server still received the allowed call after the refused reload');
  });
});
