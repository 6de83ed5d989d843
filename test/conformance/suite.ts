/**
 * The official MCP conformance suites and how one is run against a URL: shared by the conformance test
 * (the referee) and `bench/conformance.ts` (which records the counts the docs show).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const STABLE = join(require.resolve('conformance-stable/package.json'), '..', 'dist', 'index.js');
const NEXT = join(require.resolve('conformance-next/package.json'), '..', 'dist', 'index.js');
const version = (name: string): string => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;

/** Suites: @modelcontextprotocol/conformance 0.1.x's default suite, and 0.2.x per required revision. */
export const SUITES = [
  { name: 'stable', label: `${version('conformance-stable')} default`, bin: STABLE, args: [] as string[] },
  { name: '2025-11-25', label: `${version('conformance-next')}, \`--requirements 2025-11-25\``, bin: NEXT, args: ['--requirements', '2025-11-25'] },
  { name: '2026-07-28', label: `${version('conformance-next')}, \`--requirements 2026-07-28\``, bin: NEXT, args: ['--requirements', '2026-07-28'] },
];

export type Results = Map<string, { status: string; message: string }>;

/** Runs one suite against one URL; returns `scenario:check` → status. */
export async function runSuite(bin: string, args: string[], url: string): Promise<Results> {
  const out = mkdtempSync(join(tmpdir(), 'pc-conformance-'));
  try {
    await promisify(execFile)(process.execPath, [bin, 'server', '--url', url, ...args, '-o', out], { timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }).catch(
      (error: { code?: number }) => {
        // Exit code 1 only says that some check failed; the comparison decides what that means.
        if (error.code !== 1) throw error;
      },
    );
    const results: Results = new Map();
    for (const dir of readdirSync(out)) {
      const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
      for (const check of JSON.parse(readFileSync(join(out, dir, 'checks.json'), 'utf8')) as Array<{ id: string; status: string; errorMessage?: string }>) {
        const key = `${scenario}:${check.id}`;
        const previous = results.get(key);
        // A check id can repeat within a scenario; the worst outcome counts.
        if (!previous || previous.status === 'SUCCESS') results.set(key, { status: check.status, message: check.errorMessage ?? '' });
      }
    }
    return results;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Checks per status: `{ SUCCESS: 40, FAILURE: 0, … }`. */
export function countStatuses(results: Results): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of results.values()) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
