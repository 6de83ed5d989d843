/**
 * Raw downstream clients for the isolation tests, which must see every byte a caller receives — not
 * what an SDK chooses to surface: a legacy session (initialize, a GET stream read from the start, POSTs
 * whose SSE streams are read to the end, server→client requests answered by a handler) and single
 * modern-era requests. API keys for two callers are made directly in the identity store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import { SseParser } from '../../src/protocol/sse.ts';
import { waitFor } from './gateway.ts';

type Message = Record<string, any>;

/** A fresh data directory holding one API key (valid for a day) per agent name. */
export function dataDirWithKeys(agents: readonly string[]): { dataDir: string; keys: Record<string, string> } {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-data-'));
  const store = new IdentityStore(identityDbPath(dataDir));
  const keys: Record<string, string> = {};
  for (const agent of agents) keys[agent] = store.createKey(agent, [], new Date(Date.now() + 86_400_000)).key;
  store.close();
  return { dataDir, keys };
}

async function* messagesOf(response: Response): AsyncGenerator<Message> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) {
    const text = await response.text();
    if (text !== '') yield JSON.parse(text) as Message;
    return;
  }
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (event.data !== '') yield JSON.parse(event.data) as Message;
    }
  }
}

export interface LegacySession {
  readonly id: string;
  /** Every message this session received, on its GET stream and on its POST streams, in order. */
  readonly received: Message[];
  /** Sends a request and returns its JSON-RPC response (error responses too); `id` names it (default: a counter). */
  request(method: string, params?: Record<string, unknown>, id?: string | number): Promise<Message>;
  /** Sends a notification (e.g. notifications/cancelled for a request sent with an `id`). */
  notify(method: string, params?: Record<string, unknown>): Promise<void>;
  /** Resolves when the session's GET stream ends (the gateway closed it, or `close`). */
  readonly streamEnded: Promise<void>;
  /** Resolves once a received message satisfies `check`. */
  until(check: (m: Message) => boolean, what: string, timeoutMs?: number): Promise<Message>;
  close(): Promise<void>;
}

export interface LegacySessionOptions {
  headers?: Record<string, string>;
  name?: string;
  capabilities?: Record<string, unknown>;
  /** Answers server→client requests (sampling, elicitation); absent: they are refused. */
  onRequest?: (request: Message) => unknown;
}

/** A legacy (2025-11-25) session with its GET stream open. */
export async function openLegacySession(endpoint: string, options: LegacySessionOptions = {}): Promise<LegacySession> {
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...options.headers };
  const init = await fetch(endpoint, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: options.capabilities ?? {}, clientInfo: { name: options.name ?? 'raw', version: '1' } } }),
  });
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${await init.text()}`);
  await init.text();
  const id = init.headers.get('mcp-session-id')!;
  const headers = { ...base, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  const received: Message[] = [];
  const send = (body: unknown) => fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
  await (await send({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
  const abort = new AbortController();
  const get = await fetch(endpoint, { headers: { ...headers, accept: 'text/event-stream' }, signal: abort.signal });
  if (get.status !== 200) throw new Error(`GET stream answered ${get.status}`);
  const streamEnded = (async () => {
    for await (const message of messagesOf(get)) received.push(message);
  })().catch(() => undefined);
  let nextId = 1;
  const session: LegacySession = {
    id,
    received,
    streamEnded,
    async request(method, params, id) {
      const requestId = id ?? nextId++;
      const response = await send({ jsonrpc: '2.0', id: requestId, method, ...(params ? { params } : {}) });
      let answer: Message | undefined;
      for await (const message of messagesOf(response)) {
        received.push(message);
        if (message.id === requestId && ('result' in message || 'error' in message)) answer = message;
        else if (typeof message.method === 'string' && message.id !== undefined) {
          const reply = options.onRequest
            ? { jsonrpc: '2.0', id: message.id, result: await options.onRequest(message) }
            : { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'not supported by this client' } };
          await (await send(reply)).text();
        }
      }
      if (!answer) throw new Error(`no answer to ${method}`);
      return answer;
    },
    async notify(method, params) {
      await (await send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) })).text();
    },
    until(check, what, timeoutMs = 10_000) {
      return waitFor(() => received.find(check), timeoutMs, what);
    },
    async close() {
      abort.abort();
      await fetch(endpoint, { method: 'DELETE', headers }).then((r) => r.text()).catch(() => undefined);
    },
  };
  // The GET stream is registered with the session once its headers are sent; a message sent before
  // that would have nowhere to go, so tests start after this.
  return session;
}

/** One modern-era (2026-07-28) request; returns the JSON-RPC response and the HTTP status. */
export async function modernRequest(
  endpoint: string,
  method: string,
  params: Record<string, any>,
  headers: Record<string, string> = {},
  capabilities: Record<string, unknown> = { elicitation: { form: {} }, sampling: {} },
): Promise<{ status: number; body: Message }> {
  const body = {
    jsonrpc: '2.0',
    id: Math.floor(Math.random() * 1e9),
    method,
    params: {
      ...params,
      _meta: {
        ...(params._meta ?? {}),
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' },
        'io.modelcontextprotocol/clientCapabilities': capabilities,
      },
    },
  };
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(name !== undefined ? { 'mcp-name': name } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  let answer: Message | undefined;
  for await (const message of messagesOf(response)) if ('result' in message || 'error' in message) answer = message;
  if (!answer) throw new Error(`no answer to ${method} (HTTP ${response.status})`);
  return { status: response.status, body: answer };
}
