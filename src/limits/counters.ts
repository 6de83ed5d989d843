/**
 * Every resource limit that acts — a server message over its size limit, a slow stream closed, a
 * session evicted, a request that did not arrive in time — is counted here for `/metrics`
 * (`portcullis_limit_hits_total{limit,server}`) and logged once per burst: the first hit of a kind
 * is logged at once, the hits that follow within `burstMs` only count, and one summary line says
 * how many there were. A flood therefore costs a counter increment per event, never a log line.
 */
import type { Logger } from 'pino';

export type LimitName =
  /** A server message (JSON body, SSE event, stdout line) over servers.<name>.maxMessageBytes. */
  | 'upstream_message_too_large'
  /** A server marked unhealthy after repeated oversized messages. */
  | 'upstream_unhealthy'
  /** stderr lines of a stdio server cut to their first bytes, or not logged past the rate. */
  | 'upstream_stderr_truncated'
  /** A legacy session evicted because its principal has listen.maxSessionsPerPrincipal. */
  | 'sessions_per_principal'
  /** A legacy session evicted because the gateway has listen.maxSessions. */
  | 'sessions_total'
  /** A resumable stream forgotten (listen.maxResumeBytesPerSession / maxResumeBytesTotal). */
  | 'resume_log_bytes'
  /** A notification not sent to a client that does not read (listen.maxStreamQueueBytes). */
  | 'stream_notification_dropped'
  /** A notification stream closed because its client does not read. */
  | 'stream_closed_slow'
  /** A notification stream closed because a kill switch now covers it or its credential was revoked or expired. */
  | 'stream_closed_revoked'
  /** Request headers or body not received within listen.headersTimeoutMs / requestTimeoutMs. */
  | 'request_timeout'
  /** A resources/subscribe refused by routing.subscriptions.maxPerSession / maxTotal. */
  | 'subscriptions'
  /** A subscriptions/listen stream ended because its principal has listen.maxListenStreamsPerPrincipal. */
  | 'listen_streams_per_principal'
  /** A subscriptions/listen stream ended because the gateway has listen.maxListenStreams. */
  | 'listen_streams_total';

interface Entry {
  limit: LimitName;
  server: string | undefined;
  count: number;
  /** Hits since the burst's first line, not yet logged. */
  suppressed: number;
  window: NodeJS.Timeout | undefined;
  message: string;
}

export interface LimitCounters {
  /** Records `count` hits of `limit`; logs `message` (with `details`) unless a burst of it is already logged. */
  hit(limit: LimitName, where: { server?: string | undefined }, message: string, details?: Record<string, unknown>, count?: number): void;
  /** Every counter, for /metrics. */
  entries(): ReadonlyArray<{ limit: LimitName; server: string | undefined; count: number }>;
  /** Stops the burst timers (their summaries are logged now). */
  close(): void;
}

export const BURST_MS = 10_000;

export function createLimitCounters(logger: Logger, burstMs = BURST_MS): LimitCounters {
  const entries = new Map<string, Entry>();

  function flush(entry: Entry): void {
    entry.window = undefined;
    if (entry.suppressed === 0) return;
    logger.warn(
      { limit: entry.limit, server: entry.server, hits: entry.suppressed, windowMs: burstMs },
      `${entry.message} (${entry.suppressed} more time${entry.suppressed === 1 ? '' : 's'} in the last ${Math.round(burstMs / 1000)} s)`,
    );
    entry.suppressed = 0;
    // A flood that goes on keeps one summary line per window.
    open(entry);
  }

  function open(entry: Entry): void {
    entry.window = setTimeout(() => flush(entry), burstMs);
    entry.window.unref();
  }

  return {
    hit(limit, where, message, details = {}, count = 1) {
      const key = `${limit}\u0000${where.server ?? ''}`;
      let entry = entries.get(key);
      if (!entry) {
        entry = { limit, server: where.server, count: 0, suppressed: 0, window: undefined, message };
        entries.set(key, entry);
      }
      entry.count += count;
      entry.message = message;
      if (entry.window) {
        entry.suppressed += count;
        return;
      }
      logger.warn({ limit, server: where.server, ...details }, message);
      open(entry);
    },
    entries() {
      return [...entries.values()].map(({ limit, server, count }) => ({ limit, server, count }));
    },
    close() {
      for (const entry of entries.values()) {
        clearTimeout(entry.window);
        if (entry.suppressed > 0) flush(entry);
        clearTimeout(entry.window);
        entry.window = undefined;
      }
    },
  };
}

/** The counters as Prometheus text lines. */
export function limitMetricLines(counters: LimitCounters | undefined): string[] {
  const lines = ['# TYPE portcullis_limit_hits_total counter'];
  for (const { limit, server, count } of counters?.entries() ?? []) {
    lines.push(`portcullis_limit_hits_total{limit="${limit}"${server === undefined ? '' : `,server="${labelValue(server)}"`}} ${count}`);
  }
  return lines;
}

/** A Prometheus label value, escaped (text format: backslash, double quote and newline). */
export function labelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}
