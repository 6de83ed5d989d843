/**
 * Legacy HTTP upstreams: server-everything in its Streamable HTTP (2025-era) and HTTP+SSE (2024-11-05)
 * modes, found by probing, and pinned by config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { legacyClient, modernClient, startEverythingHttp, startGateway, type TestGateway } from '../helpers/gateway.ts';

describe('legacy HTTP upstreams', () => {
  let streamable: Awaited<ReturnType<typeof startEverythingHttp>>;
  let sse: Awaited<ReturnType<typeof startEverythingHttp>>;
  let gw: TestGateway;

  before(async () => {
    [streamable, sse] = await Promise.all([startEverythingHttp('streamableHttp'), startEverythingHttp('sse')]);
    gw = await startGateway({
      servers: {
        streamable: { url: streamable.url },
        legacysse: { url: sse.url, transport: 'sse' },
        probed: { url: sse.url },
      },
    });
  });
  after(async () => {
    await gw.close();
    await Promise.all([streamable.close(), sse.close()]);
  });

  it('falls back from the modern probe to a legacy Streamable HTTP session', async () => {
    assert.equal(gw.gateway.upstreams.get('streamable')?.info()?.era, 'legacy');
    const client = await legacyClient(`${gw.url}/mcp/streamable`);
    const result = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.match(JSON.stringify(result.content), /5/);
    await client.close();
  });

  it('relays progress and sampling over a legacy Streamable HTTP upstream', async () => {
    const client = await legacyClient(`${gw.url}/mcp/streamable`, {
      onSampling: () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'from the http client' } }),
    });
    const progress: number[] = [];
    await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.deepEqual(progress, [1, 2]);
    const sampled = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'x', maxTokens: 2 } });
    assert.match(JSON.stringify(sampled.content), /from the http client/);
    await client.close();
  });

  it('reaches a legacy HTTP+SSE (2024-11-05) server, pinned or probed', async () => {
    for (const name of ['legacysse', 'probed']) {
      const client = await modernClient(`${gw.url}/mcp/${name}`);
      const result = await client.callTool({ name: 'echo', arguments: { message: `via ${name}` } });
      assert.deepEqual(result.content, [{ type: 'text', text: `Echo: via ${name}` }]);
      await client.close();
    }
  });

  it('reports an unreachable HTTP server as unavailable instead of hanging', async () => {
    const down = await startGateway({ defaults: { timeoutMs: 2000 }, servers: { gone: { url: 'http://127.0.0.1:9/mcp' } } });
    try {
      const client = await legacyClient(`${down.url}/mcp`);
      const { tools } = await client.listTools();
      assert.deepEqual(tools, []);
      await assert.rejects(client.callTool({ name: 'gone__x', arguments: {} }), /Unknown tool/);
      await client.close();
      const health = await (await fetch(`${down.url}/healthz`)).json();
      assert.equal(health.servers.gone, 'failed');
    } finally {
      await down.close();
    }
  });
});
