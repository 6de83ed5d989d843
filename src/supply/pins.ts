/**
 * Tool-definition pins (rug-pull defence): the SHA-256 of each approved tool, prompt and resource
 * template definition (canonical JSON of name, title, description, schemas, annotations), kept in
 * `<dataDir>/pins.json` with who approved it and when. Definitions the gateway refused are kept as
 * `pending` beside their pin, so `portcullis pin diff` can show old against new and
 * `portcullis pin approve` can release them. The gateway re-reads the file when it changes, so an
 * approval takes effect without a restart.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '../audit/canonical.ts';
import { sha256Hex } from '../audit/record.ts';

export type DefinitionKind = 'tools' | 'prompts' | 'resourceTemplates';

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

const PINNED_FIELDS = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations', 'uriTemplate', 'arguments', 'mimeType'] as const;

/** The part of a definition that is pinned (what an agent reads or what shapes a call). */
export function pinnedPart(definition: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of PINNED_FIELDS) if (definition[field] !== undefined) out[field] = definition[field];
  return out;
}

export function definitionHash(definition: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(pinnedPart(definition)));
}

export const pinKey = (kind: DefinitionKind, name: string): string => `${kind}:${name}`;

export class PinStore {
  readonly path: string;
  #servers: Record<string, ServerPins> = {};
  #mtimeMs = -1;
  /** Bumped whenever approvals may have changed (read from disk, or saved here). */
  generation = 0;

  constructor(path: string) {
    this.path = path;
    this.reload();
  }

  #checkedAt = 0;

  /**
   * Re-reads the file if it changed on disk (an approval from the CLI). The file is looked at no more
   * than every `minIntervalMs` (this runs on every call): an approval takes effect within a second.
   */
  reload(minIntervalMs = 1000): void {
    const now = Date.now();
    if (now - this.#checkedAt < minIntervalMs) return;
    this.#checkedAt = now;
    if (!existsSync(this.path)) return;
    const mtime = statSync(this.path).mtimeMs;
    if (mtime === this.#mtimeMs) return;
    this.#servers = (JSON.parse(readFileSync(this.path, 'utf8')) as { servers?: Record<string, ServerPins> }).servers ?? {};
    this.#mtimeMs = mtime;
    this.generation += 1;
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
    entry.pinned[key] = { hash: definitionHash(definition), approvedAt: new Date().toISOString(), approvedBy: by, definition: pinnedPart(definition) };
    delete entry.pending[key];
  }

  /** Records a refused definition; returns true when it is news (not already pending as is). */
  hold(server: string, key: string, definition: Record<string, unknown>, reason: string): boolean {
    const entry = this.#server(server);
    const hash = definitionHash(definition);
    if (entry.pending[key]?.hash === hash) return false;
    entry.pending[key] = { hash, seenAt: new Date().toISOString(), reason, definition: pinnedPart(definition) };
    return true;
  }

  /** Approves pending definitions of a server (all, or one name of any kind); returns what was approved. */
  approve(server: string, name: string | undefined, by: string): string[] {
    const entry = this.#server(server);
    const approved: string[] = [];
    for (const [key, pending] of Object.entries(entry.pending)) {
      if (name !== undefined && key.slice(key.indexOf(':') + 1) !== name) continue;
      entry.pinned[key] = { hash: pending.hash, approvedAt: new Date().toISOString(), approvedBy: by, definition: pending.definition };
      delete entry.pending[key];
      approved.push(key);
    }
    return approved;
  }

  save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ version: 1, servers: this.#servers }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
    this.#mtimeMs = statSync(this.path).mtimeMs;
  }
}
