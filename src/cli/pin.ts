/**
 * `portcullis pin list | diff | approve`: the admin's side of tool-definition pinning. Works on the
 * pins file of the config's data dir; a running gateway picks approvals up on its next listing.
 */
import { join } from 'node:path';
import { defaultDataDir } from '../config/defaults.ts';
import { PinStore } from '../supply/pins.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import type { Io } from './serve.ts';

function open(options: { config?: string; dataDir?: string }, io: Pick<Io, 'err' | 'secrets'>): PinStore | undefined {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  return new PinStore(join(loaded.config.dataDir ?? defaultDataDir(io.secrets.env), 'pins.json'));
}

export function pinList(options: { config?: string; dataDir?: string }, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io);
  if (!pins) return 2;
  for (const server of pins.servers()) {
    const pinned = Object.entries(pins.allPinned(server));
    const pending = Object.entries(pins.pending(server));
    io.out(`${server}: ${pinned.length} pinned, ${pending.length} waiting for approval\n`);
    for (const [key, pin] of pinned) io.out(`  pinned   ${key}  ${pin.hash.slice(0, 12)}  by ${pin.approvedBy} at ${pin.approvedAt}\n`);
    for (const [key, p] of pending) io.out(`  WAITING  ${key}  ${p.hash.slice(0, 12)}  ${p.reason}\n`);
  }
  return 0;
}

function lines(value: unknown): string[] {
  return JSON.stringify(value, null, 2).split('\n');
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

export function pinDiff(options: { config?: string; dataDir?: string }, server: string, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io);
  if (!pins) return 2;
  const pending = Object.entries(pins.pending(server));
  if (pending.length === 0) {
    io.out(`${server}: nothing waiting for approval\n`);
    return 0;
  }
  for (const [key, p] of pending) {
    const pin = pins.pinned(server, key);
    io.out(`=== ${server} ${key}: ${p.reason} (seen ${p.seenAt})\n`);
    for (const line of diff(pin ? lines(pin.definition) : [], lines(p.definition))) io.out(`${line}\n`);
  }
  return 0;
}

export function pinApprove(options: { config?: string; dataDir?: string; by?: string }, server: string, name: string | undefined, io: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const pins = open(options, io);
  if (!pins) return 2;
  const approved = pins.approve(server, name, options.by ?? io.secrets.env.USER ?? 'admin');
  if (approved.length === 0) {
    io.err(`portcullis: nothing of server "${server}"${name ? ` named "${name}"` : ''} is waiting for approval (see portcullis pin list)\n`);
    return 2;
  }
  pins.save();
  io.out(`Approved ${approved.join(', ')} of server "${server}".\n`);
  return 0;
}
