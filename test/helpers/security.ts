/**
 * Helpers for test/security/: the gullible fixture server behind the recorder (what reached it), the
 * audit trail (what was recorded), and raw clients of both eras that send what no SDK would.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditRecord } from '../../src/audit/record.ts';
import { MAIN, post, type TestGateway } from './gateway.ts';
import { auditTrail, GOVERNED, received as receivedBy, recordedServer as recordedServerOf, type ReceivedMessage } from './recorded.ts';

export { GOVERNED, pinned, RECORDER } from './recorded.ts';
export type Received = ReceivedMessage;

/** The governed fixture server behind the recorder, logging to `log` (pinned). */
export const recordedServer = (log: string) => recordedServerOf(log, GOVERNED);

/** Every message the server behind `log` received, in order. */
export const received = (log: string): Received[] => receivedBy(log);

/** What the gateway sends on its own account: the handshake, catalog listings, liveness, cancellations. */
const HOUSEKEEPING = new Set(['initialize', 'notifications/initialized', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'ping', 'notifications/cancelled']);

/** Messages that reached the server on a client's behalf (everything but the gateway's housekeeping). */
export function forwarded(log: string): Received[] {
  return received(log).filter((m) => m.method === undefined || !HOUSEKEEPING.has(m.method));
}

/** The records of a gateway's audit trail (the SQLite store in its data dir), oldest first. */
export function auditRecords(gw: TestGateway | string): AuditRecord[] {
  return auditTrail(typeof gw === 'string' ? gw : gw.gateway.config.dataDir!);
}

/** The records written after the first `skip` ones, whose code is `code`. */
export function refusalsSince(gw: TestGateway, skip: number, code: string): AuditRecord[] {
  return auditRecords(gw)
    .slice(skip)
    .filter((r) => r.code === code);
}

export interface RawSession {
  /** Posts one message (or any body) and returns the JSON-RPC answer (the last SSE event, or the JSON body). */
  send(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any }>;
}

function lastEvent(text: string): unknown {
  const data = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim())
    .filter((line) => line !== '');
  const last = data[data.length - 1];
  if (last === undefined) {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  return JSON.parse(last);
}

/** A legacy-era session over raw HTTP (initialize, then POSTs with its Mcp-Session-Id). */
export async function legacySession(url: string, version = '2025-11-25', clientName = 'raw-legacy'): Promise<RawSession> {
  const init = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: clientName, version: '1.0.0' } } }));
  const sid = init.headers.get('mcp-session-id');
  if (!sid) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const base = { 'mcp-session-id': sid, 'mcp-protocol-version': version };
  await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), base);
  return {
    async send(body, headers = {}) {
      const answer = await post(url, typeof body === 'string' ? body : JSON.stringify(body), { ...base, ...headers });
      return { status: answer.status, json: answer.json ?? lastEvent(answer.text) };
    },
  };
}

/** Only header values fetch can carry (ByteString, no controls) are sent as headers; others are left out. */
const headerSafe = (value: string): boolean => /^[\x20-\x7e]*$/.test(value) && value.trim() === value && value !== '';

/** Modern-era (2026-07-28) raw requests: the `_meta` envelope and the Mcp-Method / Mcp-Name headers added. */
export function modernSession(url: string): RawSession {
  return {
    async send(body, headers = {}) {
      let message = body as Record<string, any>;
      const extra: Record<string, string> = { 'mcp-protocol-version': '2026-07-28' };
      if (typeof body !== 'string' && body !== null && typeof body === 'object' && !Array.isArray(body)) {
        const params = message.params === undefined ? {} : message.params;
        if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
          const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, ...(params._meta ?? {}) };
          message = { ...message, params: { ...params, _meta: meta } };
        }
        if (typeof message.method === 'string' && headerSafe(message.method)) extra['mcp-method'] = message.method;
        const name = message.method === 'resources/read' ? message.params?.uri : message.params?.name;
        if (typeof name === 'string' && headerSafe(name)) extra['mcp-name'] = name;
      }
      const answer = await post(url, typeof body === 'string' ? body : JSON.stringify(message), { ...extra, ...headers });
      return { status: answer.status, json: answer.json ?? lastEvent(answer.text) };
    },
  };
}

/**
 * One raw session per endpoint and era a client can reach `server` through, labelled
 * `legacy /mcp/<server>`, `legacy /mcp`, `modern /mcp/<server>`, `modern /mcp`.
 */
export async function everyEndpoint(base: string, server: string): Promise<Record<string, RawSession>> {
  return {
    [`legacy /mcp/${server}`]: await legacySession(`${base}/mcp/${server}`),
    'legacy /mcp': await legacySession(`${base}/mcp`),
    [`modern /mcp/${server}`]: modernSession(`${base}/mcp/${server}`),
    'modern /mcp': modernSession(`${base}/mcp`),
  };
}

/** The gateway error code of an answer (`error.data.code`), or undefined for a result. */
export const codeOf = (answer: { json: any }): string | undefined => answer.json?.error?.data?.code;

export interface StdioFront {
  /** Every message the front wrote, in order. */
  readonly lines: any[];
  /** Answers by id. */
  readonly answers: Map<unknown, any>;
  /** Writes bytes as they are (no newline added). */
  write(bytes: Buffer | string): void;
  /** Writes one line: a message (as JSON) or raw bytes, then a newline. */
  send(message: unknown): void;
  /** Ends stdin and waits for the process to exit. */
  close(): Promise<void>;
}

/**
 * `portcullis stdio --server gov` as a client launches it, in front of the recorded fixture server
 * (logging to `log`), with a policy that allows only `echo`; its data (audit trail) under `dataDir`.
 */
export function startStdioFront(dir: string, log: string, dataDir: string): StdioFront {
  const config = join(dir, `stdio-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    config,
    `dataDir: ${JSON.stringify(dataDir)}\npolicy: { rules: [{ name: echo-only, effect: allow, servers: [gov], tools: [echo] }] }\nservers:\n  gov: ${JSON.stringify(recordedServer(log))}\n`,
  );
  const child = spawn(process.execPath, [MAIN, 'stdio', '-c', config, '--server', 'gov'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines: any[] = [];
  const answers = new Map<unknown, any>();
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    let at: number;
    while ((at = buffer.indexOf('\n')) !== -1) {
      const message = JSON.parse(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
      lines.push(message);
      if (message.id !== undefined) answers.set(message.id, message);
    }
  });
  return {
    lines,
    answers,
    write: (bytes) => void child.stdin!.write(bytes),
    send: (message) => void child.stdin!.write(Buffer.concat([Buffer.isBuffer(message) ? message : Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)), Buffer.from('\n')])),
    async close() {
      const exited = child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    },
  };
}
