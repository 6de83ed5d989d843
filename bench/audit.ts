/**
 * Audit throughput and the latency it adds per call: `node bench/audit.ts [records] [postgres-url]`.
 * Appends records through the real AuditLog (hashing, canonical JSON, redaction, chaining) into a
 * SQLite file and a JSON Lines file, one synchronous append per call as the gateway does it, and
 * reports records/s and the per-record time (p50/p99) — the latency the audit stage adds to a call.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { JsonlAuditStore } from '../src/audit/jsonl-store.ts';
import { AuditLog } from '../src/audit/log.ts';
import { argsHasher } from '../src/audit/args-hash.ts';
import { SqliteAuditStore } from '../src/audit/sqlite-store.ts';
import type { AuditStore } from '../src/audit/store.ts';
import type { MessageContext } from '../src/pipeline/context.ts';
import { localPrincipal } from '../src/auth/principal.ts';
import { holdsBuiltInSecret } from '../src/dlp/create.ts';

const n = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'pc-audit-bench-'));

const ctx = (i: number): MessageContext => ({
  correlationId: `c-${i}`,
  receivedAtMs: Date.now(),
  startedAt: performance.now(),
  endpoint: { kind: 'server', server: 'files' },
  request: { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'read_text_file', arguments: { path: `/srv/data/report-${i}.txt`, head: 20 } } },
  client: { key: 'session-abc', era: 'legacy', protocolVersion: '2025-11-25', capabilities: {}, info: { name: 'bench-agent' }, notify: () => undefined, request: undefined },
  signal: new AbortController().signal,
  paramHeaders: undefined,
  principal: localPrincipal('bench', 'bench-agent'),
  task: undefined,
  route: { kind: 'upstream', server: 'files', method: 'tools/call', params: { name: 'read_text_file', arguments: { path: `/srv/data/report-${i}.txt`, head: 20 } }, name: 'read_text_file', target: { kind: 'tool', name: 'read_text_file' } },
});
const outcome = { result: { content: [{ type: 'text', text: 'quarterly numbers' }] } };

async function run(name: string, store: AuditStore, concurrency: number): Promise<void> {
  const log = new AuditLog({ openStore: async () => store, kind: store.kind, instance: 'bench', gatewayId: 'g', redactFields: [], holdsSecret: holdsBuiltInSecret, argumentsModeFor: () => 'redacted', argsHash: argsHasher(randomBytes(32)), logger: pino({ level: 'silent' }) });
  await log.open();
  for (let i = 0; i < 2000; i++) await log.record(ctx(i), outcome); // warm-up
  const times = new Float64Array(n);
  const started = performance.now();
  // `concurrency` calls in flight, as a gateway under load has them; each waits for its record.
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const c = ctx(i);
        const t = performance.now();
        await log.record(c, outcome);
        times[i] = (performance.now() - t) * 1000;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  times.sort();
  const q = (p: number) => times[Math.min(n - 1, Math.floor(p * n))]!.toFixed(1);
  process.stdout.write(`${name}, ${concurrency} in flight: ${(n / seconds).toFixed(0)} records/s, per record p50 ${q(0.5)} µs, p99 ${q(0.99)} µs\n`);
  await log.close();
}

const pgUrl = process.argv[3];
for (const concurrency of [1, 32]) {
  await run('sqlite (WAL, synchronous=NORMAL)', new SqliteAuditStore(join(dir, `audit-${concurrency}.db`)), concurrency);
  await run('jsonl', new JsonlAuditStore(join(dir, `audit-${concurrency}.jsonl`)), concurrency);
  if (pgUrl) {
    // A fresh chain name per run, removed afterwards, so the bench leaves nothing behind.
    const { PostgresAuditStore } = await import('../src/audit/postgres-store.ts');
    const store = new PostgresAuditStore(pgUrl);
    await run(`postgres (local)`, store, concurrency);
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query("DELETE FROM portcullis_audit WHERE instance = 'bench'");
    await client.end();
  }
}
