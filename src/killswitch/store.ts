/**
 * The kill switch: stops every call, a server's, a tool's, an agent's or a subject's (a user's, with
 * every agent acting for them), at once and until lifted.
 * Switches live in `<dataDir>/killswitch.json`, written atomically by `portcullis kill` / `unkill`; the
 * gateway looks at the file's identity (inode, size, mtime) on every call it governs, so a switch
 * takes effect on the next message and survives restarts.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { nameSource } from '../auth/principal.ts';
import { anyGlob } from '../util/glob.ts';

/** `exact`: the name is matched as it is, not as a glob (what the monitor sets for a name it did not choose). */
/**
 * What a switch covers. An agent switch with `issuer` covers that agent name only as vouched for by that
 * source of names (`nameSource`: `portcullis` for the gateway's own — API keys, `agent add` credentials,
 * embedded sign-in —, an external issuer's `iss`, '' for local callers): the monitor
 * contains the agent it judged on every one of its credentials, not every caller another issuer lets use
 * the same name. Without `issuer` (the command line), the name from every issuer.
 */
export type KillTarget = { all: true } | { server: string } | { tool: string; exact?: true } | { agent: string; exact?: true; issuer?: string } | { subject: string };

/**
 * Who makes a call: its agent, and the verified subject (the user) it acts for. A subject switch
 * matches the subject exactly: with open registration a user can make new agents (OAuth clients) at
 * will, so only the subject contains all of them.
 */
export interface Caller {
  agent: string;
  subject?: string | undefined;
  /** Who vouched for the names (Principal.issuer); undefined for local callers. */
  issuer?: string | undefined;
  /** The principal's kind and whether the embedded server issued its token (see `vouchedBy`). */
  kind?: 'local' | 'token' | 'key' | undefined;
  own?: boolean | undefined;
}

/**
 * Whether an agent switch bound to an issuer names this caller's source of names (unbound switches name
 * all). A switch written by an earlier version names the credential's raw issuer (`portcullis:api-key`,
 * the embedded server's URL, '' for local callers): still honoured, for the credential it named.
 */
const sameIssuer = (t: { issuer?: string }, caller: Caller): boolean => t.issuer === undefined || t.issuer === nameSource(caller) || t.issuer === (caller.issuer ?? '');

export interface KillSwitch {
  target: KillTarget;
  reason: string;
  by: string;
  at: string;
  /** When the switch lifts itself (automatic containment, docs/monitor.md); absent: until `unkill`. */
  until?: string;
  /**
   * `approve`: a hold, not a stop — the calls it covers need a human's approval as if an `effect:
   * approve` rule matched (the monitor's `require-approval` response, docs/monitor.md); absent: a stop.
   */
  effect?: 'approve';
}

export function describeTarget(target: KillTarget): string {
  if ('all' in target) return 'all calls';
  if ('server' in target) return `server "${target.server}"`;
  if ('tool' in target) return `tool "${target.tool}"`;
  if ('subject' in target) return `subject "${target.subject}"`;
  return target.issuer === undefined ? `agent "${target.agent}"` : `agent "${target.agent}" of ${target.issuer === '' ? 'local callers' : `issuer "${target.issuer}"`}`;
}

/** One switch per target: an exact and a glob switch on the same name are the same switch (so `unkill --agent` lifts either). */
const sameTarget = (a: KillTarget, b: KillTarget): boolean => describeTarget(a) === describeTarget(b);

export class KillSwitchStore {
  readonly path: string;
  #switches: KillSwitch[] = [];
  #stamp = '';
  #problem: string | undefined;
  #version = 0;
  /** True while the current synchronous stretch has looked at the file (cleared by a microtask). */
  #lookedThisTurn = false;
  readonly #now: () => number;

  /** `now`: the clock that decides whether a switch with `until` still holds (tests pass a fake one). */
  constructor(path: string, now: () => number = Date.now) {
    this.path = path;
    this.#now = now;
    this.refresh();
  }

  /** Re-reads the file when it changed. A file that cannot be read stops everything (fail closed). */
  refresh(): void {
    const stat = statSync(this.path, { throwIfNoEntry: false });
    const stamp = stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}` : 'absent';
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    this.#version++;
    if (!stat) {
      // A file that held switches in force does not vanish by itself: someone moved or deleted it (an
      // agent through a filesystem server that reached a parent directory). Stop everything until it is
      // back, as for a file that cannot be read; `unkill --everything` writes an empty one.
      const inForce = this.#switches.filter((s) => this.#holds(s)).length;
      this.#switches = [];
      this.#problem = inForce > 0 || this.#problem ? `${this.path} disappeared while ${inForce > 0 ? `${inForce} kill switch${inForce > 1 ? 'es were' : ' was'}` : 'its unreadable state was'} in force; every call is stopped until it is restored (or \`portcullis unkill --everything\` writes an empty one)` : undefined;
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

  /**
   * `refresh()`, once per synchronous stretch: the gateway's checks of one call (the kill-switch stage
   * before and after route, the approval hold) share one look at the file. A switch written while the
   * stretch runs is ordered after it, as if written a moment later: every message received after a
   * switch was written is still checked against it.
   */
  refreshOncePerTurn(): void {
    if (this.#lookedThisTurn) return;
    // A look that throws is not shared: the next check looks again (and fails closed again).
    this.refresh();
    this.#lookedThisTurn = true;
    queueMicrotask(() => (this.#lookedThisTurn = false));
  }

  /** Changes with every change of the switches seen (the file, or add/remove in this process). */
  get version(): number {
    return this.#version;
  }

  /** The switches in force (those past their `until` are left out). */
  list(): readonly KillSwitch[] {
    return this.#switches.filter((s) => this.#holds(s));
  }

  #holds(s: KillSwitch): boolean {
    return s.until === undefined || Date.parse(s.until) > this.#now();
  }

  /**
   * The switch (or the unreadable file) that stops this call, if any. `fresh: false` skips the look at
   * the file (for the items of one list, after one look for the whole list).
   */
  stops(server: string, tool: string | undefined, caller: Caller, fresh = true): { reason: string; target: string } | undefined {
    if (fresh) this.refresh();
    if (this.#problem) return { reason: this.#problem, target: 'all calls' };
    for (const s of this.#switches) {
      const t = s.target;
      if (!this.#holds(s) || s.effect === 'approve') continue;
      const named = (pattern: string, exact: boolean | undefined, value: string) => (exact ? pattern === value : anyGlob([pattern])(value));
      const hit =
        'all' in t ||
        ('server' in t && t.server === server) ||
        ('agent' in t && named(t.agent, t.exact, caller.agent) && sameIssuer(t, caller)) ||
        ('subject' in t && caller.subject !== undefined && t.subject === caller.subject) ||
        ('tool' in t && tool !== undefined && (named(t.tool, t.exact, tool) || named(t.tool, t.exact, `${server}.${tool}`)));
      if (hit) return { reason: s.reason, target: describeTarget(t) };
    }
    return undefined;
  }

  /**
   * The hold (a switch with `effect: approve`) on this agent in force, if any: its calls need a human's
   * approval. `fresh: false` skips the look at the file (the caller just looked).
   */
  held(caller: Caller, fresh = true): { reason: string; target: string; until?: string } | undefined {
    if (fresh) this.refresh();
    if (this.#problem) return undefined; // stops() already stops everything
    const { agent } = caller;
    const s = this.#switches.find((h) => h.effect === 'approve' && this.#holds(h) && 'agent' in h.target && (h.target.exact ? h.target.agent === agent : anyGlob([h.target.agent])(agent)) && sameIssuer(h.target, caller));
    return s ? { reason: s.reason, target: describeTarget(s.target), ...(s.until ? { until: s.until } : {}) } : undefined;
  }

  add(target: KillTarget, reason: string, by: string, until?: string, effect?: 'approve'): void {
    this.refresh();
    if (this.#problem) throw new Error(this.#problem);
    // A hold never replaces a stop on the same target (it would weaken it); a stop replaces a hold.
    if (effect === 'approve' && this.#switches.some((s) => this.#holds(s) && s.effect === undefined && sameTarget(s.target, target))) return;
    const entry: KillSwitch = { target, reason, by, at: new Date().toISOString() };
    if (until !== undefined) entry.until = until;
    if (effect !== undefined) entry.effect = effect;
    this.#switches = [...this.#switches.filter((s) => this.#holds(s) && !sameTarget(s.target, target)), entry];
    this.#save();
  }

  /** Lifts the switch on `target` (or all switches); returns how many were lifted. */
  remove(target: KillTarget | 'everything'): number {
    this.refresh();
    const before = this.#switches.length;
    // Lifting an agent's switch by name (the command line) lifts the issuer-bound ones on that name too.
    const lifts = (s: KillSwitch, t: KillTarget): boolean =>
      sameTarget(s.target, t) || ('agent' in t && t.issuer === undefined && 'agent' in s.target && s.target.agent === t.agent);
    this.#switches = target === 'everything' ? [] : this.#switches.filter((s) => !lifts(s, target));
    this.#problem = undefined;
    this.#save();
    return before - this.#switches.length;
  }

  #save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ switches: this.#switches }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.path);
    this.#version++;
  }
}
