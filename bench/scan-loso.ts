/**
 * Leave one independent set out (issue 14): `node bench/scan-loso.ts [--json]` (`npm run bench:scan:loso`).
 * Writes bench/results/scan-loso.jsonl (the README's `figures:scan-loso` block).
 *
 * For each set written by outside authors who never saw the rules (test/corpus/poisoning.ts
 * `INDEPENDENT_SETS`), the logistic layer is retrained on the sources the shipped weights were trained on
 * (`SHIPPED_TRAINING`) but that set, and the whole
 * scanner (phrase rules, families of evidence, that layer) scans it each server alone — how the frozen
 * figures are taken. Beside it: the set's figure at first contact (the rules of that commit, before any
 * change for it), so the gap shows how much of today's figure was tuned on the set itself — rules cannot
 * be retrained without it, so only the layer's part of the tuning is taken back; the same set with the
 * shipped weights (a development figure); the layer trained on every other set, the other independent
 * sets included (the alternative to shipping); and the scanner with no trained layer at all (rules and
 * families only). The real benign definitions are scanned with each fold's weights too.
 *
 * A change to the scanner is kept when it raises the left-out figures, not only the development ones.
 */
import { train, type Weights } from '../src/inspect/logistic.ts';
import { WEIGHTS } from '../src/inspect/signal-weights.ts';
import { FEATURES } from '../src/inspect/signals.ts';
import { benignCorpora, INDEPENDENT_SETS, SHIPPED_TRAINING, loadSet, trainingSources } from '../test/corpus/poisoning.ts';
import { stamp, writeResults } from './results.ts';
import { all, rows, type Row } from './scan-rows.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const json = process.argv.slice(2).includes('--json');

/** The layer switched off: only the phrase rules and the families of evidence rate a definition. */
const NO_LAYER: Weights = { bias: -100, weights: Object.fromEntries(FEATURES.map((f) => [f, 0])) as Weights['weights'], high: WEIGHTS.high, warn: WEIGHTS.warn };

function attacksAndBenign(list: Row[]): { high: number; warn: number; total: number; benignHigh: number; benignWarn: number; benign: number } {
  const attacks = list.find((r) => r.kind === 'all attacks')!;
  const benign = list.find((r) => r.kind === 'benign') ?? { high: 0, warn: 0, total: 0 };
  return { high: attacks.high, warn: attacks.warn, total: attacks.total, benignHigh: benign.high, benignWarn: benign.warn, benign: benign.total };
}

const sources = trainingSources();
const real = benignCorpora();
const realSet = all([...real.livemcpbench, ...real.docker]);
const figures: Array<{ figure: string } & Record<string, unknown>> = [];
for (const set of INDEPENDENT_SETS) {
  const data = loadSet(set.file);
  // The layer as shipped (trained on SHIPPED_TRAINING), retrained without this set.
  const trained = train(sources.filter((s) => s.name !== set.name && SHIPPED_TRAINING.has(s.name)).flatMap((s) => s.samples));
  const fold: Weights = { ...trained, high: WEIGHTS.high, warn: WEIGHTS.warn };
  const leftRows = rows(set.name, data, fold, true);
  const left = attacksAndBenign(leftRows);
  // The alternative: every other source, the other independent sets included.
  const wider = train(sources.filter((s) => s.name !== set.name).flatMap((s) => s.samples));
  const leftWider = attacksAndBenign(rows(set.name, data, { ...wider, high: WEIGHTS.high, warn: WEIGHTS.warn }, true));
  const shipped = attacksAndBenign(rows(set.name, data, undefined, true));
  const rulesOnly = attacksAndBenign(rows(set.name, data, NO_LAYER, true));
  const realFold = rows('real', realSet, fold, true).find((r) => r.kind === 'benign')!;
  figures.push({ figure: 'scan-loso', set: set.name, firstContact: set.firstContact, leftOut: left, kinds: Object.fromEntries(leftRows.map((r) => [r.kind, r.high])), leftOutWider: leftWider, shipped, rulesOnly, real: { high: realFold.high, total: realFold.total } });
}

writeResults('scan-loso', stamp(false), figures);

if (json) {
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
} else {
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)} %`;
  const cell = (n: number, d: number) => `${n}/${d} (${pct(n, d)})`;
  process.stdout.write('| set | first contact: high / hard benign | left out: high | left out: hard benign | real benign | left out, every other set trained on: high / hard benign | shipped weights: high / hard benign | no layer: high / hard benign |\n|---|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const f of figures as unknown as Array<{ set: string; firstContact: { commit: string; high: number; benignHigh: number }; leftOut: ReturnType<typeof attacksAndBenign>; leftOutWider: ReturnType<typeof attacksAndBenign>; shipped: ReturnType<typeof attacksAndBenign>; rulesOnly: ReturnType<typeof attacksAndBenign>; real: { high: number; total: number } }>) {
    process.stdout.write(`| ${f.set} | ${f.firstContact.high} / ${f.firstContact.benignHigh} (${f.firstContact.commit}) | ${cell(f.leftOut.high, f.leftOut.total)} | ${cell(f.leftOut.benignHigh, f.leftOut.benign)} | ${f.real.high}/${f.real.total} | ${f.leftOutWider.high} / ${f.leftOutWider.benignHigh} | ${f.shipped.high} / ${f.shipped.benignHigh} | ${f.rulesOnly.high} / ${f.rulesOnly.benignHigh} |\n`);
  }
}
