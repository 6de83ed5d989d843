/** Audit helpers: a valid chain of records to tamper with, and the trail a test gateway wrote. */
import { GENESIS_HASH, recordHash, type AuditRecord, type UnsignedRecord } from '../../src/audit/record.ts';
import { openArgsHasher } from '../../src/audit/args-hash.ts';

/** Builds a valid chain of `n` audit records (odd positions by agent "alpha", even by "beta"; record 3 denied). */
export function chain(instance: string, n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body: UnsignedRecord = {
      v: 1,
      instance,
      seq,
      gatewayId: 'g',
      time: new Date(1_800_000_000_000 + seq).toISOString(),
      requestId: seq,
      correlationId: `c${seq}`,
      principal: { subject: 'local', agent: seq % 2 ? 'alpha' : 'beta' },
      endpoint: '/mcp',
      method: 'tools/call',
      target: `read_${seq}`,
      scopes: [],
      decision: seq === 3 ? 'denied' : 'allowed',
      latencyMs: 1,
      prevHash: prev,
    };
    const record = { ...body, hash: recordHash(body) };
    out.push(record);
    prev = record.hash;
  }
  return out;
}

export { auditTrail } from './recorded.ts';

/** The `argsHash` a gateway on `dataDir` records for `args` (keyed with that data dir's key, src/audit/args-hash.ts). */
export function argsHashIn(dataDir: string, args: unknown): string {
  return openArgsHasher(dataDir)(args);
}
