/**
 * `portcullis kill --tool` with the name clients of `/mcp` see stops the tool when its server has a
 * `namespace` other than its name: `ev__echo` (and the glob `ev__*`) is taken as `everything.echo`
 * (`everything.*`), on `/mcp` and on `/mcp/everything`. Nothing of a stopped call reaches the server.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { post, runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { recordedEverything } from '../helpers/oauth.ts';

describe('security: a tool switch given by its /mcp name holds under a custom namespace', () => {
  let gw: TestGateway;
  let config: string;
  const upstream = recordedEverything();
  const policy = { rules: [{ name: 'echo-and-sum', effect: 'allow', servers: ['everything'], tools: ['echo', 'get-sum'] }] };
  const reached = () => upstream.received().filter((m) => m.method === 'tools/call').map((m) => JSON.stringify(m.params?.arguments));
  const call = (url: string, name: string, args: Record<string, unknown>) => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } };
    return post(url, JSON.stringify(body), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name });
  };

  before(async () => {
    const servers = { everything: { ...upstream.server, namespace: 'ev' } };
    gw = await startSecureGateway({ servers, policy });
    const dataDir = gw.gateway.config.dataDir!;
    config = join(dataDir, 'portcullis.yaml');
    writeFileSync(config, JSON.stringify({ dataDir, servers, policy }));
  });
  after(async () => {
    await gw?.close();
  });

  it('kill --tool ev__echo stops everything.echo on /mcp and /mcp/everything', async () => {
    const before = await call(`${gw.url}/mcp`, 'ev__echo', { message: 'before the switch' });
    assert.equal(before.json.error, undefined, before.text);
    const killed = await runCli(['kill', '--tool', 'ev__echo', '--reason', 'incident', '-c', config]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, /everything\.echo/);
    for (const [url, name] of [[`${gw.url}/mcp`, 'ev__echo'], [`${gw.url}/mcp/everything`, 'echo']] as const) {
      const stopped = await call(url, name, { message: `after the switch ${name}` });
      assert.equal(stopped.json.error?.data?.code, 'PC_KILL_SWITCH', `${name}: ${stopped.text}`);
    }
    assert.equal((await runCli(['unkill', '--tool', 'ev__echo', '-c', config])).code, 0);
    assert.ok(!reached().some((a) => a.includes('after the switch')), 'no stopped call reached the server');
  });

  it('a glob on the visible prefix, ev__*, stops every tool of the server', async () => {
    const killed = await runCli(['kill', '--tool', 'ev__*', '--reason', 'incident', '-c', config]);
    assert.equal(killed.code, 0, killed.stderr);
    const stopped = await call(`${gw.url}/mcp`, 'ev__get-sum', { a: 40, b: 2 });
    assert.equal(stopped.json.error?.data?.code, 'PC_KILL_SWITCH', stopped.text);
    assert.equal((await runCli(['unkill', '--tool', 'ev__*', '-c', config])).code, 0);
    assert.ok(!reached().some((a) => a.includes('40')), 'the stopped call never reached the server');
  });
});
