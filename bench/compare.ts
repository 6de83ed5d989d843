/**
 * `npm run bench:compare [-- results.jsonl] [--save]`: flags regressions of a benchmark run against the
 * saved baseline (bench/baseline.jsonl). Only paired figures are compared — latency added over direct
 * in the same trial, and throughput as a share of direct's in the same run — because this machine's
 * absolute speed drifts up to 2x between runs. `--save` makes the run the new baseline.
 *
 * Exit code 1 when a cell regressed: added p50 up by more than 25 % and 0.05 ms, added p99 up by more
 * than 50 % and 0.3 ms, or throughput share down by more than 20 %.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';

const ROOT = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--')) ?? `${ROOT}bench/results/latest.jsonl`;
const baselineFile = `${ROOT}bench/baseline.jsonl`;

interface Row {
  family: string;
  workload: string;
  load: string;
  treatment: string;
  achievedRps: number;
  addedP50Ms?: number;
  addedP99Ms?: number;
}

const read = (path: string): Row[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row)
    .filter((r) => typeof r.treatment === 'string');

if (args.includes('--save')) {
  copyFileSync(file, baselineFile);
  process.stdout.write(`saved ${file} as bench/baseline.jsonl\n`);
  process.exit(0);
}
if (!existsSync(baselineFile)) {
  process.stderr.write('no bench/baseline.jsonl yet: run `npm run bench` then `npm run bench:compare -- --save`\n');
  process.exit(2);
}

const key = (r: Row) => `${r.family} | ${r.workload} | ${r.load}`;
const share = (rows: Row[], r: Row): number | undefined => {
  const direct = rows.find((d) => key(d) === key(r) && d.treatment === 'direct');
  return direct && direct.achievedRps > 0 ? r.achievedRps / direct.achievedRps : undefined;
};

const baseline = read(baselineFile);
const current = read(file);
const problems: string[] = [];
let compared = 0;
for (const now of current) {
  if (now.treatment === 'direct') continue;
  const then = baseline.find((b) => key(b) === key(now) && b.treatment === now.treatment);
  if (!then) continue;
  compared += 1;
  const where = `${key(now)} | ${now.treatment}`;
  if (now.addedP50Ms !== undefined && then.addedP50Ms !== undefined && now.addedP50Ms > then.addedP50Ms * 1.25 && now.addedP50Ms - then.addedP50Ms > 0.05) {
    problems.push(`${where}: added p50 ${then.addedP50Ms.toFixed(3)} → ${now.addedP50Ms.toFixed(3)} ms`);
  }
  if (now.addedP99Ms !== undefined && then.addedP99Ms !== undefined && now.addedP99Ms > then.addedP99Ms * 1.5 && now.addedP99Ms - then.addedP99Ms > 0.3) {
    problems.push(`${where}: added p99 ${then.addedP99Ms.toFixed(3)} → ${now.addedP99Ms.toFixed(3)} ms`);
  }
  const nowShare = share(current, now);
  const thenShare = share(baseline, then);
  if (!now.load.includes('rps') && nowShare !== undefined && thenShare !== undefined && nowShare < thenShare * 0.8) {
    problems.push(`${where}: throughput ${(thenShare * 100).toFixed(0)} % → ${(nowShare * 100).toFixed(0)} % of direct`);
  }
}
process.stdout.write(`${compared} cells compared with bench/baseline.jsonl\n`);
for (const p of problems) process.stdout.write(`REGRESSION ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);
