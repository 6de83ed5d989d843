/**
 * Definition pins (rug-pull defence): the SHA-256 of each approved tool, prompt and resource-template
 * definition (canonical JSON of the whole definition as the server lists it) and of each server's
 * self-description (instructions, serverInfo title and description), kept in `<dataDir>/pins.json`
 * with who approved it and when. Definitions the gateway refused are kept as `pending` beside their
 * pin, so `portcullis pin diff` can show old against new and `portcullis pin approve` can release them.
 * The gateway re-reads the file when it changes, so an approval takes effect without a restart.
 *
 * Integrity: the file carries an HMAC-SHA256 over its content (`mac`), keyed by `supply.pinsKey` or,
 * by default, `<dataDir>/pins.key` (32 random bytes, 0600, made together with the first pins file).
 * A file whose MAC does not verify — edited by hand, truncated, not JSON, of an older format — or that
 * is missing while its default key exists, is **untrusted**: nothing of it is believed, nothing is
 * written over it, and the gateway serves no pinned definition (fail closed) until an admin runs
 * `portcullis pin reseal` (accept the file as it is) or `portcullis pin reset` (start over).
 *
 * Not protected: someone who can write the data dir can also read the default key and re-sign a file
 * they edited; an older, correctly signed copy of the file put back (rollback) verifies. Keep the key
 * elsewhere (`supply.pinsKey: file:/…` readable only by the gateway's user, or `env:…`) to raise that bar.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson } from '../audit/canonical.ts';
import { sha256Hex } from '../audit/record.ts';
import { isObject } from '../protocol/jsonrpc.ts';
import { ensurePrivateDir, writePrivateFile } from '../util/private-files.ts';
import { ensureSealKey, readSealKey, sealMatches, sealOf, type SealKeySource } from '../util/seal.ts';

/** `server` holds one definition per server, `server:instructions`: its self-description. */
export type DefinitionKind = 'tools' | 'prompts' | 'resourceTemplates' | 'server';

export interface Pin {
  hash: string;
  approvedAt: string;
  approvedBy: string;
  definition: Record<string, unknown>;
}

export interface Pending {
  hash: string;
  seenAt: string;
  reason: string;
  definition: Record<string, unknown>;
}

interface ServerPins {
  pinned: Record<string, Pin>;
  pending: Record<string, Pending>;
  /** Kinds of definition whose full listing has been seen (and pinned) once. */
  seen?: Partial<Record<DefinitionKind, string>>;
}

export const PINS_FORMAT_VERSION = 2;

/** The SHA-256 of a definition: every field a server sent, canonically encoded. */
export function definitionHash(definition: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(definition));
}

export const pinKey = (kind: DefinitionKind, name: string): string => `${kind}:${name}`;

/** Where the pins' key comes from: a resolved `supply.pinsKey`, or the default key file beside the pins (src/util/seal.ts). */
export type PinsKeySource = SealKeySource;

export interface PinStoreOptions {
  path: string;
  key: PinsKeySource;
  /**
   * Whether this store may create the default key and an empty sealed file on first use (the gateway
   * and the CLI commands that write). Read-only users (`pin list`, `policy test`) never create files.
   */
  create?: boolean;
}

export type PinsIntegrity = { ok: true } | { ok: false; problem: string };

/** What the MAC covers. */
const sealed = (servers: Record<string, ServerPins>) => ({ version: PINS_FORMAT_VERSION, servers });

function isServerPins(value: unknown): value is ServerPins {
  return isObject(value) && isObject(value.pinned) && isObject(value.pending) && (value.seen === undefined || isObject(value.seen));
}

export class PinStore {
  readonly path: string;
  readonly #options: PinStoreOptions;
  #servers: Record<string, ServerPins> = {};
  #integrity: PinsIntegrity = { ok: true };
  #key: Buffer | undefined;
  /** mtime, size and inode of the file as last read or written: a change means it must be read again. */
  #stamp = '';
  #checkedAt = 0;
  /** Bumped whenever approvals may have changed (read from disk, or saved here). */
  generation = 0;

  constructor(options: PinStoreOptions) {
    this.path = options.path;
    this.#options = options;
    this.#initialize();
    this.reload(0);
  }

  /** The default key is made together with an empty sealed file, so that a deleted file is seen as such. */
  #initialize(): void {
    const source = this.#options.key;
    if (source.kind !== 'file' || !this.#options.create) return;
    if (existsSync(source.path) || existsSync(this.path)) return;
    this.#ensureDefaultKey();
    this.save();
  }

  #readKey(): Buffer | string {
    return readSealKey(this.#options.key);
  }

  /**
   * Re-reads the file if it changed on disk (an approval from the CLI, or tampering). The file is
   * looked at no more than every `minIntervalMs` (this runs on every call): a change takes effect
   * within a second.
   */
  reload(minIntervalMs = 1000): void {
    const now = Date.now();
    if (now - this.#checkedAt < minIntervalMs) return;
    this.#checkedAt = now;
    const exists = existsSync(this.path);
    const stamp = this.#stampOf();
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    this.generation += 1;
    const key = this.#readKey();
    this.#key = typeof key === 'string' ? undefined : key;
    if (!exists) {
      this.#servers = {};
      // With the default key, the file is made with the key: a key without its file means a deleted file.
      const source = this.#options.key;
      if (source.kind === 'file' && existsSync(source.path)) this.#untrusted(`${this.path} is missing but its key ${source.path} exists (was the file deleted?)`);
      else this.#integrity = { ok: true };
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      this.#servers = {};
      this.#untrusted(`${this.path} is not JSON (${(error as Error).message})`);
      return;
    }
    const servers = isObject(parsed) && isObject(parsed.servers) ? (parsed.servers as Record<string, unknown>) : undefined;
    this.#servers = {};
    if (servers) for (const [name, entry] of Object.entries(servers)) if (isServerPins(entry)) this.#servers[name] = entry;
    if (!isObject(parsed) || !servers || Object.values(servers).some((entry) => !isServerPins(entry))) return this.#untrusted(`${this.path} does not have the shape of a pins file`);
    if (parsed.version !== PINS_FORMAT_VERSION) return this.#untrusted(`${this.path} has format version ${String(parsed.version)}, expected ${PINS_FORMAT_VERSION}`);
    if (typeof key === 'string') return this.#untrusted(`cannot verify ${this.path}: ${key}`);
    if (!sealMatches(key, sealed(this.#servers), parsed.mac)) return this.#untrusted(`${this.path} does not match its MAC (edited outside portcullis, or signed with another key)`);
    this.#integrity = { ok: true };
  }

  #stampOf(): string {
    if (!existsSync(this.path)) return 'missing';
    const stat = statSync(this.path);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  }

  #untrusted(problem: string): void {
    this.#integrity = { ok: false, problem };
  }

  /** Whether the file verified; when it did not, nothing in it may be relied on. */
  integrity(): PinsIntegrity {
    return this.#integrity;
  }

  #server(name: string): ServerPins {
    let entry = this.#servers[name];
    if (!entry) this.#servers[name] = entry = { pinned: {}, pending: {} };
    return entry;
  }

  /** Whether this kind of definition of the server was ever seen in full (trust on first use is over). */
  seen(server: string, kind: DefinitionKind): boolean {
    return this.#servers[server]?.seen?.[kind] !== undefined;
  }

  markSeen(server: string, kind: DefinitionKind): void {
    const entry = this.#server(server);
    entry.seen = { ...entry.seen, [kind]: new Date().toISOString() };
  }

  pinned(server: string, key: string): Pin | undefined {
    return this.#servers[server]?.pinned[key];
  }

  pending(server: string): Record<string, Pending> {
    return this.#servers[server]?.pending ?? {};
  }

  allPinned(server: string): Record<string, Pin> {
    return this.#servers[server]?.pinned ?? {};
  }

  servers(): string[] {
    return Object.keys(this.#servers);
  }

  pin(server: string, key: string, definition: Record<string, unknown>, by: string): void {
    const entry = this.#server(server);
    entry.pinned[key] = { hash: definitionHash(definition), approvedAt: new Date().toISOString(), approvedBy: by, definition };
    delete entry.pending[key];
  }

  /** Records a refused definition; returns true when it is news (not already pending as is). */
  hold(server: string, key: string, definition: Record<string, unknown>, reason: string): boolean {
    const entry = this.#server(server);
    const hash = definitionHash(definition);
    if (entry.pending[key]?.hash === hash) return false;
    entry.pending[key] = { hash, seenAt: new Date().toISOString(), reason, definition };
    return true;
  }

  /**
   * Approves pending definitions of a server, each named with the hash the admin reviewed (as `pin diff`
   * and `pin list` show it, at least 12 hex digits): a name alone (`send`, any kind) or an exact key
   * (`tools:send`, `server:instructions`). All or nothing: when any item names nothing pending, names a
   * hash that is no longer what is pending (the server swapped it after review), or names a definition
   * the scanner rated high without `acceptFindings`, nothing is approved and the problems are returned.
   */
  approve(server: string, items: ReadonlyArray<{ name: string; hash: string }>, by: string, options: { acceptFindings?: boolean } = {}): { approved: string[] } | { problems: string[] } {
    const entry = this.#server(server);
    const problems: string[] = [];
    const chosen = new Map<string, Pending>();
    for (const item of items) {
      const prefix = item.hash.toLowerCase();
      if (!/^[0-9a-f]{12,64}$/.test(prefix)) {
        problems.push(`"${item.name}@${item.hash}": the hash must be at least 12 hex digits, as pin diff shows it`);
        continue;
      }
      const named = Object.entries(entry.pending).filter(([key]) => key === item.name || key.slice(key.indexOf(':') + 1) === item.name);
      if (named.length === 0) {
        problems.push(`nothing named "${item.name}" is waiting for approval`);
        continue;
      }
      const matching = named.filter(([, pending]) => pending.hash.startsWith(prefix));
      if (matching.length === 0) {
        const now = named.map(([key, pending]) => `${key}@${pending.hash.slice(0, 12)}`).join(', ');
        problems.push(`"${item.name}" changed since you reviewed ${prefix.slice(0, 12)}: waiting now is ${now} (review it again with pin diff)`);
        continue;
      }
      for (const [key, pending] of matching) {
        if (pending.reason.startsWith('poisoning') && !options.acceptFindings) {
          problems.push(`${key}@${pending.hash.slice(0, 12)} was flagged by the scanner (${pending.reason}); approve it only with --accept-findings`);
          continue;
        }
        chosen.set(key, pending);
      }
    }
    if (problems.length > 0) return { problems };
    for (const [key, pending] of chosen) {
      entry.pinned[key] = { hash: pending.hash, approvedAt: new Date().toISOString(), approvedBy: by, definition: pending.definition };
      delete entry.pending[key];
    }
    return { approved: [...chosen.keys()] };
  }

  /**
   * Rejects pending definitions (each `name@hash` as for `approve`): they are dropped, the approved
   * version stays pinned. All or nothing; a changed hash is refused as for `approve`.
   */
  reject(server: string, items: ReadonlyArray<{ name: string; hash: string }>): { rejected: string[] } | { problems: string[] } {
    const entry = this.#server(server);
    const problems: string[] = [];
    const chosen: string[] = [];
    for (const item of items) {
      const prefix = item.hash.toLowerCase();
      const named = Object.entries(entry.pending).filter(([key]) => key === item.name || key.slice(key.indexOf(':') + 1) === item.name);
      const matching = /^[0-9a-f]{12,64}$/.test(prefix) ? named.filter(([, pending]) => pending.hash.startsWith(prefix)) : [];
      if (matching.length === 0) problems.push(`nothing named "${item.name}" with hash ${item.hash} is waiting (see pin diff)`);
      chosen.push(...matching.map(([key]) => key));
    }
    if (problems.length > 0) return { problems };
    for (const key of chosen) delete entry.pending[key];
    return { rejected: chosen };
  }

  /**
   * Forgets a server's pins, or every server's (which also starts over from an untrusted file): the
   * next listing is a first sight again. Call `save()` after.
   */
  reset(server?: string): void {
    if (server !== undefined) {
      delete this.#servers[server];
      return;
    }
    this.#servers = {};
    this.#integrity = { ok: true };
    this.#ensureDefaultKey();
  }

  #ensureDefaultKey(): void {
    ensureSealKey(this.#options.key);
  }

  /**
   * Accepts the file as it is now (after an admin reviewed it with `pin list`): makes a key if there
   * is none and signs the content. Refused when the content is not a pins file at all.
   */
  reseal(): { servers: number } | { problem: string } {
    if (!existsSync(this.path)) return { problem: `${this.path} does not exist (use \`portcullis pin reset\` to start over)` };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      return { problem: `${this.path} is not JSON (${(error as Error).message}); use \`portcullis pin reset\` to start over` };
    }
    if (!isObject(parsed) || !isObject(parsed.servers) || Object.values(parsed.servers).some((entry) => !isServerPins(entry))) {
      return { problem: `${this.path} does not have the shape of a pins file; use \`portcullis pin reset\` to start over` };
    }
    this.#ensureDefaultKey();
    this.#key = undefined;
    this.#servers = parsed.servers as Record<string, ServerPins>;
    this.#integrity = { ok: true };
    this.save();
    return { servers: Object.keys(this.#servers).length };
  }

  /** Writes the pins, signed. Refused (a bug in the caller) while the file on disk is untrusted. */
  save(): void {
    if (!this.#integrity.ok) throw new Error(`refusing to write over an untrusted pins file: ${this.#integrity.problem}`);
    const key = this.#key ?? this.#readKey();
    if (typeof key === 'string') throw new Error(`cannot sign the pins: ${key}`);
    this.#key = key;
    ensurePrivateDir(dirname(this.path));
    // A temporary name of its own: two gateways on one data dir must not rename each other's half-written file.
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const document = { version: PINS_FORMAT_VERSION, servers: this.#servers, mac: sealOf(key, sealed(this.#servers)) };
    writePrivateFile(temporary, `${JSON.stringify(document, null, 2)}\n`);
    renameSync(temporary, this.path);
    this.#stamp = this.#stampOf();
  }
}

/** The default key file of a data dir. */
export function pinsKeyPath(dataDir: string): string {
  return join(dataDir, 'pins.key');
}

/** The known tool names of a server, from its pins (undefined until its tool list has been seen, or when the pins are untrusted). */
export function pinnedToolNames(pins: PinStore, server: string): ReadonlySet<string> | undefined {
  if (!pins.integrity().ok || !pins.seen(server, 'tools')) return undefined;
  return new Set(Object.keys(pins.allPinned(server)).filter((k) => k.startsWith('tools:')).map((k) => k.slice('tools:'.length)));
}
