/**
 * The committed output of the benchmarks: one JSON Lines file per benchmark under `bench/results/`
 * (`performance`, `memory`, `conformance`, `dlp`, `hostile`, `scan`), each line one figure set stamped with
 * where it was measured — commit, date, machine, Node version. Each run replaces its file (history is
 * in git). `bench/figures.ts` renders the tables of README.md and docs/ from these files, and
 * `test/docs/figures.test.ts` fails when a document and its file disagree.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

export const RESULT_FILES = ['performance', 'memory', 'conformance', 'dlp', 'hostile', 'scan', 'scan-loso'] as const;
export type ResultFile = (typeof RESULT_FILES)[number];

/** Where and on what a line was measured. */
export interface Stamp {
  commit: string;
  date: string;
  machine: string;
  node: string;
  /** A shortened run (`--quick`): fewer trials, fewer rounds. */
  quick: boolean;
  /** The command that produced the line, as run from the repository root. */
  command: string;
}

export type ResultLine = Stamp & { figure: string } & Record<string, unknown>;

/** The stamp of a run that starts now: short commit (with `+dirty` when code differs from it; results written by an earlier step do not count). */
export function stamp(quick: boolean): Stamp {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench', 'bin', 'package.json', ':!bench/results'], { cwd: ROOT }).toString().trim();
    if (dirty) commit += '+dirty';
  } catch {
    commit = 'unknown';
  }
  const cpu = cpus();
  const script = relative(ROOT, process.argv[1] ?? '');
  const command = ['node', script, ...process.argv.slice(2)].join(' ');
  return { commit, date: new Date().toISOString(), machine: `${cpu[0]?.model?.trim() ?? 'unknown cpu'} (${cpu.length} cores), Linux ${release()}`, node: process.version, quick, command };
}

/** Replaces `bench/results/<file>.jsonl` with these figures, each stamped. */
export function writeResults(file: ResultFile, at: Stamp, figures: Array<{ figure: string } & Record<string, unknown>>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${file}.jsonl`);
  writeFileSync(path, figures.map((f) => JSON.stringify({ ...at, ...f })).join('\n') + '\n');
  return path;
}

/** The committed lines of one results file (empty when it does not exist yet). */
export function readResults(file: ResultFile, dir = RESULTS_DIR): ResultLine[] {
  const path = join(dir, `${file}.jsonl`);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      try {
        return JSON.parse(line) as ResultLine;
      } catch (error) {
        throw new Error(`bench/results/${file}.jsonl line ${i + 1} is not JSON: ${(error as Error).message}`);
      }
    });
}
