/**
 * The user a stdio server runs as (`servers.<name>.runAs`, default `supply.runAs`), and what it means
 * when it has none. A stdio server under the gateway's own uid shares the gateway's trust domain: it can
 * read `/proc/<gateway>/environ` (every `env:` secret, `supply.pinsKey`), attach to the gateway with
 * ptrace or duplicate its descriptors with pidfd_getfd(2) (the other servers' pipes) unless Yama forbids
 * it, and read and write the data dir. Only another uid is a boundary (proc(5): `environ` and ptrace
 * access mode checks; ptrace(2) "Ptrace access mode checking").
 *
 * Names are looked up in /etc/passwd and /etc/group (passwd(5), group(5)); numeric ids are taken as
 * they are. The child is started with that uid and gid and no supplementary groups (libuv calls
 * setgroups(0, NULL) before setgid/setuid when either is set).
 */
import { readFileSync, statSync } from 'node:fs';
import { RUN_AS_PATTERN } from '../config/names.ts';
import type { Config, StdioServerConfig } from '../config/schema.ts';

export interface RunAs {
  /** As written in the config, for messages. */
  spec: string;
  uid: number;
  gid: number;
  /** The user's name, when the passwd file knows the uid. */
  user: string | undefined;
  /** Its home from the passwd file, when that is a directory the user owns (else the child gets a private one). */
  home: string | undefined;
}


interface Databases {
  passwd: string;
  group: string;
}

function readDatabases(): Databases {
  const read = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return { passwd: read('/etc/passwd'), group: read('/etc/group') };
}

function rows(text: string): string[][] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}

const NUMERIC = /^\d+$/;
const MAX_ID = 0xfffffffe;

/** The effective runAs of a server: its own, else `supply.runAs` (stdio servers only). */
export function runAsSpec(config: Pick<Config, 'supply'>, server: Pick<StdioServerConfig, 'runAs'>): string | undefined {
  return server.runAs ?? config.supply.runAs;
}

/** Resolves `spec` against the host's user and group databases; a problem names what was not found. */
export function resolveRunAs(spec: string, databases: Databases = readDatabases()): RunAs | { problem: string } {
  if (!RUN_AS_PATTERN.test(spec)) return { problem: `"${spec}" is not user[:group] (names or numeric ids)` };
  const [userPart, groupPart] = spec.split(':') as [string, string | undefined];
  const users = rows(databases.passwd);
  const byName = users.find((r) => r[0] === userPart);
  const numericUser = NUMERIC.test(userPart) ? Number(userPart) : undefined;
  const entry = byName ?? (numericUser === undefined ? undefined : users.find((r) => Number(r[2]) === numericUser));
  const uid = byName ? Number(byName[2]) : numericUser;
  if (uid === undefined || !Number.isInteger(uid) || uid > MAX_ID) return { problem: `user "${userPart}" is not in /etc/passwd (give a user name it holds, or a numeric uid)` };
  let gid: number | undefined;
  if (groupPart === undefined) {
    gid = entry ? Number(entry[3]) : undefined;
    if (gid === undefined || !Number.isInteger(gid)) return { problem: `uid ${uid} is not in /etc/passwd, so it has no primary group: write it as ${uid}:GROUP` };
  } else {
    const group = rows(databases.group).find((r) => r[0] === groupPart);
    gid = group ? Number(group[2]) : NUMERIC.test(groupPart) ? Number(groupPart) : undefined;
    if (gid === undefined || !Number.isInteger(gid) || gid > MAX_ID) return { problem: `group "${groupPart}" is not in /etc/group (give a group name it holds, or a numeric gid)` };
  }
  return { spec, uid, gid, user: entry?.[0], home: usableHome(entry?.[5], uid) };
}

function usableHome(home: string | undefined, uid: number): string | undefined {
  if (!home || !home.startsWith('/')) return undefined;
  try {
    const stat = statSync(home);
    return stat.isDirectory() && stat.uid === uid ? home : undefined;
  } catch {
    return undefined;
  }
}

const CAP_SETGID = 6n;
const CAP_SETUID = 7n;

/** Whether this process may start a child as another user: CAP_SETUID and CAP_SETGID effective (root has them unless dropped). */
export function canSwitchUser(status: string | undefined = procStatus()): boolean {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return false;
  if (status === undefined) return process.getuid() === 0;
  const match = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status);
  if (!match) return process.getuid() === 0;
  const caps = BigInt(`0x${match[1]}`);
  return ((caps >> CAP_SETUID) & 1n) === 1n && ((caps >> CAP_SETGID) & 1n) === 1n;
}

function procStatus(): string | undefined {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether running as `target` needs a switch at all (it is the gateway's own uid and gid). */
export function isGatewayIdentity(target: Pick<RunAs, 'uid' | 'gid'>): boolean {
  return typeof process.getuid === 'function' && process.getuid() === target.uid && process.getgid!() === target.gid;
}

/** Yama's ptrace_scope (0 classic, 1 restricted to descendants, 2 admin only, 3 none), or undefined when Yama is absent. */
export function ptraceScope(): number | undefined {
  try {
    const value = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** What a stdio server under the gateway's uid can reach, in one sentence for warnings. */
export function sameUidExposure(): string {
  const scope = ptraceScope();
  const ptrace = scope === undefined || scope === 0
    ? `and its memory and open descriptors (other servers' pipes) through ptrace/pidfd_getfd (${scope === undefined ? 'no Yama on this host' : 'Yama ptrace_scope is 0'})`
    : `(Yama ptrace_scope ${scope} stops ptrace/pidfd_getfd of the gateway, not the rest)`;
  return `each can read the gateway's /proc/<pid>/environ (every env: secret, supply.pinsKey) and cmdline, ${ptrace}, and the data dir`;
}

export interface TrustProblem {
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/** Every `env:NAME` reference in the configuration (anywhere), by name. */
function envReferences(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    const m = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
    if (m) out.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) envReferences(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) envReferences(v, out);
  }
  return out;
}

/** runAs values this host cannot resolve: configuration errors, named where they stand. */
export function runAsErrors(config: Pick<Config, 'supply' | 'servers'>): TrustProblem[] {
  const problems: TrustProblem[] = [];
  const check = (path: string, spec: string | undefined): void => {
    if (spec === undefined) return;
    const target = resolveRunAs(spec);
    if ('problem' in target) problems.push({ path, message: target.problem, severity: 'error' });
  };
  check('supply.runAs', config.supply.runAs);
  for (const [name, server] of Object.entries(config.servers)) if ('command' in server && !server.disabled) check(`servers.${name}.runAs`, server.runAs);
  return problems;
}

/**
 * What `serve` and `config check` say about the stdio servers' trust domain: which servers would run
 * as the gateway's own user and what that exposes, louder when the gateway is root; which `env:`
 * secrets those servers can read from the gateway's environ; and a runAs the gateway could not switch
 * to (serve refuses to start: PC_CONFIG_RUN_AS).
 */
export function trustDomainWarnings(config: Pick<Config, 'supply' | 'servers'>, full: unknown = config): TrustProblem[] {
  const warnings: TrustProblem[] = [];
  const sameUid: string[] = [];
  const switching = canSwitchUser();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('command' in server) || server.disabled) continue;
    const spec = runAsSpec(config, server);
    const target = spec === undefined ? undefined : resolveRunAs(spec);
    // The gateway's uid with another group, or uid 0 under any group (`root:nogroup`, `0:65534`), is no
    // boundary: the uid decides what a process may read and trace (red team I, F5).
    if (target === undefined || ('uid' in target && (target.uid === process.getuid?.() || target.uid === 0))) sameUid.push(name);
    else if ('uid' in target && !switching) {
      warnings.push({ path: `servers.${name}.runAs`, message: `${spec}: this process (uid ${process.getuid?.()}) cannot switch user (needs root or CAP_SETUID and CAP_SETGID); serve started so would refuse to start (PC_CONFIG_RUN_AS)`, severity: 'warning' });
    }
  }
  if (sameUid.length === 0) return warnings;
  const root = process.getuid?.() === 0;
  const list = sameUid.map((n) => `"${n}"`).join(', ');
  warnings.push({
    path: 'servers',
    message: `${root ? 'AS ROOT: ' : ''}stdio server${sameUid.length === 1 ? '' : 's'} ${list} run${sameUid.length === 1 ? 's' : ''} as the gateway's own user${root ? ' (root)' : ''}, in the gateway's trust domain: ${sameUidExposure()}; set servers.<name>.runAs or supply.runAs to a user of its own`,
    severity: 'warning',
  });
  const secrets = [...envReferences(full)];
  if (secrets.length > 0) {
    warnings.push({
      path: 'servers',
      message: `env: secret${secrets.length === 1 ? '' : 's'} ${secrets.join(', ')} stay in the gateway's /proc/<pid>/environ for its whole life, readable by ${list}; give them as file: references (docs/configuration.md) or run those servers under runAs`,
      severity: 'warning',
    });
  }
  return warnings;
}
