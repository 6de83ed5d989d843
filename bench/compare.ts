/**
 * `npm run bench:compare [-- --against REF] [FILE]`: flags regressions of a fresh run
 * (bench/results/performance.jsonl as `npm run bench` left it, or FILE) against the committed results
 * (`git show REF:bench/results/performance.jsonl`, REF defaulting to HEAD). Only paired figures are
 * compared — latency added over direct in the same trial, and throughput as a share of the naive hop's
 * in the same run — because this machine's absolute speed drifts up to 2x between runs. Read a flag
 * against the run's own A/A control (two identical naive hops): a move smaller than theirs is noise.
 *
 * Exit code 1 when a cell regressed: added p50 up by more than 25 % and 0.05 ms, added p99 up by more
 * than 50 % and 0.3 ms, or throughput share down by more than 20 %.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const ROOT = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const against = args.includes('--against') ? args[args.indexOf('--against') + 1]! : 'HEAD';
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--against') ?? `${ROOT}bench/results/performance.jsonl`;

interface Row {
  figure: string;
  family: string;
  workload: string;
  load: string;
  treatment: string;
  achievedRps: number;
  addedP50Ms?: number;
  addedP99Ms?: number;
  commit: string;
}

const parse = (text: string): Row[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row)
    .filter((r) => r.figure === 'cell');

let committed: string;
try {
  committed = execFileSync('git', ['show', `${against}:bench/results/performance.jsonl`], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch {
  process.stderr.write(`no bench/results/performance.jsonl committed at ${against}\n`);
  process.exit(2);
}
const baseline = parse(committed);
const current = parse(readFileSync(file, 'utf8'));
const key = (r: Row) => `${r.family} | ${r.workload} | ${r.load}`;
const share = (rows: Row[], r: Row): number | undefined => {
  const hop = rows.find((d) => key(d) === key(r) && d.treatment === 'naive hop') ?? rows.find((d) => key(d) === key(r) && d.treatment === 'direct');
  return hop && hop.achievedRps > 0 ? r.achievedRps / hop.achievedRps : undefined;
};
const problems: string[] = [];
let compared = 0;
for (const now of current) {
  if (now.treatment === 'direct' || now.treatment.startsWith('naive hop')) continue;
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
  if (!now.load.includes('rps') && nowShare !== undefined && thenShare !== undefined) {
    process.stdout.write(`${where}: throughput ${thenShare.toFixed(2)} → ${nowShare.toFixed(2)} of the naive hop; added p50 ${then.addedP50Ms?.toFixed(3) ?? '—'} → ${now.addedP50Ms?.toFixed(3) ?? '—'} ms\n`);
    if (nowShare < thenShare * 0.8) problems.push(`${where}: throughput ${(thenShare * 100).toFixed(0)} % → ${(nowShare * 100).toFixed(0)} % of the naive hop`);
  }
}
process.stdout.write(`${compared} cells compared with bench/results/performance.jsonl at ${against} (commit ${baseline[0]?.commit ?? '?'})\n`);
for (const p of problems) process.stdout.write(`REGRESSION ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);
