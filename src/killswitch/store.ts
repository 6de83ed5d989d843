/**
 * The kill switch: stops every call, a server's, a tool's or an agent's, at once and until lifted.
 * Switches live in `<dataDir>/killswitch.json`, written atomically by `portcullis kill` / `unkill`; the
 * gateway looks at the file's identity (inode, size, mtime) on every call it governs, so a switch
 * takes effect on the next message and survives restarts.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { anyGlob } from '../util/glob.ts';

export type KillTarget = { all: true } | { server: string } | { tool: string } | { agent: string };

export interface KillSwitch {
  target: KillTarget;
  reason: string;
  by: string;
  at: string;
}

export function describeTarget(target: KillTarget): string {
  if ('all' in target) return 'all calls';
  if ('server' in target) return `server "${target.server}"`;
  if ('tool' in target) return `tool "${target.tool}"`;
  return `agent "${target.agent}"`;
}

const sameTarget = (a: KillTarget, b: KillTarget): boolean => JSON.stringify(a) === JSON.stringify(b);

export class KillSwitchStore {
  readonly path: string;
  #switches: KillSwitch[] = [];
  #stamp = '';
  #problem: string | undefined;

  constructor(path: string) {
    this.path = path;
    this.refresh();
  }

  /** Re-reads the file when it changed. A file that cannot be read stops everything (fail closed). */
  refresh(): void {
    const stat = statSync(this.path, { throwIfNoEntry: false });
    const stamp = stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}` : 'absent';
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    if (!stat) {
      this.#switches = [];
      this.#problem = undefined;
      return;
    }
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { switches?: unknown };
      if (!Array.isArray(parsed.switches)) throw new Error('no "switches" list');
      this.#switches = parsed.switches as KillSwitch[];
      this.#problem = undefined;
    } catch (error) {
      this.#problem = `${this.path} cannot be read (${(error as Error).message}); every call is stopped until it is fixed or removed`;
    }
  }

  list(): readonly KillSwitch[] {
    return this.#switches;
  }

  /**
   * The switch (or the unreadable file) that stops this call, if any. `fresh: false` skips the look at
   * the file (for the items of one list, after one look for the whole list).
   */
  stops(server: string, tool: string | undefined, agent: string, fresh = true): { reason: string; target: string } | undefined {
    if (fresh) this.refresh();
    if (this.#problem) return { reason: this.#problem, target: 'all calls' };
    for (const s of this.#switches) {
      const t = s.target;
      const hit =
        'all' in t ||
        ('server' in t && t.server === server) ||
        ('agent' in t && anyGlob([t.agent])(agent)) ||
        ('tool' in t && tool !== undefined && (anyGlob([t.tool])(tool) || anyGlob([t.tool])(`${server}.${tool}`)));
      if (hit) return { reason: s.reason, target: describeTarget(t) };
    }
    return undefined;
  }

  add(target: KillTarget, reason: string, by: string): void {
    this.refresh();
    if (this.#problem) throw new Error(this.#problem);
    this.#switches = [...this.#switches.filter((s) => !sameTarget(s.target, target)), { target, reason, by, at: new Date().toISOString() }];
    this.#save();
  }

  /** Lifts the switch on `target` (or all switches); returns how many were lifted. */
  remove(target: KillTarget | 'everything'): number {
    this.refresh();
    const before = this.#switches.length;
    this.#switches = target === 'everything' ? [] : this.#switches.filter((s) => !sameTarget(s.target, target));
    this.#problem = undefined;
    this.#save();
    return before - this.#switches.length;
  }

  #save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ switches: this.#switches }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.path);
  }
}
