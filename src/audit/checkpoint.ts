/**
 * Signed checkpoints: at intervals, on shutdown and before retention prunes old records, the gateway
 * signs (Ed25519) the position and hash of its chain's last record. A checkpoint makes two attacks
 * visible that a hash chain alone cannot show: cutting records off the end of the trail (the last
 * checkpoint then points past it) and rewriting the whole chain from some point on (the rewritten
 * records no longer match a signed hash). It also lets a pruned chain start past record 1.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export interface Checkpoint {
  instance: string;
  seq: number;
  hash: string;
  time: string;
  /** SHA-256 prefix of the public key that signed it. */
  keyId: string;
  signature: string;
}

function payload(c: Omit<Checkpoint, 'signature' | 'keyId'>): Buffer {
  return Buffer.from(`portcullis-audit-checkpoint:v1\n${c.instance}\n${c.seq}\n${c.hash}\n${c.time}`);
}

export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export class CheckpointSigner {
  readonly #key: KeyObject;
  readonly keyId: string;

  /** `pem` is an Ed25519 private key (PKCS#8 PEM). */
  constructor(pem: string) {
    this.#key = createPrivateKey(pem);
    if (this.#key.asymmetricKeyType !== 'ed25519') throw new Error(`audit.signingKey must be an Ed25519 private key (got ${this.#key.asymmetricKeyType})`);
    this.keyId = keyId(createPublicKey(this.#key));
  }

  sign(c: Omit<Checkpoint, 'signature' | 'keyId'>): Checkpoint {
    return { ...c, keyId: this.keyId, signature: sign(null, payload(c), this.#key).toString('base64') };
  }

  publicKey(): KeyObject {
    return createPublicKey(this.#key);
  }
}

/** Whether a checkpoint was signed by `publicKey` (public or private key PEM). */
export function checkpointValid(c: Checkpoint, publicKey: KeyObject): boolean {
  if (c.keyId !== keyId(publicKey)) return false;
  try {
    return verify(null, payload(c), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

export function publicKeyFrom(pem: string): KeyObject {
  return pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
}
