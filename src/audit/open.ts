/**
 * Opens the audit store the config names. One place, used by the gateway and by `portcullis audit`.
 */
import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { join } from 'node:path';
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import { resolveValue, type SecretSource } from '../config/secrets.ts';
import { holdsBuiltInSecret } from '../dlp/create.ts';
import { GatewayError } from '../errors.ts';
import { appendFileSync } from 'node:fs';
import { openArgsHasher } from './args-hash.ts';
import { chainName, leaseChain, type Front } from './chain-lease.ts';
import { HeadNote, headNotePath } from './head-note.ts';
import { CheckpointSigner, publicKeyFrom, type Checkpoint } from './checkpoint.ts';
import { JsonlAuditStore } from './jsonl-store.ts';
import { AuditLog } from './log.ts';
import type { SecretTest } from './redact.ts';
import { LinesSink, OtlpSink, type AuditSink } from './sinks.ts';
import { SqliteAuditStore } from './sqlite-store.ts';
import type { AuditStore } from './store.ts';

export function auditInstance(config: Config): string {
  return config.audit.instance ?? (hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'gateway');
}

export async function openAuditStore(config: Config, secrets: SecretSource, signer?: CheckpointSigner): Promise<AuditStore | undefined> {
  const { store, path } = config.audit;
  const dataDir = config.dataDir ?? defaultDataDir(secrets.env);
  switch (store) {
    case 'off':
      return undefined;
    case 'stdout':
      return new JsonlAuditStore(undefined);
    case 'jsonl':
      return new JsonlAuditStore(path ?? join(dataDir, 'audit.jsonl'), { rotateBytes: config.audit.rotateBytes, sign: signer ? (body) => signer.sign(body) : undefined });
    case 'sqlite':
      return new SqliteAuditStore(path ?? join(dataDir, 'audit.db'));
    case 'postgres': {
      const resolved = resolveValue(config.audit.url ?? '', secrets);
      if ('problem' in resolved) throw new GatewayError('PC_CONFIG_INVALID', `audit.url: ${resolved.problem}`);
      // Loaded only when configured: most deployments never need the PostgreSQL client.
      const { PostgresAuditStore } = await import('./postgres-store.ts');
      return new PostgresAuditStore(resolved.value);
    }
  }
}

/** The checkpoint signer from `audit.signingKey`, or undefined when none is configured. */
export function signerFor(config: Config, secrets: SecretSource): CheckpointSigner | undefined {
  const ref = config.audit.signingKey;
  if (!ref) return undefined;
  const resolved = resolveValue(ref, secrets);
  if ('problem' in resolved) throw new GatewayError('PC_CONFIG_INVALID', `audit.signingKey: ${resolved.problem}`);
  try {
    return new CheckpointSigner(resolved.value);
  } catch (error) {
    throw new GatewayError('PC_CONFIG_INVALID', `audit.signingKey: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** The key that checks checkpoint signatures: `audit.verifyKey`, else the signing key's public half. */
export function verifyKeyFor(config: Config, secrets: SecretSource): KeyObject | undefined {
  const ref = config.audit.verifyKey;
  if (ref) {
    const resolved = resolveValue(ref, secrets);
    if ('problem' in resolved) throw new GatewayError('PC_CONFIG_INVALID', `audit.verifyKey: ${resolved.problem}`);
    return publicKeyFrom(resolved.value);
  }
  return signerFor(config, secrets)?.publicKey();
}

/** The secondary sinks `audit.sinks` names, with header references resolved. */
export function sinksFor(config: Config, secrets: SecretSource, logger: Logger): AuditSink[] {
  return config.audit.sinks.map((sink, i) => {
    if (sink.type === 'otlp') {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(sink.headers)) {
        const resolved = resolveValue(value, secrets);
        if ('problem' in resolved) throw new GatewayError('PC_CONFIG_INVALID', `audit.sinks[${i}].headers.${name}: ${resolved.problem}`);
        headers[name] = resolved.value;
      }
      return new OtlpSink(sink.url, headers, logger);
    }
    return new LinesSink(sink.type === 'jsonl' ? sink.path : undefined);
  });
}

/** Appends each signed checkpoint to the witness file (created 0600), synchronously: a checkpoint is published before it counts. */
function witnessFor(path: string | undefined): ((checkpoint: Checkpoint) => void) | undefined {
  if (!path) return undefined;
  return (checkpoint) => appendFileSync(path, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
}

/** The gateway's audit log as `audit` configures it, or undefined when `audit.store` is `off`. */
/** `extraSinks`: consumers of each stored record besides `audit.sinks` (the behaviour monitor). */
export function createAuditLog(config: Config, secrets: SecretSource, logger: Logger, gatewayId: string, front: Front = 'http', extraSinks: readonly AuditSink[] = [], holdsSecret: SecretTest = holdsBuiltInSecret): AuditLog | undefined {
  if (config.audit.store === 'off') return undefined;
  const signer = signerFor(config, secrets);
  const dataDir = config.dataDir ?? defaultDataDir(secrets.env);
  return new AuditLog({
    openStore: async () => (await openAuditStore(config, secrets, signer))!,
    kind: config.audit.store,
    instance: chainName(auditInstance(config), front),
    // Each process its own chain (see chain-lease.ts); stdout has no shared store to collide in.
    lease: config.audit.store === 'stdout' ? undefined : () => leaseChain(dataDir, auditInstance(config), front),
    gatewayId,
    redactFields: config.audit.redact.fields,
    holdsSecret,
    argumentsModeFor: (server) => (server ? config.servers[server]?.auditArguments : undefined) ?? 'redacted',
    argsHash: openArgsHasher(dataDir),
    logger,
    signer,
    checkpointEvery: config.audit.checkpointEvery,
    sinks: [...sinksFor(config, secrets, logger), ...extraSinks],
    witness: witnessFor(config.audit.witness),
    headNote: config.audit.store === 'stdout' ? undefined : (instance) => new HeadNote(headNotePath(dataDir, instance)),
    retentionDays: config.audit.retentionDays,
    budget: { bytesPerPrincipal: config.audit.budget.bytesPerPrincipal, windowMs: config.audit.budget.windowSeconds * 1000 },
  });
}
