/**
 * Reading a server's JSON answer within its limit: a declared length over it is refused before reading,
 * a streamed one as soon as it passes, and the body is destroyed; the id of an oversized answer is read
 * from its first or last bytes.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { MessageTooLarge, oversizedMessageId, readBoundedText } from '../../src/upstream/message-limit.ts';

function endless(): Readable & { produced: number } {
  const stream = new Readable({
    read() {
      stream.produced += 65536;
      this.push(Buffer.alloc(65536, 0x61));
    },
  }) as Readable & { produced: number };
  stream.produced = 0;
  return stream;
}

describe('message limit', () => {
  it('reads an answer within the limit whole', async () => {
    assert.equal(await readBoundedText(Readable.from([Buffer.from('{"a":'), Buffer.from('"ü"}')]), 100), '{"a":"ü"}');
  });

  it('refuses a declared length over the limit without reading, and a streamed one as soon as it passes', async () => {
    const declared = endless();
    await assert.rejects(readBoundedText(declared, 1024, '419430400'), MessageTooLarge);
    assert.equal(declared.produced, 0);
    assert.ok(declared.destroyed);
    const streamed = endless();
    await assert.rejects(readBoundedText(streamed, 1024 * 1024), MessageTooLarge);
    assert.ok(streamed.produced < 4 * 1024 * 1024, `read ${streamed.produced} bytes`);
    assert.ok(streamed.destroyed);
  });

  it('reads a body of declared length in one go, still within the limit and failing with its stream', async () => {
    assert.equal(await readBoundedText(Readable.from([Buffer.from('{"a":'), Buffer.from('"ü"}')]), 100, '10'), '{"a":"ü"}');
    // A body longer than it declared is still cut at the limit, and destroyed.
    const liar = endless();
    await assert.rejects(readBoundedText(liar, 1024 * 1024, '10'), MessageTooLarge);
    assert.ok(liar.produced < 4 * 1024 * 1024, `read ${liar.produced} bytes`);
    assert.ok(liar.destroyed);
    const broken = new Readable({ read() {} });
    const read = readBoundedText(broken, 100, '50');
    broken.push(Buffer.from('{"a":'));
    broken.destroy(new Error('socket hang up'));
    await assert.rejects(read, /socket hang up/);
  });

  it('finds the id of an oversized answer at either end, and nowhere else', () => {
    assert.equal(oversizedMessageId('{"jsonrpc":"2.0","id":12,"result":{"content":[{"text":"aaaa'), 12);
    assert.equal(oversizedMessageId('data: {"jsonrpc": "2.0", "id": "pc-4", "result"'), 'pc-4');
    assert.equal(oversizedMessageId('{"result":{"content":[{"text":"aaa', 'aaa"}]},"jsonrpc":"2.0","id":7}'), 7);
    assert.equal(oversizedMessageId('{"result":{"id":5,"x":"aaa', 'aaa"}}'), undefined, 'an id inside the result is not the answer\'s');
    assert.equal(oversizedMessageId('{"jsonrpc":"2.0","method":"notifications/progress","params":{"id":3'), undefined);
  });
});
