/**
 * The OpenTelemetry sink against a real OTLP/HTTP receiver (started here, loopback only).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { legacyClient, startGateway, waitFor } from '../helpers/gateway.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { startModernServer } from '../fixtures/modern-server.ts';

describe('OTLP audit sink', () => {
  it('ships each record as an OTLP log with MCP and GenAI attributes, redacted', async () => {
    const received: Array<{ path: string; auth: string | undefined; body: any }> = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', auth: req.headers['x-api-key'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString()) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    process.env.PC_TEST_OTLP_KEY = 'collector-key-for-test';
    const upstream = await startModernServer();
    const gw = await startGateway({
      audit: { sinks: [{ type: 'otlp', url: `http://127.0.0.1:${port}`, headers: { 'X-Api-Key': 'env:PC_TEST_OTLP_KEY' } }] },
      servers: { modern: { url: upstream.url } },
      // About the sink's redaction of a secret argument: DLP, which would refuse the call, is off here.
      dlp: { arguments: { secrets: 'off' } },
    });
    try {
      const secret = fakeSecrets().github!;
      const client = await legacyClient(`${gw.url}/mcp/modern`);
      await client.callTool({ name: 'echo', arguments: { text: secret } });
      await client.close();
      await waitFor(() => received.some((r) => JSON.stringify(r.body).includes('"gen_ai.tool.name"') && JSON.stringify(r.body).includes('{"stringValue":"allowed"}')) || undefined, 5000, 'an OTLP export');
      // The outcome record (the write-ahead intent before it carries decision "intent").
      const batch = received.find((r) => JSON.stringify(r.body).includes('"gen_ai.tool.name"') && JSON.stringify(r.body).includes('{"stringValue":"allowed"}'))!;
      assert.equal(batch.path, '/v1/logs');
      assert.equal(batch.auth, 'collector-key-for-test');
      const log = batch.body.resourceLogs[0].scopeLogs[0].logRecords.find((l: any) => l.attributes.some((a: any) => a.key === 'gen_ai.tool.name') && l.attributes.some((a: any) => a.key === 'portcullis.decision' && a.value.stringValue === 'allowed'));
      const attr = (key: string) => log.attributes.find((a: any) => a.key === key)?.value;
      assert.deepEqual(attr('gen_ai.tool.name'), { stringValue: 'echo' });
      assert.deepEqual(attr('gen_ai.operation.name'), { stringValue: 'execute_tool' });
      assert.deepEqual(attr('mcp.method.name'), { stringValue: 'tools/call' });
      assert.deepEqual(attr('portcullis.decision'), { stringValue: 'allowed' });
      assert.deepEqual(attr('portcullis.args.hash_scheme'), { stringValue: 'hmac-sha256' });
      assert.match(log.timeUnixNano, /^\d{19}$/);
      assert.ok(!JSON.stringify(received).includes(secret), 'the secret argument never left redacted');
    } finally {
      delete process.env.PC_TEST_OTLP_KEY;
      await gw.close();
      await upstream.close();
      receiver.close();
    }
  });
});
