/**
 * Per-client state is bounded: modern `subscriptions/listen` streams are capped per principal
 * (`listen.maxListenStreamsPerPrincipal`) and in all (`listen.maxListenStreams`). A principal that
 * keeps opening streams ends its own oldest ones — never another principal's — and the gateway holds no
 * more than the caps (past the total, the oldest of all goes), counted in /metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { dataDirWithKeys } from '../helpers/sessions.ts';

const PER_PRINCIPAL = 3;
const TOTAL = 4;

/** An open listen stream: whether the gateway has ended it yet. */
interface Stream {
  ended: boolean;
  abort(): void;
}

describe('subscriptions/listen streams are bounded per principal', () => {
  let gw: TestGateway;
  let keys: Record<string, string>;
  const streams: Stream[] = [];

  before(async () => {
    let dataDir: string;
    ({ dataDir, keys } = dataDirWithKeys(['alice', 'bob']));
    gw = await startGateway({ dataDir, identity: { apiKeys: {} }, listen: { maxListenStreamsPerPrincipal: PER_PRINCIPAL, maxListenStreams: TOTAL, metrics: 'loopback' }, servers: {} });
  });
  after(async () => {
    for (const stream of streams) stream.abort();
    await gw.close();
  });

  async function open(who: string, id: number): Promise<Stream> {
    const abort = new AbortController();
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const response = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        authorization: `Bearer ${keys[who]}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'subscriptions/listen',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: meta } }),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    assert.match(first.value ?? '', /notifications\/subscriptions\/acknowledged/, 'the stream is open');
    const stream: Stream = { ended: false, abort: () => abort.abort() };
    // Read on until the gateway ends the stream.
    void (async () => {
      try {
        while (!(await reader.read()).done);
        stream.ended = true;
      } catch {
        // aborted by the test
      }
    })();
    streams.push(stream);
    return stream;
  }

  let bob: Stream;
  let alice: Stream[];

  it('ends the flooding principal\'s oldest streams, keeps the newest and another principal\'s', async () => {
    bob = await open('bob', 1);
    alice = [];
    for (let i = 0; i < 10; i++) alice.push(await open('alice', 100 + i));
    await waitFor(() => alice.slice(0, 10 - PER_PRINCIPAL).every((s) => s.ended) || undefined, 5000, 'alice\'s oldest streams ended');
    // A stream is ended only when a newer one is added, before that one is acknowledged: with the last
    // acknowledged, what is still open now stays open.
    assert.deepEqual(alice.slice(10 - PER_PRINCIPAL).map((s) => s.ended), [false, false, false], 'alice keeps her newest streams');
    assert.equal(bob.ended, false, 'bob\'s stream is not alice\'s to end');
    const hits = gw.gateway.limits.entries().find((e) => e.limit === 'listen_streams_per_principal');
    assert.equal(hits?.count, 10 - PER_PRINCIPAL);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /portcullis_limit_hits_total\{limit="listen_streams_per_principal"[^}]*\} 7/);
  });

  it('past listen.maxListenStreams ends the oldest stream of all', async () => {
    // bob's first and alice's three newest fill the gateway's four: bob's second ends the oldest, his own first.
    const second = await open('bob', 2);
    await waitFor(() => bob.ended || undefined, 5000, 'the oldest stream of all ended');
    assert.deepEqual(alice.slice(10 - PER_PRINCIPAL).map((s) => s.ended), [false, false, false]);
    assert.equal(second.ended, false);
    assert.equal(gw.gateway.limits.entries().find((e) => e.limit === 'listen_streams_total')?.count, 1);
  });
});
