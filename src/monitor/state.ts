/**
 * What the monitor knows of each principal, kept across restarts in `<dataDir>/monitor-state.json`
 * (written atomically, 0600, every 30 s off the event loop when it changed, and at shutdown): when it was first and last
 * seen, the tools, servers and scopes it used, the hours it works, its volume baselines. Burst windows
 * are not kept: they span minutes.
 *
 * Memory is bounded: at most `maxPrincipals` principals (the least recently seen is forgotten past
 * it, a tenth at a time), and per principal at most MAX_NAMES tools, servers and scopes, and MAX_TOOL_BASELINES tool
 * baselines.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { PRIVATE_FILE_MODE, writePrivateFile } from '../util/private-files.ts';
import type { Baseline } from './baseline.ts';
import type { BurstWindow, DistinctWindow } from './window.ts';

export const MAX_NAMES = 1000;
export const MAX_TOOL_BASELINES = 256;

export interface PrincipalState {
  subject: string;
  agent: string;
  issuer?: string | undefined;
  firstSeenMs: number;
  lastSeenMs: number;
  tools: Set<string>;
  servers: Set<string>;
  scopes: Set<string>;
  /** Calls per hour of the day (0–23, in the configured time zone), learned. */
  hours: number[];
  volume: Baseline | undefined;
  toolVolume: Map<string, Baseline>;
  /** Transient: burst windows by detector. */
  bursts: Map<string, BurstWindow | DistinctWindow>;
  /** Transient: this principal's saved JSON, until it is touched again. */
  json?: string | undefined;
}

interface SavedPrincipal {
  key: string;
  subject: string;
  agent: string;
  issuer?: string;
  firstSeenMs: number;
  lastSeenMs: number;
  tools: string[];
  servers: string[];
  scopes: string[];
  hours: number[];
  volume?: Baseline;
  toolVolume: Record<string, Baseline>;
}

interface SavedState {
  v: 1;
  startedMs: number;
  principals: SavedPrincipal[];
}

/** Names past this length are cut in the monitor's state and alerts (a caller can name itself at length). */
const MAX_NAME = 256;
export const clip = (name: string): string => (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name);

/** Adds `name` to a bounded set; returns whether it was new. */
export function learn(set: Set<string>, name: string): boolean {
  const kept = clip(name);
  if (set.has(kept)) return false;
  if (set.size < MAX_NAMES) set.add(kept);
  return true;
}

export class MonitorState {
  readonly path: string | undefined;
  /** When the monitor first ran: the learning period counts from here. */
  startedMs: number;
  readonly #principals = new Map<string, PrincipalState>();
  readonly #max: number;
  #dirty = false;
  /** Principals forgotten to stay within maxPrincipals. */
  evicted = 0;

  constructor(path: string | undefined, maxPrincipals: number, nowMs: number, onProblem: (message: string) => void) {
    this.path = path;
    this.#max = maxPrincipals;
    this.startedMs = nowMs;
    if (path && existsSync(path)) {
      try {
        this.#load(JSON.parse(readFileSync(path, 'utf8')) as SavedState);
      } catch (error) {
        // Kept aside for the investigator, never silently overwritten; learning starts again.
        const aside = `${path}.unreadable-${nowMs}`;
        renameSync(path, aside);
        this.#principals.clear();
        this.startedMs = nowMs;
        onProblem(`${path} could not be read (${(error as Error).message}); moved to ${aside}, learning starts again`);
      }
    }
    this.#dirty = true;
  }

  #load(saved: SavedState): void {
    if (saved?.v !== 1 || typeof saved.startedMs !== 'number' || !Array.isArray(saved.principals)) throw new Error('not a monitor state file of version 1');
    this.startedMs = saved.startedMs;
    for (const p of saved.principals.slice(-this.#max)) {
      this.#principals.set(p.key, {
        subject: p.subject,
        agent: p.agent,
        issuer: p.issuer,
        firstSeenMs: p.firstSeenMs,
        lastSeenMs: p.lastSeenMs,
        tools: new Set(p.tools.slice(0, MAX_NAMES)),
        servers: new Set(p.servers.slice(0, MAX_NAMES)),
        scopes: new Set(p.scopes.slice(0, MAX_NAMES)),
        hours: Array.from({ length: 24 }, (_, i) => Number(p.hours[i]) || 0),
        volume: p.volume,
        toolVolume: new Map(Object.entries(p.toolVolume ?? {}).slice(0, MAX_TOOL_BASELINES)),
        bursts: new Map(),
      });
    }
  }

  get size(): number {
    return this.#principals.size;
  }

  /** The state of a principal, created on first sight; marks it most recently seen. */
  touch(key: string, who: { subject: string; agent: string; issuer?: string | undefined }, nowMs: number): PrincipalState {
    let p = this.#principals.get(key);
    if (!p) {
      if (this.#principals.size >= this.#max) this.#evict();
      p = { subject: clip(who.subject), agent: clip(who.agent), issuer: who.issuer === undefined ? undefined : clip(who.issuer), firstSeenMs: nowMs, lastSeenMs: nowMs, tools: new Set(), servers: new Set(), scopes: new Set(), hours: new Array<number>(24).fill(0), volume: undefined, toolVolume: new Map(), bursts: new Map() };
      this.#principals.set(key, p);
    }
    p.lastSeenMs = nowMs;
    p.json = undefined;
    this.#dirty = true;
    return p;
  }

  /**
   * Forgets the least recently seen tenth (at least one): one sort per many new principals, instead of
   * reordering the map on every call.
   */
  #evict(): void {
    const byAge = [...this.#principals].sort((a, b) => a[1].lastSeenMs - b[1].lastSeenMs);
    const drop = Math.max(1, Math.floor(this.#max / 10));
    for (const [key] of byAge.slice(0, drop)) this.#principals.delete(key);
    this.evicted += Math.min(drop, byAge.length);
  }

  get(key: string): PrincipalState | undefined {
    return this.#principals.get(key);
  }

  entries(): IterableIterator<[string, PrincipalState]> {
    return this.#principals.entries();
  }

  /** Writes the state if it changed since the last save (synchronously: at start and shutdown). */
  save(): void {
    let text: string | undefined;
    try {
      text = this.#snapshot();
    } catch (error) {
      this.#dirty = true;
      throw error;
    }
    if (text === undefined || !this.path) return;
    const temp = `${this.path}.${process.pid}.tmp`;
    writePrivateFile(temp, text);
    renameSync(temp, this.path);
  }

  #saving: Promise<void> | undefined;

  /** The same, with the file written off the event loop (the periodic save); one at a time. */
  saveInBackground(): Promise<void> {
    if (this.#saving || !this.path) return this.#saving ?? Promise.resolve();
    let text: string | undefined;
    try {
      text = this.#snapshot();
    } catch (error) {
      // Serialising can fail (out of memory): the caller logs it, the process goes on, the next save retries.
      this.#dirty = true;
      return Promise.reject(error as Error);
    }
    if (text === undefined) return Promise.resolve();
    const path = this.path;
    const temp = `${path}.${process.pid}.tmp`;
    this.#saving = writeFile(temp, text, { mode: PRIVATE_FILE_MODE })
      .then(() => rename(temp, path))
      .catch((error: unknown) => {
        this.#dirty = true;
        throw error;
      })
      .finally(() => (this.#saving = undefined));
    return this.#saving;
  }

  /** Resolves when no background save is in flight. */
  async settle(): Promise<void> {
    await this.#saving?.catch(() => undefined);
  }

  /** The state as JSON if it changed since the last snapshot (and marks it clean). */
  #snapshot(): string | undefined {
    if (!this.path || !this.#dirty) return undefined;
    // Each principal's JSON is kept until it is touched again, so a save re-serialises only the
    // principals active since the last one (most of 10,000 tracked principals are idle at any time).
    const principals = [...this.#principals].map(([key, p]) => (p.json ??= JSON.stringify(this.#saved(key, p))));
    this.#dirty = false;
    return `{"v":1,"startedMs":${JSON.stringify(this.startedMs)},"principals":[${principals.join(',')}]}`;
  }

  #saved(key: string, p: PrincipalState): SavedPrincipal {
    const out: SavedPrincipal = {
      key,
      subject: p.subject,
      agent: p.agent,
      firstSeenMs: p.firstSeenMs,
      lastSeenMs: p.lastSeenMs,
      tools: [...p.tools],
      servers: [...p.servers],
      scopes: [...p.scopes],
      hours: p.hours,
      toolVolume: Object.fromEntries(p.toolVolume),
    };
    if (p.issuer !== undefined) out.issuer = p.issuer;
    if (p.volume) out.volume = p.volume;
    return out;
  }
}
