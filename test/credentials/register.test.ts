/**
 * `portcullis credentials`: the credential register of a gateway — agents, API keys and upstream
 * secrets with their age and rotation status, who can call what, and when definitions were reviewed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { identityDbPath } from '../../src/auth/identity.ts';
import { IdentityStore } from '../../src/auth/store.ts';
import { openPins } from '../../src/supply/open-pins.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { runCli } from '../helpers/gateway.ts';

const DAY_MS = 86_400_000;
const daysAgo = (n: number): string => new Date(Date.now() - n * DAY_MS).toISOString();
const date = (offsetDays: number): string => new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);

interface Register {
  maxCredentialAgeDays: number | null;
  credentials: Array<{ kind: string; id: string; agent: string | null; server: string | null; reference: string | null; owner: string | null; status: string; ageDays: number | null; why: string }>;
  access: Array<{ agent: string; via: string; tools: string[]; hidden: number }>;
  catalog: boolean;
  servers: Array<{ server: string; uses: Array<{ where: string; reference: string }>; definitions: { pinned: number; pending: number; lastReviewedAt: string | null; reviewedBy: string | null } }>;
}

describe('portcullis credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-register-'));
  const dataDir = join(dir, 'data');
  const config = join(dir, 'portcullis.yaml');
  writeFileSync(
    config,
    `dataDir: ${dataDir}
identity:
  maxCredentialAgeDays: 30
  embedded: {}
  apiKeys: {}
supply: { allowUnpinned: true }
servers:
  files:
    command: node
    args: [server.js]
    env: { GH_TOKEN: "env:GH_TOKEN", LOG_LEVEL: debug }
    credentials:
      GH_TOKEN: { owner: platform-team, rotatedAt: "${date(-100)}", scopes: [repo] }
      OLD_TOKEN: { owner: nobody }
  tickets:
    url: https://mcp.tickets.example/mcp
    headers: { Authorization: "env:TICKETS_TOKEN" }
    credentials:
      Authorization: { owner: helpdesk, rotatedAt: "${date(-3)}", expiresAt: "${date(5)}" }
policy:
  rules:
    - { name: files-all, effect: allow, servers: [files] }
  tools:
    - { server: files, tool: "write_*", scopes: [files:write] }
`,
  );
  // Agents and keys, one of them older than the limit, as the identity store would hold them.
  const store = new IdentityStore(identityDbPath(dataDir));
  store.addAgent('ci-bot', ['files:read']);
  store.addAgent('old-bot', ['files:read', 'files:write']);
  store.createKey('script', ['files:read'], new Date(Date.now() + 3 * DAY_MS));
  store.createKey('forever', [], undefined);
  store.close();
  const db = new DatabaseSync(identityDbPath(dataDir));
  db.prepare("UPDATE agents SET created_at = ? WHERE name = 'old-bot'").run(daysAgo(45));
  db.close();
  const pins = openPins({ dataDir, supply: { allowUnpinned: true } } as never, processSecretSource({}), { create: true });
  for (const tool of ['read_file', 'write_file']) pins.pin('files', `tools:${tool}`, { name: tool, description: tool, inputSchema: { type: 'object' } }, 'alice');
  pins.markSeen('files', 'tools');
  pins.hold('files', 'tools:delete_file', { name: 'delete_file', description: 'new', inputSchema: { type: 'object' } }, 'new definition');
  pins.save();
  const env = { GH_TOKEN: 'x', TICKETS_TOKEN: 'y' };

  it('lists every credential with its age and rotation status against identity.maxCredentialAgeDays', async () => {
    const r = await runCli(['credentials', '-c', config, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const register = JSON.parse(r.stdout) as Register;
    assert.equal(register.maxCredentialAgeDays, 30);
    const by = Object.fromEntries(register.credentials.map((c) => [c.id, c]));
    assert.equal(by['ci-bot']!.status, 'ok');
    assert.equal(by['old-bot']!.status, 'rotate', 'an agent secret older than 30 days');
    assert.equal(by['old-bot']!.ageDays, 45);
    const keys = register.credentials.filter((c) => c.kind === 'api-key');
    assert.deepEqual(keys.map((k) => [k.agent, k.status]).sort(), [['forever', 'ok'], ['script', 'expiring']]);
    assert.match(keys.find((k) => k.agent === 'forever')!.why, /never expires/);
    const gh = by['files.env.GH_TOKEN']!;
    assert.deepEqual([gh.kind, gh.server, gh.reference, gh.owner, gh.status, gh.ageDays], ['upstream', 'files', 'env:GH_TOKEN', 'platform-team', 'rotate', 100]);
    assert.equal(by['tickets.headers.Authorization']!.status, 'expiring');
    assert.equal(by['files.OLD_TOKEN']!.status, 'unknown-age');
    assert.match(by['files.OLD_TOKEN']!.why, /no env variable/);
    assert.ok(!('files.env.LOG_LEVEL' in by), 'plain settings are not credentials');
  });

  it('answers which agent can call which tool (policy explain), which credential each server uses, and when it was reviewed', async () => {
    const r = await runCli(['credentials', '-c', config, '--json'], env);
    const register = JSON.parse(r.stdout) as Register;
    assert.equal(register.catalog, true);
    const access = Object.fromEntries(register.access.map((a) => [`${a.agent} ${a.via.startsWith('API') ? 'key' : 'agent'}`, a]));
    assert.deepEqual(access['ci-bot agent']!.tools, ['files.read_file'], 'write_* needs files:write');
    assert.equal(access['ci-bot agent']!.hidden, 1);
    assert.deepEqual(access['old-bot agent']!.tools, ['files.read_file', 'files.write_file']);
    assert.deepEqual(access['forever key']!.tools, ['files.read_file']);
    const files = register.servers.find((s) => s.server === 'files')!;
    assert.deepEqual(files.uses, [{ where: 'env.GH_TOKEN', reference: 'env:GH_TOKEN' }]);
    assert.equal(files.definitions.pinned, 2);
    assert.equal(files.definitions.pending, 1);
    assert.equal(files.definitions.reviewedBy, 'alice');
    assert.equal(files.definitions.lastReviewedAt!.slice(0, 10), new Date().toISOString().slice(0, 10));
    assert.equal(register.servers.find((s) => s.server === 'tickets')!.definitions.pinned, 0);
    const text = await runCli(['credentials', '-c', config], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /ROTATE +agent +old-bot +scopes files:read files:write/);
    assert.match(text.stdout, /ci-bot \(client credentials; scopes files:read\): files\.read_file {2}\(1 other tool hidden\)/);
    assert.match(text.stdout, /files: env\.GH_TOKEN ← env:GH_TOKEN; 2 definitions pinned, last reviewed \d{4}-\d{2}-\d{2} by alice, 1 WAITING for review/);
    assert.match(text.stdout, /credentials to rotate or replace: .*old-bot.*files\.env\.GH_TOKEN/);
  });

  it('refuses credential metadata that is not a date, with its path', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'servers:\n  a: { url: "https://a.example/mcp", credentials: { Authorization: { rotatedAt: "last tuesday" } } }\nidentity: { maxCredentialAgeDays: 0 }\n');
    const r = await runCli(['config', 'check', '-c', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /servers\.a\.credentials\.Authorization\.rotatedAt: must be a date/);
    assert.match(r.stderr, /identity\.maxCredentialAgeDays/);
  });
});
