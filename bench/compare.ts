/**
 * `npm run bench:compare [-- --against REF] [FILE]`: flags regressions of a fresh run
 * (bench/results/performance.jsonl as `npm run bench` left it, or FILE) against the committed results
 * (`git show REF:bench/results/performance.jsonl`, REF defaulting to HEAD). Only paired figures are
 * compared — latency added over direct in the same trial, and throughput as a share of the naive hop's
 * in the same run (the mean of the naive hop and its A/A twin) — because this machine's absolute speed
 * drifts up to 2x between runs. A throughput drop the runs' own A/A controls (two identical naive hops)
 * could explain is not flagged.
 *
 * Exit code 1 when a cell regressed: added p50 up by more than 25 % and 0.05 ms, added p99 up by more
 * than 50 % and 0.3 ms, or throughput share down by more than 20 % (or by more than the A/A gap).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

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
/** The cell's reference throughput: the mean of the naive hop and its A/A twin (when measured), else direct. */
const reference = (rows: Row[], r: Row): number | undefined => {
  const hops = rows.filter((d) => key(d) === key(r) && d.treatment.startsWith('naive hop') && d.achievedRps > 0);
  if (hops.length > 0) return hops.reduce((s, d) => s + d.achievedRps, 0) / hops.length;
  const direct = rows.find((d) => key(d) === key(r) && d.treatment === 'direct');
  return direct && direct.achievedRps > 0 ? direct.achievedRps : undefined;
};
const share = (rows: Row[], r: Row): number | undefined => {
  const ref = reference(rows, r);
  return ref ? r.achievedRps / ref : undefined;
};
/** How far the two identical naive hops of a cell disagree (the run's noise), as a ratio ≥ 1. */
const noise = (rows: Row[], r: Row): number | undefined => {
  const a = rows.find((d) => key(d) === key(r) && d.treatment === 'naive hop');
  const b = rows.find((d) => key(d) === key(r) && d.treatment === 'naive hop (A/A)');
  return a && b && a.achievedRps > 0 && b.achievedRps > 0 ? Math.max(a.achievedRps / b.achievedRps, b.achievedRps / a.achievedRps) : undefined;
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
    const aa = [noise(baseline, then), noise(current, now)].filter((x): x is number => x !== undefined);
    const floor = aa.length ? ` (A/A noise ${aa.map((x) => `${x.toFixed(2)}×`).join(' then ')})` : '';
    process.stdout.write(`${where}: throughput ${thenShare.toFixed(2)} → ${nowShare.toFixed(2)} of the naive hop${floor}; added p50 ${then.addedP50Ms?.toFixed(3) ?? '—'} → ${now.addedP50Ms?.toFixed(3) ?? '—'} ms\n`);
    // A drop the runs' own A/A controls could explain is not a regression.
    const tolerance = Math.min(0.8, 1 / Math.max(1, ...aa));
    if (nowShare < thenShare * tolerance) problems.push(`${where}: throughput ${(thenShare * 100).toFixed(0)} % → ${(nowShare * 100).toFixed(0)} % of the naive hop${floor}`);
  }
}
process.stdout.write(`${compared} cells compared with bench/results/performance.jsonl at ${against} (commit ${baseline[0]?.commit ?? '?'})\n`);
for (const p of problems) process.stdout.write(`REGRESSION ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);
