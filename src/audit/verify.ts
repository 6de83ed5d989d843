/**
 * Verification of a whole trail: checkpoint signatures, then every chain against its checkpoints.
 *
 * A hash chain alone proves only that records fit together; whoever can write the store can delete
 * a range and re-link, rewrite a record and recompute every hash after it, or cut the tail. With a
 * signing key configured (`strict`), the signed checkpoints are what a rewriter cannot forge, so the
 * verifier demands them: every checkpoint signed by the key (an unsigned or foreign one fails); a
 * checkpoint at every multiple of `checkpointEvery` that the chain reaches (a deleted one fails); and
 * the last record of each chain covered by a checkpoint (a tail that no signature covers fails unless
 * the trail is verified while its gateway runs, `live`, and then only if the uncovered tail is shorter
 * than `checkpointEvery`). Checkpoints published to a witness (a copy the store's writer cannot reach)
 * anchor the trail too: a tail cut together with its checkpoints is caught by the witness. Head notes
 * (head-note.ts: where each gateway last committed its chain, kept in its data directory) catch a tail
 * cut after the last checkpoint and a chain deleted whole.
 */
import type { KeyObject } from 'node:crypto';
import { checkpointValid, type Checkpoint } from './checkpoint.ts';
import { verifyChain, type AuditRecord, type ChainBreak } from './record.ts';

export interface TrailReport {
  records: number;
  checkpoints: number;
  /** Checkpoints whose signatures were not checked (no key given) or that carry none. */
  unverifiedCheckpoints: number;
  /** Per chain: its last record and the last record a signed checkpoint covers (0: none). */
  chains: Array<{ instance: string; head: number; signedUpTo: number }>;
  broken?: ChainBreak;
}

export interface VerifyOptions {
  /** `verify --since`: the first record checked is taken as given. */
  trustStart?: boolean;
  /**
   * A signing key is configured: checkpoints must be signed, present at every multiple of `every`,
   * and cover each chain's last record (see `live`).
   */
  strict?: { every: number; live?: boolean };
  /** Checkpoints from a witness (`audit.witness`): anchors the store's writer cannot delete. */
  witness?: readonly Checkpoint[];
  /** Head notes by chain (head-note.ts): each chain must reach its note's record, with its hash. */
  heads?: ReadonlyMap<string, { seq: number; hash: string }>;
  /** Cuts the gateways found on their own chains (head-note.ts): each one fails verification. */
  cuts?: ReadonlyArray<{ instance: string; stored: number; committed: number; at: string; when: string }>;
}

export async function verifyTrail(
  records: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  checkpoints: readonly Checkpoint[],
  publicKey: KeyObject | undefined,
  options: VerifyOptions = {},
): Promise<TrailReport> {
  let unverified = 0;
  const anchors = new Map<string, Map<number, string>>();
  const lastCheckpoint = new Map<string, number>();
  const signedAt = new Map<string, Set<number>>();
  const all = [...checkpoints.map((c) => ({ c, witness: false })), ...(options.witness ?? []).map((c) => ({ c, witness: true }))];
  const fail = (instance: string, seq: number, problem: string): TrailReport => ({
    records: 0,
    checkpoints: checkpoints.length,
    unverifiedCheckpoints: unverified,
    chains: [],
    broken: { instance, seq, problem },
  });
  for (const { c: checkpoint, witness } of all) {
    const where = witness ? 'witness checkpoint' : 'checkpoint';
    if (checkpoint.signature === '' || !publicKey) {
      if (options.strict || witness) return fail(checkpoint.instance, checkpoint.seq, `${where} at record ${checkpoint.seq} is unsigned: with audit.signingKey every checkpoint must carry its signature (forged anchor)`);
      unverified += 1;
    } else if (!checkpointValid(checkpoint, publicKey)) {
      return fail(checkpoint.instance, checkpoint.seq, `${where} signature is invalid: forged, altered, or signed by another key`);
    } else {
      let signed = signedAt.get(checkpoint.instance);
      if (!signed) signedAt.set(checkpoint.instance, (signed = new Set()));
      signed.add(checkpoint.seq);
    }
    let byChain = anchors.get(checkpoint.instance);
    if (!byChain) anchors.set(checkpoint.instance, (byChain = new Map()));
    const known = byChain.get(checkpoint.seq);
    if (known !== undefined && known !== checkpoint.hash) {
      return fail(checkpoint.instance, checkpoint.seq, `two signed checkpoints at record ${checkpoint.seq} disagree (the store's and the witness's): the chain was rewritten`);
    }
    byChain.set(checkpoint.seq, checkpoint.hash);
    lastCheckpoint.set(checkpoint.instance, Math.max(lastCheckpoint.get(checkpoint.instance) ?? 0, checkpoint.seq));
  }
  const result = await verifyChain(records, anchors, { ...options, notes: options.heads });
  const chains = [...result.heads].map(([instance, head]) => ({ instance, head, signedUpTo: Math.max(0, ...[...(signedAt.get(instance) ?? [])].filter((s) => s <= head)) }));
  const report: TrailReport = { records: result.checked, checkpoints: checkpoints.length, unverifiedCheckpoints: unverified, chains };
  if (result.broken) return { ...report, broken: result.broken };
  for (const [instance, seq] of lastCheckpoint) {
    const head = result.heads.get(instance) ?? 0;
    if (head < seq) {
      return { ...report, broken: { instance, seq: head + 1, problem: `the trail ends at record ${head} but a checkpoint vouches for record ${seq}: records were cut off the end` } };
    }
  }
  if (options.strict) {
    const { every, live } = options.strict;
    for (const { instance, head } of chains) {
      const first = result.firsts.get(instance) ?? 1;
      const signed = signedAt.get(instance) ?? new Set<number>();
      // Every multiple of checkpointEvery the chain reached (from where it starts) has its checkpoint.
      for (let at = Math.ceil(Math.max(1, first - 1) / every) * every; at <= head; at += every) {
        if (!signed.has(at)) {
          return { ...report, broken: { instance, seq: at, problem: `no signed checkpoint at record ${at} (audit.checkpointEvery: ${every}): checkpoints were deleted, and the records around them may have been rewritten` } };
        }
      }
      const covered = Math.max(0, ...[...signed].filter((s) => s <= head));
      const uncovered = head - covered;
      if (uncovered > 0 && (!live || uncovered >= every)) {
        const range = uncovered === 1 ? `record ${head}` : `records ${covered + 1}–${head}`;
        return {
          ...report,
          broken: {
            instance,
            seq: covered + 1,
            problem:
              `${range} after the last signed checkpoint (${covered ? `record ${covered}` : 'none'}) are covered by no signature: records after them may have been cut off` +
              (live ? '' : ' (a running gateway covers them at its next checkpoint or at shutdown; verify a trail being written with --live)'),
          },
        };
      }
    }
  }
  // Head notes last: a chain that does not reach its note's record, or holds another record there.
  if (result.noted) return { ...report, broken: result.noted };
  for (const cut of options.cuts ?? []) {
    const what = cut.stored < cut.committed ? `the store ended at record ${cut.stored} though record ${cut.committed} had been committed, so records ${cut.stored + 1}–${cut.committed} are gone` : `record ${cut.committed} as stored is not the one committed: the chain was rewritten`;
    const problem = `its gateway found the chain cut ${cut.when} (${cut.at}): ${what} (audit-chains/${cut.instance}.cuts; remove it once investigated)`;
    return { ...report, broken: { instance: cut.instance, seq: Math.min(cut.stored + 1, cut.committed), problem } };
  }
  for (const [instance, note] of options.heads ?? []) {
    const head = result.heads.get(instance) ?? 0;
    if (head >= note.seq || (options.trustStart && !result.heads.has(instance))) continue;
    const problem = head === 0
      ? `the store has no record of this chain, but its gateway's head note (audit-chains/${instance}.head) says record ${note.seq} was committed: the chain was deleted`
      : `the trail ends at record ${head} but its gateway's head note (audit-chains/${instance}.head) says record ${note.seq} was committed: records were cut off the end`;
    return { ...report, broken: { instance, seq: head + 1, problem } };
  }
  return report;
}
