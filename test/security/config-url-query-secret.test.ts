/**
 * A literal secret in an HTTP server's URL query (`?api_key=…&token=…`) is refused at load, like
 * user-info and literal credential headers: `config check` exits 2 naming the parameters (never the
 * value), and `serve` does not start, so the server is never contacted with it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, serveChild } from '../helpers/gateway.ts';

describe('config: credentials in a server URL query', () => {
  it('refuses them, and the server never receives them', async () => {
    const asked: string[] = [];
    const server = createServer((request, response) => {
      asked.push(request.url ?? '');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'pc-url-query-'));
    const config = join(dir, 'c.yaml');
    writeFileSync(config, `listen: { port: 0 }\ndataDir: ${JSON.stringify(join(dir, 'data'))}\nservers:\n  h: { url: "http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp?api_key=QuerySecret98&token=QuerySecret97&page=2" }\npolicy: { rules: [{ name: all, effect: allow }] }\n`);
    try {
      const check = await runCli(['config', 'check', '-c', config]);
      assert.equal(check.code, 2, check.stdout);
      assert.match(check.stderr, /servers\.h\.url: must not carry credentials in its query \(api_key, token\)/);
      assert.ok(!check.stderr.includes('QuerySecret'), 'the value is not printed');
      await assert.rejects(serveChild(config), /exited/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    assert.deepEqual(asked, [], 'the server was never contacted');
  });
});
