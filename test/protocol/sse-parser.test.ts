/**
 * The bounded SSE parser: the same events whatever way the bytes are split (inside a CRLF, inside a
 * multi-byte character), and a refusal — never unbounded growth — for a line or an event past the limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSseMessages, SseEventTooLarge, SseParser, sseFrame, type SseEvent } from '../../src/protocol/sse.ts';

const STREAM = [
  '\uFEFF: a comment first\r\n',
  'id: 1\r\nevent: message\r\ndata: {"a":"ü€𝄞"}\r\n\r\n',
  'data:\r\n\r\n', // an empty data line still makes an event (the priming event of a resumable stream)
  'data: two\rdata: lines\r\r',
  'retry: 1500\nid: 2\ndata: x\n\n',
  'event: endpoint\ndata: /messages?s=1\n\n',
  'data: no trailing blank line',
].join('');
const EXPECTED: SseEvent[] = [
  { event: 'message', data: '{"a":"ü€𝄞"}', id: '1' },
  { event: 'message', data: '', id: '1' },
  { event: 'message', data: 'two\nlines', id: '1' },
  { event: 'message', data: 'x', id: '2', retryMs: 1500 },
  { event: 'endpoint', data: '/messages?s=1', id: '2' },
];

describe('SSE parser', () => {
  it('yields the same events however the bytes are split', () => {
    const bytes = Buffer.from(STREAM);
    assert.deepEqual(new SseParser().push(bytes), EXPECTED);
    for (let cut = 1; cut < bytes.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      assert.deepEqual(events, EXPECTED, `split at byte ${cut}`);
    }
    const oneByOne = new SseParser();
    assert.deepEqual([...bytes].flatMap((b) => oneByOne.push(Uint8Array.of(b))), EXPECTED);
  });

  it('round-trips the frames the gateway writes', () => {
    const data = JSON.stringify({ jsonrpc: '2.0', method: 'x', params: { text: 'a\nb' } });
    assert.deepEqual(new SseParser().push(sseFrame(data, { id: 's1.4' })), [{ event: 'message', data, id: 's1.4' }]);
  });

  it('refuses a line that never ends, as soon as it passes the limit', () => {
    const parser = new SseParser({ maxEventBytes: 1024 });
    parser.push(`data: {"jsonrpc":"2.0","id":7,"result":"${'a'.repeat(900)}`);
    assert.throws(() => parser.push('a'.repeat(200)), (error: unknown) => {
      assert.ok(error instanceof SseEventTooLarge);
      assert.match(error.head, /^data: \{"jsonrpc":"2\.0","id":7/, 'the first bytes are kept to tell whose answer it was');
      return true;
    });
  });

  it('refuses an event whose data lines never end with a blank line', () => {
    const parser = new SseParser({ maxEventBytes: 64 * 1024 });
    const line = `data: ${'x'.repeat(1000)}\n`;
    let pushed = 0;
    assert.throws(() => {
      for (;;) {
        parser.push(line);
        pushed += line.length;
      }
    }, SseEventTooLarge);
    assert.ok(pushed <= 64 * 1024, `refused after ${pushed} bytes`);
  });

  it('does not count comments and keep-alives towards an event, and starts afresh after each event', () => {
    const parser = new SseParser({ maxEventBytes: 100 });
    const comments = `: ${'k'.repeat(90)}\n`.repeat(50);
    assert.deepEqual(parser.push(`${comments}data: ok\n\n`), [{ event: 'message', data: 'ok', id: undefined }]);
    for (let i = 0; i < 50; i++) assert.equal(parser.push(`data: ${'y'.repeat(80)}\n\n`).length, 1);
  });

  it('stops reading a body at the first oversized event and closes it', async () => {
    let destroyed = false;
    const body = {
      async *[Symbol.asyncIterator]() {
        try {
          yield Buffer.from('data: {"jsonrpc":"2.0","method":"ok"}\n\n');
          for (;;) yield Buffer.from(`data: ${'z'.repeat(4096)}\n`);
        } finally {
          destroyed = true;
        }
      },
    };
    const seen: unknown[] = [];
    await assert.rejects(async () => {
      for await (const { message } of readSseMessages(body, { maxEventBytes: 32 * 1024 })) seen.push(message);
    }, SseEventTooLarge);
    assert.deepEqual(seen, [{ jsonrpc: '2.0', method: 'ok' }]);
    assert.ok(destroyed, 'the body was closed, not drained');
  });
});
