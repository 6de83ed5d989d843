/**
 * Watches a file and hands over its text only once it is stable: two reads `settleMs` apart (the first
 * a moment after the last change event) that agree on inode, size, modification time and SHA-256.
 * A file written in several steps — an editor saving in place, `>` then `>>`, two writes seconds apart
 * — is never handed over half-written, as long as the pause between the steps is shorter than
 * `settleMs`; anything read in between that a second read disagrees with is discarded. Writing a new
 * file and renaming it over the old one (atomic on POSIX) avoids the question altogether.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface StableWatchOptions {
  file: string;
  /** How long the file must stay unchanged before it is handed over. */
  settleMs: number;
  /** The text of the last version handed over (or read at start): an identical version is not handed over again. */
  initial: string;
  onStable: (text: string) => void;
}

interface Snapshot {
  text: string;
  key: string;
}

/** A short pause after the last event before the first read, so one save is not read mid-write. */
const FIRST_READ_MS = 100;

function snapshot(file: string): Snapshot | undefined {
  try {
    const before = statSync(file);
    const text = readFileSync(file, 'utf8');
    const after = statSync(file);
    // Changed while being read: not a version to judge.
    if (before.mtimeMs !== after.mtimeMs || before.size !== after.size || before.ino !== after.ino) return undefined;
    const digest = createHash('sha256').update(text).digest('hex');
    return { text, key: `${after.ino}:${after.size}:${after.mtimeMs}:${digest}` };
  } catch {
    return undefined; // mid-replace by an editor: the next read decides
  }
}

const digestOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Starts watching; returns the function that stops. */
export function watchStable(options: StableWatchOptions): () => void {
  const { file, settleMs, onStable } = options;
  let handed = digestOf(options.initial);
  let candidate: Snapshot | undefined;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (ms: number): void => {
    clearTimeout(timer);
    timer = setTimeout(settle, ms);
  };

  function settle(): void {
    const now = snapshot(file);
    if (!now) {
      candidate = undefined;
      schedule(settleMs);
      return;
    }
    const digest = now.key.slice(now.key.lastIndexOf(':') + 1);
    if (digest === handed) {
      candidate = undefined; // back to (or still at) the version in force
      return;
    }
    if (candidate && candidate.key === now.key) {
      candidate = undefined;
      handed = digest;
      onStable(now.text);
      return;
    }
    // First read of this version (or it changed since the last read): read again after the window.
    candidate = now;
    schedule(settleMs);
  }

  const watcher = watch(dirname(file), (_event, name) => {
    if (name !== null && name !== basename(file)) return;
    candidate = undefined;
    schedule(Math.min(FIRST_READ_MS, settleMs));
  });
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
