/**
 * Server-Sent Events: an incremental parser (WHATWG HTML §9.2.6 "event stream interpretation") and a
 * frame writer. Only `event`, `data`, `id` and `retry` fields matter to MCP; comments are skipped.
 *
 * The parser works on bytes and is bounded: a server that never ends a line, or never ends an event
 * (data lines without the blank line), cannot make it hold more than `maxEventBytes`. Each byte is
 * looked at once (line ends are searched in the new bytes only), so a long line costs linear time.
 */
import { chunksOf } from '../util/chunks.ts';
import { assertJsonDepth } from './jsonrpc.ts';

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
  /** A `retry` field (reconnection delay in ms) seen since the previous event. */
  retryMs?: number;
}

/** An event (or a line) grew past the parser's limit; the stream cannot be read further. */
export class SseEventTooLarge extends Error {
  readonly maxEventBytes: number;
  /** The first bytes of the oversized event, to attribute it (the JSON-RPC id is often near the start). */
  readonly head: string;
  constructor(maxEventBytes: number, head: string) {
    super(`an SSE event exceeds ${maxEventBytes} bytes`);
    this.name = 'SseEventTooLarge';
    this.maxEventBytes = maxEventBytes;
    this.head = head;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const NEWLINE = Buffer.from('\n');
const HEAD_BYTES = 256;
/** Without a limit (tests, trusted input) the parser still refuses past this. */
export const SSE_DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;

export class SseParser {
  readonly #max: number;
  /** Bytes of the line not yet ended (chunks kept as received). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes of the event being built (its data, event and id lines). */
  #eventBytes = 0;
  /**
   * The event's data so far, as byte slices with a LF between lines: decoded once, when the event is
   * complete (never, if it is dropped). Slices are not copied unless they would pin a much larger chunk.
   */
  #data: Buffer[] = [];
  /** Data lines in the event (an empty `data:` line counts: it makes an event with empty data). */
  #dataLines = 0;
  #event = '';
  #id: string | undefined;
  #retryMs: number | undefined;
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  #afterCr = false;
  #started = false;

  constructor(options: { maxEventBytes?: number } = {}) {
    this.#max = options.maxEventBytes ?? SSE_DEFAULT_MAX_EVENT_BYTES;
  }

  /** Feeds a chunk; returns the events it completed. Throws `SseEventTooLarge` past the limit. */
  push(input: Uint8Array | string): SseEvent[] {
    let chunk = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (!this.#started && chunk.length > 0) {
      this.#started = true;
      // A leading UTF-8 byte order mark is not part of the stream (§9.2.6).
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const events: SseEvent[] = [];
    let start = 0;
    if (this.#afterCr) {
      this.#afterCr = false;
      if (chunk[0] === LF) start = 1;
    }
    // Next positions of LF and CR, each found once and reused until passed, so a chunk of many lines
    // without one of them is not rescanned for every line.
    let nextLf = -2;
    let nextCr = -2;
    while (start < chunk.length) {
      if (nextLf !== -1 && nextLf < start) nextLf = chunk.indexOf(LF, start);
      if (nextCr !== -1 && nextCr < start) nextCr = chunk.indexOf(CR, start);
      const end = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      if (end === -1) break;
      const lineBytes = this.#pendingBytes + (end - start);
      this.#check(lineBytes, chunk.subarray(start, end));
      const parts = this.#pending;
      parts.push(chunk.subarray(start, end));
      this.#pending = [];
      this.#pendingBytes = 0;
      start = end + 1;
      if (chunk[end] === CR) {
        if (end + 1 === chunk.length) this.#afterCr = true;
        else if (chunk[end + 1] === LF) start = end + 2;
      }
      this.#line(parts, lineBytes, events);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#check(this.#pendingBytes + rest.length, rest);
      this.#pending.push(rest);
      this.#pendingBytes += rest.length;
    }
    return events;
  }

  /** Throws when a line of `lineBytes` would take the event past the limit. */
  #check(lineBytes: number, tail: Buffer): void {
    if (this.#eventBytes + lineBytes <= this.#max) return;
    const first = this.#data.length > 0 ? this.#data : [...this.#pending, tail];
    const head = prefix(first, HEAD_BYTES).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#data = [];
    this.#dataLines = 0;
    throw new SseEventTooLarge(this.#max, head);
  }

  /** One line, as the slices it arrived in (`length` bytes in all). */
  #line(parts: Buffer[], length: number, events: SseEvent[]): void {
    if (length === 0) {
      if (this.#dataLines > 0) {
        const event: SseEvent = { event: this.#event || 'message', data: Buffer.concat(this.#data).toString('utf8'), id: this.#id };
        if (this.#retryMs !== undefined) event.retryMs = this.#retryMs;
        this.#retryMs = undefined;
        events.push(event);
      }
      this.#data = [];
      this.#dataLines = 0;
      this.#event = '';
      this.#eventBytes = 0;
      return;
    }
    const start = prefix(parts, 6);
    if (start[0] === COLON) return;
    if (start.toString('latin1', 0, 4) === 'data' && (length === 4 || start[4] === COLON)) {
      // Only what the event keeps counts towards its size: comments and unknown fields are dropped.
      this.#eventBytes += length;
      if (this.#dataLines++ > 0) this.#data.push(NEWLINE);
      let skip = length === 4 ? 4 : start[5] === SPACE ? 6 : 5;
      for (const part of parts) {
        if (skip >= part.length) {
          skip -= part.length;
          continue;
        }
        const value = skip > 0 ? part.subarray(skip) : part;
        skip = 0;
        // A small slice of a large chunk is copied: kept as a slice it would pin the whole chunk, and
        // padding between short data lines (comments, which do not count) could pin far past the limit.
        this.#data.push(value.length * 4 < value.buffer.byteLength ? Buffer.from(value) : value);
      }
      return;
    }
    const line = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') {
      this.#event = value;
      this.#eventBytes += length;
    } else if (field === 'id' && !value.includes('\0')) this.#id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.#retryMs = Number(value);
  }
}

/** The first `bytes` bytes of a list of slices (fewer if there are not so many). */
function prefix(parts: readonly Buffer[], bytes: number): Buffer {
  const first = parts[0];
  if (first && first.length >= bytes) return first.subarray(0, bytes);
  const taken: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    if (size >= bytes) break;
    taken.push(part.subarray(0, bytes - size));
    size += Math.min(part.length, bytes - size);
  }
  return Buffer.concat(taken);
}

export function sseFrame(data: string, options: { event?: string; id?: string } = {}): string {
  let frame = '';
  if (options.id !== undefined) frame += `id: ${options.id}\n`;
  if (options.event !== undefined) frame += `event: ${options.event}\n`;
  for (const line of data.split('\n')) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/**
 * The JSON messages of an SSE body, with each event's id and retry, for callers that resume streams.
 * Events whose data is empty (priming) or not a JSON object yield `message: undefined`; one whose data
 * is a JSON array (a JSON-RPC batch, which MCP dropped in 2025-06-18) also yields it as `batch`, so the
 * reader can fail the calls it answers at once rather than let them wait for their timeout. Throws
 * `SseEventTooLarge` when an event exceeds `maxEventBytes`; the caller drops the connection.
 */
export async function* readSseMessages(
  body: AsyncIterable<Uint8Array>,
  options: { maxEventBytes?: number } = {},
): AsyncGenerator<{ event: SseEvent; message: Record<string, unknown> | undefined; batch?: unknown[] }> {
  const parser = new SseParser(options);
  for await (const chunk of chunksOf(body)) {
    for (const event of parser.push(chunk)) {
      let message: Record<string, unknown> | undefined;
      let batch: unknown[] | undefined;
      if (event.event === 'message' && event.data !== '') {
        try {
          assertJsonDepth(event.data, 'event');
          const parsed: unknown = JSON.parse(event.data);
          if (Array.isArray(parsed)) batch = parsed;
          else if (typeof parsed === 'object' && parsed !== null) message = parsed as Record<string, unknown>;
        } catch {
          message = undefined;
        }
      }
      yield batch ? { event, message, batch } : { event, message };
    }
  }
}

/** The ids of the responses in a JSON-RPC batch (what calls it would have answered). */
export function batchResponseIds(batch: readonly unknown[]): Array<string | number> {
  const ids: Array<string | number> = [];
  for (const item of batch) {
    if (typeof item !== 'object' || item === null || !('result' in item || 'error' in item)) continue;
    const id = (item as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') ids.push(id);
  }
  return ids;
}
