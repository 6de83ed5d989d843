/**
 * The kill switch: stops every call, a server's, a tool's, an agent's or a subject's (a user's, with
 * every agent acting for them), at once and until lifted.
 * Switches live in `<dataDir>/killswitch.json`, written atomically by `portcullis kill` / `unkill`; the
 * gateway looks at the file's identity (inode, size, mtime) on every call it governs, so a switch
 * takes effect on the next message and survives restarts.
 *
 * Integrity: the file is sealed like pins.json (src/util/seal.ts, the same key). A file whose seal does
 * not verify — edited outside portcullis to lift a switch or forge one, not JSON, of the unsealed
 * format of older versions — is believed in nothing: the switches in force before it appeared stay in
 * force (a gateway that has not yet read a trusted file stops every call), nothing in it takes effect,
 * `onUntrusted` is told (the gateway logs PC_KILL_UNTRUSTED), and it stays so until an admin runs
 * `portcullis kill --reseal` (accept the file as it is, after review) or `portcullis unkill
 * --everything` (start over). A switch this process sets meanwhile is written sealed, with the
 * switches it kept, and the untrusted file is set aside as `killswitch.json.untrusted`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { nameSource } from '../auth/principal.ts';
import { isObject } from '../protocol/jsonrpc.ts';
import { anyGlob } from '../util/glob.ts';
import { ensurePrivateDir, writePrivateFile } from '../util/private-files.ts';
import { ensureSealKey, readSealKey, sealMatches, sealOf, type SealKeySource } from '../util/seal.ts';

export const KILL_FORMAT_VERSION = 1;

/** What the seal covers: the switches, under a name of their own (no other sealed file's seal fits). */
const sealed = (switches: readonly KillSwitch[]) => ({ file: 'killswitch', version: KILL_FORMAT_VERSION, switches });

export interface KillSwitchStoreOptions {
  /** The seal's key (src/supply/open-pins.ts `sealKeySource`: `supply.pinsKey` or `<dataDir>/pins.key`). */
  key: SealKeySource;
  /** The clock that decides whether a switch with `until` still holds (tests pass a fake one). */
  now?: () => number;
  /**
   * Makes the key when there is none yet, before the first sealed write (default: the key file alone;
   * open.ts makes it together with the pins file, which reads a key without its file as a deletion).
   */
  prepareKey?: () => void;
  /** Told once per file content whose seal fails (the gateway logs it). */
  onUntrusted?: (problem: string) => void;
}

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
  /** The switches of the last trusted reading (or of this process's own writes). */
  #switches: KillSwitch[] = [];
  #stamp = '';
  /** Set: every call is stopped (the file vanished with switches in force, or no trusted reading yet). */
  #problem: string | undefined;
  /** Set: the file on disk failed its seal; the switches kept from before stay in force. */
  #untrusted: string | undefined;
  /** Whether the file on disk, as last read, failed its seal (set aside before it is written over). */
  #diskUntrusted = false;
  /** What an untrusted file on disk says, when it parses: shown for review, never enforced as written. */
  #claimed: KillSwitch[] | undefined;
  /** Whether this store has seen a trusted state (a sealed file, or none at all at first look). */
  #trusted = false;
  readonly #options: KillSwitchStoreOptions;
  #version = 0;
  /** True while the current synchronous stretch has looked at the file (cleared by a microtask). */
  #lookedThisTurn = false;
  readonly #now: () => number;

  constructor(path: string, options: KillSwitchStoreOptions) {
    this.path = path;
    this.#options = options;
    this.#now = options.now ?? Date.now;
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
      this.#untrusted = undefined;
      this.#diskUntrusted = false;
      this.#claimed = undefined;
      this.#problem = inForce > 0 || this.#problem ? `${this.path} disappeared while ${inForce > 0 ? `${inForce} kill switch${inForce > 1 ? 'es were' : ' was'}` : 'its unreadable state was'} in force; every call is stopped until it is restored (or \`portcullis unkill --everything\` writes an empty one)` : undefined;
      if (!this.#problem) this.#trusted = true;
      return;
    }
    const read = this.#read();
    this.#diskUntrusted = !('switches' in read);
    this.#claimed = 'claimed' in read ? read.claimed : undefined;
    if ('switches' in read) {
      this.#switches = read.switches;
      this.#problem = undefined;
      this.#untrusted = undefined;
      this.#trusted = true;
      return;
    }
    const recover = 'review it (`portcullis status`) and accept it with `portcullis kill --reseal`, or start over with `portcullis unkill --everything`';
    if (this.#trusted) {
      // Nothing of it is believed: not a lifted switch, not a forged one. A stop in force stays one.
      const kept = this.#switches.filter((s) => this.#holds(s)).length;
      this.#untrusted = `${read.problem}; nothing in it is believed, the ${kept} kill switch${kept === 1 ? '' : 'es'} in force before stay${kept === 1 ? 's' : ''} in force; ${recover}`;
    } else {
      this.#problem = `${read.problem}; every call is stopped until an admin fixes it: ${recover}`;
    }
    this.#options.onUntrusted?.(this.#untrusted ?? this.#problem!);
  }

  /** The file's switches when its seal verifies, or why it is not believed. */
  #read(): { switches: KillSwitch[] } | { problem: string; claimed?: KillSwitch[] } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      return { problem: `${this.path} cannot be read (${(error as Error).message})` };
    }
    const switches = switchesOf(parsed);
    if (typeof switches === 'string') return { problem: `${this.path} ${switches}` };
    if (!isObject(parsed) || parsed.version !== KILL_FORMAT_VERSION) return { problem: `${this.path} is not sealed (format version ${String(isObject(parsed) ? parsed.version : undefined)}, expected ${KILL_FORMAT_VERSION}; written by an older version or outside portcullis)`, claimed: switches };
    const key = readSealKey(this.#options.key);
    if (typeof key === 'string') return { problem: `cannot verify ${this.path}: ${key}`, claimed: switches };
    if (!sealMatches(key, sealed(switches), parsed.mac)) return { problem: `${this.path} does not match its seal (edited outside portcullis, or sealed with another key)`, claimed: switches };
    return { switches };
  }

  /** Why the file on disk is not believed (and what still holds), or undefined when it verified. */
  integrity(): { ok: true } | { ok: false; problem: string; stopsEverything: boolean } {
    const problem = this.#problem ?? this.#untrusted;
    return problem === undefined ? { ok: true } : { ok: false, problem, stopsEverything: this.#problem !== undefined };
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

  /**
   * What the file on disk says when its seal fails but it parses: for an admin to review before
   * `kill --reseal` (which makes exactly this the state) — never what is enforced. Undefined otherwise.
   */
  unverified(): readonly KillSwitch[] | undefined {
    return this.#claimed;
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

  /**
   * Lifts the switch on `target` (or all switches); returns how many were lifted. Lifting one switch is
   * refused while the file is not believed (which switches are in force is not known); `everything`
   * starts over.
   */
  remove(target: KillTarget | 'everything'): number {
    this.refresh();
    if (target !== 'everything' && (this.#problem || this.#untrusted)) throw new Error((this.#problem ?? this.#untrusted)!);
    const before = this.#switches.length;
    // Lifting an agent's switch by name (the command line) lifts the issuer-bound ones on that name too.
    const lifts = (s: KillSwitch, t: KillTarget): boolean =>
      sameTarget(s.target, t) || ('agent' in t && t.issuer === undefined && 'agent' in s.target && s.target.agent === t.agent);
    this.#switches = target === 'everything' ? [] : this.#switches.filter((s) => !lifts(s, target));
    this.#problem = undefined;
    this.#save();
    return before - this.#switches.length;
  }

  /**
   * Accepts the file as it is now (after an admin reviewed it): seals its switches. Refused when it is
   * not a kill-switch file at all (start over with `remove('everything')`).
   */
  reseal(): { switches: number } | { problem: string } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      return { problem: `${this.path} cannot be read (${(error as Error).message}); start over with \`portcullis unkill --everything\`` };
    }
    const switches = switchesOf(parsed);
    if (typeof switches === 'string') return { problem: `${this.path} ${switches}; start over with \`portcullis unkill --everything\`` };
    this.#switches = switches;
    this.#problem = undefined;
    this.#save(false);
    return { switches: switches.length };
  }

  /**
   * Writes the switches, sealed. An untrusted file on disk is set aside first (`.untrusted`, for the
   * investigation) unless `setAside` is false (reseal: the admin accepted it).
   */
  #save(setAside = true): void {
    ensurePrivateDir(dirname(this.path));
    (this.#options.prepareKey ?? (() => ensureSealKey(this.#options.key)))();
    const key = readSealKey(this.#options.key);
    if (typeof key === 'string') throw new Error(`cannot seal ${this.path}: ${key}`);
    if (setAside && this.#diskUntrusted) renameSync(this.path, `${this.path}.untrusted`);
    // A temporary name of its own: two processes on one data dir must not rename each other's half-written file.
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writePrivateFile(temp, `${JSON.stringify({ version: KILL_FORMAT_VERSION, switches: this.#switches, mac: sealOf(key, sealed(this.#switches)) }, null, 2)}\n`);
    renameSync(temp, this.path);
    this.#untrusted = undefined;
    this.#diskUntrusted = false;
    this.#trusted = true;
    this.#version++;
  }
}

/** The switches a parsed file lists, or what is wrong with its shape. */
function switchesOf(parsed: unknown): KillSwitch[] | string {
  if (!isObject(parsed) || !Array.isArray(parsed.switches)) return 'has no "switches" list';
  const bad = parsed.switches.findIndex((s: unknown) => !isObject(s) || !isObject(s.target) || typeof s.reason !== 'string');
  if (bad >= 0) return `has a switch without a target and a reason (switches[${bad}])`;
  return parsed.switches as KillSwitch[];
}
