/**
 * Identity state in `<dataDir>/identity.db` (SQLite, WAL, 0600; the gateway and the CLI share it):
 * agents with their client credentials, API keys, clients an administrator registered, revoked token
 * ids, and the embedded authorization server's grants, codes and tokens. Secrets are stored only as
 * SHA-256 hashes — they are 256 random bits (or at least 128 for oidc-provider's ids), so a fast hash
 * is the right one — and compared in constant time; that includes every OAuth artefact whose id is
 * itself the bearer value (codes, refresh tokens, registration access tokens, session and interaction
 * ids), which oidc-provider only ever looks up by the value presented.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ensurePrivateDir, ensurePrivateFile } from '../util/private-files.ts';

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

// One-shot: an API key is hashed on every request it comes with, and `hash` makes no Hash object.
const sha256 = (text: string): Buffer => hash('sha256', text, 'buffer');
const sameHash = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);
const secret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

export interface ClientRow {
  clientId: string;
  name: string;
  redirectUris: string[];
  createdAt: string;
}

/** oidc-provider models stored under their own id: the id of these is public (client_id, grant id). */
const PLAIN_ID_MODELS = new Set(['Client', 'Grant']);
/** Version of the stored layout (PRAGMA user_version); 1: OAuth artefacts stored by hash. */
const LAYOUT_VERSION = 1;

export const API_KEY_PREFIX = 'pcl_';
const API_KEY = /^pcl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * The most entries each in-memory lookup table of the store holds. Their keys come from requests (an
 * API key's id, a client_id, a token's jti or grant), known or not — unknown ones are remembered too,
 * so a flood of them does not reach the database on every request — so a full table is dropped whole
 * and fills again from the database.
 */
export const MEMORY_ENTRIES_MAX = 100_000;

/** `memory`'s answer for `key`, looked up and kept when it has none (within MEMORY_ENTRIES_MAX). */
function remembered<V>(memory: Map<string, V>, key: string, look: () => V): V {
  let value = memory.get(key);
  if (value === undefined) {
    value = look();
    if (memory.size >= MEMORY_ENTRIES_MAX) memory.clear();
    memory.set(key, value);
  }
  return value;
}

export class IdentityStore {
  readonly path: string;
  readonly db: DatabaseSync;
  readonly #touched = new Map<string, Date>();
  // The hot path (a key or a token on every request) reads from memory; `PRAGMA data_version` changes
  // when another connection (the CLI revoking, creating) commits, and then the memory is dropped — so a
  // revocation still takes effect on the next call.
  readonly #dataVersion: StatementSync;
  readonly #keyById: StatementSync;
  readonly #agentByName: StatementSync;
  readonly #agentByClient: StatementSync;
  #version: unknown = undefined;
  #looked = false;
  /** Keys by id as last read (null: no such key), converted once: a key is checked on every request. */
  readonly #keys = new Map<string, { hash: Buffer; key: ApiKeyRow; expiresMs: number | undefined } | null>();
  readonly #agentsByName = new Map<string, AgentRow | null>();
  readonly #agentsByClient = new Map<string, AgentRow | null>();
  // Revocation state the resource server reads on every embedded-issuer token: same memory, same rule.
  readonly #grantLive: StatementSync;
  readonly #tokenRevoked: StatementSync;
  /** Grant id → its owner and expiry, or null when there is no such grant. */
  readonly #grants = new Map<string, { accountId: unknown; clientId: unknown; expiresAt: number | null } | null>();
  readonly #revokedTokens = new Map<string, boolean>();

  constructor(path: string) {
    this.path = path;
    ensurePrivateDir(dirname(path));
    ensurePrivateFile(path);
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
      CREATE TABLE IF NOT EXISTS clients (
        client_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, redirect_uris TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS revoked_tokens (jti_hash BLOB PRIMARY KEY, expires_at INTEGER NOT NULL);
    `);
    const layout = Number((this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    if (layout < LAYOUT_VERSION) {
      // Before version 1, codes, refresh tokens and registration access tokens were stored in clear as row
      // ids. They are dropped (their clients sign in again) rather than rehashed, so no clear copy is left
      // in the payloads either.
      this.db.exec(`DELETE FROM oauth WHERE model NOT IN ('Client', 'Grant'); PRAGMA user_version = ${LAYOUT_VERSION};`);
    }
    this.#grantLive = this.db.prepare("SELECT expires_at, json_extract(payload, '$.accountId') AS account_id, json_extract(payload, '$.clientId') AS client_id FROM oauth WHERE model = 'Grant' AND id = ?");
    this.#tokenRevoked = this.db.prepare('SELECT expires_at FROM revoked_tokens WHERE jti_hash = ?');
    this.#dataVersion = this.db.prepare('PRAGMA data_version');
    this.#keyById = this.db.prepare('SELECT * FROM api_keys WHERE id = ?');
    this.#agentByName = this.db.prepare('SELECT * FROM agents WHERE name = ?');
    this.#agentByClient = this.db.prepare('SELECT * FROM agents WHERE client_id = ?');
  }

  /** Entries of the largest in-memory lookup table (bounded by MEMORY_ENTRIES_MAX). */
  get memoryEntries(): number {
    return Math.max(this.#keys.size, this.#agentsByName.size, this.#agentsByClient.size, this.#grants.size, this.#revokedTokens.size);
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
    this.#grants.clear();
    this.#revokedTokens.clear();
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
    return remembered(memory, key, () => {
      const row = statement.get(key) as Record<string, string | null> | undefined;
      return row ? toAgent(row) : null;
    }) ?? undefined;
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

  // ---- clients an administrator registered (authorization code + PKCE, public) ----

  addClient(name: string, redirectUris: string[]): ClientRow {
    if (this.clientByName(name)) throw new Error(`client "${name}" already exists; remove it first`);
    const row: ClientRow = { clientId: `client-${randomBytes(12).toString('base64url')}`, name, redirectUris, createdAt: new Date().toISOString() };
    this.db.prepare('INSERT INTO clients (client_id, name, redirect_uris, created_at) VALUES (?, ?, ?, ?)').run(row.clientId, name, JSON.stringify(redirectUris), row.createdAt);
    return row;
  }

  client(clientId: string): ClientRow | undefined {
    const row = this.db.prepare('SELECT * FROM clients WHERE client_id = ?').get(clientId) as Record<string, string> | undefined;
    return row ? toClient(row) : undefined;
  }

  clientByName(name: string): ClientRow | undefined {
    const row = this.db.prepare('SELECT * FROM clients WHERE name = ?').get(name) as Record<string, string> | undefined;
    return row ? toClient(row) : undefined;
  }

  clients(): ClientRow[] {
    return (this.db.prepare('SELECT * FROM clients ORDER BY name').all() as Record<string, string>[]).map(toClient);
  }

  /** Removes a client and every grant (so every token) it holds. */
  removeClient(name: string): boolean {
    const client = this.clientByName(name);
    if (!client) return false;
    this.db.prepare('DELETE FROM clients WHERE client_id = ?').run(client.clientId);
    for (const { id } of this.db.prepare("SELECT id FROM oauth WHERE model = 'Grant' AND json_extract(payload, '$.clientId') = ?").all(client.clientId) as Array<{ id: string }>) {
      this.oauthRevokeGrant(id);
    }
    this.#changed();
    return true;
  }

  // ---- the embedded authorization server's storage (oidc-provider adapter rows) ----

  #rowId(model: string, id: string): string {
    return PLAIN_ID_MODELS.has(model) ? id : sha256(`${model}\u0000${id}`).toString('base64url');
  }

  /** When expired oauth rows were last deleted (oauthUpsert does it at most once a minute). */
  #purgedAt = 0;

  oauthUpsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): void {
    const stored = { ...payload };
    // oidc-provider repeats the id as `jti`; it is put back from the presented value on find.
    if (!PLAIN_ID_MODELS.has(model) && stored.jti === id) delete stored.jti;
    this.db.prepare('INSERT OR REPLACE INTO oauth (model, id, payload, expires_at, grant_id, uid, user_code) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      model,
      this.#rowId(model, id),
      JSON.stringify(stored),
      expiresAt,
      (payload.grantId as string | undefined) ?? null,
      (payload.uid as string | undefined) ?? null,
      typeof payload.userCode === 'string' ? sha256(payload.userCode).toString('base64url') : null,
    );
    if (model === 'Grant') this.#changed();
    this.#purgeExpired();
  }

  /**
   * Deletes the oauth rows past their expiry — sessions, codes, interactions, grants of sign-ins nobody
   * came back from — which are dead already (never found: #oauthRow), so the table holds only what is
   * live; each sign-in writes rows, so it is done here, at most once a minute.
   */
  #purgeExpired(): void {
    const now = Date.now();
    if (now - this.#purgedAt < 60_000) return;
    this.#purgedAt = now;
    const { changes } = this.db.prepare('DELETE FROM oauth WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
    if (Number(changes) > 0) this.#changed();
  }

  oauthFind(model: string, id: string): Record<string, unknown> | undefined {
    const found = this.#oauthRow(this.db.prepare('SELECT payload, expires_at, consumed_at FROM oauth WHERE model = ? AND id = ?').get(model, this.#rowId(model, id)));
    return found && !PLAIN_ID_MODELS.has(model) && found.jti === undefined ? { ...found, jti: id } : found;
  }

  oauthFindByUid(model: string, uid: string): Record<string, unknown> | undefined {
    return this.#oauthRow(this.db.prepare('SELECT payload, expires_at, consumed_at FROM oauth WHERE model = ? AND uid = ?').get(model, uid));
  }

  oauthFindByUserCode(model: string, userCode: string): Record<string, unknown> | undefined {
    return this.#oauthRow(this.db.prepare('SELECT payload, expires_at, consumed_at FROM oauth WHERE model = ? AND user_code = ?').get(model, sha256(userCode).toString('base64url')));
  }

  oauthConsume(model: string, id: string): void {
    this.db.prepare('UPDATE oauth SET consumed_at = ? WHERE model = ? AND id = ?').run(Math.floor(Date.now() / 1000), model, this.#rowId(model, id));
  }

  oauthDestroy(model: string, id: string): void {
    this.db.prepare('DELETE FROM oauth WHERE model = ? AND id = ?').run(model, this.#rowId(model, id));
    if (model === 'Grant') this.#changed();
  }

  /** Deletes a grant and everything issued under it; access tokens carrying its id are refused from now on. */
  /** Self-registered clients stored (RFC 7591 registrations; `portcullis client add` ones are apart). */
  registeredClientCount(): number {
    return Number((this.db.prepare("SELECT count(*) AS n FROM oauth WHERE model = 'Client'").get() as { n: number }).n);
  }

  /**
   * Deletes up to `count` of the oldest self-registered clients no grant names (never used, or every
   * grant gone), with their registration access tokens; returns how many went.
   */
  evictUnusedClients(count: number): number {
    if (count <= 0) return 0;
    const unused = this.db
      .prepare("SELECT id FROM oauth AS c WHERE c.model = 'Client' AND NOT EXISTS (SELECT 1 FROM oauth AS g WHERE g.model = 'Grant' AND json_extract(g.payload, '$.clientId') = c.id) ORDER BY rowid LIMIT ?")
      .all(count) as Array<{ id: string }>;
    const drop = this.db.prepare("DELETE FROM oauth WHERE (model = 'Client' AND id = ?) OR (model = 'RegistrationAccessToken' AND json_extract(payload, '$.clientId') = ?)");
    for (const { id } of unused) drop.run(id, id);
    return unused.length;
  }

  oauthRevokeGrant(grantId: string): void {
    this.db.prepare('DELETE FROM oauth WHERE grant_id = ?').run(grantId);
    this.db.prepare("DELETE FROM oauth WHERE model = 'Grant' AND id = ?").run(grantId);
    this.#changed();
  }

  /** Revokes every grant a user holds (sign-out, `portcullis user signout`); returns how many. */
  revokeAccount(accountId: string): number {
    const grants = this.db.prepare("SELECT id FROM oauth WHERE model = 'Grant' AND json_extract(payload, '$.accountId') = ?").all(accountId) as Array<{ id: string }>;
    for (const { id } of grants) this.oauthRevokeGrant(id);
    this.db.prepare("DELETE FROM oauth WHERE model = 'Session' AND json_extract(payload, '$.accountId') = ?").run(accountId);
    this.#changed();
    return grants.length;
  }

  #oauthRow(row: unknown): Record<string, unknown> | undefined {
    const r = row as { payload: string; expires_at: number | null; consumed_at: number | null } | undefined;
    if (!r) return undefined;
    if (r.expires_at !== null && r.expires_at <= Date.now()) return undefined;
    const payload = JSON.parse(r.payload) as Record<string, unknown>;
    return r.consumed_at === null ? payload : { ...payload, consumed: r.consumed_at };
  }

  /**
   * Whether the grant an access token was minted under still stands (not revoked, not expired) and is
   * the grant of this user to this client: a live grant id is no capability on its own (red-team F16: a
   * token minted with another user's claims and one's own grant id).
   */
  grantLive(grantId: string, accountId: string, clientId: string): boolean {
    this.#fresh();
    const grant = remembered(this.#grants, grantId, () => {
      const row = this.#grantLive.get(grantId) as { expires_at: number | null; account_id: unknown; client_id: unknown } | undefined;
      return row === undefined ? null : { accountId: row.account_id, clientId: row.client_id, expiresAt: row.expires_at };
    });
    if (grant === null || (grant.expiresAt !== null && grant.expiresAt <= Date.now())) return false;
    return grant.accountId === accountId && grant.clientId === clientId;
  }

  /** Records an access token's `jti` as revoked until `expiresAtMs` (after that the token is dead anyway). */
  revokeToken(jti: string, expiresAtMs: number): void {
    this.db.prepare('INSERT OR REPLACE INTO revoked_tokens (jti_hash, expires_at) VALUES (?, ?)').run(sha256(jti), expiresAtMs);
    this.db.prepare('DELETE FROM revoked_tokens WHERE expires_at < ?').run(Date.now() - 3_600_000);
    this.#changed();
  }

  tokenRevoked(jti: string): boolean {
    this.#fresh();
    return remembered(this.#revokedTokens, jti, () => this.#tokenRevoked.get(sha256(jti)) !== undefined);
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
    const known = remembered(this.#keys, match[1]!, () => {
      const row = this.#keyById.get(match[1]!) as (Record<string, string | null> & { hash: Uint8Array }) | undefined;
      const key = row ? toKey(row) : undefined;
      if (!row || !key) return null;
      Object.freeze(key.scopes);
      return { hash: Buffer.from(row.hash), key: Object.freeze(key), expiresMs: key.expiresAt ? new Date(key.expiresAt).getTime() : undefined };
    });
    if (!known || !sameHash(known.hash, sha256(presented))) return { problem: 'unknown API key' };
    const key = known.key;
    if (key.revokedAt) return { problem: 'the API key was revoked' };
    if (known.expiresMs !== undefined && known.expiresMs <= now.getTime()) return { problem: 'the API key expired' };
    this.#touched.set(key.id, now);
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
    for (const [id, at] of this.#touched) update.run(at.toISOString(), id);
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

function toClient(row: Record<string, string>): ClientRow {
  return { clientId: row.client_id!, name: row.name!, redirectUris: JSON.parse(row.redirect_uris!) as string[], createdAt: row.created_at! };
}

function toKey(row: Record<string, string | null | Uint8Array>): ApiKeyRow {
  const s = (k: string): string | null => (row[k] as string | null) ?? null;
  return { id: s('id')!, agent: s('agent')!, scopes: s('scopes') ? s('scopes')!.split(' ') : [], createdAt: s('created_at')!, expiresAt: s('expires_at'), lastUsedAt: s('last_used_at'), revokedAt: s('revoked_at') };
}
