/**
 * `listen.maxStreamQueueBytes`: what the gateway queues for a client that does not read its call's
 * stream. The same flood of progress notifications into an unread stream is cut to what fits under a
 * small queue (the answer still arrives), and delivered whole under a queue large enough for it — so it
 * is the option, not the socket, that decides.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGateway } from '../helpers/gateway.ts';
import { callTool, hostileStdio, legacySession, messagesOf, unreadResponse } from '../fixtures/flood-client.ts';

// ~13 MB of events: well past what the kernel's socket buffers hold for a reader that does not read (send
// buffer at most 4 MiB here; the receive buffer does not grow without reads).
const COUNT = 100_000;

async function floodUnread(maxStreamQueueBytes: number): Promise<{ progress: number; answered: boolean }> {
  const gw = await startGateway({ listen: { port: 0, maxStreamQueueBytes }, servers: { hostile: hostileStdio() } });
  try {
    const endpoint = `${gw.url}/mcp/hostile`;
    const headers = await legacySession(endpoint);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'progress_flood', arguments: { count: COUNT }, _meta: { progressToken: 'p' } } });
    const response = await unreadResponse(endpoint, 'POST', headers, body);
    // The server answers in order: once this echo is back, the gateway has taken the whole flood.
    await callTool(endpoint, await legacySession(endpoint), 'echo', { text: 'after the flood' });
    const messages = messagesOf(await response.read());
    return {
      progress: messages.filter((m) => m.method === 'notifications/progress').length,
      answered: new RegExp(`sent ${COUNT} notifications`).test(JSON.stringify(messages.find((m) => m.id === 9)?.result)),
    };
  } finally {
    await gw.close();
  }
}

describe('listen.maxStreamQueueBytes', () => {
  it('drops notifications past a small queue but never the answer; a queue large enough delivers them all', async () => {
    const small = await floodUnread(16 * 1024);
    assert.ok(small.answered, 'the answer is never dropped');
    assert.ok(small.progress < COUNT, `${small.progress} of ${COUNT} delivered under a 16 KiB queue`);
    const large = await floodUnread(256 * 1024 * 1024);
    assert.ok(large.answered);
    assert.equal(large.progress, COUNT, 'under a 256 MiB queue nothing is dropped');
  });
});
