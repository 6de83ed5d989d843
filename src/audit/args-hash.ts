/**
 * The audit record's `argsHash`: HMAC-SHA-256 over the canonical JSON (RFC 8785) of a call's
 * arguments, under a key of the deployment's own. A plain SHA-256 let anyone holding a record confirm
 * a guessed low-entropy value (a PIN, an amount, an account number): hash the guess, compare. Keyed,
 * a guess can be checked only by someone who holds the key, which never goes into a record.
 *
 * The key is `<dataDir>/args-hash.key` (32 random bytes, base64url, 0600), made on first use like the
 * gateway's other keys (util/seal.ts): every process on one data dir hashes alike, so equal arguments
 * still give equal hashes — what approvals bind a call to (approvals/stage.ts) and what the monitor's
 * repeat detectors count — within a deployment, and never across deployments.
 *
 * A record that holds an argument hash says how it was made (`argsHashScheme: "hmac-sha256"`);
 * records without the field were written before and hold a plain SHA-256.
 */
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { GatewayError } from '../errors.ts';
import { ensureSealKey, readSealKey } from '../util/seal.ts';
import { canonicalJson } from './canonical.ts';

/** What `argsHashScheme` says in a record whose hashes are keyed. */
export const ARGS_HASH_SCHEME = 'hmac-sha256';

/** The `argsHash` of a call's arguments. */
export type ArgsHasher = (args: unknown) => string;

export const argsKeyPath = (dataDir: string): string => join(dataDir, 'args-hash.key');

export function argsHasher(key: Buffer): ArgsHasher {
  return (args) => createHmac('sha256', key).update(canonicalJson(args)).digest('hex');
}

/** The hasher of a data dir, its key made first if there is none yet. */
export function openArgsHasher(dataDir: string): ArgsHasher {
  const source = { kind: 'file', path: argsKeyPath(dataDir) } as const;
  ensureSealKey(source);
  const key = readSealKey(source);
  if (typeof key === 'string') throw new GatewayError('PC_CONFIG_INVALID', `the audit's argument-hash key: ${key}`);
  return argsHasher(key);
}
