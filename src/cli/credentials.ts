/**
 * `portcullis credentials`: the credential register — which credentials exist and how old they are,
 * who can call what (the policy's answer, as `policy explain` gives it), which upstream credential each
 * server uses, and when each server's definitions were last reviewed.
 */
import { existsSync } from 'node:fs';
import { identityDbPath, identityEnabled } from '../auth/identity.ts';
import { localPrincipal, type Principal } from '../auth/principal.ts';
import { IdentityStore, type AgentRow, type ApiKeyRow } from '../auth/store.ts';
import { defaultDataDir } from '../config/defaults.ts';
import { buildRegister } from '../credentials/register.ts';
import { openPins } from '../supply/open-pins.ts';
import { explainTools, prepare } from './policy.ts';
import type { Io } from './serve.ts';

export interface CredentialsCliOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

export async function credentialsCommand(options: CredentialsCliOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  const prepared = await prepare({ ...(options.config ? { config: options.config } : {}), ...(options.dataDir ? { dataDir: options.dataDir } : {}) }, io);
  if (typeof prepared === 'number') return prepared;
  const { config } = prepared;
  const dataDir = config.dataDir ?? options.dataDir ?? defaultDataDir(io.secrets.env);
  let agents: AgentRow[] = [];
  let keys: ApiKeyRow[] = [];
  const db = identityDbPath(dataDir);
  if (existsSync(db)) {
    const store = new IdentityStore(db);
    try {
      agents = store.agents();
      keys = store.keys();
    } finally {
      store.close();
    }
  }
  const now = new Date();
  const pins = openPins(config, io.secrets, { create: false });
  const integrity = pins.integrity();
  const register = buildRegister({ config, agents, keys, pins, now });

  // Who can call what: each active agent with the scopes its credential holds; without identity, every caller is local.
  const callers: Array<{ agent: string; via: string; principal: Principal }> = [];
  if (identityEnabled(config)) {
    for (const a of agents.filter((x) => x.revokedAt === null)) callers.push({ agent: a.name, via: 'client credentials', principal: { kind: 'token', subject: a.name, agent: a.name, scopes: a.scopes, allScopes: false, roles: [] } });
    for (const k of keys.filter((x) => x.revokedAt === null && (x.expiresAt === null || new Date(x.expiresAt) > now))) callers.push({ agent: k.agent, via: `API key ${k.id}`, principal: { kind: 'key', subject: k.agent, agent: k.agent, scopes: k.scopes, allScopes: false, roles: [] } });
  } else {
    callers.push({ agent: '(any local caller)', via: 'no identity configured', principal: localPrincipal('local', 'local') });
  }
  const access = callers.map((c) => {
    const rows = explainTools(prepared, c.principal);
    return { agent: c.agent, via: c.via, scopes: c.principal.allScopes ? ('*' as const) : [...c.principal.scopes], tools: rows.filter((r) => r.visible).map((r) => `${r.server}.${r.tool}`), hidden: rows.filter((r) => !r.visible).length };
  });
  const catalogKnown = prepared.catalog.size > 0;

  if (options.json) {
    io.out(`${JSON.stringify({ maxCredentialAgeDays: register.maxCredentialAgeDays, credentials: register.credentials, access, catalog: catalogKnown, pinsIntegrity: integrity, servers: register.servers })}\n`);
    return 0;
  }
  const lines: string[] = [];
  lines.push(`Credentials${register.maxCredentialAgeDays !== null ? ` (rotate after ${register.maxCredentialAgeDays} days: identity.maxCredentialAgeDays)` : ' (no identity.maxCredentialAgeDays: ages are shown, not judged)'}:`);
  if (register.credentials.length === 0) lines.push('  none');
  for (const c of register.credentials) {
    const flag = (c.status === 'ok' || c.status === 'revoked' ? c.status : c.status === 'unknown-age' ? 'age ?' : c.status.toUpperCase()).padEnd(8);
    const facts = [c.reference ? `← ${c.reference}` : '', c.agent && c.kind !== 'agent' ? `agent ${c.agent}` : '', c.owner ? `owner ${c.owner}` : '', c.note ? `note: ${c.note}` : '', c.scopes.length ? `scopes ${c.scopes.join(' ')}` : '', c.createdAt ? `created ${c.createdAt.slice(0, 10)}` : '', c.expiresAt ? `expires ${c.expiresAt.slice(0, 10)}` : '', c.kind === 'api-key' ? `last used ${c.lastUsedAt?.slice(0, 10) ?? 'never'}` : ''].filter(Boolean);
    lines.push(`  ${flag}  ${c.kind.padEnd(8)} ${c.id}  ${facts.join(', ')}${facts.length ? ' — ' : ''}${c.why}`);
  }
  lines.push('', 'Who can call what (the policy, as `portcullis policy explain` decides it):');
  if (!catalogKnown) lines.push('  no tool catalog yet: run the gateway once so it pins the servers\' tools');
  else for (const a of access) lines.push(`  ${a.agent} (${a.via}; scopes ${a.scopes === '*' ? 'all' : a.scopes.join(' ') || 'none'}): ${a.tools.length ? a.tools.join(', ') : 'nothing'}${a.hidden ? `  (${a.hidden} other tool${a.hidden === 1 ? '' : 's'} hidden)` : ''}`);
  lines.push('', 'Servers: the upstream credential each uses, and when its definitions were last reviewed:');
  if (!integrity.ok) lines.push(`  WARNING: the pins file fails its integrity check (${integrity.problem}); review dates below are not to be trusted`);
  for (const s of register.servers) {
    const uses = s.uses.length ? s.uses.map((u) => `${u.where} ← ${u.reference}`).join(', ') : 'no credential';
    const d = s.definitions;
    const review = d.pinned === 0 ? 'definitions never pinned (the gateway has not listed it yet)' : `${d.pinned} definitions pinned, last reviewed ${d.lastReviewedAt?.slice(0, 10)} by ${d.reviewedBy}${d.pending ? `, ${d.pending} WAITING for review (portcullis pin diff ${s.server})` : ''}`;
    lines.push(`  ${s.server}: ${uses}; ${review}`);
  }
  const due = register.credentials.filter((c) => c.status === 'rotate' || c.status === 'expired' || c.status === 'expiring');
  if (due.length > 0) lines.push('', `${due.length} credential${due.length === 1 ? '' : 's'} to rotate or replace: ${due.map((c) => c.id).join(', ')}`);
  io.out(`${lines.join('\n')}\n`);
  return 0;
}
