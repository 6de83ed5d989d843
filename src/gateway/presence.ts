/**
 * Which gateways are running on a data dir: each started gateway writes `<dataDir>/running/<pid>.json`
 * (its pid, when it started, its instance id) and removes it when it closes. The control-plane commands
 * that write state a running gateway reads (`portcullis kill`, `unkill`) look here, so an operator who
 * named the wrong configuration (or none: the embedded default's data dir) is told that no gateway
 * reads what was written, rather than shown a success (redteam-g F5). A file left by a gateway that
 * died is recognised by its pid no longer running (a pid the system has since reused is taken for a
 * live gateway: the check errs towards "read", never towards a false alarm it would train away).
 */
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from '../util/private-files.ts';

export interface RunningGateway {
  pid: number;
  startedAt: string;
  instanceId: string;
}

const dirOf = (dataDir: string): string => join(dataDir, 'running');

/** Records this process as a gateway running on `dataDir`; returns what removes the record. */
export function announceGateway(dataDir: string, instanceId: string): () => void {
  const dir = dirOf(dataDir);
  const file = join(dir, `${process.pid}.json`);
  try {
    ensurePrivateDir(dir);
    writePrivateFile(file, `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), instanceId } satisfies RunningGateway)}\n`);
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
      if (Number.isInteger(entry.pid) && entry.pid > 0 && alive(entry.pid)) out.push(entry);
    } catch {
      // half-written or foreign: not a gateway we can vouch for
    }
  }
  return out;
}
