/**
 * `GET /metrics`: process and gateway gauges in the Prometheus text format, for operators and for the
 * benchmark. Event-loop delay percentiles cover a rolling window (the last `WINDOW_MS`), so a scrape
 * shows current pressure rather than an average since start.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { labelValue, limitMetricLines, type LimitCounters } from '../limits/counters.ts';
import type { IsolationStats } from '../gateway.ts';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

const WINDOW_MS = 5_000;

export interface MetricsSource {
  sessions: () => number;
  audit: () => { healthy: boolean; budgetDropped: number; refusalsUnrecorded?: { anonymous: number; identified: number }; sinks: Record<string, { dropped: number; queued: number }> } | undefined;
  upstreams: () => Array<{ name: string; state: string }>;
  /** Data-loss prevention: findings by "type|action", refusals by direction. */
  dlp?: () => { findings: ReadonlyMap<string, number>; refused: ReadonlyMap<string, number> };
  /** Bytes kept for resuming cut legacy streams. */
  resumeBytes?: () => number;
  /** Every resource limit that acted. */
  limits?: () => LimitCounters;
  isolation?: () => IsolationStats;
  /** Human approval (docs/approvals.md): requests waiting in the queue, and those refused for a full queue. */
  approvals?: () => { pending: number; refused: number };
  /** The behaviour monitor (docs/monitor.md): alerts raised by kind, principals tracked, alerts over the per-minute cap. */
  monitor?: () => { alerts: ReadonlyMap<string, number>; principals: number; capped: number } | undefined;
  /** Open registration at the embedded authorization server: refused by rate or a full store, clients deleted to make room. */
  registrations?: () => { refusedRate: number; refusedFull: number; evicted: number } | undefined;
}

export class Metrics {
  readonly #histogram: IntervalHistogram;
  #previous: { p50: number; p99: number; max: number } = { p50: 0, p99: 0, max: 0 };
  readonly #timer: NodeJS.Timeout;
  requests = 0;
  /** Requests refused for a missing or invalid credential (401). */
  authRefused = 0;

  constructor() {
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#timer = setInterval(() => {
      this.#previous = { p50: this.#histogram.percentile(50), p99: this.#histogram.percentile(99), max: this.#histogram.max };
      this.#histogram.reset();
    }, WINDOW_MS);
    this.#timer.unref();
  }

  render(source: MetricsSource): string {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const seconds = (ns: number) => (ns / 1e9).toFixed(6);
    const lines = [
      '# TYPE process_cpu_user_seconds_total counter',
      `process_cpu_user_seconds_total ${(cpu.user / 1e6).toFixed(6)}`,
      '# TYPE process_cpu_system_seconds_total counter',
      `process_cpu_system_seconds_total ${(cpu.system / 1e6).toFixed(6)}`,
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${memory.rss}`,
      '# TYPE nodejs_heap_used_bytes gauge',
      `nodejs_heap_used_bytes ${memory.heapUsed}`,
      '# TYPE nodejs_eventloop_delay_seconds gauge',
      `nodejs_eventloop_delay_seconds{quantile="0.5",window="5s"} ${seconds(this.#previous.p50)}`,
      `nodejs_eventloop_delay_seconds{quantile="0.99",window="5s"} ${seconds(this.#previous.p99)}`,
      `nodejs_eventloop_delay_seconds{quantile="1",window="5s"} ${seconds(this.#previous.max)}`,
      '# TYPE portcullis_http_requests_total counter',
      `portcullis_http_requests_total ${this.requests}`,
      '# TYPE portcullis_auth_refused_total counter',
      `portcullis_auth_refused_total ${this.authRefused}`,
      '# TYPE portcullis_sessions_active gauge',
      `portcullis_sessions_active ${source.sessions()}`,
      '# TYPE portcullis_resume_bytes gauge',
      `portcullis_resume_bytes ${source.resumeBytes?.() ?? 0}`,
      ...limitMetricLines(source.limits?.()),
      ...auditLines(source.audit()),
      '# TYPE portcullis_upstream_up gauge',
      ...source.upstreams().map((u) => `portcullis_upstream_up{server="${labelValue(u.name)}",state="${u.state}"} ${u.state === 'ready' ? 1 : 0}`),
      ...dlpLines(source.dlp?.()),
      ...isolationLines(source.isolation?.()),
      ...approvalLines(source.approvals?.()),
      ...monitorLines(source.monitor?.()),
      ...registrationLines(source.registrations?.()),
    ];
    return `${lines.join('\n')}\n`;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }
}

function registrationLines(counts: { refusedRate: number; refusedFull: number; evicted: number } | undefined): string[] {
  if (!counts) return [];
  return [
    '# TYPE portcullis_registrations_refused_total counter',
    `portcullis_registrations_refused_total{reason="rate"} ${counts.refusedRate}`,
    `portcullis_registrations_refused_total{reason="full"} ${counts.refusedFull}`,
    '# TYPE portcullis_registrations_evicted_total counter',
    `portcullis_registrations_evicted_total ${counts.evicted}`,
  ];
}

function isolationLines(stats: IsolationStats | undefined): string[] {
  if (!stats) return [];
  return [
    '# HELP portcullis_unattributed_total Server messages no caller could be found for: notifications dropped, requests refused',
    '# TYPE portcullis_unattributed_total counter',
    ...stats.unattributed.map((u) => `portcullis_unattributed_total{server="${u.server}",kind="${u.kind}"} ${u.count}`),
    '# TYPE portcullis_parked_calls gauge',
    `portcullis_parked_calls ${stats.parkedCalls}`,
    '# TYPE portcullis_parked_refused_total counter',
    `portcullis_parked_refused_total ${stats.parkedRefused}`,
    '# TYPE portcullis_parked_expired_total counter',
    `portcullis_parked_expired_total ${stats.parkedExpired}`,
    '# TYPE portcullis_tasks_tracked gauge',
    `portcullis_tasks_tracked ${stats.tasksTracked}`,
    '# HELP portcullis_task_unknown_total tasks/get, tasks/result or tasks/cancel naming a task the caller does not own',
    '# TYPE portcullis_task_unknown_total counter',
    `portcullis_task_unknown_total ${stats.taskUnknownLookups}`,
    '# TYPE portcullis_upstream_sessions gauge',
    ...stats.upstreamSessions.map((u) => `portcullis_upstream_sessions{server="${u.server}"} ${u.sessions}`),
  ];
}

function approvalLines(approvals: { pending: number; refused: number } | undefined): string[] {
  if (!approvals) return [];
  return [
    '# TYPE portcullis_approvals_pending gauge',
    `portcullis_approvals_pending ${approvals.pending}`,
    '# TYPE portcullis_approvals_refused_total counter',
    `portcullis_approvals_refused_total ${approvals.refused}`,
  ];
}

function auditLines(audit: { healthy: boolean; budgetDropped: number; refusalsUnrecorded?: { anonymous: number; identified: number }; sinks: Record<string, { dropped: number; queued: number }> } | undefined): string[] {
  if (!audit) return ['# TYPE portcullis_audit_up gauge', 'portcullis_audit_up{store="off"} 0'];
  return [
    '# TYPE portcullis_audit_up gauge',
    `portcullis_audit_up ${audit.healthy ? 1 : 0}`,
    '# TYPE portcullis_audit_budget_dropped_total counter',
    `portcullis_audit_budget_dropped_total ${audit.budgetDropped}`,
    '# HELP portcullis_audit_refusals_unrecorded_total Refusals at the front not written because their class\'s budget was empty (summed up in the trail; identified callers\' still reach the monitor)',
    '# TYPE portcullis_audit_refusals_unrecorded_total counter',
    `portcullis_audit_refusals_unrecorded_total{class="anonymous"} ${audit.refusalsUnrecorded?.anonymous ?? 0}`,
    `portcullis_audit_refusals_unrecorded_total{class="identified"} ${audit.refusalsUnrecorded?.identified ?? 0}`,
    '# TYPE portcullis_audit_sink_dropped_total counter',
    ...Object.entries(audit.sinks).map(([sink, s]) => `portcullis_audit_sink_dropped_total{sink="${sink}"} ${s.dropped}`),
    '# TYPE portcullis_audit_sink_queued gauge',
    ...Object.entries(audit.sinks).map(([sink, s]) => `portcullis_audit_sink_queued{sink="${sink}"} ${s.queued}`),
  ];
}

function dlpLines(dlp: { findings: ReadonlyMap<string, number>; refused: ReadonlyMap<string, number> } | undefined): string[] {
  if (!dlp) return [];
  return [
    '# TYPE portcullis_dlp_findings_total counter',
    ...[...dlp.findings].map(([key, n]) => {
      const [type, action] = key.split('|');
      return `portcullis_dlp_findings_total{type="${type}",action="${action}"} ${n}`;
    }),
    '# TYPE portcullis_dlp_refused_total counter',
    ...[...dlp.refused].map(([direction, n]) => `portcullis_dlp_refused_total{direction="${direction}"} ${n}`),
  ];
}

function monitorLines(monitor: { alerts: ReadonlyMap<string, number>; principals: number; capped: number } | undefined): string[] {
  if (!monitor) return [];
  return [
    '# TYPE portcullis_monitor_alerts_total counter',
    ...[...monitor.alerts].map(([kind, n]) => `portcullis_monitor_alerts_total{kind="${labelValue(kind)}"} ${n}`),
    '# TYPE portcullis_monitor_principals gauge',
    `portcullis_monitor_principals ${monitor.principals}`,
    '# TYPE portcullis_monitor_alerts_capped_total counter',
    `portcullis_monitor_alerts_capped_total ${monitor.capped}`,
  ];
}
