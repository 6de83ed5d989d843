/**
 * Gives the young generation's pages back to the system when the gateway is idle.
 *
 * V8 grows the new space (two semi-spaces, up to 16 MB each on 64-bit Node 24) while a program
 * allocates fast — start-up does: config validation, policy and rule compilation — and keeps it
 * committed afterwards. On the embedded default that is about 25 MB of the idle resident set
 * (measured: new space 32 MB reserved, 25 MB resident, 0.2 MB of it live). A memory-reducing full
 * collection (the `last-resort` flavour of V8's gc extension) shrinks it back to 1 MB and compacts the
 * old space; under load it grows again on demand, so throughput is not capped the way a small
 * `--max-semi-space-size` would cap it. It costs one pause (50–70 ms on the embedded default), so it
 * runs only while the event loop is (nearly) idle: once after start-up, then after any interval in
 * which the loop was busy less than 1 % of the time and the new space had grown back.
 *
 * The end of start-up also undoes the flags the launcher (bin/portcullis.js) sets for start-up only and
 * names in PORTCULLIS_START_FLAGS: V8's efficiency mode and filters that keep every function from the
 * optimizing compilers (TurboFan, Maglev).
 * Start-up's short hot loops (module resolution, the first scan of the tool descriptions) then neither
 * page the compilers' own machine code in nor leave optimized code behind; from here on V8 tiers up as
 * it always does, and the first requests page the compilers in when they need them.
 */
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { releaseRegExpCode } from './regexp-code.ts';

type Gc = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let gcFunction: Gc | undefined;

/** V8's gc function, without exposing `gc` on the gateway's global object: only a throwaway context gets it. */
function collector(): Gc {
  if (gcFunction) return gcFunction;
  const existing = (globalThis as { gc?: Gc }).gc;
  if (existing) return (gcFunction = existing);
  setFlagsFromString('--expose-gc');
  try {
    gcFunction = runInNewContext('gc') as Gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}

/** Bytes the new space holds in memory now. */
export function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
}

/**
 * One memory-reducing full collection (synchronous: the caller pays the pause), which also lets go of
 * the machine code of the patterns registered as releasable (util/regexp-code.ts).
 */
export function trimHeap(): void {
  const collect = collector();
  releaseRegExpCode(() => collect({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
}

export interface HeapTrimOptions {
  /** How often the loop's idleness is checked (default 30 s). */
  intervalMs?: number;
  /** Busy fraction below which an interval counts as idle (default 0.01). */
  idleBelow?: number;
  /** Trim only when the new space holds more than this (default 4 MiB: it starts at 1 MiB). */
  minNewSpaceBytes?: number;
}

/** Each flag the launcher may set for start-up only, and the flag that undoes it. */
const START_FLAG_UNDO: Readonly<Record<string, string>> = {
  '--efficiency-mode': '--no-efficiency-mode',
  '--maglev-filter=-*': '--maglev-filter=*',
  '--turbo-filter=-*': '--turbo-filter=*',
};

/**
 * Undoes the launcher's start-up-only flags (PORTCULLIS_START_FLAGS, taken out of the environment so
 * that nothing started later inherits it; a flag not in START_FLAG_UNDO is ignored).
 */
export function endStartUpFlags(): void {
  const flags = process.env.PORTCULLIS_START_FLAGS;
  if (flags === undefined) return;
  delete process.env.PORTCULLIS_START_FLAGS;
  for (const flag of flags.split(' ')) {
    const undo = Object.hasOwn(START_FLAG_UNDO, flag) ? START_FLAG_UNDO[flag] : undefined;
    if (undo) setFlagsFromString(undo);
  }
}

/**
 * Ends start-up's flags, trims once now (call it when start-up is done) and then whenever an interval
 * was idle; the timer does not keep the process alive. Returns the function that stops it.
 */
export function startHeapTrim(options: HeapTrimOptions = {}): () => void {
  const { intervalMs = 30_000, idleBelow = 0.01, minNewSpaceBytes = 4 * 1024 * 1024 } = options;
  endStartUpFlags();
  trimHeap();
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy < idleBelow && newSpaceBytes() > minNewSpaceBytes) {
      trimHeap();
      last = performance.eventLoopUtilization();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
