/**
 * `portcullis alerts list` and `alerts ack`: the monitor's alerts (docs/monitor.md), read from the
 * alert file in the data dir the configuration names; a running gateway keeps appending to it.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { displayText } from '../audit/display.ts';
import { defaultDataDir } from '../config/defaults.ts';
import { AlertStore, type AlertLine } from '../monitor/alert.ts';
import { parseSince } from './audit.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import type { Io } from './serve.ts';

export interface AlertsOptions {
  config?: string;
  dataDir?: string;
  since?: string;
  json?: boolean;
  open?: boolean;
  by?: string;
}

function storeOf(options: AlertsOptions, io: Pick<Io, 'err' | 'secrets'>): AlertStore | undefined {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  return new AlertStore(join(loaded.config.dataDir ?? defaultDataDir(io.secrets.env), 'alerts.jsonl'));
}

function line({ alert, acked }: AlertLine): string {
  // Names in alerts come from callers (a local agent names itself): every field is shown escaped, never raw.
  const t = displayText;
  const what = alert.tool ? ` ${t(`${alert.server}.${alert.tool}`)}` : alert.server ? ` ${t(alert.server)}` : '';
  const contained = alert.response ? (alert.response.skipped ? `\n    containment not applied: ${t(alert.response.skipped)}` : `\n    contained: ${t(alert.response.target)} stopped until ${alert.response.until}`) : '';
  const ack = acked ? `  [acked by ${t(acked.by)}]` : '';
  return `${alert.at}  ${alert.id}  ${alert.severity.padEnd(8)} ${alert.kind.padEnd(18)} ${t(alert.principal.agent)} (${t(alert.principal.subject)})${what}${ack}\n    ${t(alert.summary)}\n    evidence: audit ${t(alert.evidence.instance)} seq ${alert.evidence.seqs.join(',')}${contained}\n`;
}

export function alertsList(options: AlertsOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  let since: string | undefined;
  if (options.since !== undefined) {
    since = parseSince(options.since);
    if (!since) {
      io.err(`portcullis: --since must be like 7d, 12h, 30m or an ISO date (got "${options.since}")\n`);
      return 2;
    }
  }
  const store = storeOf(options, io);
  if (!store) return 2;
  const all = store.list();
  const shown = all.filter((l) => (since === undefined || l.alert.at >= since) && (!options.open || !l.acked));
  for (const l of shown) io.out(options.json ? `${JSON.stringify({ ...l.alert, acked: l.acked ?? null })}\n` : line(l));
  if (!options.json && shown.length === 0) io.out('no alerts\n');
  if (all.unreadable) io.err(`portcullis: ${all.unreadable} line${all.unreadable === 1 ? '' : 's'} of ${store.path} could not be read\n`);
  return 0;
}

export function alertsAck(id: string, options: AlertsOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const store = storeOf(options, io);
  if (!store) return 2;
  let by = options.by;
  if (!by) {
    try {
      by = userInfo().username;
    } catch {
      by = 'unknown';
    }
  }
  if (!store.ack(id, by)) {
    io.err(`portcullis: no alert with id "${id}" (see \`portcullis alerts list\`)\n`);
    return 1;
  }
  io.out(`acknowledged ${id}\n`);
  return 0;
}
