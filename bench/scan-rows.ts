/** Per-kind counts of the poisoning scanner's verdicts on an evaluation set (bench/scan.ts, bench/scan-loso.ts). */
import type { Weights } from '../src/inspect/logistic.ts';
import { scanServers, type ServerTools, type ToolReport } from '../src/inspect/scanner.ts';
import type { EvalSet } from '../test/corpus/poisoning.ts';

export interface Row {
  set: string;
  kind: string;
  high: number;
  warn: number;
  total: number;
}

/**
 * Per kind, how many were rated high or warned about. `alone`: each server's listing scanned by
 * itself, with no other server connected (as `portcullis scan --tools-file` on one server's tools):
 * references to other servers' tools are then not known to be such.
 */
export function rows(name: string, set: EvalSet, weights?: Weights, alone = false): Row[] {
  const layer = weights ? { weights } : {};
  const reports = alone ? set.servers.flatMap((s) => scanServers([s], layer)) : scanServers(set.servers, layer);
  const byKey = new Map<string, ToolReport>(reports.map((r) => [`${r.server}\0${r.name}`, r]));
  const out = new Map<string, Row>();
  for (const item of set.items) {
    const r = byKey.get(`${item.server}\0${item.name}`)!;
    const row = out.get(item.kind) ?? { set: name, kind: item.kind, high: 0, warn: 0, total: 0 };
    row.total++;
    if (r.verdict === 'high') row.high++;
    else if (r.verdict === 'warn') row.warn++;
    out.set(item.kind, row);
  }
  const list = [...out.values()];
  const attacks = list.filter((r) => r.kind !== 'benign');
  if (attacks.length > 1) list.push(attacks.reduce((a, r) => ({ ...a, high: a.high + r.high, warn: a.warn + r.warn, total: a.total + r.total }), { set: name, kind: 'all attacks', high: 0, warn: 0, total: 0 }));
  return list;
}

/** Every tool of these servers as a benign item. */
export const all = (servers: ServerTools[]): EvalSet => ({ servers, items: servers.flatMap((s) => s.tools.map((t) => ({ kind: 'benign', server: s.server, name: String(t.name) }))) });
