/**
 * Limit counters: every hit counted for /metrics, logged once per burst with one summary line, never once
 * per event; Prometheus label values escaped.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createLimitCounters, labelValue, limitMetricLines } from '../../src/limits/counters.ts';
import { waitFor } from '../helpers/gateway.ts';

function capture() {
  const out: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => void (out.push(String(chunk)), done()) });
  return { logger: pino({ level: 'info' }, sink), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('limit counters', () => {
  it('counts every hit, logs the first of a burst and then one summary', async () => {
    const { logger, lines } = capture();
    const limits = createLimitCounters(logger, 100);
    for (let i = 0; i < 10_000; i++) limits.hit('stream_notification_dropped', {}, 'dropped');
    limits.hit('upstream_message_too_large', { server: 'a' }, 'too large');
    assert.equal(lines().length, 2, 'one line per kind, not per event');
    await waitFor(() => (lines().length === 3 ? true : undefined), 5000, 'the summary');
    const summary = lines()[2];
    assert.equal(summary.limit, 'stream_notification_dropped');
    assert.equal(summary.hits, 9999);
    assert.deepEqual(limitMetricLines(limits), [
      '# TYPE portcullis_limit_hits_total counter',
      'portcullis_limit_hits_total{limit="stream_notification_dropped"} 10000',
      'portcullis_limit_hits_total{limit="upstream_message_too_large",server="a"} 1',
    ]);
    // The burst is over: the next hit is logged at once again.
    await waitFor(() => {
      limits.hit('stream_notification_dropped', {}, 'dropped');
      return lines().length >= 4 ? true : undefined;
    }, 5000, 'a new burst');
    limits.close();
  });

  it('escapes label values', () => {
    assert.equal(labelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  });
});
