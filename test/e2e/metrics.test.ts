/**
 * `GET /metrics`: Prometheus text with process gauges, live sessions and upstream state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, legacyClient, startGateway, stdioServer, type TestGateway } from '../helpers/gateway.ts';

describe('metrics endpoint', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ servers: { everything: stdioServer(EVERYTHING, ['stdio']), gone: { command: process.execPath, args: ['-e', 'process.exit(1)'], restart: { maxRestarts: 0 } } } });
  });
  after(async () => gw.close());

  const scrape = async () => {
    const response = await fetch(`${gw.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    return response.text();
  };

  it('counts live legacy sessions and reports each upstream', async () => {
    const client = await legacyClient(`${gw.url}/mcp/everything`);
    const text = await scrape();
    assert.match(text, /^portcullis_sessions_active 1$/m);
    assert.match(text, /^portcullis_upstream_up\{server="everything",state="ready"\} 1$/m);
    assert.match(text, /^portcullis_upstream_up\{server="gone",state="failed"\} 0$/m);
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
    assert.match(text, /^nodejs_eventloop_delay_seconds\{quantile="0.99",window="5s"\} [0-9.]+$/m);
    await (client.transport as unknown as { terminateSession(): Promise<void> }).terminateSession();
    await client.close();
    assert.match(await scrape(), /^portcullis_sessions_active 0$/m, 'DELETE ends the session');
  });
});
