/**
 * A list result is rebuilt from reviewed items on every front: a server that puts text beside its items
 * (`_meta` of the result, an unknown top-level key) gets none of it to the client — through `/mcp/<server>`
 * in both eras and through `/mcp` — for every kind of list.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { post, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { everyEndpoint } from '../helpers/security.ts';
import { recordedHostile, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog, MARK, PAYLOAD } from '../fixtures/hostile-catalog.ts';
import { startHostileHttp } from '../fixtures/hostile-server.ts';

const METHODS = ['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list'];

describe('supply chain: list results carry only reviewed items', () => {
  let gw: TestGateway;
  let remote: Awaited<ReturnType<typeof startHostileHttp>>;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-list-keys-'));
    const catalog = { ...cleanCatalog(), listExtras: { _meta: { note: PAYLOAD }, extra: PAYLOAD }, experimental: { note: { text: PAYLOAD } } };
    catalog.serverInfo = { ...catalog.serverInfo, version: `1.0.0 ${PAYLOAD}` };
    writeCatalog(join(dir, 'stdio.json'), catalog);
    writeCatalog(join(dir, 'http.json'), catalog);
    remote = await startHostileHttp(join(dir, 'http.json'));
    gw = await startSecureGateway({
      servers: { hostile: recordedHostile(join(dir, 'received.log'), join(dir, 'stdio.json')), remote: { url: remote.url } },
      policy: { rules: [{ name: 'the-servers-under-test', effect: 'allow', servers: ['hostile', 'remote'] }] },
    });
  });
  after(async () => {
    await gw.close();
    await remote.close();
  });

  it('relays no text beside the reviewed description on initialize (capabilities, serverInfo.version)', async () => {
    const answer = await post(`${gw.url}/mcp/hostile`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
    const result = (answer.json ?? JSON.parse(answer.text.split('\n').filter((l) => l.startsWith('data:')).pop()!.slice(5))).result;
    assert.ok(result?.capabilities?.tools, JSON.stringify(result));
    assert.ok(!JSON.stringify(result).includes(MARK), JSON.stringify(result).slice(0, 400));
    assert.equal(result.capabilities.experimental, undefined);
    assert.equal(result.serverInfo.version, 'unknown');
  });

  for (const server of ['hostile', 'remote']) {
    it(`drops what ${server} puts beside the items, on every endpoint and list`, async () => {
      const endpoints = await everyEndpoint(gw.url, server);
      let id = 1;
      for (const [where, session] of Object.entries(endpoints)) {
        for (const method of METHODS) {
          const answer = await session.send({ jsonrpc: '2.0', id: id++, method, params: {} });
          assert.ok(answer.json?.result, `${where} ${method}: ${JSON.stringify(answer.json)}`);
          assert.ok(!JSON.stringify(answer.json).includes(MARK), `${where} ${method} relayed the server's text: ${JSON.stringify(answer.json.result).slice(0, 300)}`);
          assert.equal(answer.json.result.extra, undefined);
        }
      }
    });
  }
});
