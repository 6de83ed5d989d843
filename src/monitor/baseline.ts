/**
 * A principal's (or one of its tools') usual rate: calls per one-minute bucket, with an exponentially
 * weighted moving mean and variance (West 1979 / Finch 2009, "Incremental calculation of weighted mean
 * and variance", §9). Idle minutes count as zero, so a baseline decays while an agent sleeps.
 *
 * A bucket that ends above the alert threshold enters the baseline clipped to the threshold
 * (winsorised), so one spike cannot raise the bar it is judged against. What this does not stop: a
 * rate raised slowly, a little below the threshold each minute — the baseline follows it. `max` (an
 * absolute ceiling) is the answer to that; see docs/monitor.md.
 */

export interface Baseline {
  /** The minute (epoch minutes) being counted, and its count so far. */
  minute: number;
  count: number;
  mean: number;
  variance: number;
  /** Minutes with at least one call folded into the baseline (warm-up). */
  active: number;
}

export interface VolumeRule {
  /** Weight of the newest minute: 1 - 2^(-1/halfLifeMinutes). */
  alpha: number;
  factor: number;
  deviations: number;
  /** Calls per minute never alerted below / always alerted above. */
  min: number;
  max: number | undefined;
  warmup: number;
}

/** Idle minutes folded in one by one at most (past this the baseline has decayed to ~0 anyway). */
const IDLE_CAP = 24 * 60;

export const newBaseline = (minute: number): Baseline => ({ minute, count: 0, mean: 0, variance: 0, active: 0 });

export const alphaFor = (halfLifeMs: number): number => 1 - 2 ** (-1 / Math.max(1, halfLifeMs / 60_000));

/** The count above which a minute is abnormal for this baseline. */
export function threshold(b: Baseline, rule: VolumeRule): number {
  const learned = b.active >= rule.warmup ? Math.max(rule.factor * b.mean, b.mean + rule.deviations * Math.sqrt(b.variance)) : rule.min * rule.factor;
  const bar = Math.max(rule.min, learned);
  return rule.max === undefined ? bar : Math.min(bar, rule.max);
}

function fold(b: Baseline, x: number, alpha: number): void {
  const diff = x - b.mean;
  const increment = alpha * diff;
  b.mean += increment;
  b.variance = (1 - alpha) * (b.variance + diff * increment);
}

/** Counts one call at `minute`, closing the minutes before it. Returns the count of the current minute. */
export function countCall(b: Baseline, minute: number, rule: VolumeRule): number {
  if (minute > b.minute) {
    if (b.count > 0 && b.active === 0) {
      // The first active minute is the baseline's start (not a fold from zero, which would take a
      // half-life or more to reach the agent's real rate and alert on it meanwhile).
      b.mean = Math.min(b.count, threshold(b, rule));
      b.active = 1;
    } else if (b.count > 0) {
      fold(b, Math.min(b.count, threshold(b, rule)), rule.alpha);
      b.active += 1;
    }
    const idle = Math.min(minute - b.minute - 1, IDLE_CAP);
    for (let i = 0; i < idle; i++) fold(b, 0, rule.alpha);
    b.minute = minute;
    b.count = 0;
  }
  b.count += 1;
  return b.count;
}
