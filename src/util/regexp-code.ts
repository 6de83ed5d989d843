/**
 * Lets V8 drop the machine code of large regular expressions that run in bursts.
 *
 * V8 compiles a regular expression to bytecode on its first run and to machine code on its second
 * (`--regexp-tier-up-ticks=1`), and keeps both for as long as the object lives. The tool-description
 * scanner's cue patterns (src/inspect/words.ts) are hundreds of case-insensitive Unicode alternations:
 * one scan of a catalog, such as start-up's, leaves ~4 MB of machine code for them in the heap, and
 * nothing reads them again until the next catalog arrives. A pattern registered here is re-initialised
 * in place (the same object, source, flags and `lastIndex`) when the gateway is idle, so its compiled
 * forms become garbage; the next run compiles it again, as the first run did.
 *
 * Re-initialising needs two steps around a full collection: V8 keeps a compilation cache keyed by source
 * and flags, which would hand the same compiled data back, and a memory-reducing collection clears it.
 */

const released: RegExp[] = [];

/** Registers a regular expression whose compiled code may be dropped when idle; returns it. */
export function releasable(pattern: RegExp): RegExp {
  released.push(pattern);
  return pattern;
}

/** How many patterns are registered (for tests and the memory bench). */
export function releasableCount(): number {
  return released.length;
}

/**
 * Detaches every registered pattern from its compiled data, runs `collect` (a memory-reducing full
 * collection, which also clears V8's regular-expression compilation cache), then gives each pattern
 * its source, flags and `lastIndex` back. Synchronous: no other code runs while the patterns are
 * detached.
 */
export function releaseRegExpCode(collect: () => void): void {
  const saved = released.map((pattern) => ({ source: pattern.source, flags: pattern.flags, lastIndex: pattern.lastIndex }));
  try {
    // RegExp.prototype.compile (ECMA-262 Annex B.2.4) re-initialises the object in place.
    for (const pattern of released) pattern.compile('(?:)');
    collect();
  } finally {
    for (let i = 0; i < released.length; i++) {
      const pattern = released[i]!;
      const { source, flags, lastIndex } = saved[i]!;
      pattern.compile(source, flags);
      pattern.lastIndex = lastIndex;
    }
  }
}
