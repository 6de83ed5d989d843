/**
 * `portcullis approvals list | grant | deny`: the out-of-band approval queue from the shell. Decisions
 * are written to `<dataDir>/approvals.db`; a running gateway sees them within `approvals.pollMs`, lets
 * the waiting call through (or refuses it) and writes the decision to the audit trail. Whoever can run
 * this command can read the data dir, so `--by` is taken as said; the self-approval check compares it
 * with the caller's subject and agent (use the admin endpoint for decisions by verified identities).
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { approvalsDbPath } from '../approvals/open.ts';
import { ApprovalStore, isApprovalId } from '../approvals/store.ts';
import { describeApproval, displayArgs } from '../approvals/view.ts';
import { displayText } from '../audit/display.ts';
import { defaultDataDir } from '../config/defaults.ts';
import { GatewayError } from '../errors.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import type { Io } from './serve.ts';

export interface ApprovalsCliOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
  all?: boolean;
  by?: string;
  note?: string;
  reason?: string;
}

type CliIo = Pick<Io, 'out' | 'err' | 'secrets'>;

function openStore(options: ApprovalsCliOptions, io: CliIo, create: boolean): ApprovalStore | undefined | 'none' {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  const path = approvalsDbPath(loaded.config.dataDir ?? defaultDataDir(io.secrets.env));
  if (!create && !existsSync(path)) return 'none';
  return new ApprovalStore(path);
}

const osUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
};

/** Lists waiting approvals (all of them with --all); exit 0. */
export function approvalsList(options: ApprovalsCliOptions, io: CliIo): number {
  const store = openStore(options, io, false);
  if (store === undefined) return 2;
  const now = Date.now();
  const rows = store === 'none' ? [] : (options.all ? store.list() : store.list('pending').filter((a) => a.expiresAt > now)).map(describeApproval);
  if (store !== 'none') store.close();
  if (options.json) {
    io.out(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.out(options.all ? 'no approvals\n' : 'no approvals waiting\n');
    return 0;
  }
  for (const a of rows) {
    // Names and reasons come from callers (a local agent names itself): shown escaped, never raw.
    const t = displayText;
    io.out(`${a.id}  ${a.status.padEnd(8)} ${t(a.server)}.${t(a.tool)}  by ${t(a.principal)} (agent ${t(a.agent)})  rule ${t(a.rule)}  expires ${a.expiresAt}\n`);
    io.out(`    arguments ${displayArgs(a.arguments, a.argsHash)}  argsHash ${a.argsHash}\n`);
    io.out(`    reason: ${t(a.reason)}${a.approvers ? `  approvers: ${t(a.approvers.join(', '))}` : ''}${a.decidedBy ? `  decided by ${t(a.decidedBy)}` : ''}\n`);
  }
  return 0;
}

function decide(id: string, decision: 'granted' | 'denied', options: ApprovalsCliOptions, io: CliIo): number {
  if (!isApprovalId(id)) {
    io.err(`portcullis: "${id}" is not an approval id (32 hex characters; see portcullis approvals list) [PC_APPROVAL_UNKNOWN]\n`);
    return 2;
  }
  const by = (options.by ?? osUser()).trim();
  if (by === '') {
    io.err('portcullis: --by needs a name\n');
    return 2;
  }
  const store = openStore(options, io, false);
  if (store === undefined) return 2;
  if (store === 'none') {
    io.err(`portcullis: no approval with id "${id}" (no approval was ever asked for in this data dir) [PC_APPROVAL_UNKNOWN]\n`);
    return 1;
  }
  try {
    const result = store.decide(id, decision, { name: by }, decision === 'denied' ? options.reason : options.note, Date.now());
    if (result instanceof GatewayError) {
      io.err(`portcullis: ${result.message} [${result.code}]\n`);
      return 1;
    }
    io.out(`${decision === 'granted' ? 'granted' : 'denied'}: ${result.id} (${displayText(`${result.server}.${result.name}`)} for ${displayText(result.subject)}) by ${displayText(by)}${decision === 'granted' ? `; usable once until ${new Date(result.expiresAt).toISOString()}` : ''}\n`);
    return 0;
  } finally {
    store.close();
  }
}

export const approvalsGrant = (id: string, options: ApprovalsCliOptions, io: CliIo): number => decide(id, 'granted', options, io);
export const approvalsDeny = (id: string, options: ApprovalsCliOptions, io: CliIo): number => decide(id, 'denied', options, io);
