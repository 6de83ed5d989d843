/**
 * Identity state in `<dataDir>/identity.db` (SQLite, WAL; the gateway and the CLI share it): agents
 * with their client credentials, API keys, and the embedded authorization server's grants, codes and
 * tokens. Secrets are stored only as SHA-256 hashes — they are 256 random bits, so a fast hash is the
 * right one — and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

export interface AgentRow {
  name: string;
  clientId: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
}

export interface ApiKeyRow {
  id: string;
  agent: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const sameHash = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);
const secret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

export const API_KEY_PREFIX = 'pcl_';
const API_KEY = /^pcl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export class IdentityStore {
  readonly path: string;
  readonly db: DatabaseSync;
  readonly #touched = new Map<string, string>();
  // The hot path (a key or a token on every request) reads from memory; `PRAGMA data_version` changes
  // when another connection (the CLI revoking, creating) commits, and then the memory is dropped — so a
  // revocation still takes effect on the next call.
  readonly #dataVersion: StatementSync;
  readonly #keyById: StatementSync;
  readonly #agentByName: StatementSync;
  readonly #agentByClient: StatementSync;
  #version: unknown = undefined;
  #looked = false;
  readonly #keys = new Map<string, (Record<string, string | null> & { hash: Uint8Array }) | null>();
  readonly #agentsByName = new Map<string, AgentRow | null>();
  readonly #agentsByClient = new Map<string, AgentRow | null>();

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS agents (
        name TEXT PRIMARY KEY, client_id TEXT NOT NULL UNIQUE, secret_hash BLOB NOT NULL, scopes TEXT NOT NULL,
        created_at TEXT NOT NULL, revoked_at TEXT);
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, agent TEXT NOT NULL, hash BLOB NOT NULL, scopes TEXT NOT NULL, created_at TEXT NOT NULL,
        expires_at TEXT, last_used_at TEXT, revoked_at TEXT);
      CREATE TABLE IF NOT EXISTS oauth (
        model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, expires_at INTEGER,
        grant_id TEXT, uid TEXT, user_code TEXT, consumed_at INTEGER, PRIMARY KEY (model, id));
      CREATE INDEX IF NOT EXISTS oauth_grant ON oauth (grant_id);
      CREATE INDEX IF NOT EXISTS oauth_uid ON oauth (uid);
    `);
    this.#dataVersion = this.db.prepare('PRAGMA data_version');
    this.#keyById = this.db.prepare('SELECT * FROM api_keys WHERE id = ?');
    this.#agentByName = this.db.prepare('SELECT * FROM agents WHERE name = ?');
    this.#agentByClient = this.db.prepare('SELECT * FROM agents WHERE client_id = ?');
  }

  /** Drops what memory holds when the database changed under it (another process committed). */
  #fresh(): void {
    // One look per synchronous run: checks within it could not see another commit anyway.
    if (this.#looked) return;
    this.#looked = true;
    queueMicrotask(() => (this.#looked = false));
    const version = (this.#dataVersion.get() as { data_version: unknown }).data_version;
    if (version === this.#version) return;
    this.#version = version;
    this.#keys.clear();
    this.#agentsByName.clear();
    this.#agentsByClient.clear();
  }

  /** Local writes (this connection) do not move data_version, so they drop the memory themselves. */
  #changed(): void {
    this.#version = undefined;
    this.#looked = false;
  }

  // ---- agents (client credentials of the embedded authorization server) ----

  /** Creates an agent and returns its client secret (shown once; only its hash is kept). */
  addAgent(name: string, scopes: string[]): { clientId: string; clientSecret: string } {
    const existing = this.agent(name);
    if (existing && !existing.revokedAt) throw new Error(`agent "${name}" already exists; revoke it first to issue a new credential`);
    const clientSecret = secret('pcs_');
    const clientId = `agent-${name}`;
    this.db.prepare('DELETE FROM agents WHERE name = ?').run(name);
    this.db.prepare('INSERT INTO agents (name, client_id, secret_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)').run(name, clientId, sha256(clientSecret), scopes.join(' '), new Date().toISOString());
    this.#changed();
    return { clientId, clientSecret };
  }

  agent(name: string): AgentRow | undefined {
    return this.#agentVia(this.#agentsByName, this.#agentByName, name);
  }

  agentByClientId(clientId: string): AgentRow | undefined {
    return this.#agentVia(this.#agentsByClient, this.#agentByClient, clientId);
  }

  #agentVia(memory: Map<string, AgentRow | null>, statement: StatementSync, key: string): AgentRow | undefined {
    this.#fresh();
    let found = memory.get(key);
    if (found === undefined) {
      const row = statement.get(key) as Record<string, string | null> | undefined;
      found = row ? toAgent(row) : null;
      memory.set(key, found);
    }
    return found ?? undefined;
  }

  agents(): AgentRow[] {
    return (this.db.prepare('SELECT * FROM agents ORDER BY name').all() as Record<string, string | null>[]).map(toAgent);
  }

  /** True when `presented` is the live secret of the agent with this client id. */
  checkAgentSecret(clientId: string, presented: string): boolean {
    const row = this.db.prepare('SELECT secret_hash, revoked_at FROM agents WHERE client_id = ?').get(clientId) as { secret_hash: Uint8Array; revoked_at: string | null } | undefined;
    if (!row || row.revoked_at) return false;
    return sameHash(Buffer.from(row.secret_hash), sha256(presented));
  }

  revokeAgent(name: string): boolean {
    const result = this.db.prepare('UPDATE agents SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(new Date().toISOString(), name);
    if (Number(result.changes) === 0) return false;
    this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE agent = ? AND revoked_at IS NULL').run(new Date().toISOString(), name);
    this.#changed();
    return true;
  }

  /** Whether the agent named by an OAuth client id was revoked (unknown client ids are not agents). */
  agentRevoked(clientId: string): boolean {
    const agent = this.agentByClientId(clientId);
    return agent !== undefined && agent.revokedAt !== null;
  }

  // ---- API keys ----

  createKey(agent: string, scopes: string[], expiresAt: Date | undefined): { id: string; key: string } {
    const id = randomBytes(6).toString('hex');
    const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
    this.db
      .prepare('INSERT INTO api_keys (id, agent, hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, agent, sha256(key), scopes.join(' '), new Date().toISOString(), expiresAt ? expiresAt.toISOString() : null);
    this.#changed();
    return { id, key };
  }

  /** The key's row when `presented` is a live key; a reason otherwise. */
  verifyKey(presented: string, now: Date): ApiKeyRow | { problem: string } {
    const match = API_KEY.exec(presented);
    if (!match) return { problem: 'malformed API key' };
    this.#fresh();
    let row = this.#keys.get(match[1]!);
    if (row === undefined) {
      row = (this.#keyById.get(match[1]!) as (Record<string, string | null> & { hash: Uint8Array }) | undefined) ?? null;
      if (this.#keys.size >= 100_000) this.#keys.clear();
      this.#keys.set(match[1]!, row);
    }
    if (!row || !sameHash(Buffer.from(row.hash), sha256(presented))) return { problem: 'unknown API key' };
    const key = toKey(row);
    if (key.revokedAt) return { problem: 'the API key was revoked' };
    if (key.expiresAt && new Date(key.expiresAt) <= now) return { problem: 'the API key expired' };
    this.#touched.set(key.id, now.toISOString());
    return key;
  }

  keys(): ApiKeyRow[] {
    this.flush();
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at').all() as Record<string, string | null>[]).map(toKey);
  }

  revokeKey(id: string): boolean {
    const revoked = Number(this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(new Date().toISOString(), id).changes) > 0;
    this.#changed();
    return revoked;
  }

  /** Writes last-used times (batched: a key used a thousand times a second is one write). */
  flush(): void {
    if (this.#touched.size === 0) return;
    const update = this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
    for (const [id, at] of this.#touched) update.run(at, id);
    this.#touched.clear();
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

function toAgent(row: Record<string, string | null>): AgentRow {
  return { name: row.name!, clientId: row.client_id!, scopes: row.scopes ? row.scopes.split(' ') : [], createdAt: row.created_at!, revokedAt: row.revoked_at ?? null };
}

function toKey(row: Record<string, string | null | Uint8Array>): ApiKeyRow {
  const s = (k: string): string | null => (row[k] as string | null) ?? null;
  return { id: s('id')!, agent: s('agent')!, scopes: s('scopes') ? s('scopes')!.split(' ') : [], createdAt: s('created_at')!, expiresAt: s('expires_at'), lastUsedAt: s('last_used_at'), revokedAt: s('revoked_at') };
}
