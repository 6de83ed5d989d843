/**
 * `portcullis pin list | diff | approve | verify | reseal | reset`: the admin's side of definition
 * pinning. Works on the pins file of the config's data dir; a running gateway picks changes up on its
 * next listing. While the file fails its integrity check, `approve` is refused: `verify` says why,
 * `reseal` accepts the file as it is (after review with `list`), `reset` starts over.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { AuditLog } from '../audit/log.ts';
import { createAuditLog } from '../audit/open.ts';
import { displayJson, displayText } from '../audit/display.ts';
import type { Config } from '../config/schema.ts';
import { createLogger } from '../logger.ts';
import type { PinStore } from '../supply/pins.ts';
import { openPins } from '../supply/open-pins.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import type { Io } from './serve.ts';

type PinCliOptions = { config?: string; dataDir?: string };

/**
 * The pins of the configuration's data dir. With `server`, a name neither the configuration nor the
 * pins file has is refused (a typo would otherwise read as "nothing waiting").
 */
function open(options: PinCliOptions, io: Pick<Io, 'err' | 'secrets'>, create: boolean, server?: string): PinStore | undefined {
  return openWithConfig(options, io, create, server)?.pins;
}

function openWithConfig(options: PinCliOptions, io: Pick<Io, 'err' | 'secrets'>, create: boolean, server?: string): { pins: PinStore; config: Config } | undefined {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  const pins = openPins(loaded.config, io.secrets, { create });
  const known = [...new Set([...Object.keys(loaded.config.servers), ...pins.servers()])];
  if (server !== undefined && !known.includes(server)) {
    io.err(`portcullis: no server named "${server}" in ${loaded.source} or its pins (servers: ${known.join(', ') || 'none'})\n`);
    return undefined;
  }
  return { pins, config: loaded.config };
}

/**
 * Puts a supply decision in the audit trail (its own chain, `<instance>.cli`) before it takes effect:
 * the `--by` name as declared and the OS user that ran the command, beside it. When the record cannot
 * be written the decision is not made (fail closed); with `audit.store: off` there is no trail to write.
 */
async function recordDecision(config: Config, io: Pick<Io, 'err' | 'secrets'>, entry: Omit<Parameters<AuditLog['recordSupplyDecision']>[0], 'osUser' | 'uid'>): Promise<boolean> {
  const audit = createAuditLog(config, io.secrets, createLogger('silent'), randomUUID(), 'cli');
  if (!audit) return true;
  let os: { username: string; uid: number };
  try {
    os = userInfo();
  } catch {
    os = { username: '(unknown)', uid: process.getuid?.() ?? -1 };
  }
  try {
    await audit.open();
    await audit.recordSupplyDecision({ ...entry, osUser: os.username, uid: os.uid === -1 ? undefined : os.uid });
    return true;
  } catch (error) {
    io.err(`portcullis: the decision could not be recorded in the audit trail, so it was not made: ${(error as Error).message}\n`);
    return false;
  } finally {
    await audit.close().catch(() => undefined);
  }
}

/** `key@fullhash` of each decided definition, from what was pending before the decision. */
function fullItems(pending: Readonly<Record<string, { hash: string }>>, keys: readonly string[]): string[] {
  return keys.map((key) => `${key}@${pending[key]?.hash ?? '(unknown)'}`);
}

function untrustedWarning(pins: PinStore): string | undefined {
  const integrity = pins.integrity();
  if (integrity.ok) return undefined;
  return `portcullis: ${pins.path} failed its integrity check: ${integrity.problem}\n` +
    '  The gateway serves nothing pinned until this is resolved. Review the content with `portcullis pin list`,\n' +
    '  then accept it with `portcullis pin reseal`, or start over with `portcullis pin reset` (next start: trust on first use).\n';
}

/** Lists pins and what waits for approval; exit 1 (with a warning) when the file failed its integrity check. */
export function pinList(options: PinCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io, false);
  if (!pins) return 2;
  const warning = untrustedWarning(pins);
  if (warning) io.err(`${warning}  Shown below as found, NOT verified:\n`);
  for (const server of pins.servers()) {
    const pinned = Object.entries(pins.allPinned(server));
    const pending = Object.entries(pins.pending(server));
    io.out(`${server}: ${pinned.length} pinned, ${pending.length} waiting for approval\n`);
    for (const [key, pin] of pinned) io.out(`  pinned   ${key}  ${pin.hash.slice(0, 12)}  by ${pin.approvedBy} at ${pin.approvedAt}\n`);
    for (const [key, p] of pending) io.out(`  WAITING  ${displayText(key)}  ${p.hash.slice(0, 12)}  ${displayText(p.reason)}\n`);
  }
  return warning ? 1 : 0;
}

/** JSON lines of a value; a string with line breaks (server instructions) shows one line per line. */
function lines(value: unknown): string[] {
  return JSON.stringify(value, null, 2)
    .split('\n')
    .flatMap((line) => {
      const match = /^(\s*)("(?:[^"\\]|\\.)*": )?("(?:[^"\\]|\\.)*\\n(?:[^"\\]|\\.)*")(,?)$/.exec(line);
      if (!match) return [line];
      const [, indent = '', label = '', text = '""'] = match;
      return [`${indent}${label}|`, ...(JSON.parse(text) as string).split('\n').map((part) => `${indent}  ${part}`)];
    });
}

/** A line diff of two definitions (longest common subsequence; definitions are small). */
function diff(before: string[], after: string[]): string[] {
  const n = before.length;
  const m = after.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      out.push(`  ${before[i]}`);
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push(`+ ${after[j++]}`);
    else out.push(`- ${before[i++]}`);
  }
  return out;
}

export function pinDiff(options: PinCliOptions, server: string, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io, false, server);
  if (!pins) return 2;
  const warning = untrustedWarning(pins);
  if (warning) io.err(`${warning}  Shown below as found, NOT verified:\n`);
  const pending = Object.entries(pins.pending(server));
  if (pending.length === 0) {
    io.out(`${server}: nothing waiting for approval\n`);
    return warning ? 1 : 0;
  }
  for (const [key, p] of pending) {
    const pin = pins.pinned(server, key);
    io.out(`=== ${displayText(server)} ${displayText(key)}@${p.hash.slice(0, 12)}: ${displayText(p.reason)} (seen ${p.seenAt})\n`);
    for (const line of diff(pin ? lines(pin.definition) : [], lines(p.definition))) io.out(`${displayJson(line)}\n`);
  }
  // The command approves exactly what was shown: a version swapped in after this is refused.
  io.out(`To approve what is shown: portcullis pin approve ${displayText(server)} ${pending.map(([key, p]) => `${displayText(key)}@${p.hash.slice(0, 12)}`).join(' ')}${pending.some(([, p]) => p.reason.startsWith('poisoning')) ? ' --accept-findings' : ''}\n`);
  return warning ? 1 : 0;
}

/** `name@hash` as `pin diff` prints it (the name may itself hold `@`, as a resource template's URI can). */
function parseApproval(item: string): { name: string; hash: string } | undefined {
  const at = item.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: item.slice(0, at), hash: item.slice(at + 1) };
}

/**
 * Approves what the admin reviewed: each item names a pending definition and the hash `pin diff` showed
 * for it (`tools:send@4d86b146cd53`). A bare name is refused, because a server can replace what is
 * pending between review and approval; so is a definition the scanner flagged, without `--accept-findings`.
 */
export async function pinApprove(options: PinCliOptions & { by?: string; acceptFindings?: boolean }, server: string, items: readonly string[], io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  const opened = openWithConfig(options, io, true, server);
  if (!opened) return 2;
  const { pins, config } = opened;
  const warning = untrustedWarning(pins);
  if (warning) {
    io.err(`${warning}  Nothing was approved.\n`);
    return 2;
  }
  const pending = Object.entries(pins.pending(server));
  if (pending.length === 0) {
    io.err(`portcullis: nothing of server "${server}" is waiting for approval (see portcullis pin list)\n`);
    return 2;
  }
  const parsed = items.map((item) => ({ item, approval: parseApproval(item) }));
  const bare = parsed.filter((p) => p.approval === undefined).map((p) => p.item);
  if (items.length === 0 || bare.length > 0) {
    io.err(
      `portcullis: name each definition with the hash you reviewed (pin diff ${displayText(server)} shows it), e.g. ` +
        `portcullis pin approve ${displayText(server)} ${pending.map(([key, p]) => `${displayText(key)}@${p.hash.slice(0, 12)}`).join(' ')}\n` +
        (bare.length > 0 ? `  without a hash: ${bare.map(displayText).join(', ')}\n` : '') +
        '  Nothing was approved.\n',
    );
    return 2;
  }
  const by = options.by ?? io.secrets.env.USER ?? 'admin';
  const waiting = { ...pins.pending(server) };
  const result = pins.approve(server, parsed.map((p) => p.approval!), by, { acceptFindings: options.acceptFindings === true });
  if ('problems' in result) {
    io.err(`portcullis: nothing was approved:\n${result.problems.map((p) => `  - ${displayText(p)}\n`).join('')}`);
    return 2;
  }
  const recorded = await recordDecision(config, io, { event: 'approve', server, items: fullItems(waiting, result.approved), by, acceptFindings: options.acceptFindings === true });
  if (!recorded) return 1;
  pins.save();
  io.out(`Approved ${result.approved.map(displayText).join(', ')} of server "${displayText(server)}".\n`);
  return 0;
}

/** Drops reviewed pending versions (`name@hash`, as for approve): the approved version stays pinned and is served again. */
export async function pinReject(options: PinCliOptions & { by?: string }, server: string, items: readonly string[], io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  const opened = openWithConfig(options, io, true, server);
  if (!opened) return 2;
  const { pins, config } = opened;
  const warning = untrustedWarning(pins);
  if (warning) {
    io.err(`${warning}  Nothing was rejected.\n`);
    return 2;
  }
  const parsed = items.map(parseApproval);
  if (parsed.length === 0 || parsed.some((p) => p === undefined)) {
    io.err(`portcullis: name each definition with the hash pin diff ${displayText(server)} shows (name@hash). Nothing was rejected.\n`);
    return 2;
  }
  const waiting = { ...pins.pending(server) };
  const result = pins.reject(server, parsed as Array<{ name: string; hash: string }>);
  if ('problems' in result) {
    io.err(`portcullis: nothing was rejected:\n${result.problems.map((p) => `  - ${displayText(p)}\n`).join('')}`);
    return 2;
  }
  const recorded = await recordDecision(config, io, { event: 'reject', server, items: fullItems(waiting, result.rejected), by: options.by ?? io.secrets.env.USER ?? 'admin' });
  if (!recorded) return 1;
  pins.save();
  io.out(`Rejected ${result.rejected.map(displayText).join(', ')} of server "${displayText(server)}"; the approved versions stay pinned.\n`);
  return 0;
}

/** Checks the pins file's integrity: exit 0 when it verifies, 1 when it does not. */
export function pinVerify(options: PinCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io, false);
  if (!pins) return 2;
  const warning = untrustedWarning(pins);
  if (warning) {
    io.err(warning);
    return 1;
  }
  const servers = pins.servers();
  const count = servers.reduce((n, s) => n + Object.keys(pins.allPinned(s)).length, 0);
  io.out(`OK: ${pins.path} verifies (${count} pinned definition${count === 1 ? '' : 's'} of ${servers.length} server${servers.length === 1 ? '' : 's'})\n`);
  return 0;
}

/** Accepts the pins file as it is now and signs it (after an admin reviewed it with `pin list`). */
export function pinReseal(options: PinCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io, false);
  if (!pins) return 2;
  const result = pins.reseal();
  if ('problem' in result) {
    io.err(`portcullis: ${result.problem}\n`);
    return 2;
  }
  io.out(`Resealed ${pins.path} as it is (${result.servers} server${result.servers === 1 ? '' : 's'}); every pin in it is trusted again.\n`);
  return 0;
}

/** Forgets the pins of one server (file must verify) or of all (always possible): next sight is first use. */
export function pinReset(options: PinCliOptions, server: string | undefined, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io, false);
  if (!pins) return 2;
  if (server !== undefined) {
    const warning = untrustedWarning(pins);
    if (warning) {
      io.err(`${warning}  A single server cannot be reset in an untrusted file: reset all (\`portcullis pin reset\`) or reseal.\n`);
      return 2;
    }
    if (!pins.servers().includes(server)) {
      io.err(`portcullis: no pins for server "${server}" (see portcullis pin list)\n`);
      return 2;
    }
  }
  pins.reset(server);
  pins.save();
  io.out(`Reset the pins of ${server === undefined ? 'every server' : `server "${server}"`}: what ${server === undefined ? 'the servers list' : 'it lists'} next is trusted on first use.\n`);
  return 0;
}
