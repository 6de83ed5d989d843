/**
 * Which gateways are running on a data dir: each started gateway writes `<dataDir>/running/<pid>.json`
 * (its pid, when it started, its instance id) and removes it when it closes. The control-plane commands
 * that write state a running gateway reads (`portcullis kill`, `unkill`) look here, so an operator who
 * named the wrong configuration (or none: the embedded default's data dir) is told that no gateway
 * reads what was written, rather than shown a success (redteam-g F5). A file left by a gateway that
 * died is recognised by its pid no longer running, or (Linux) by that pid now being another process: the
 * record keeps the process's start time from /proc/<pid>/stat, so a reused pid is not taken for the
 * gateway (red team I, L4). Where /proc is missing the check errs towards "read", never towards a false
 * alarm it would train away.
 */
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../util/private-files.ts';

export interface RunningGateway {
  pid: number;
  startedAt: string;
  instanceId: string;
  /** The process's start time in clock ticks after boot (/proc/<pid>/stat, field 22); absent off Linux. */
  processStart?: string | undefined;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces), or undefined. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const dirOf = (dataDir: string): string => join(dataDir, 'running');

/** Records this process as a gateway running on `dataDir`; returns what removes the record. */
export function announceGateway(dataDir: string, instanceId: string): () => void {
  const dir = dirOf(dataDir);
  const file = join(dir, `${process.pid}.json`);
  try {
    ensurePrivateDir(dir);
    writePrivateFile(file, `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), instanceId, processStart: processStart(process.pid) } satisfies RunningGateway)}\n`);
  } catch {
    // A read-only data dir: the commands then say they cannot tell (no record), never that it runs.
    return () => undefined;
  }
  return () => {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The gateways whose record is on `dataDir` and whose process still runs. */
export function runningGateways(dataDir: string): RunningGateway[] {
  let names: string[];
  try {
    names = readdirSync(dirOf(dataDir));
  } catch {
    return [];
  }
  const out: RunningGateway[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue;
    try {
      const entry = JSON.parse(readFileSync(join(dirOf(dataDir), name), 'utf8')) as RunningGateway;
      if (!Number.isInteger(entry.pid) || entry.pid <= 0 || !alive(entry.pid)) continue;
      const now = entry.processStart === undefined ? undefined : processStart(entry.pid);
      // Another process under the same pid: the gateway that wrote the record is gone.
      if (now !== undefined && now !== entry.processStart) continue;
      out.push(entry);
    } catch {
      // half-written or foreign: not a gateway we can vouch for
    }
  }
  return out;
}
