/**
 * `portcullis alerts list` and `alerts ack`: the monitor's alerts (docs/monitor.md), read from the
 * alert file in the data dir the configuration names; a running gateway keeps appending to it.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { defaultDataDir } from '../config/defaults.ts';
import { displayText } from '../audit/display.ts';
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

/**
 * One alert for the terminal. Names in alerts come from callers (a local agent names itself), so each
 * value is shown with its control, bidi and invisible characters escaped (../audit/display.ts); the
 * line breaks between the parts are the listing's own.
 */
function line({ alert, acked }: AlertLine): string {
  const d = displayText;
  const what = alert.tool ? ` ${d(alert.server ?? '')}.${d(alert.tool)}` : alert.server ? ` ${d(alert.server)}` : '';
  const contained = alert.response ? (alert.response.skipped ? `\n    containment not applied: ${d(alert.response.skipped)}` : `\n    contained: ${d(alert.response.target)} stopped until ${d(alert.response.until)}`) : '';
  const ack = acked ? `  [acked by ${d(acked.by)}]` : '';
  return `${d(alert.at)}  ${d(alert.id)}  ${d(alert.severity).padEnd(8)} ${d(alert.kind).padEnd(18)} ${d(alert.principal.agent)} (${d(alert.principal.subject)})${what}${ack}\n    ${d(alert.summary)}\n    evidence: audit ${d(alert.evidence.instance)} seq ${alert.evidence.seqs.join(',')}${contained}\n`;
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
