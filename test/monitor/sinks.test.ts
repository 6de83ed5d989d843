/**
 * Alert sinks against a real HTTP receiver on loopback: signature, retries with backoff on 5xx, no
 * retry on other 4xx, the Slack format with caller-chosen names escaped.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Alert } from '../../src/monitor/alert.ts';
import { WebhookSink } from '../../src/monitor/sinks.ts';
import { alertSinksFor } from '../../src/monitor/monitor.ts';
import { monitorSchema } from '../../src/monitor/schema.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { waitFor } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';

const KEY = 'sink-test-key-0123456789abcdef0123456789';
const alert = (agent = 'bot'): Alert => ({
  id: 'al_test',
  kind: 'denials',
  severity: 'medium',
  principal: { subject: 'alice', agent },
  window: { from: '2026-03-02T09:00:00.000Z', to: '2026-03-02T09:01:00.000Z' },
  evidence: { instance: 'gw', seqs: [1, 2, 3] },
  at: '2026-03-02T09:01:00.000Z',
  summary: '3 policy refusals within 60s',
});

describe('alert sinks', () => {
  const receivers: Receiver[] = [];
  after(async () => Promise.all(receivers.map((r) => r.close())));
  const receiver = async () => {
    const r = await startReceiver(KEY);
    receivers.push(r);
    return r;
  };

  it('retries a 5xx with backoff and delivers a signed alert', async () => {
    const r = await receiver();
    r.failFirst.push(500, 503);
    const sink = new WebhookSink({ url: r.url, secret: KEY, format: 'json', retries: 3 }, pino({ level: 'silent' }));
    sink.push(alert());
    const delivery = await waitFor(() => r.deliveries[0], 10_000, 'the delivery after two failures');
    assert.equal(delivery.verified, true);
    assert.equal(delivery.body.id, 'al_test');
    await sink.close();
    assert.equal(sink.dropped, 0);
  });

  it('does not retry a 400 and counts the alert as dropped', async () => {
    const r = await receiver();
    r.failFirst.push(400);
    const sink = new WebhookSink({ url: r.url, secret: undefined, format: 'json', retries: 3 }, pino({ level: 'silent' }));
    sink.push(alert());
    await waitFor(() => sink.dropped === 1 || undefined, 10_000, 'the drop');
    await sink.close();
    assert.equal(r.deliveries.length, 0);
    assert.equal(r.failFirst.length, 0);
  });

  it('sends the Slack format with Slack control characters in names escaped', async () => {
    const r = await receiver();
    const sink = new WebhookSink({ url: r.url, secret: undefined, format: 'slack', retries: 0 }, pino({ level: 'silent' }));
    sink.push(alert('<!channel> <https://evil.example|click>'));
    const delivery = await waitFor(() => r.deliveries[0], 10_000, 'the delivery');
    await sink.close();
    assert.equal(delivery.signature, undefined);
    assert.equal(typeof delivery.body.text, 'string');
    assert.ok(!delivery.body.text.includes('<'), delivery.body.text);
    assert.ok(delivery.body.text.includes('&lt;!channel&gt;'));
  });

  it('sinks from the config: retries: 0 makes one attempt only', async () => {
    const r = await receiver();
    r.failFirst.push(500, 500);
    const [sink] = alertSinksFor(monitorSchema.parse({ sinks: [{ type: 'webhook', url: r.url, retries: 0 }] }), processSecretSource({}), pino({ level: 'silent' }));
    sink!.push(alert());
    await waitFor(() => sink!.dropped === 1 || undefined, 10_000, 'the drop');
    await sink!.close();
    assert.deepEqual(r.failFirst, [500], 'one attempt, no retry');
  });
});

