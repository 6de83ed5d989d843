/**
 * Sealed state files: the HMAC-SHA256 that protects the gateway's own files in the data dir against an
 * edit made outside portcullis (pins.json, killswitch.json). One key per data dir: `supply.pinsKey`
 * when it is set, else `<dataDir>/pins.key` (32 random bytes, 0600, made with the first sealed file).
 * A seal covers the canonical JSON (RFC 8785) of what the file says; each file seals a different shape,
 * so a seal copied from one file never verifies another.
 *
 * Not protected: someone who can read the key can re-sign an edited file; an older, correctly signed
 * copy put back (rollback) verifies. Keep the key outside the data dir to raise that bar.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '../audit/canonical.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './private-files.ts';

/** Where the key comes from: a resolved `supply.pinsKey`, or the default key file in the data dir. */
export type SealKeySource = { kind: 'configured'; key: Buffer } | { kind: 'configured-missing'; problem: string } | { kind: 'file'; path: string };

/** The key, or why there is none. */
export function readSealKey(source: SealKeySource): Buffer | string {
  if (source.kind === 'configured') return source.key;
  if (source.kind === 'configured-missing') return `supply.pinsKey: ${source.problem}`;
  if (!existsSync(source.path)) return `the key ${source.path} is missing`;
  const text = readFileSync(source.path, 'utf8').trim();
  if (text.length < 32) return `the key ${source.path} is too short (expected 32 random bytes, base64url)`;
  return Buffer.from(text, 'utf8');
}

/** Makes the default key file when the source is one and it does not exist yet. */
export function ensureSealKey(source: SealKeySource): void {
  if (source.kind !== 'file' || existsSync(source.path)) return;
  ensurePrivateDir(dirname(source.path));
  try {
    writeFileSync(source.path, `${randomBytes(32).toString('base64url')}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  } catch (error) {
    // Another process (`serve` and `stdio` on one data dir) made it first: theirs is the key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** The seal (hex) of `content` under `key`. */
export function sealOf(key: Buffer, content: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(content)).digest('hex');
}

/** Whether `mac` (as read from a file: anything) is the seal of `content` under `key`. */
export function sealMatches(key: Buffer, content: unknown, mac: unknown): boolean {
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/i.test(mac)) return false;
  return timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(sealOf(key, content), 'hex'));
}
