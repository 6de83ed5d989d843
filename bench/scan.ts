/**
 * The poisoning scanner's evaluation (issue 14) and speed: `node bench/scan.ts [rounds] [--quick] [--json]`
 * (`npm run bench:scan`). Writes bench/results/scan.jsonl (the README's `figures:scan` block).
 *
 * - held-out: test/corpus/poisoning-heldout.json, written after the signals and weights were frozen,
 *   per kind of attack, and its hard-benign definitions — scanned as one catalogue, and each server
 *   alone (no other server connected);
 * - the independent development sets (other authors' words; first contact recorded in docs/supply-chain.md,
 *   tuned on since; indep-frozen, the second round's frozen set, is one of them since the third round),
 *   scanned together and each server alone;
 * - development (tuned on, shown for comparison) and the earlier corpus' holdout2 split;
 * - leave-one-source-out: the logistic layer retrained on every training source but one, then the
 *   whole scanner (phrase rules and that layer) run on the one left out;
 * - the 1,282 real benign definitions of ../shared/corpora, per source;
 * - speed: a repeated scan of the 1,282 definitions, ms per 1,000.
 */
import { train, type Weights } from '../src/inspect/logistic.ts';
import { scanServers } from '../src/inspect/scanner.ts';
import { WEIGHTS } from '../src/inspect/signal-weights.ts';
import { stamp, writeResults } from './results.ts';
import { benignCorpora, DEV, DEV2, DEV3, DEV4, HELDOUT, INDEP_DEV, INDEP_DEV2, INDEP_DEV3, INDEP_DEV5, INDEP_DEV6, INDEP_FROZEN, FROZEN3_BASALT, FROZEN3_LARK, FROZEN4_COBALT, FROZEN4_FLINT, FROZEN5_DUNE, FROZEN5_EMBER, FROZEN6_FJORD, FROZEN6_GARNET, FROZEN7_HERON, FROZEN7_IBIS, FROZEN8_JADE, FROZEN8_KESTREL, FROZEN9_LUMEN, FROZEN9_MOSS, FROZEN10_NOVA, FROZEN10_OPAL, loadSet, ownCorpus, SHIPPED_TRAINING, trainingSources, type EvalSet } from '../test/corpus/poisoning.ts';
import { all, rows, type Row } from './scan-rows.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const args = process.argv.slice(2);
const json = args.includes('--json');
/** `--quick`: 5 timed rounds instead of 20 (a loaded machine); the detection figures are the same. */
const quick = args.includes('--quick');
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? (quick ? 5 : 20));

const benign = benignCorpora();
const table: Row[] = [
  ...rows('seventh round frozen (writer-heron; first scanned at e02d0cc, never tuned on), each server alone', loadSet(FROZEN7_HERON), undefined, true),
  ...rows('seventh round frozen (writer-ibis; first scanned at e02d0cc, never tuned on), each server alone', loadSet(FROZEN7_IBIS), undefined, true),
  ...rows('eighth round frozen (writer-jade; first scanned at cb8873c, tuned on from e98974d), each server alone', loadSet(FROZEN8_JADE), undefined, true),
  ...rows('eighth round frozen (writer-kestrel; first scanned at cb8873c, tuned on from e98974d), each server alone', loadSet(FROZEN8_KESTREL), undefined, true),
  ...rows('ninth round frozen (writer-lumen; scanned at 017d29d and at the round\'s end, never tuned on), each server alone', loadSet(FROZEN9_LUMEN), undefined, true),
  ...rows('ninth round frozen (writer-moss; scanned at 017d29d and at the round\'s end, never tuned on), each server alone', loadSet(FROZEN9_MOSS), undefined, true),
  ...rows('tenth round frozen (writer-nova; scanned at 5cce038 and at the round\'s end, never tuned on), each server alone', loadSet(FROZEN10_NOVA), undefined, true),
  ...rows('tenth round frozen (writer-opal; scanned at 5cce038 and at the round\'s end, never tuned on), each server alone', loadSet(FROZEN10_OPAL), undefined, true),
  ...rows('sixth round frozen (writer-fjord; scanned once at c7f9cf0, tuned on from the seventh round), each server alone', loadSet(FROZEN6_FJORD), undefined, true),
  ...rows('sixth round frozen (writer-garnet; scanned once at c7f9cf0, tuned on from the seventh round), each server alone', loadSet(FROZEN6_GARNET), undefined, true),
  ...rows('fifth round frozen (writer-dune; scanned once at 676fdac, tuned on from the sixth round), each server alone', loadSet(FROZEN5_DUNE), undefined, true),
  ...rows('fifth round frozen (writer-ember; scanned once at 676fdac, tuned on from the sixth round), each server alone', loadSet(FROZEN5_EMBER), undefined, true),
  ...rows('fourth round frozen (writer-cobalt; scanned once at 2006e7f, tuned on from the fifth round), each server alone', loadSet(FROZEN4_COBALT), undefined, true),
  ...rows('fourth round frozen (writer-flint; scanned once at 2006e7f, tuned on from the fifth round), each server alone', loadSet(FROZEN4_FLINT), undefined, true),
  ...rows('third round frozen (writer-basalt; tuned on since the fourth round), each server alone', loadSet(FROZEN3_BASALT), undefined, true),
  ...rows('third round frozen (writer-lark; tuned on since the fourth round), each server alone', loadSet(FROZEN3_LARK), undefined, true),
  ...rows('independent dev 5 (writer-ember; tuned on after first contact)', loadSet(INDEP_DEV5)),
  ...rows('independent dev 5, each server alone', loadSet(INDEP_DEV5), undefined, true),
  ...rows('independent dev 6 (writer-quill; tuned on after first contact)', loadSet(INDEP_DEV6)),
  ...rows('independent dev 6, each server alone', loadSet(INDEP_DEV6), undefined, true),
  ...rows('independent dev 4 (the second round\'s frozen set; tuned on since the third round)', loadSet(INDEP_FROZEN)),
  ...rows('independent dev 4, each server alone', loadSet(INDEP_FROZEN), undefined, true),
  ...rows('held-out', loadSet(HELDOUT)),
  ...rows('held-out, each server alone', loadSet(HELDOUT), undefined, true),
  ...rows('independent dev (other authors; tuned on after first contact)', loadSet(INDEP_DEV)),
  ...rows('independent dev, each server alone', loadSet(INDEP_DEV), undefined, true),
  ...rows('independent dev 2 (other authors; tuned on after first contact)', loadSet(INDEP_DEV2)),
  ...rows('independent dev 2, each server alone', loadSet(INDEP_DEV2), undefined, true),
  ...rows('independent dev 3 (other authors; tuned on after first contact)', loadSet(INDEP_DEV3)),
  ...rows('independent dev 3, each server alone', loadSet(INDEP_DEV3), undefined, true),
  ...rows('development (tuned on)', loadSet(DEV)),
  ...rows('development 2 (first held-out, then tuned on)', loadSet(DEV2)),
  ...rows('development 3 (second held-out, then tuned on)', loadSet(DEV3)),
  ...rows('development 4 (third held-out, then tuned on)', loadSet(DEV4)),
  ...rows('earlier corpus holdout2', ownCorpus(['holdout2'])),
  ...rows('benign livemcpbench', all(benign.livemcpbench)),
  ...rows('benign docker registry', all(benign.docker)),
  ...rows('benign livemcpbench, each server alone', all(benign.livemcpbench), undefined, true),
  ...rows('benign docker registry, each server alone', all(benign.docker), undefined, true),
];

// Leave one source out: retrain without it, scan it with those weights.
// The independent sets are left out one at a time by bench/scan-loso.ts (each server alone).
const sources = trainingSources().filter((s) => SHIPPED_TRAINING.has(s.name));
const sets: Record<string, EvalSet> = { dev: loadSet(DEV), dev2: loadSet(DEV2), dev3: loadSet(DEV3), dev4: loadSet(DEV4), own: ownCorpus(['tune', 'holdout']), livemcpbench: all(benign.livemcpbench), docker: all(benign.docker) };
for (const left of sources.filter((s) => sets[s.name])) {
  const trained = train(sources.filter((s) => s !== left).flatMap((s) => s.samples));
  table.push(...rows(`left out: ${left.name}`, sets[left.name]!, { ...trained, high: WEIGHTS.high, warn: WEIGHTS.warn }));
}

// Speed.
const input = [...benign.livemcpbench, ...benign.docker];
const count = input.reduce((n, s) => n + s.tools.length, 0);
scanServers(input);
const times: number[] = [];
for (let i = 0; i < rounds; i++) {
  const started = performance.now();
  scanServers(input);
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const speed = { definitions: count, rounds, medianMs: Math.round(median * 10) / 10, msPer1000: Math.round((median / count) * 10000) / 10, fastestMs: Math.round(times[0]! * 10) / 10 };

const at = stamp(quick);
writeResults('scan', at, [...table.map((r) => ({ figure: 'scan-kind', ...r })), { figure: 'scan-speed', ...speed }]);

if (json) {
  process.stdout.write(`${JSON.stringify({ table, speed }, null, 2)}\n`);
} else {
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)} %`;
  process.stdout.write('| set | kind | high | high or warn |\n|---|---|---:|---:|\n');
  for (const r of table) process.stdout.write(`| ${r.set} | ${r.kind} | ${r.high}/${r.total} (${pct(r.high, r.total)}) | ${r.high + r.warn}/${r.total} (${pct(r.high + r.warn, r.total)}) |\n`);
  process.stdout.write(`\n${count} definitions: median ${speed.medianMs} ms per scan (${speed.msPer1000} ms per 1,000), fastest ${speed.fastestMs} ms over ${rounds} rounds\n`);
}
