/**
 * Session caps and the resumable-stream budget: past a cap the least recently used session of the same
 * principal is ended (busy ones last), never another principal's; streams kept for resumption stay
 * within their per-session and total bytes, the oldest forgotten first.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { DownstreamSession, SessionStore } from '../../src/downstream/session.ts';
import { ResumeBudget, StreamLog } from '../../src/downstream/stream-log.ts';
import { createLimitCounters } from '../../src/limits/counters.ts';

const silent = pino({ level: 'silent' });
const session = (owner: string | undefined, nowMs: number) => {
  const s = new DownstreamSession({ endpoint: { kind: 'aggregate' }, protocolVersion: '2025-11-25', capabilities: {}, clientInfo: undefined, nowMs });
  s.owner = owner;
  s.user = owner;
  return s;
};

/** A response whose connection is already gone: what a stream log keeps for a cut stream. */
function cutResponse(): ServerResponse {
  const res = Object.assign(new EventEmitter(), { writableEnded: false, destroyed: true, write: () => true, end: () => undefined });
  return res as unknown as ServerResponse;
}

describe('session caps', () => {
  it('ends the least recently used session of the principal past its cap, and leaves other principals alone', () => {
    const limits = createLimitCounters(silent);
    const ended: string[] = [];
    const store = new SessionStore(60_000, (s) => ended.push(s.id), { maxSessions: 100, maxSessionsPerPrincipal: 3, limits });
    const other = session('bob', 0);
    store.add(other);
    const alice = [1, 2, 3].map((t) => session('alice', t));
    for (const s of alice) store.add(s);
    const busy = alice[0]!; // the oldest, but with a call in flight
    const call = busy.track(1) as { release: () => void };
    store.add(session('alice', 10));
    assert.deepEqual(ended, [alice[1]!.id], 'the oldest idle session went, not the busy one');
    assert.ok(store.get(other.id) && store.get(busy.id));
    call.release();
    assert.deepEqual(limits.entries(), [{ limit: 'sessions_per_principal', server: undefined, count: 1 }]);
    store.close();
    limits.close();
  });

  it('ends the least recently used session of all past the total cap', () => {
    const store = new SessionStore(60_000, undefined, { maxSessions: 2, maxSessionsPerPrincipal: 2 });
    const [a, b, c] = [session('a', 5), session('b', 1), session('c', 9)];
    for (const s of [a, b, c]) store.add(s);
    assert.equal(store.size, 2);
    assert.equal(store.get(b.id), undefined);
    assert.ok(b.closed);
    store.close();
  });
});

describe('resume budget', () => {
  const message = (kb: number) => ({ jsonrpc: '2.0' as const, method: 'notifications/message', params: { data: 'x'.repeat(kb * 1024) } });

  it('forgets the oldest streams of a session past its budget, and of all sessions past the total', () => {
    const budget = new ResumeBudget({ perSessionBytes: 100 * 1024, totalBytes: 250 * 1024, limits: createLimitCounters(silent) });
    const one = session(undefined, 0);
    const logs = [0, 1, 2].map(() => {
      const log = new StreamLog(cutResponse(), budget);
      one.addStream(log);
      log.write(message(40));
      return log;
    });
    assert.equal(one.streams.has(logs[0]!.id), false, 'the oldest stream of the session was forgotten');
    assert.ok(one.streams.has(logs[1]!.id) && one.streams.has(logs[2]!.id));
    assert.ok(budget.bytes <= 100 * 1024);
    const others = [1, 2, 3].map(() => {
      const s = session(undefined, 0);
      const log = new StreamLog(cutResponse(), budget);
      s.addStream(log);
      log.write(message(90));
      return { s, log };
    });
    assert.ok(budget.bytes <= 250 * 1024, `${budget.bytes} bytes kept`);
    assert.equal(one.streams.size, 0, 'the oldest streams overall went first');
    assert.ok(others.at(-1)!.s.streams.has(others.at(-1)!.log.id), 'the newest stream is kept');
  });

  it('keeps nothing of a stream that alone exceeds the budget, and releases what a closed session held', () => {
    const budget = new ResumeBudget({ perSessionBytes: 64 * 1024, totalBytes: 1024 * 1024 });
    const s = session(undefined, 0);
    const big = new StreamLog(cutResponse(), budget);
    s.addStream(big);
    big.write(message(80));
    assert.equal(s.streams.size, 0);
    assert.equal(budget.bytes, 0);
    const small = new StreamLog(cutResponse(), budget);
    s.addStream(small);
    small.write(message(10));
    assert.ok(budget.bytes > 0);
    s.close();
    assert.equal(budget.bytes, 0);
  });
});

