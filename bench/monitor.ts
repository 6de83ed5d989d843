/**
 * What the behaviour monitor costs per call: `node bench/monitor.ts [calls] [principals]`.
 * Feeds synthetic audit records (tools/call and resources/read of several tools, a few denials, many
 * principals) to a real Monitor with every detector on, one record at a time as the audit log does, and
 * reports the time per record (p50/p99/mean) and the resident memory per tracked principal.
 * Target (issue 17): ≤ 10 µs p50 per call; memory bounded per principal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AuditRecord } from '../src/audit/record.ts';
import { KillSwitchStore } from '../src/killswitch/store.ts';
import { Monitor } from '../src/monitor/monitor.ts';
import { monitorSchema } from '../src/monitor/schema.ts';

const calls = Number(process.argv[2] ?? 200_000);
const principals = Number(process.argv[3] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'pc-monitor-bench-'));
const config = monitorSchema.parse({ learningPeriod: '1s', sinks: [], detectors: { toxicFlow: { enforce: 'block' } } });
let now = Date.parse('2026-03-02T09:00:00Z');
const monitor = new Monitor(config, { dataDir: dir, logger: pino({ level: 'silent' }), kill: new KillSwitchStore(join(dir, 'killswitch.json'), { key: { kind: 'file', path: join(dir, 'pins.key') } }), sinks: [], now: () => new Date(now), saveEveryMs: 0 });
const tools = ['read_text_file', 'list_directory', 'search_files', 'write_file'];

const record = (i: number): AuditRecord => {
  const p = i % principals;
  const denied = i % 97 === 0;
  const resource = i % 5 === 0;
  return {
    v: 1, instance: 'bench', seq: i + 1, gatewayId: 'g', time: new Date(now).toISOString(), requestId: i, correlationId: `c${i}`,
    principal: { subject: `user-${p % 50}`, agent: `agent-${p}` }, endpoint: '/mcp', server: 'files',
    method: resource ? 'resources/read' : 'tools/call', target: resource ? `file:///srv/${i % 40}` : tools[i % tools.length]!,
    argsHash: `hash-${i % 64}`, scopes: ['mcp'], decision: denied ? 'denied' : 'allowed', ...(denied ? { code: 'PC_POLICY_DENIED' } : {}),
    labels: ['untrusted', 'egress'], session: `s${p}`, latencyMs: 1, prevHash: '', hash: '',
  } as AuditRecord;
};

for (let i = 0; i < 20_000; i++) monitor.push(record(i)); // warm-up (JIT, principals created)
const times = new Float64Array(calls);
const records = Array.from({ length: 1000 }, (_, i) => record(i));
for (let i = 0; i < calls; i++) {
  now += 5; // 200 calls a second across all principals
  const r = records[i % 1000]!;
  const t = performance.now();
  monitor.push(r);
  times[i] = performance.now() - t;
}
const sorted = [...times].sort((a, b) => a - b);
const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs`;
(globalThis as { gc?: () => void }).gc?.();
const heap = process.memoryUsage().heapUsed;
console.log(`monitor: ${calls} records, ${principals} principals, every detector on`);
console.log(`per record: p50 ${us(sorted[Math.floor(calls * 0.5)]!)}, p99 ${us(sorted[Math.floor(calls * 0.99)]!)}, mean ${us(times.reduce((a, b) => a + b, 0) / calls)}`);
console.log(`tracked principals: ${monitor.state.size}; heap ${(heap / 1048576).toFixed(1)} MiB (≈ ${Math.round(heap / Math.max(1, monitor.state.size))} B per principal, all included)`);
console.log(`records over 100 µs: ${sorted.filter((t) => t > 0.1).length}, slowest ${us(sorted[calls - 1]!)}`);
console.log(`alerts raised: ${[...monitor.raised].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
await monitor.state.saveInBackground(); // a first save: every principal serialised once
monitor.push(record(0)); // then one principal active since
const saveAt = performance.now();
const saving = monitor.state.saveInBackground();
const blocked = performance.now() - saveAt;
await saving;
console.log(`periodic state save (every 30 s when changed), one principal active since the last: ${blocked.toFixed(1)} ms on the event loop (the snapshot), ${(performance.now() - saveAt).toFixed(1)} ms in all`);
await monitor.close();
