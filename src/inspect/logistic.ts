/**
 * The statistical layer of the scanner: logistic regression over the signal features of
 * `signals.ts`, trained deterministically (full-batch gradient descent, fixed steps, no randomness)
 * so that the same corpora always give the same weights.
 *
 * The weights are kept non-negative (projected gradient): a cue can only raise the score, never lower
 * it, so an attacker cannot buy a lower score by adding innocent-looking text (a URL, a polite
 * sentence) to a poisoned description. Only the bias is negative.
 */
import { FEATURES, type Feature } from './signals.ts';

export interface Weights {
  bias: number;
  weights: Record<Feature, number>;
  /** Probability at or above which a definition is rated high / warned about. */
  high: number;
  warn: number;
}

export interface Sample {
  features: Record<Feature, number>;
  label: 0 | 1;
}

export function probability(w: Weights, features: Record<Feature, number>): number {
  let z = w.bias;
  for (const f of FEATURES) z += (w.weights[f] ?? 0) * features[f];
  return 1 / (1 + Math.exp(-z));
}

/** What each feature added to the score, largest first (only features present). */
export function contributions(w: Weights, features: Record<Feature, number>): Array<{ feature: Feature; weight: number }> {
  return FEATURES.filter((f) => features[f] > 0 && (w.weights[f] ?? 0) > 0)
    .map((f) => ({ feature: f, weight: (w.weights[f] ?? 0) * features[f] }))
    .sort((a, b) => b.weight - a.weight);
}

export interface TrainOptions {
  steps?: number;
  rate?: number;
  /** L2 penalty per weight. */
  l2?: number;
}

/** Class-balanced, L2-regularised logistic regression with non-negative feature weights. */
/** How much more a benign definition counts than a poisoned one in training: false alarms quarantine real tools. */
export const BENIGN_WEIGHT = 8;

export function train(samples: readonly Sample[], options: TrainOptions = {}): Omit<Weights, 'high' | 'warn'> {
  const steps = options.steps ?? 4000;
  const rate = options.rate ?? 0.5;
  const l2 = options.l2 ?? 0.002;
  const positives = samples.filter((s) => s.label === 1).length;
  const negatives = samples.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('training needs both classes');
  // Balanced classes, with a benign definition counting BENIGN_WEIGHT times.
  const classWeight = [(BENIGN_WEIGHT * samples.length) / (2 * negatives), samples.length / (2 * positives)] as const;
  const n = FEATURES.length;
  const x = samples.map((s) => FEATURES.map((f) => s.features[f]));
  const w = new Float64Array(n);
  let bias = 0;
  for (let step = 0; step < steps; step++) {
    const grad = new Float64Array(n);
    let gradBias = 0;
    for (let i = 0; i < samples.length; i++) {
      const row = x[i]!;
      let z = bias;
      for (let j = 0; j < n; j++) z += w[j]! * row[j]!;
      const p = 1 / (1 + Math.exp(-z));
      const g = (p - samples[i]!.label) * classWeight[samples[i]!.label];
      gradBias += g;
      for (let j = 0; j < n; j++) if (row[j] !== 0) grad[j]! += g * row[j]!;
    }
    bias -= (rate * gradBias) / samples.length;
    for (let j = 0; j < n; j++) w[j] = Math.max(0, w[j]! - rate * (grad[j]! / samples.length + l2 * w[j]!));
  }
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { bias: round(bias), weights: Object.fromEntries(FEATURES.map((f, j) => [f, round(w[j]!)])) as Record<Feature, number> };
}
