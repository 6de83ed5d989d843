/**
 * Which hash chain a gateway process writes. Every process needs a chain of its own: two processes
 * appending to one chain each read its head only when they start, so their records collide (SQLite,
 * PostgreSQL: the same position twice, every later call refused) or interleave into a chain that
 * `audit verify` reports broken (JSON Lines). `serve` and `stdio` started with the same `-c` file —
 * as the README recommends — and several `stdio` processes launched by several clients are the
 * common case.
 *
 * The chain is named after the configured base (`audit.instance`, default the host name) and the
 * front: `<base>` for `serve`, `<base>.stdio` for `stdio`. A process claims its chain with a lock file
 * in the data directory holding its pid; when a live process holds it, the next slot is tried
 * (`<name>.2`, `<name>.3`, …), and a lock whose process is gone is taken over. A restarted gateway so
 * continues the chain it wrote before (its first free slot), and no two live processes on a host
 * share one.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type Front = 'http' | 'stdio' | 'cli';

export interface ChainLease {
  readonly instance: string;
  release(): void;
}

const MAX_SLOTS = 256;

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The chain name a front writes, before slots: `<base>`, `<base>.stdio`, or `<base>.cli` (admin commands such as `pin approve`). */
export function chainName(base: string, front: Front): string {
  return front === 'http' ? base : `${base}.${front}`;
}

/** Claims the first chain slot no live process holds, under `<dataDir>/audit-chains/`. */
export function leaseChain(dataDir: string, base: string, front: Front): ChainLease {
  const dir = join(dataDir, 'audit-chains');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = chainName(base, front);
  for (let slot = 1; slot <= MAX_SLOTS; slot++) {
    const instance = slot === 1 ? name : `${name}.${slot}`;
    const lock = join(dir, `${instance}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lock, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        let released = false;
        return {
          instance,
          release() {
            if (released) return;
            released = true;
            try {
              if (Number(readFileSync(lock, 'utf8')) === process.pid) unlinkSync(lock);
            } catch {
              // already gone
            }
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
      } catch {
        // vanished between open and read: try again
      }
      if (alive(holder)) break; // held: next slot
      try {
        unlinkSync(lock); // its process is gone: take the slot over
      } catch {
        // another process took it over first
      }
    }
  }
  throw new Error(`more than ${MAX_SLOTS} live gateway processes write audit chains named "${name}" in ${dir}`);
}
