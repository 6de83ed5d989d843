/**
 * Red team "redteam-data" F13: an HTTP server that answers a call with a JSON-RPC batch (an array: a
 * notification and the response) in one SSE event had the call wait out its whole timeout. The call
 * now fails at once with PC_UPSTREAM_PROTOCOL, and nothing of the batch reaches the client. A
 * hand-built Streamable HTTP server (the SDK cannot send a batch), the real gateway, the SDK client.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';

const TOOLS = [{ name: 'get', description: 'Returns a value.', inputSchema: { type: 'object', properties: {} }, annotations: { openWorldHint: false } }];

/** Answers initialize and tools/list as JSON, and tools/call with a batch in one SSE event. */
function batchServer(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: number; method: string; params?: { protocolVersion?: string } };
      if (message.id === undefined) return void res.writeHead(202).end();
      const json = (result: unknown) => res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'batch-session' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      if (message.method === 'initialize') return json({ protocolVersion: message.params?.protocolVersion ?? '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'batch', version: '1' } });
      if (message.method === 'tools/list') return json({ tools: TOOLS });
      if (message.method === 'tools/call') {
        const batch = [
          { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'batched' } },
          { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: 'from the batch' }] } },
        ];
        // The stream stays open: before the fix only the call's timeout ended the wait.
        res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'batch-session' });
        return void res.write(`event: message\ndata: ${JSON.stringify(batch)}\n\n`);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } }));
    });
  });
}

describe('F13: a JSON-RPC batch in an upstream SSE event', () => {
  let upstream: Server;
  let gw: TestGateway;
  before(async () => {
    upstream = batchServer();
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    // A long timeout: a call that waits for it fails this test with PC_UPSTREAM_TIMEOUT.
    gw = await startSecureGateway({ servers: { batch: { url: `http://127.0.0.1:${port}/mcp`, timeoutMs: 600_000 } }, policy: { rules: [{ name: 'batch', effect: 'allow', servers: ['batch'] }] } });
  });
  after(async () => {
    await gw?.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('fails the call at once with PC_UPSTREAM_PROTOCOL, delivering nothing of the batch', async () => {
    const client = await legacyClient(`${gw.url}/mcp/batch`);
    try {
      const error = await client.callTool({ name: 'get', arguments: {} }, undefined, { timeout: 900_000 }).then(
        (result) => assert.fail(`the batch's answer was delivered: ${JSON.stringify(result)}`),
        (e: unknown) => e as { data?: { code?: string } },
      );
      assert.equal(error.data?.code, 'PC_UPSTREAM_PROTOCOL', JSON.stringify(error));
    } finally {
      await client.close();
    }
  });
});
