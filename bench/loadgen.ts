/**
 * A dependency-light MCP load generator on undici's connection pool (never `fetch` or Node's http
 * client as the generator: they saturate first on this machine). One request in flight per connection.
 *
 * - closed loop: `concurrency` clients, each sends its next request when the previous answer is in;
 * - open loop: requests are scheduled at a fixed rate and latency is measured from the *scheduled*
 *   send time, so a stalled target cannot hide its queueing (no coordinated omission).
 */
import { Pool } from 'undici';

export type Era = 'legacy' | 'modern';

export interface Target {
  /** Base origin and path of the MCP endpoint, e.g. http://127.0.0.1:8787/mcp/echo */
  url: string;
  era: Era;
  /** Sent with every request (e.g. Authorization). */
  headers?: Record<string, string>;
}

export interface Workload {
  name: string;
  method: string;
  params: Record<string, unknown>;
}

export interface CellResult {
  requests: number;
  errors: number;
  durationMs: number;
  achievedRps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /** The first error body seen, to explain a failing cell. */
  firstError?: string;
}

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';

export class Client {
  readonly #pool: Pool;
  readonly #path: string;
  readonly #era: Era;
  readonly #headers: Record<string, string>;

  constructor(target: Target, connections: number) {
    this.#headers = target.headers ?? {};
    const url = new URL(target.url);
    this.#pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
    this.#path = url.pathname;
    this.#era = target.era;
  }

  /** Opens a legacy session (initialize + initialized); returns the headers every later request needs. */
  async session(): Promise<Record<string, string>> {
    if (this.#era === 'modern') return {};
    const init = await this.#post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }, {});
    const sid = init.headers['mcp-session-id'];
    const headers: Record<string, string> = { 'mcp-protocol-version': LEGACY };
    if (typeof sid === 'string') headers['mcp-session-id'] = sid;
    await this.#post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    return headers;
  }

  async #post(body: unknown, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const response = await this.#pool.request({
      path: this.#path,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...this.#headers, ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text };
  }

  /** One call; resolves with an error description or undefined. */
  async call(workload: Workload, sessionHeaders: Record<string, string>, id: number): Promise<string | undefined> {
    let params = workload.params;
    let headers = sessionHeaders;
    if (this.#era === 'modern') {
      params = {
        ...params,
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} },
      };
      headers = { 'mcp-protocol-version': MODERN, 'mcp-method': workload.method };
      if (typeof workload.params.name === 'string') headers['mcp-name'] = workload.params.name;
    }
    const response = await this.#post({ jsonrpc: '2.0', id, method: workload.method, params }, headers);
    if (response.status !== 200) return `HTTP ${response.status}: ${response.text.slice(0, 200)}`;
    // A JSON-RPC error counts as an answer for workloads that expect one (denied calls), so only
    // transport failures are errors here; the cell's workload decides what the answer must be.
    if (!response.text.includes(`"id":${id}`)) return `no answer for id ${id}: ${response.text.slice(0, 200)}`;
    return undefined;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

function summarize(latencies: number[], errors: number, durationMs: number, firstError: string | undefined): CellResult {
  const sorted = Float64Array.from(latencies).sort();
  const result: CellResult = {
    requests: latencies.length,
    errors,
    durationMs,
    achievedRps: (latencies.length / durationMs) * 1000,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
  };
  if (firstError) result.firstError = firstError;
  return result;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Closed loop: `concurrency` clients, each with its own session, for `durationMs` after `warmupMs`. */
export async function closedLoop(target: Target, workload: Workload, concurrency: number, durationMs: number, warmupMs: number): Promise<CellResult> {
  const client = new Client(target, concurrency);
  try {
    const sessions = await Promise.all(Array.from({ length: concurrency }, () => client.session()));
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let id = 1;
    const start = nowMs();
    const measureFrom = start + warmupMs;
    const stopAt = measureFrom + durationMs;
    await Promise.all(
      sessions.map(async (headers) => {
        while (nowMs() < stopAt) {
          const sent = nowMs();
          const error = await client.call(workload, headers, id++).catch((e: Error) => e.message);
          const done = nowMs();
          if (sent < measureFrom) continue;
          if (error) {
            errors += 1;
            firstError ??= error;
          } else latencies.push(done - sent);
        }
      }),
    );
    return summarize(latencies, errors, durationMs, firstError);
  } finally {
    await client.close();
  }
}

/** Open loop: `rps` requests per second, latency from each request's scheduled send time. */
export async function openLoop(target: Target, workload: Workload, rps: number, durationMs: number, warmupMs: number): Promise<CellResult> {
  const connections = 64;
  const client = new Client(target, connections);
  try {
    const sessions = await Promise.all(Array.from({ length: 16 }, () => client.session()));
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    const interval = 1000 / rps;
    const start = nowMs();
    const measureFrom = start + warmupMs;
    const total = Math.floor(((warmupMs + durationMs) / 1000) * rps);
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const scheduled = start + i * interval;
      const wait = scheduled - nowMs();
      if (wait > 2) await new Promise((resolve) => setTimeout(resolve, wait - 1));
      // Timers may fire early; never send before the scheduled time (latency is measured from it).
      // setImmediate yields to I/O, so answers keep being read while we wait.
      while (nowMs() < scheduled) await new Promise((resolve) => setImmediate(resolve));
      const headers = sessions[i % sessions.length]!;
      inflight.push(
        client.call(workload, headers, i + 1).then(
          (error) => {
            if (scheduled < measureFrom) return;
            if (error) {
              errors += 1;
              firstError ??= error;
            } else latencies.push(nowMs() - scheduled);
          },
          (error: Error) => {
            errors += 1;
            firstError ??= error.message;
          },
        ),
      );
    }
    await Promise.all(inflight);
    const measured = nowMs() - measureFrom;
    const result = summarize(latencies, errors, measured, firstError);
    return result;
  } finally {
    await client.close();
  }
}
