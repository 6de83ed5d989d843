import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownstreamSession, SessionStore } from '../../src/downstream/session.ts';
import { GatewayError } from '../../src/errors.ts';

const tracked = <T>(value: T | GatewayError): T => {
  assert.ok(!(value instanceof GatewayError), 'tracked');
  return value as T;
};

describe('legacy sessions', () => {
  const make = (nowMs: number) => new DownstreamSession({ endpoint: { kind: 'aggregate' }, protocolVersion: '2025-11-25', capabilities: {}, clientInfo: undefined, nowMs });

  it('issue random visible-ASCII ids', () => {
    const a = make(0);
    const b = make(0);
    assert.notEqual(a.id, b.id);
    assert.match(a.id, /^[\x21-\x7e]{32}$/);
  });

  it('reaps sessions idle longer than the limit, but not those with an open stream', () => {
    const store = new SessionStore(1000);
    const idle = make(0);
    const streaming = make(0);
    streaming.stream = { send: () => undefined, close: () => undefined };
    const fresh = make(1500);
    for (const s of [idle, streaming, fresh]) store.add(s);
    assert.equal(store.reap(2000), 1);
    assert.equal(store.get(idle.id), undefined);
    assert.ok(idle.closed);
    assert.ok(store.get(streaming.id) && store.get(fresh.id));
    store.close();
  });

  it('aborts calls in flight on notifications/cancelled and on close', () => {
    const session = make(0);
    const one = tracked(session.track(1));
    const two = tracked(session.track('two'));
    session.cancel(1);
    assert.ok(one.signal.aborted);
    assert.ok(!two.signal.aborted);
    session.close();
    assert.ok(two.signal.aborted);
    assert.ok(tracked(session.track(3)).signal.aborted, 'a request tracked after the session ended is cancelled at once');
  });

  it('refuses a second request under an id still in flight (1 and "1" are one id), and takes it again once answered', () => {
    const session = make(0);
    const one = tracked(session.track(1));
    for (const again of [1, '1']) {
      const refused = session.track(again);
      assert.ok(refused instanceof GatewayError && refused.code === 'PC_PROTOCOL_AMBIGUOUS', String(again));
    }
    assert.ok(!one.signal.aborted, 'the request in flight is untouched');
    one.release();
    assert.ok(!(session.track(1) instanceof GatewayError));
  });

  it('matches the client\'s answer to the request the gateway sent', async () => {
    const session = make(0);
    const sent: unknown[] = [];
    const answer = session.requestClient({ send: (m) => sent.push(m) }, 'elicitation/create', { message: 'ok?' });
    const id = (sent[0] as { id: string }).id;
    assert.equal(session.answer({ jsonrpc: '2.0', id: 'unrelated', result: {} }), false);
    assert.equal(session.answer({ jsonrpc: '2.0', id, result: { action: 'accept' } }), true);
    assert.deepEqual(await answer, { action: 'accept' });
    session.close();
  });
});
