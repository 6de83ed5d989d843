/**
 * `portcullis discover` on fixture home and project trees holding every client format.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { discover, type FileReport, type ServerReport } from '../../src/discover/discover.ts';
import { fingerprint } from '../../src/discover/secret-kinds.ts';
import { runCli } from '../helpers/gateway.ts';
import { age, fixtureTrees } from '../helpers/discover-fixtures.ts';

const server = (files: readonly FileReport[], client: string, name: string, scope?: string): ServerReport => {
  const found = files.filter((f) => f.client === client).flatMap((f) => f.servers).find((s) => s.name === name && (scope === undefined || s.scope === scope));
  assert.ok(found, `${client} ${name} not found`);
  return found;
};
const ids = (s: ServerReport): string[] => s.findings.map((f) => f.id);
/** This installation's launcher: only it, with the gateway's configuration, counts as the stdio front. */
const OWN_LAUNCHER = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));

describe('portcullis discover', () => {
  const trees = fixtureTrees();
  age(join(trees.home, '.cursor', 'mcp.json'), 120);
  const { report } = discover({ home: trees.home, projects: [trees.project], system: trees.system });
  const files = report.clients;

  it('finds the servers of every client format, user, project, local and managed', () => {
    const clients = new Set(files.map((f) => f.client));
    for (const c of ['claude-code', 'claude-desktop', 'cursor', 'vscode', 'copilot', 'windsurf', 'codex', 'gemini', 'cline', 'roo', 'goose', 'zed', 'continue', 'amazonq', 'junie']) assert.ok(clients.has(c as never), `no ${c} file found`);
    assert.equal(server(files, 'claude-code', 'files').scope, 'local');
    assert.equal(server(files, 'claude-code', 'files').project, trees.project);
    assert.equal(server(files, 'claude-code', 'github', 'project').command, 'npx');
    assert.equal(server(files, 'vscode', 'time').command, 'uvx', 'legacy settings.json mcp.servers (JSON with comments)');
    assert.equal(server(files, 'vscode', 'jira').args[0], 'acme-jira-mcp==0.9.4');
    assert.equal(server(files, 'windsurf', 'billing').url, 'https://mcp.billing.acme.example/mcp');
    assert.equal(server(files, 'gemini', 'analytics').transport, 'http', 'Gemini httpUrl is streamable HTTP');
    assert.equal(server(files, 'gemini', 'weather').transport, 'sse', 'Gemini url is SSE');
    assert.equal(server(files, 'goose', 'jira').command, 'uvx', 'Goose cmd');
    assert.equal(server(files, 'goose', 'wiki').disabled, true);
    assert.ok(!files.some((f) => f.client === 'goose' && f.servers.some((s) => s.name === 'developer')), 'builtin extensions are not servers');
    assert.equal(server(files, 'zed', 'lint').command, 'lint-mcp');
    assert.equal(server(files, 'continue', 'Docs').transport, 'http');
    assert.equal(server(files, 'continue', 'browser').scope, 'project');
    assert.equal(server(files, 'claude-desktop', 'notes-extension').scope, 'extension');
    assert.equal(server(files, 'codex', 'search').url, 'https://mcp.search.acme.example/mcp');
    const managed = files.find((f) => f.client === 'claude-code' && f.scope === 'managed')!;
    assert.deepEqual(managed.findings.map((f) => f.id).sort(), ['allowlist-not-exclusive', 'managed-policy', 'weak-allowlist']);
    assert.ok(files.find((f) => f.client === 'codex' && f.scope === 'managed')!.findings.some((f) => f.id === 'weak-allowlist'));
  });

  it('classifies supply: unpinned runners, exact versions, image tags, local files with their sha256', () => {
    const github = server(files, 'claude-code', 'github', 'user');
    assert.equal(github.pinned, false);
    assert.equal(github.supply.kind, 'npm');
    assert.equal(github.supply.autoInstall, true);
    assert.ok(ids(github).includes('unpinned-package'));
    const latest = server(files, 'cursor', 'slack', 'user');
    assert.equal(latest.pinned, false, '@latest is not a version');
    assert.equal(server(files, 'claude-code', 'github', 'project').pinned, true);
    assert.equal(server(files, 'vscode', 'jira').pinned, true, 'uvx pkg==1.2.3');
    assert.equal(server(files, 'vscode', 'time').pinned, false, 'uvx pkg');
    const aws = server(files, 'windsurf', 'aws');
    assert.equal(aws.supply.kind, 'oci');
    assert.equal(aws.pinned, false);
    assert.ok(ids(aws).includes('image-by-tag'));
    assert.ok(ids(aws).includes('container-host-access'), 'Docker socket mount');
    const notes = server(files, 'claude-desktop', 'notes');
    assert.equal(notes.supply.kind, 'local');
    assert.match(notes.supply.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok(ids(server(files, 'claude-desktop', 'everything')).includes('shell-wrapper'));
    assert.equal(server(files, 'codex', 'search').pinned, true, 'a remote server is pinned by its URL');
  });

  it('classifies credentials: literal secrets by kind with a fingerprint and an age, references as references', () => {
    const github = server(files, 'claude-code', 'github', 'user');
    assert.deepEqual(github.credentials, [{ where: 'env.GITHUB_PERSONAL_ACCESS_TOKEN', kind: 'github-pat', literal: true, fingerprint: fingerprint(trees.secrets.github!), ageDays: 0, ageFrom: 'file' }]);
    assert.equal(github.env.GITHUB_PERSONAL_ACCESS_TOKEN, `[redacted github-pat ${fingerprint(trees.secrets.github!)}]`);
    const slack = server(files, 'cursor', 'slack', 'user').credentials[0]!;
    assert.equal(slack.kind, 'slack-token');
    assert.ok(slack.ageDays! >= 119 && slack.ageDays! <= 121, `age from the file's mtime (${slack.ageDays})`);
    const analytics = server(files, 'gemini', 'analytics').credentials[0]!;
    assert.equal(analytics.kind, 'jwt');
    assert.equal(analytics.ageFrom, 'token');
    assert.ok(analytics.ageDays! >= 399 && analytics.ageDays! <= 401, 'age from the JWT iat');
    assert.equal(server(files, 'windsurf', 'aws').credentials[0]!.kind, 'aws-access-key-id');
    assert.equal(server(files, 'vscode', 'stripe').credentials[0]!.kind, 'stripe-key');
    const dsn = server(files, 'roo', 'db');
    assert.equal(dsn.credentials[0]!.kind, 'url-credentials');
    assert.ok(!dsn.args.join(' ').includes(trees.secrets.url!.split(':')[2]!.split('@')[0]!), 'the DSN password is masked in args');
    assert.deepEqual(server(files, 'claude-code', 'tickets').credentials, [{ where: 'headers.Authorization', kind: 'reference', literal: false, fingerprint: null, ageDays: null, ageFrom: null, reference: 'env:TICKETS_TOKEN' }]);
    assert.equal(server(files, 'vscode', 'jira').credentials[0]!.reference, 'input:jira-pat');
    assert.equal(server(files, 'codex', 'search').credentials[0]!.reference, 'env:ACME_SEARCH_TOKEN');
    assert.equal(server(files, 'goose', 'jira').credentials[0]!.reference, 'keyring:JIRA_TOKEN');
    assert.equal(server(files, 'continue', 'sqlite').credentials[0]!.reference, 'secrets:DB_PATH');
    assert.deepEqual(server(files, 'claude-code', 'pg-ro').credentials, [], 'PGURL=${PGURL} is not named like a credential');
  });

  it('raises findings with severities: committed secrets are critical, plain http high, shadowed names', () => {
    const project = server(files, 'claude-code', 'github', 'project');
    assert.equal(project.findings.find((f) => f.id === 'literal-secret')!.severity, 'critical', 'a literal secret in .mcp.json is shared with every clone');
    assert.equal(server(files, 'claude-code', 'github', 'user').findings.find((f) => f.id === 'literal-secret')!.severity, 'high');
    assert.equal(server(files, 'cursor', 'legacy-search').findings.find((f) => f.id === 'plain-http')!.severity, 'high');
    assert.ok(ids(project).includes('shadowed-name'));
    assert.ok(ids(server(files, 'claude-code', 'github', 'user')).includes('shadowed-name'));
    assert.ok(ids(server(files, 'claude-code', 'files')).includes('unrestricted-filesystem'), 'a filesystem server given the whole home folder');
    assert.ok(ids(server(files, 'gemini', 'k8s-ro')).includes('approval-bypass'), 'trust: true');
    assert.ok(ids(server(files, 'cline', 'git')).includes('approval-bypass'), 'autoApprove');
    assert.ok(ids(server(files, 'gemini', 'weather')).includes('deprecated-sse'));
    assert.ok(files.flatMap((f) => f.servers).every((s) => s.throughGateway || ids(s).includes('not-behind-gateway') || s.disabled));
    assert.ok(report.summary.findings.critical >= 3);
    assert.equal(report.summary.highest, 'critical');
  });

  it('flags a config file others can read when it holds a literal secret', () => {
    const path = join(trees.home, '.cursor', 'mcp.json');
    chmodSync(path, 0o644);
    const again = discover({ home: trees.home });
    const cursor = again.report.clients.find((f) => f.path === path)!;
    assert.equal(cursor.findings.find((f) => f.id === 'readable-by-others')?.severity, 'high');
    chmodSync(path, 0o600);
    assert.ok(!discover({ home: trees.home }).report.clients.find((f) => f.path === path)!.findings.some((f) => f.id === 'readable-by-others'));
  });

  it('knows entries that already go through Portcullis (the HTTP endpoint or the stdio front)', () => {
    const home = mkdtempSync(join(tmpdir(), 'pc-discover-through-'));
    const gatewayConfig = join(mkdtempSync(join(tmpdir(), 'pc-discover-gateway-')), 'p.yaml');
    writeFileSync(gatewayConfig, 'servers: {}\n');
    mkdirSync(join(home, '.cursor'));
    writeFileSync(
      join(home, '.cursor', 'mcp.json'),
      JSON.stringify({
        mcpServers: {
          a: { url: 'http://127.0.0.1:8787/mcp/files' },
          b: { command: '/usr/bin/node', args: [OWN_LAUNCHER, 'stdio', '-c', gatewayConfig, '--server', 'x'] },
          c: { url: 'https://gw.corp.example/mcp' },
          d: { url: 'https://other.example/mcp' },
          // Named like the stdio front, but another copy of the script: an ordinary server.
          e: { command: '/usr/bin/node', args: ['/opt/portcullis/bin/portcullis.js', 'stdio'] },
        },
      }),
    );
    const { report: r } = discover({ home, gatewayUrls: ['https://gw.corp.example'] });
    const through = Object.fromEntries(r.clients[0]!.servers.map((s) => [s.name, s.throughGateway]));
    assert.deepEqual(through, { a: true, b: true, c: true, d: false, e: false });
    assert.ok(!ids(r.clients[0]!.servers[0]!).includes('not-behind-gateway'));
    assert.ok(ids(server(r.clients, 'cursor', 'e', 'user')).includes('gateway-lookalike'));
    assert.equal(r.summary.throughGateway, 3);
  });

  it('reports Claude Code servers that a managed-mcp.json keeps from loading', () => {
    const t = fixtureTrees(['home', 'system-exclusive']);
    const { report: r } = discover({ home: t.home, system: join(t.root, 'system-exclusive') });
    assert.ok(server(r.clients, 'claude-code', 'github', 'user').findings.some((f) => f.id === 'not-loaded'));
    assert.ok(!server(r.clients, 'claude-code', 'approved', 'managed').findings.some((f) => f.id === 'not-loaded'));
  });

  it('turns malformed and unreadable files into findings and carries on', async () => {
    const t = fixtureTrees(['malformed-home']);
    const unreadable = join(t.home, '.gemini');
    mkdirSync(unreadable);
    mkdirSync(join(unreadable, 'settings.json'));
    const result = await runCli(['discover', '--home', t.home, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const r = JSON.parse(result.stdout) as { clients: FileReport[] };
    const byClient = Object.fromEntries(r.clients.map((f) => [f.client, f.findings.map((x) => x.id)]));
    assert.deepEqual(byClient.cursor, ['config-malformed']);
    assert.deepEqual(byClient.codex, ['config-malformed']);
    assert.deepEqual(byClient.goose, ['config-malformed']);
    assert.deepEqual(byClient.zed, ['config-malformed']);
    assert.deepEqual(byClient.gemini, ['config-not-a-file']);
    assert.equal(r.clients.find((f) => f.client === 'windsurf')!.servers.length, 1, 'the good file beside them is still read');
  });

  it('--json has the documented shape; --sarif is SARIF 2.1.0; --fail-on high exits 1', async () => {
    const json = await runCli(['discover', '--home', trees.home, '--project', trees.project, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout);
    assert.ok(Array.isArray(r.clients) && typeof r.summary === 'object');
    for (const file of r.clients) {
      for (const key of ['client', 'path', 'scope', 'servers']) assert.ok(key in file, `clients[].${key}`);
      for (const s of file.servers) {
        for (const key of ['name', 'transport', 'command', 'args', 'url', 'pinned', 'credentials', 'throughGateway', 'findings']) assert.ok(key in s, `servers[].${key}`);
        for (const c of s.credentials) for (const key of ['where', 'kind', 'literal', 'fingerprint', 'ageDays']) assert.ok(key in c, `credentials[].${key}`);
      }
    }
    const sarif = await runCli(['discover', '--home', trees.home, '--sarif']);
    const doc = JSON.parse(sarif.stdout);
    assert.equal(doc.version, '2.1.0');
    assert.ok(doc.runs[0].results.some((x: { ruleId: string; level: string }) => x.ruleId === 'literal-secret' && x.level === 'error'));
    const fail = await runCli(['discover', '--home', trees.home, '--fail-on', 'high']);
    assert.equal(fail.code, 1);
    assert.match(fail.stdout, /findings: \d+ critical, \d+ high/);
    const clean = mkdtempSync(join(tmpdir(), 'pc-discover-clean-'));
    assert.equal((await runCli(['discover', '--home', clean, '--fail-on', 'high'])).code, 0, 'nothing found, nothing to fail on');
    assert.equal((await runCli(['discover', '--home', clean, '--fail-on', 'severe'])).code, 2);
    assert.equal((await runCli(['discover', '--home', join(clean, 'missing')])).code, 2);
  });

  it('searches large trees for project folders, with a progress line on stderr', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pc-discover-tree-'));
    for (let i = 0; i < 60; i++) for (let j = 0; j < 90; j++) mkdirSync(join(root, `team-${i}`, `repo-${j}`), { recursive: true });
    mkdirSync(join(root, 'team-7', 'repo-3', '.cursor'));
    writeFileSync(join(root, 'team-7', 'repo-3', '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { deep: { command: 'deep-mcp' } } }));
    mkdirSync(join(root, 'team-8', 'node_modules', 'x', '.cursor'), { recursive: true });
    writeFileSync(join(root, 'team-8', 'node_modules', 'x', '.cursor', 'mcp.json'), JSON.stringify({ mcpServers: { vendored: { command: 'x' } } }));
    const empty = mkdtempSync(join(tmpdir(), 'pc-discover-home-'));
    const result = await runCli(['discover', '--home', empty, '--scan', root, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /discover: \d+ folders searched, \d+ client files read/);
    const names = (JSON.parse(result.stdout) as { clients: FileReport[] }).clients.flatMap((f) => f.servers.map((s) => s.name));
    assert.deepEqual(names, ['deep'], 'node_modules is not searched');
  });
});
