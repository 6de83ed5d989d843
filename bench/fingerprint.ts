/** Where and on what a benchmark ran, recorded with every result line (the machine's speed drifts). */
import { execFileSync } from 'node:child_process';
import { cpus, release } from 'node:os';

const ROOT = new URL('..', import.meta.url).pathname;

export function fingerprint(quick: boolean): Record<string, unknown> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    commit = 'unknown';
  }
  return { node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, kernel: release(), commit, date: new Date().toISOString(), quick };
}
