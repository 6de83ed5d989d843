/**
 * Failure handling: a crashed stdio server is restarted with backoff and in-flight calls get a clear
 * error; slow calls time out; a client's cancellation reaches the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, legacyClient, startGateway, stdioServer, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';
import type { LegacySessionUpstream } from '../../src/upstream/legacy-session.ts';
import type { StdioChannel } from '../../src/upstream/stdio-channel.ts';
import { received, recordedServer } from '../helpers/recorder.ts';

/** A promise that resolves at the call's first progress notification (the server is working on it). */
function firstProgress(): { started: Promise<void>; onprogress: () => void } {
  let onprogress = () => {};
  const started = new Promise<void>((resolve) => (onprogress = resolve));
  return { started, onprogress };
}

describe('upstream failures', () => {
  let gw: TestGateway;
  let modern: ModernServer;
  // server-everything behind the recorder, for what the server itself hears of a cancellation.
  const recorded = recordedServer(EVERYTHING, ['stdio']);

  before(async () => {
    modern = await startModernServer();
    gw = await startGateway({
      servers: {
        everything: stdioServer(EVERYTHING, ['stdio'], { restart: { initialDelayMs: 50, maxDelayMs: 200 }, timeoutMs: 3000 }),
        slowmodern: { url: modern.url, timeoutMs: 300 },
        slowstdio: stdioServer(EVERYTHING, ['stdio'], { timeoutMs: 300 }),
        recorded: recorded.server,
      },
    });
  });
  after(async () => {
    await gw.close();
    await modern.close();
  });

  const childOf = (name: string): StdioChannel => (gw.gateway.upstreams.get(name) as LegacySessionUpstream).channel() as StdioChannel;

  it('fails an in-flight call with PC_UPSTREAM_CRASHED when the child dies, then restarts it', async () => {
    const client = await legacyClient(`${gw.url}/mcp/everything`);
    const firstPid = childOf('everything').pid;
    const progress = firstProgress();
    const inflight = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 50 } }, undefined, { onprogress: progress.onprogress });
    await progress.started;
    childOf('everything').kill('SIGKILL');
    await assert.rejects(inflight, (error: Error & { data?: any }) => {
      assert.equal(error.data?.code, 'PC_UPSTREAM_CRASHED');
      assert.match(error.message, /SIGKILL/);
      return true;
    });
    await waitFor(() => gw.gateway.upstreams.get('everything')?.state() === 'ready' || undefined, 10_000, 'restart');
    assert.notEqual(childOf('everything').pid, firstPid);
    const result = await client.callTool({ name: 'echo', arguments: { message: 'back' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: back' }]);
    await client.close();
  });

  it('times out a slow stdio call with PC_UPSTREAM_TIMEOUT', async () => {
    const client = await legacyClient(`${gw.url}/mcp/slowstdio`);
    const started = Date.now();
    await assert.rejects(client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 1 } }), (error: Error & { data?: any }) => {
      assert.equal(error.data?.code, 'PC_UPSTREAM_TIMEOUT');
      return true;
    });
    assert.ok(Date.now() - started < 3000, 'answered near the timeout, not after the call');
    await client.close();
  });

  it('times out a slow modern HTTP call with PC_UPSTREAM_TIMEOUT', async () => {
    const client = await legacyClient(`${gw.url}/mcp/slowmodern`);
    await assert.rejects(client.callTool({ name: 'slow', arguments: { ms: 2000 } }), (error: Error & { data?: any }) => {
      assert.equal(error.data?.code, 'PC_UPSTREAM_TIMEOUT');
      return true;
    });
    await client.close();
  });

  it('passes a client cancellation upstream and answers the call as cancelled', async () => {
    const client = await legacyClient(`${gw.url}/mcp/recorded`);
    const controller = new AbortController();
    const progress = firstProgress();
    const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 50 } }, undefined, { signal: controller.signal, onprogress: progress.onprogress });
    await progress.started;
    controller.abort('changed my mind');
    await assert.rejects(call);
    // On the server's side: the call it is working on is cancelled by the id it knows it by.
    const sent = received(recorded.log).find((m) => m.method === 'tools/call' && m.params?.name === 'trigger-long-running-operation');
    assert.ok(sent, 'the call reached the server');
    await waitFor(() => received(recorded.log).some((m) => m.method === 'notifications/cancelled' && m.params?.requestId === sent.id) || undefined, 10_000, 'the server to receive notifications/cancelled for the call');
    // The gateway no longer tracks the call: the session has nothing in flight.
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'still fine' } });
    assert.equal(received(recorded.log).filter((m) => m.method === 'notifications/cancelled').length, 1, 'one cancellation, for that call only');
    assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: still fine' }]);
    await client.close();
  });

  it('gives up after maxRestarts and reports the server as failed', async () => {
    const broken = await startGateway({
      servers: { broken: { command: process.execPath, args: ['-e', 'process.exit(3)'], restart: { initialDelayMs: 10, maxDelayMs: 100, maxRestarts: 2 } } },
    });
    try {
      await waitFor(() => broken.gateway.upstreams.get('broken')?.state() === 'failed' || undefined, 10_000, 'failed state');
      const client = await legacyClient(`${broken.url}/mcp`);
      const { tools } = await client.listTools();
      assert.deepEqual(tools, []);
      await client.close();
      const response = await fetch(`${broken.url}/mcp/broken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      });
      const body = await response.json();
      assert.equal(body.error.data.code, 'PC_UPSTREAM_UNAVAILABLE');
      assert.match(body.error.message, /gave up after 2 restarts/);
    } finally {
      await broken.close();
    }
  });
});
