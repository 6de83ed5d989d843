/**
 * The chunks of a body as they arrive. For a Node stream (undici's response bodies) the stream is read
 * in flowing mode, one chunk at a time, paused while `HIGH_WATER` chunks wait: Node's own async iterator
 * reads in paused mode, where each `read()` concatenates everything buffered — a copy of every byte
 * and most of the garbage when a server sends fast (measured: ~0.9 s of copying and ~0.9 s of GC for
 * 128 MiB). When the consumer stops early, the stream is destroyed (its connection closed).
 */
import { on } from 'node:events';
import type { Readable } from 'node:stream';

const HIGH_WATER = 16;

function isNodeStream(body: AsyncIterable<Uint8Array>): body is AsyncIterable<Uint8Array> & Readable {
  return typeof (body as Partial<Readable>).pause === 'function' && typeof (body as Partial<Readable>).on === 'function';
}

export async function* chunksOf(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (!isNodeStream(body)) {
    yield* body;
    return;
  }
  if (body.readableEnded) return;
  try {
    for await (const [chunk] of on(body, 'data', { close: ['end'], highWaterMark: HIGH_WATER })) yield chunk as Uint8Array;
  } finally {
    if (!body.readableEnded) body.destroy();
  }
}
