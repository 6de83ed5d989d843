/**
 * Issue 11 item 15 (Authorization): a request with two Authorization headers is refused with 400 before
 * anything else — on the MCP endpoints (whichever copy is valid) and on the authorization server's token
 * endpoint — and the refusal is audited. Node keeps only the first copy in `req.headers`, so a proxy that
 * judged the second would disagree with the gateway.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authRefusals, callTool, recordedEverything, ECHO_POLICY } from '../helpers/oauth.ts';

/** A raw POST with repeated headers (fetch folds them into one). */
function rawPost(url: string, headers: Array<[string, string]>, body: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    // With headers as a raw list Node adds none of its own: Host is given here.
    const flat = [['host', target.host], ...headers].flat();
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: flat }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('security: two Authorization headers', () => {
  let gw: TestGateway;
  let key: string;
  const upstream = recordedEverything();

  before(async () => {
    gw = await startSecureGateway({ servers: { everything: upstream.server }, policy: ECHO_POLICY, identity: { apiKeys: {}, embedded: {} } });
    const config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { apiKeys: {}, embedded: {} }\nservers: {}\n`);
    key = JSON.parse((await runCli(['key', 'create', '--agent', 'ci', '--expires', '1d', '--json', '-c', config])).stdout).key;
  });
  after(async () => gw?.close());

  it('refuses them on /mcp and /mcp/<server>, whichever copy is valid, and forwards nothing', async () => {
    assert.equal((await callTool(`${gw.url}/mcp`, key, 'everything__echo', { message: 'one header' })).status, 200, 'one header works');
    const calls = upstream.calls().length;
    const before = authRefusals(gw.gateway.config.dataDir!).length;
    const call = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { message: 'two headers' }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } });
    const common: Array<[string, string]> = [['content-type', 'application/json'], ['accept', 'application/json, text/event-stream'], ['mcp-protocol-version', '2026-07-28'], ['mcp-method', 'tools/call']];
    const variants: Array<[string, Array<[string, string]>]> = [
      ['/mcp', [['authorization', `Bearer ${key}`], ['authorization', 'Bearer junk']]],
      ['/mcp', [['authorization', 'Bearer junk'], ['authorization', `Bearer ${key}`]]],
      ['/mcp', [['authorization', `Bearer ${key}`], ['Authorization', `Bearer ${key}`]]],
      ['/mcp', [['authorization', `Bearer ${key}`], ['authorization', '']]],
      ['/mcp/everything', [['authorization', `Bearer ${key}`], ['authorization', 'Basic eDp5']]],
    ];
    for (const [path, auth] of variants) {
      const r = await rawPost(`${gw.url}${path}`, [...common, ['mcp-name', path === '/mcp' ? 'everything__echo' : 'echo'], ...auth], call(path === '/mcp' ? 'everything__echo' : 'echo'));
      assert.equal(r.status, 400, `${path} ${JSON.stringify(auth)}: ${r.status} ${r.body}`);
      assert.equal(JSON.parse(r.body).error.data.code, 'PC_AUTH_AMBIGUOUS_CREDENTIALS');
    }
    assert.equal(upstream.calls().length, calls, 'nothing reached the server');
    const refusals = authRefusals(gw.gateway.config.dataDir!).slice(before);
    assert.equal(refusals.length, variants.length, 'each refusal is audited');
    assert.ok(refusals.every((r) => r.code === 'PC_AUTH_AMBIGUOUS_CREDENTIALS' && !JSON.stringify(r).includes(key)));
  });

  it('refuses them at the token endpoint too (two client credentials)', async () => {
    const r = await rawPost(`${gw.url}/oauth/token`, [['content-type', 'application/x-www-form-urlencoded'], ['authorization', 'Basic YTpi'], ['authorization', 'Basic Yzpk']], 'grant_type=client_credentials');
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error.data.code, 'PC_AUTH_AMBIGUOUS_CREDENTIALS');
  });
});
