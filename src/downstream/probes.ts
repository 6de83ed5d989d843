/**
 * The operator routes of the HTTP front: `GET /metrics` (Prometheus text) and `GET /healthz` (JSON:
 * overall status, each server's state, the audit store and its sinks).
 */
import type { ServerResponse } from 'node:http';
import type { Gateway } from '../gateway.ts';
import type { Metrics, MetricsSource } from './metrics.ts';
import type { SessionStore } from './session.ts';
import type { ResumeBudget } from './stream-log.ts';

export function serveMetrics(res: ServerResponse, rawUrl: string, gateway: Gateway, metrics: Metrics, sessions: SessionStore, resume: ResumeBudget, registrations?: MetricsSource['registrations']): void {
  // Benchmarks start the gateway with --expose-gc to read the heap after a full collection.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc && rawUrl.endsWith('?gc=1')) gc();
  const body = metrics.render({
    audit: () => (gateway.audit ? { healthy: gateway.audit.healthy, budgetDropped: gateway.audit.budgetDropped, refusalsUnrecorded: gateway.recordRefusal.unrecorded, sinks: gateway.audit.sinks } : undefined),
    sessions: () => sessions.size,
    resumeBytes: () => resume.bytes,
    limits: () => gateway.limits,
    upstreams: () => [...gateway.upstreams].map(([name, u]) => ({ name, state: u.state() })),
    dlp: () => gateway.dlp.counters,
    isolation: () => gateway.isolation(),
    approvals: () => ({ pending: gateway.approvals.queue.store.pendingCount(), refused: gateway.approvals.queue.refused }),
    monitor: () => gateway.monitor && { alerts: gateway.monitor.raised, principals: gateway.monitor.state.size, capped: gateway.monitor.dropped },
    ...(registrations ? { registrations } : {}),
  });
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  res.end(body);
}

export function serveHealth(res: ServerResponse, gateway: Gateway): void {
  const servers = Object.fromEntries([...gateway.upstreams].map(([name, u]) => [name, u.state()]));
  const audit = gateway.audit ? (gateway.audit.healthy ? 'ok' : 'failing') : 'off';
  const auditSinks = gateway.audit?.sinks ?? {};
  const body = JSON.stringify({ status: audit === 'failing' ? 'degraded' : 'ok', servers, audit, auditSinks });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}
