/**
 * A JSON Lines audit file, one canonical record per line, written with a synchronous append so that
 * an answered call is in the file even if the gateway is killed. For log shippers; queryable by
 * reading it back. `stdout` writes the same lines to standard output (not queryable).
 */
import { appendFileSync, closeSync, copyFileSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../util/private-files.ts';
import type { Checkpoint } from './checkpoint.ts';
import { dirname } from 'node:path';
import { recordJson, type AuditRecord } from './record.ts';
import { matches, type AuditQuery, type AuditStore } from './store.ts';

/** Whether `path` names a file the store rotated out (`<path>.<ISO time>.<n>`): a segment of a trail, not its end. */
export const isRotatedSegment = (path: string): boolean => /\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.\d+$/.test(path);

export class JsonlAuditStore implements AuditStore {
  readonly kind: string;
  readonly #path: string | undefined;
  readonly #rotateBytes: number;
  #fd: number;
  #size = 0;
  #rotations = 0;
  /** The last record of each chain in the current file, to anchor the next file on rotation. */
  readonly #heads = new Map<string, { seq: number; hash: string }>();
  /** Signs anchors (with audit.signingKey); without it anchors are unsigned. */
  readonly #sign: ((body: Omit<Checkpoint, 'keyId' | 'signature'>) => Checkpoint) | undefined;

  /**
   * `path` undefined writes to standard output. A file larger than `rotateBytes` is renamed to
   * `<path>.<time>.<n>` (with a copy of the checkpoints) and a new file started; an anchor checkpoint
   * of each chain's last record lets the new file verify on its own.
   */
  constructor(path: string | undefined, options: { rotateBytes?: number; sign?: (body: Omit<Checkpoint, 'keyId' | 'signature'>) => Checkpoint } = {}) {
    this.#path = path;
    this.#sign = options.sign;
    this.kind = path ? 'jsonl' : 'stdout';
    this.#rotateBytes = options.rotateBytes ?? Number.POSITIVE_INFINITY;
    if (path) mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    // New files are private (0600) whatever the umask; an existing file keeps its mode (a log shipper may read it).
    this.#fd = path ? openSync(path, 'a', PRIVATE_FILE_MODE) : 1;
    if (path) this.#size = fstatSync(this.#fd).size;
  }

  #rotate(): void {
    const path = this.#path!;
    closeSync(this.#fd);
    const rotated = `${path}.${new Date().toISOString().replace(/[:.]/g, '-')}.${(this.#rotations += 1)}`;
    renameSync(path, rotated);
    const checkpoints = `${path}.checkpoints`;
    if (existsSync(checkpoints)) copyFileSync(checkpoints, `${rotated}.checkpoints`);
    this.#anchorHeads();
    this.#fd = openSync(path, 'a', PRIVATE_FILE_MODE);
    this.#size = 0;
  }

  /** An anchor checkpoint of each chain's last record, so that a new file verifies on its own. */
  #anchorHeads(): void {
    const time = new Date().toISOString();
    for (const [instance, head] of this.#heads) {
      const body = { instance, seq: head.seq, hash: head.hash, time };
      const anchor: Checkpoint = this.#sign ? this.#sign(body) : { ...body, keyId: '', signature: '' };
      appendFileSync(`${this.#path!}.checkpoints`, `${JSON.stringify(anchor)}\n`, { mode: PRIVATE_FILE_MODE });
    }
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
    if (last) return { seq: last.seq, hash: last.hash };
    // A fresh file after rotation: the chain continues from its anchor.
    const anchor = (await this.checkpoints()).filter((c) => c.instance === instance).at(-1);
    return anchor ? { seq: anchor.seq, hash: anchor.hash } : undefined;
  }

  /**
   * The file at the path must still be the one this store writes to: a file removed or replaced under
   * it (its directory deleted, a careless rotation) is reopened at the path, and when that is not
   * possible the append fails — a record written to an unlinked file would be a record nobody can read.
   */
  #ensureFile(): void {
    const path = this.#path;
    if (!path) return;
    const open = fstatSync(this.#fd);
    let current;
    try {
      current = statSync(path);
    } catch {
      current = undefined;
    }
    if (current && current.ino === open.ino && current.dev === open.dev) return;
    const fd = openSync(path, 'a', PRIVATE_FILE_MODE); // throws when the directory is gone: the store is failing
    closeSync(this.#fd);
    this.#fd = fd;
    this.#size = fstatSync(fd).size;
    if (this.#size === 0) this.#anchorHeads();
  }

  append(record: AuditRecord): Promise<void> {
    try {
      this.#ensureFile();
      const line = `${recordJson(record)}\n`;
      if (this.#path && this.#size > 0 && this.#size + line.length > this.#rotateBytes) this.#rotate();
      this.#size += writeSync(this.#fd, line);
      this.#heads.set(record.instance, { seq: record.seq, hash: record.hash });
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    const out = this.#read().filter((r) => matches(r, filter));
    // With a limit, the newest records (the file is in the order they were written), oldest first.
    return filter.limit !== undefined ? out.slice(-filter.limit) : out;
  }

  async *all(): AsyncIterable<AuditRecord> {
    yield* this.#read();
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    // Checkpoints go beside the file (or, on stdout, into the same stream, marked).
    if (this.#path) appendFileSync(`${this.#path}.checkpoints`, `${JSON.stringify(checkpoint)}\n`, { mode: PRIVATE_FILE_MODE });
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
