/**
 * Secondary audit sinks: copies of each stored record for where the SOC looks. The primary store is
 * authoritative (a call waits for it and fails closed on it); sinks are best effort, batched off the
 * hot path, with a bounded queue — when a sink cannot keep up, the oldest queued records are dropped
 * and counted, never held in unbounded memory, and never allowed to slow or block a call.
 *
 * - `otlp`: OpenTelemetry logs over OTLP/HTTP JSON (`POST <url>/v1/logs`), one log record per audit
 *   record, with attributes from the GenAI and MCP semantic conventions where they exist
 *   (`gen_ai.operation.name`, `gen_ai.tool.name`, `mcp.method.name`, `mcp.session.id`,
 *   `jsonrpc.request.id`, `error.type`) and `portcullis.*` for the rest; the body is the record.
 * - `jsonl` / `stdout`: the record as one JSON line.
 */
import type { Logger } from 'pino';
import { canonicalJson } from './canonical.ts';
import { JsonlAuditStore } from './jsonl-store.ts';
import type { AuditRecord } from './record.ts';
import type { Principal } from '../auth/principal.ts';

export interface AuditSink {
  readonly name: string;
  /** `principal`: the verified caller the record is about, when the record was made from a call (the monitor keys on it). */
  push(record: AuditRecord, principal?: Principal): void;
  /** Records dropped because the sink could not keep up (or failed). */
  readonly dropped: number;
  /** Records waiting to be delivered (the backlog). */
  readonly queued: number;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const MAX_QUEUE = 10_000;
const BATCH = 500;
const INTERVAL_MS = 1000;

type Attribute = { key: string; value: { stringValue?: string; intValue?: string; doubleValue?: number } };

function attributes(record: AuditRecord): Attribute[] {
  const out: Attribute[] = [];
  const add = (key: string, value: string | number | undefined | null) => {
    if (value === undefined || value === null) return;
    out.push({ key, value: typeof value === 'number' ? (Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }) : { stringValue: value } });
  };
  add('mcp.method.name', record.method);
  if (record.method === 'tools/call') {
    add('gen_ai.operation.name', 'execute_tool');
    add('gen_ai.tool.name', record.target);
  }
  add('mcp.session.id', record.session);
  add('jsonrpc.request.id', record.requestId === null ? undefined : String(record.requestId));
  add('error.type', record.code);
  add('portcullis.decision', record.decision);
  add('portcullis.server', record.server);
  add('portcullis.agent', record.principal.agent);
  add('portcullis.subject', record.principal.subject);
  add('portcullis.audit.instance', record.instance);
  add('portcullis.audit.seq', record.seq);
  add('portcullis.audit.hash', record.hash);
  // The attribute keeps its name; the scheme says what the value is (audit/args-hash.ts).
  add('portcullis.args.sha256', record.argsHash);
  add('portcullis.args.hash_scheme', record.argsHashScheme);
  add('portcullis.latency_ms', record.latencyMs);
  add('client.address', record.address);
  add('portcullis.alert.id', record.alert?.id);
  add('portcullis.alert.severity', record.alert?.severity);
  return out;
}

export class OtlpSink implements AuditSink {
  readonly name = 'otlp';
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #logger: Logger;
  readonly #timer: NodeJS.Timeout;
  #queue: AuditRecord[] = [];
  #dropped = 0;
  #sending: Promise<void> | undefined;

  constructor(url: string, headers: Record<string, string>, logger: Logger) {
    this.#url = `${url.replace(/\/+$/, '')}/v1/logs`;
    this.#headers = headers;
    this.#logger = logger;
    this.#timer = setInterval(() => void this.flush(), INTERVAL_MS);
    this.#timer.unref();
  }

  get dropped(): number {
    return this.#dropped;
  }

  get queued(): number {
    return this.#queue.length;
  }

  push(record: AuditRecord): void {
    this.#queue.push(record);
    if (this.#queue.length > MAX_QUEUE) {
      this.#queue.shift();
      this.#dropped += 1;
    }
    if (this.#queue.length >= BATCH) void this.flush();
  }

  flush(): Promise<void> {
    if (this.#sending) return this.#sending;
    if (this.#queue.length === 0) return Promise.resolve();
    const batch = this.#queue.splice(0, BATCH);
    this.#sending = this.#send(batch).finally(() => {
      this.#sending = undefined;
    });
    return this.#sending;
  }

  async #send(batch: AuditRecord[]): Promise<void> {
    const body = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'portcullis' } }] },
          scopeLogs: [
            {
              scope: { name: 'portcullis.audit', version: '1' },
              logRecords: batch.map((record) => {
                const nanos = `${BigInt(Date.parse(record.time)) * 1_000_000n}`;
                return {
                  timeUnixNano: nanos,
                  observedTimeUnixNano: nanos,
                  severityNumber: record.decision === 'allowed' || record.decision === 'intent' ? 9 : 13,
                  severityText: record.decision === 'allowed' || record.decision === 'intent' ? 'INFO' : 'WARN',
                  body: { stringValue: canonicalJson(record) },
                  attributes: attributes(record),
                };
              }),
            },
          ],
        },
      ],
    };
    try {
      const response = await fetch(this.#url, { method: 'POST', headers: { ...this.#headers, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      this.#dropped += batch.length;
      this.#logger.warn({ sink: 'otlp', err: (error as Error).message, dropped: batch.length }, 'audit sink could not deliver; records dropped from the sink (the primary store has them)');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#queue.length > 0 || this.#sending) await this.flush();
  }
}

/** A JSON Lines file or stdout as a sink (writes are synchronous and cheap; no queue needed). */
export class LinesSink implements AuditSink {
  readonly name: string;
  readonly #out: JsonlAuditStore;
  #dropped = 0;

  constructor(path: string | undefined) {
    this.#out = new JsonlAuditStore(path);
    this.name = path ? 'jsonl' : 'stdout';
  }

  get dropped(): number {
    return this.#dropped;
  }

  readonly queued = 0;

  push(record: AuditRecord): void {
    this.#out.append(record).catch(() => {
      this.#dropped += 1;
    });
  }

  async flush(): Promise<void> {}

  close(): Promise<void> {
    return this.#out.close();
  }
}
