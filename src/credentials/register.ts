/**
 * The credential register of one gateway: which credentials exist (agent client secrets and API keys
 * in the identity store, upstream secrets and the gateway's own secrets referenced in the config), how
 * old each is against `identity.maxCredentialAgeDays`, which upstream credential each server uses, and
 * when each server's definitions were last reviewed (pins). Values are never read: a reference is
 * reported as the reference, and `file:` secrets are aged by the file's modification time.
 */
import { statSync } from 'node:fs';
import type { AgentRow, ApiKeyRow } from '../auth/store.ts';
import { SENSITIVE_NAME } from '../config/names.ts';
import type { Config } from '../config/schema.ts';
import { isSecretRef } from '../config/secrets.ts';
import type { PinStore } from '../supply/pins.ts';

export type RotationStatus = 'ok' | 'rotate' | 'expiring' | 'expired' | 'revoked' | 'unknown-age';

export interface CredentialEntry {
  kind: 'agent' | 'api-key' | 'upstream' | 'gateway';
  /** Agent name, key id, or `server.env.NAME` / `server.headers.NAME` / a config path. */
  id: string;
  agent: string | null;
  server: string | null;
  reference: string | null;
  owner: string | null;
  /** The operator's note from `servers.<name>.credentials.<key>.note` (upstream secrets only). */
  note?: string;
  scopes: string[];
  createdAt: string | null;
  rotatedAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  ageDays: number | null;
  status: RotationStatus;
  why: string;
}

export interface ServerCredentials {
  server: string;
  /** The upstream credentials this server is given (references, never values). */
  uses: Array<{ where: string; reference: string }>;
  definitions: { pinned: number; pending: number; lastReviewedAt: string | null; reviewedBy: string | null; firstSeenAt: string | null };
}

export interface RegisterInput {
  config: Config;
  agents: readonly AgentRow[];
  keys: readonly ApiKeyRow[];
  pins: PinStore;
  now: Date;
  /** Modification time of a `file:` secret, or undefined when it cannot be read. */
  fileTime?: (path: string) => Date | undefined;
}

const DAY_MS = 86_400_000;
const EXPIRING_DAYS = 14;

export const fileModifiedAt = (path: string): Date | undefined => {
  try {
    return statSync(path).mtime;
  } catch {
    return undefined;
  }
};

const days = (from: Date, now: Date): number => Math.max(0, Math.floor((now.getTime() - from.getTime()) / DAY_MS));

function status(input: { revoked?: boolean; expiresAt?: Date; since?: Date; now: Date; maxDays: number | undefined }): { status: RotationStatus; why: string; ageDays: number | null } {
  const ageDays = input.since ? days(input.since, input.now) : null;
  if (input.revoked) return { status: 'revoked', why: 'revoked', ageDays };
  if (input.expiresAt && input.expiresAt.getTime() <= input.now.getTime()) return { status: 'expired', why: `expired ${input.expiresAt.toISOString().slice(0, 10)}`, ageDays };
  if (ageDays !== null && input.maxDays !== undefined && ageDays > input.maxDays) return { status: 'rotate', why: `${ageDays} days old, past identity.maxCredentialAgeDays (${input.maxDays})`, ageDays };
  if (input.expiresAt && input.expiresAt.getTime() - input.now.getTime() < EXPIRING_DAYS * DAY_MS) return { status: 'expiring', why: `expires ${input.expiresAt.toISOString().slice(0, 10)}`, ageDays };
  if (ageDays === null) return { status: 'unknown-age', why: 'age unknown: record rotatedAt in the server\'s credentials metadata', ageDays };
  return { status: 'ok', why: input.maxDays !== undefined ? `${ageDays} of ${input.maxDays} days` : `${ageDays} days old (no identity.maxCredentialAgeDays)`, ageDays };
}

const parseDate = (value: string | undefined): Date | undefined => (value ? new Date(value) : undefined);

export function buildRegister(input: RegisterInput): { credentials: CredentialEntry[]; servers: ServerCredentials[]; maxCredentialAgeDays: number | null } {
  const { config, now } = input;
  const maxDays = config.identity?.maxCredentialAgeDays;
  const fileTime = input.fileTime ?? fileModifiedAt;
  const credentials: CredentialEntry[] = [];

  for (const agent of input.agents) {
    const s = status({ revoked: agent.revokedAt !== null, since: new Date(agent.createdAt), now, maxDays });
    credentials.push({ kind: 'agent', id: agent.name, agent: agent.name, server: null, reference: null, owner: null, scopes: agent.scopes, createdAt: agent.createdAt, rotatedAt: null, expiresAt: null, lastUsedAt: null, ...s });
  }
  for (const key of input.keys) {
    const s = status({ revoked: key.revokedAt !== null, ...(key.expiresAt ? { expiresAt: new Date(key.expiresAt) } : {}), since: new Date(key.createdAt), now, maxDays });
    const why = !key.expiresAt && s.status === 'ok' ? `${s.why}; never expires` : s.why;
    credentials.push({ kind: 'api-key', id: key.id, agent: key.agent, server: null, reference: null, owner: null, scopes: key.scopes, createdAt: key.createdAt, rotatedAt: null, expiresAt: key.expiresAt, lastUsedAt: key.lastUsedAt, ...s, why });
  }

  const servers: ServerCredentials[] = [];
  for (const [name, server] of Object.entries(config.servers)) {
    const values: Array<[string, string, string]> = 'command' in server ? Object.entries(server.env).map(([k, v]) => [`env.${k}`, k, v]) : Object.entries(server.headers).map(([k, v]) => [`headers.${k}`, k, v]);
    const uses: ServerCredentials['uses'] = [];
    for (const [where, key, value] of values) {
      if (!isSecretRef(value) && !SENSITIVE_NAME.test(key)) continue;
      const meta = server.credentials?.[key];
      const reference = isSecretRef(value) ? value : null;
      uses.push({ where, reference: reference ?? '(literal)' });
      const since = parseDate(meta?.rotatedAt) ?? (reference?.startsWith('file:') ? fileTime(reference.slice(5)) : undefined);
      const s = status({ ...(meta?.expiresAt ? { expiresAt: new Date(meta.expiresAt) } : {}), ...(since ? { since } : {}), now, maxDays });
      credentials.push({
        kind: 'upstream',
        id: `${name}.${where}`,
        agent: null,
        server: name,
        reference,
        owner: meta?.owner ?? null,
        ...(meta?.note !== undefined ? { note: meta.note } : {}),
        scopes: meta?.scopes ?? [],
        createdAt: null,
        rotatedAt: meta?.rotatedAt ?? (since ? since.toISOString() : null),
        expiresAt: meta?.expiresAt ?? null,
        lastUsedAt: null,
        ...s,
        why: meta?.rotatedAt || !since ? s.why : `${s.why} (age from the file's modification time)`,
      });
    }
    for (const key of Object.keys(server.credentials ?? {})) {
      if (!values.some(([, k]) => k === key)) credentials.push({ kind: 'upstream', id: `${name}.${key}`, agent: null, server: name, reference: null, owner: server.credentials![key]!.owner ?? null, scopes: [], createdAt: null, rotatedAt: null, expiresAt: null, lastUsedAt: null, ageDays: null, status: 'unknown-age', why: `servers.${name}.credentials names "${key}", which the server has no ${'command' in server ? 'env variable' : 'header'} of` });
    }
    const pinned = Object.values(input.pins.allPinned(name));
    const last = pinned.reduce<(typeof pinned)[number] | undefined>((a, p) => (!a || p.approvedAt > a.approvedAt ? p : a), undefined);
    const firstSeen = input.pins.seen(name, 'tools') ? (pinned.map((p) => p.approvedAt).sort()[0] ?? null) : null;
    servers.push({ server: name, uses, definitions: { pinned: pinned.length, pending: Object.keys(input.pins.pending(name)).length, lastReviewedAt: last?.approvedAt ?? null, reviewedBy: last?.approvedBy ?? null, firstSeenAt: firstSeen } });
  }

  // The gateway's own secrets: sign-in passwords, introspection client secrets, the audit signing key and URL.
  const own: Array<[string, string | undefined]> = [
    ['audit.signingKey', config.audit.signingKey],
    ['audit.url', config.audit.url && isSecretRef(config.audit.url) ? config.audit.url : undefined],
    ...(config.identity?.embedded?.users ?? []).map((u, i): [string, string] => [`identity.embedded.users[${i}].password (${u.username})`, u.password]),
    ...(config.identity?.issuers ?? []).flatMap((issuer, i): Array<[string, string]> => (issuer.introspection ? [[`identity.issuers[${i}].introspection.clientSecret`, issuer.introspection.clientSecret]] : [])),
  ];
  for (const [id, reference] of own) {
    if (!reference) continue;
    const since = reference.startsWith('file:') ? fileTime(reference.slice(5)) : undefined;
    const s = status({ ...(since ? { since } : {}), now, maxDays });
    credentials.push({ kind: 'gateway', id, agent: null, server: null, reference, owner: null, scopes: [], createdAt: null, rotatedAt: since?.toISOString() ?? null, expiresAt: null, lastUsedAt: null, ...s, why: s.status === 'unknown-age' ? 'age unknown (an env: reference)' : since ? `${s.why} (age from the file's modification time)` : s.why });
  }
  return { credentials, servers, maxCredentialAgeDays: maxDays ?? null };
}
