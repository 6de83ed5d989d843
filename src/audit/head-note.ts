/**
 * Head notes: where each chain's last committed record is, kept outside the store. A signed
 * checkpoint comes every `checkpointEvery` records; the records after the last one are covered by
 * nothing the store's writer cannot rewrite, so a tail cut after a crash (or while the gateway waits
 * on a store it cannot write) left a shorter chain that verified. The gateway now writes its chain's
 * head — sequence number and hash — to `<dataDir>/audit-chains/<chain>.head` after every group commit
 * (one positioned write, before the answers leave), compares it with the stored head when it
 * opens the chain, and `audit verify` compares every note with the trail: a stored chain that ends
 * before its note, differs from it, or is missing altogether was cut.
 *
 * What it does not stop: whoever can write both the store and the data directory can lower the note
 * too. Keep the store's writers (database administrators, a replicated PostgreSQL) away from the
 * gateway's data directory, and publish checkpoints to a witness for the rest.
 */
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ChainHead {
  seq: number;
  hash: string;
}

const SUFFIX = '.head';
const CUTS = '.cuts';

/** A cut the gateway found: the store ended at `stored` though `committed` (with `hash`) had been committed. */
export interface ChainCut {
  instance: string;
  stored: number;
  committed: number;
  hash: string;
  at: string;
  when: string;
}

export const headNotePath = (dataDir: string, instance: string): string => join(dataDir, 'audit-chains', `${instance}${SUFFIX}`);

function parse(text: string, path: string): ChainHead {
  const value = JSON.parse(text) as Partial<ChainHead>;
  if (!Number.isSafeInteger(value.seq) || (value.seq as number) < 0 || typeof value.hash !== 'string' || !/^[0-9a-f]{64}$/.test(value.hash)) {
    throw new Error(`${path} is not a head note ({ "seq": <record number>, "hash": "<64 hex digits>" })`);
  }
  return { seq: value.seq as number, hash: value.hash };
}

/** Room for the note: written in place at offset 0, padded, so that it never shrinks (one write call). */
const NOTE_BYTES = 128;

/** One chain's note, written by the process that holds the chain. */
export class HeadNote {
  readonly path: string;
  #fd: number | undefined;
  readonly #buffer = Buffer.alloc(NOTE_BYTES, 0x20);

  constructor(path: string) {
    this.path = path;
  }

  /** The note as the last run left it; undefined when there is none. Throws when it cannot be read. */
  read(): ChainHead | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    // Blank: the note was being created when the last run ended (nothing was committed after it).
    return text.trim() === '' ? undefined : parse(text, this.path);
  }

  /**
   * Notes a committed head, before the answers of its group commit leave: one positioned write of a
   * fixed-size block into the open note (no fsync — a killed process's writes survive in the page
   * cache; a machine crash may lose the last ones, as it may the store's).
   */
  note(head: ChainHead): void {
    if (this.#fd === undefined) return;
    this.#buffer.fill(0x20);
    this.#buffer.write(JSON.stringify(head), 0, 'utf8');
    this.#buffer[NOTE_BYTES - 1] = 0x0a;
    try {
      writeSync(this.#fd, this.#buffer, 0, NOTE_BYTES, 0);
    } catch {
      // A note that cannot be written weakens only what verify can tell about the tail; the store holds every record.
    }
  }

  /** Writes `head` whole (at open) and keeps the note open for `note`. */
  open(head: ChainHead): void {
    this.close();
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, Buffer.alloc(NOTE_BYTES, 0x20), { mode: 0o600 });
    renameSync(temp, this.path);
    this.#fd = openSync(this.path, 'r+');
    this.note(head);
  }

  /**
   * Keeps a cut the gateway found (the stored chain behind a head it had committed) beside the note,
   * in `<chain>.cuts`: the chain goes on from the stored head, and `audit verify` reports the cut until
   * the file is removed. Throws when it cannot be written (the chain is then not continued).
   */
  recordCut(cut: Omit<ChainCut, 'instance'>): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path.slice(0, -SUFFIX.length) + CUTS, `${JSON.stringify(cut)}\n`, { mode: 0o600 });
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Every chain's note in a data directory (for `audit verify`), or the problem reading one. */
export function readHeadNotes(dataDir: string): Map<string, ChainHead> | string {
  const dir = join(dataDir, 'audit-chains');
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(SUFFIX));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    return `cannot read ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  const notes = new Map<string, ChainHead>();
  for (const name of names) {
    const path = join(dir, name);
    try {
      const text = readFileSync(path, 'utf8');
      if (text.trim() !== '') notes.set(name.slice(0, -SUFFIX.length), parse(text, path));
    } catch (error) {
      return `cannot read the head note ${path}: ${(error as Error).message}`;
    }
  }
  return notes;
}

/** Every cut the gateways of a data directory found (for `audit verify`), or the problem reading them. */
export function readCuts(dataDir: string): ChainCut[] | string {
  const dir = join(dataDir, 'audit-chains');
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(CUTS));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    return `cannot read ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  const cuts: ChainCut[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const cut = JSON.parse(line) as Omit<ChainCut, 'instance'>;
        cuts.push({ ...cut, instance: name.slice(0, -CUTS.length) });
      }
    } catch (error) {
      return `cannot read ${path}: ${(error as Error).message}`;
    }
  }
  return cuts;
}
