/**
 * A JSON Lines audit file, one canonical record per line, written with a synchronous append so that
 * an answered call is in the file even if the gateway is killed. For log shippers; queryable by
 * reading it back. `stdout` writes the same lines to standard output (not queryable).
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Checkpoint } from './checkpoint.ts';
import { dirname } from 'node:path';
import type { AuditRecord } from './record.ts';
import { matches, type AuditQuery, type AuditStore } from './store.ts';

export class JsonlAuditStore implements AuditStore {
  readonly kind: string;
  readonly #path: string | undefined;
  readonly #fd: number;

  /** `path` undefined writes to standard output. */
  constructor(path: string | undefined) {
    this.#path = path;
    this.kind = path ? 'jsonl' : 'stdout';
    if (path) mkdirSync(dirname(path), { recursive: true });
    this.#fd = path ? openSync(path, 'a') : 1;
  }

  #read(): AuditRecord[] {
    if (!this.#path || !existsSync(this.#path)) return [];
    const records: AuditRecord[] = [];
    for (const line of readFileSync(this.#path, 'utf8').split('\n')) {
      if (line.trim()) records.push(JSON.parse(line) as AuditRecord);
    }
    return records.sort((a, b) => (a.instance === b.instance ? a.seq - b.seq : a.instance < b.instance ? -1 : 1));
  }

  async head(instance: string): Promise<{ seq: number; hash: string } | undefined> {
    const last = this.#read().filter((r) => r.instance === instance).at(-1);
    return last ? { seq: last.seq, hash: last.hash } : undefined;
  }

  append(record: AuditRecord): Promise<void> {
    try {
      writeSync(this.#fd, `${JSON.stringify(record)}\n`);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    const out = this.#read().filter((r) => matches(r, filter));
    return filter.limit !== undefined ? out.slice(0, filter.limit) : out;
  }

  async *all(): AsyncIterable<AuditRecord> {
    yield* this.#read();
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    // Checkpoints go beside the file (or, on stdout, into the same stream, marked).
    if (this.#path) appendFileSync(`${this.#path}.checkpoints`, `${JSON.stringify(checkpoint)}\n`);
    else writeSync(this.#fd, `${JSON.stringify({ checkpoint })}\n`);
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const file = this.#path ? `${this.#path}.checkpoints` : undefined;
    if (!file || !existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Checkpoint);
  }

  /** JSON Lines files are not pruned in place (ship and rotate them instead). */
  async lastBefore(): Promise<undefined> {
    return undefined;
  }

  async prune(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    if (this.#path) closeSync(this.#fd);
  }
}
