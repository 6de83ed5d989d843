/**
 * Server-Sent Events: an incremental parser (WHATWG HTML §9.2.6 "event stream interpretation") and a
 * frame writer. Only `event`, `data`, `id` and `retry` fields matter to MCP; comments are skipped.
 */

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
  /** A `retry` field (reconnection delay in ms) seen since the previous event. */
  retryMs?: number;
}

export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #retryMs: number | undefined;

  /** Feeds a chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const events: SseEvent[] = [];
    let newline: number;
    while ((newline = this.#nextLineEnd()) !== -1) {
      let line = this.#buffer.slice(0, newline);
      const skip = this.#buffer[newline] === '\r' && this.#buffer[newline + 1] === '\n' ? 2 : 1;
      this.#buffer = this.#buffer.slice(newline + skip);
      if (line === '') {
        if (this.#data.length > 0) {
          const event: SseEvent = { event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id };
          if (this.#retryMs !== undefined) event.retryMs = this.#retryMs;
          this.#retryMs = undefined;
          events.push(event);
        }
        this.#data = [];
        this.#event = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      line = '';
      if (field === 'data') this.#data.push(value);
      else if (field === 'event') this.#event = value;
      else if (field === 'id' && !value.includes('\0')) this.#id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.#retryMs = Number(value);
    }
    return events;
  }

  #nextLineEnd(): number {
    const n = this.#buffer.indexOf('\n');
    const r = this.#buffer.indexOf('\r');
    if (r === -1) return n;
    if (n === -1) return r === this.#buffer.length - 1 ? -1 : r; // a lone trailing \r may be half of \r\n
    return Math.min(n, r);
  }
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
 * Events whose data is empty (priming) or not a JSON object yield `message: undefined`.
 */
export async function* readSseMessages(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ event: SseEvent; message: Record<string, unknown> | undefined }> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
      let message: Record<string, unknown> | undefined;
      if (event.event === 'message' && event.data !== '') {
        try {
          const parsed: unknown = JSON.parse(event.data);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) message = parsed as Record<string, unknown>;
        } catch {
          message = undefined;
        }
      }
      yield { event, message };
    }
  }
}
