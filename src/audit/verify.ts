/**
 * Verification of a whole trail: checkpoint signatures, then every chain against its checkpoints.
 */
import type { KeyObject } from 'node:crypto';
import { checkpointValid, type Checkpoint } from './checkpoint.ts';
import { verifyChain, type AuditRecord, type ChainBreak } from './record.ts';

export interface TrailReport {
  records: number;
  checkpoints: number;
  /** Checkpoints whose signatures were not checked (no key given) or that carry none. */
  unverifiedCheckpoints: number;
  broken?: ChainBreak;
}

export async function verifyTrail(
  records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  checkpoints: readonly Checkpoint[],
  publicKey: KeyObject | undefined,
  options: { trustStart?: boolean } = {},
): Promise<TrailReport> {
  let unverified = 0;
  const anchors = new Map<string, Map<number, string>>();
  const lastCheckpoint = new Map<string, number>();
  for (const checkpoint of checkpoints) {
    if (!publicKey || checkpoint.signature === '') unverified += 1;
    else if (!checkpointValid(checkpoint, publicKey)) {
      return {
        records: 0,
        checkpoints: checkpoints.length,
        unverifiedCheckpoints: unverified,
        broken: { instance: checkpoint.instance, seq: checkpoint.seq, problem: 'checkpoint signature is invalid: forged, altered, or signed by another key' },
      };
    }
    let byChain = anchors.get(checkpoint.instance);
    if (!byChain) anchors.set(checkpoint.instance, (byChain = new Map()));
    byChain.set(checkpoint.seq, checkpoint.hash);
    lastCheckpoint.set(checkpoint.instance, Math.max(lastCheckpoint.get(checkpoint.instance) ?? 0, checkpoint.seq));
  }
  const result = await verifyChain(records, anchors, options);
  const report: TrailReport = { records: result.checked, checkpoints: checkpoints.length, unverifiedCheckpoints: unverified };
  if (result.broken) return { ...report, broken: result.broken };
  for (const [instance, seq] of lastCheckpoint) {
    const head = result.heads.get(instance) ?? 0;
    if (head < seq) {
      return { ...report, broken: { instance, seq: head + 1, problem: `the trail ends at record ${head} but a checkpoint vouches for record ${seq}: records were cut off the end` } };
    }
  }
  return report;
}
