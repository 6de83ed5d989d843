/**
 * `portcullis import`: a gateway configuration from what discover found, which `config check` accepts.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { discover } from '../../src/discover/discover.ts';
import { buildImport } from '../../src/discover/import.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { checkServerPin } from '../../src/supply/server-pin.ts';
import { runCli } from '../helpers/gateway.ts';
import { fixtureTrees } from '../helpers/discover-fixtures.ts';

/** The variables an import asks for, each set to a placeholder (what the admin does before serving). */
const variablesOf = (stdout: string): Record<string, string> => Object.fromEntries([...stdout.matchAll(/^ {2}([A-Z_][A-Z0-9_]*) {2}— /gm)].map((m) => [m[1]!, 'set-by-test']));

describe('portcullis import', () => {
  const trees = fixtureTrees();

  it('writes a 0600 config with secrets as env: references that config check accepts once the variables are set', async () => {
    const out = join(trees.root, 'portcullis.yaml');
    const result = await runCli(['import', '--home', trees.home, '--project', trees.project, '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const text = readFileSync(out, 'utf8');
    for (const value of Object.values(trees.secrets)) assert.ok(!text.includes(value) && !result.stdout.includes(value), 'no secret value is written or printed');
    const config = parse(text);
    assert.equal(config.servers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN, 'env:GITHUB_PERSONAL_ACCESS_TOKEN');
    assert.equal(config.servers.tickets.headers.Authorization, 'env:TICKETS_AUTHORIZATION', '"Bearer ${TICKETS_TOKEN}" becomes one variable holding the whole header');
    assert.equal(config.servers.search.headers.Authorization, 'env:SEARCH_AUTHORIZATION', "Codex's bearer_token_env_var");
    assert.equal(config.servers.jira.env.JIRA_TOKEN, 'env:JIRA_PAT', "VS Code's ${input:jira-pat}");
    assert.equal(config.servers.slack.env.SLACK_TEAM_ID, 'T01234567', 'plain values stay');
    assert.match(result.stdout, /GITHUB_PERSONAL_ACCESS_TOKEN {2}— the github-pat from claude-code ~\/\.claude\.json "github"/);
    const vars = variablesOf(result.stdout);
    assert.ok(Object.keys(vars).length >= 10);
    const missing = await runCli(['config', 'check', '-c', out]);
    assert.equal(missing.code, 2, 'unset variables are reported');
    const check = await runCli(['config', 'check', '-c', out], { ...vars, PORTCULLIS_DATA_DIR: join(trees.root, 'data') });
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /OK \(\d+ servers/);
    assert.match(check.stderr, /servers\.slack\.pin: missing/, 'what could not be pinned is flagged');
    assert.equal((await runCli(['import', '--home', trees.home, '-o', out])).code, 2, 'refuses to overwrite without --force');
  });

  it('pins packages to the version the npx cache holds, local files to their hash, and says what it could not pin', () => {
    const { report } = discover({ home: trees.home, projects: [trees.project] });
    const built = buildImport(report, { home: trees.home });
    const config = parse(built.yaml);
    assert.deepEqual(config.servers.github.args, ['-y', '@modelcontextprotocol/server-github@2025.4.8']);
    assert.equal(config.servers.github.pin.npm, '@modelcontextprotocol/server-github@2025.4.8');
    assert.match(config.servers.github.pin.integrity, /^sha512-/);
    assert.equal(config.servers.github.cwd, join(trees.home, '.npm', '_npx', '5f3c2a'));
    // The gateway's own pin check accepts what import wrote: the npx cache's copy, and the local file.
    const loaded = parseConfigText(built.yaml);
    assert.ok(loaded.ok);
    const kept = new Map<string, { files: Record<string, string> }>();
    const packages = { untrusted: () => undefined, recorded: (spec: string) => kept.get(spec), record: (spec: string, _integrity: string | undefined, files: Record<string, string>) => void kept.set(spec, { files }) };
    const context = { cwd: trees.root, pathEnv: process.env.PATH, packageRoots: [], allowUnpinned: false, packages };
    const github = checkServerPin('github', loaded.config.servers.github!, context);
    assert.ok(github.ok, JSON.stringify(github));
    assert.match(github.what, /^npm @modelcontextprotocol\/server-github@2025\.4\.8 with integrity \(\d+ files recorded, run as its bin .*server-github\/index\.js\)$/);
    // npx is not started: the package's bin in the npx cache folder runs, with this Node.
    assert.equal(github.launch?.command, process.execPath);
    assert.equal(checkServerPin('notes', loaded.config.servers.notes!, context).ok, true);
    assert.match(config.servers.notes.pin.sha256, /^[0-9a-f]{64}$/);
    assert.equal(config.servers.notes.pin.file, join(trees.home, 'bin', 'notes-mcp'));
    assert.equal(config.supply.allowUnpinned, false);
    assert.ok(built.notes.some((n) => n.server === 'time' && /UNPINNED/.test(n.note)), 'uvx without a venv is flagged');
    assert.ok(built.notes.some((n) => n.server === 'aws' && /UNPINNED: image/.test(n.note)));
    assert.ok(built.skipped.some((s) => s.name === 'legacy-search' && /plain http/.test(s.why)), 'plain http to a remote host is not imported');
    assert.equal(config.servers.db.disabled, true, 'a secret in the arguments cannot be moved: the server is imported disabled');
  });

  it('writes a starter policy that allows each server and confines filesystem servers to the folders they had', () => {
    const { report } = discover({ home: trees.home, projects: [trees.project] });
    const config = parse(buildImport(report, { home: trees.home }).yaml);
    const rules = config.policy.rules as Array<{ name: string; effect: string; servers: string[]; tools?: string[]; guards?: { paths: { roots: string[]; args: string[] } } }>;
    for (const name of Object.keys(config.servers)) assert.ok(rules.some((r) => r.servers.includes(name)), `a rule for ${name}`);
    const fs = rules.find((r) => r.name === 'allow-fs')!;
    assert.deepEqual(fs.guards!.paths.roots, [join(trees.project, 'src')], 'relative roots resolve against the project');
    assert.deepEqual(fs.guards!.paths.args, ['path', 'paths', 'source', 'destination']);
    assert.deepEqual(rules.find((r) => r.name === 'allow-files')!.guards!.paths.roots, [trees.home]);
    assert.deepEqual(rules.find((r) => r.name === 'deny-k8s-ro-client-disabled')!.tools, ['exec_pod'], "Gemini's excludeTools becomes a deny rule");
    assert.deepEqual(rules.find((r) => r.name === 'allow-search')!.tools, ['query', 'fetch_doc'], "Codex's enabled_tools limits the allow rule");
    assert.ok(rules.findIndex((r) => r.effect === 'deny') < rules.findIndex((r) => r.effect === 'allow'));
  });

  it('builds the same configuration from a saved discover --json report', async () => {
    const saved = join(trees.root, 'discovery.json');
    const json = await runCli(['discover', '--home', trees.home, '--project', trees.project, '--json']);
    writeFileSync(saved, json.stdout);
    const out = join(trees.root, 'from-report.yaml');
    const result = await runCli(['import', '--from-discovery', saved, '--home', trees.home, '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    const direct = buildImport(discover({ home: trees.home, projects: [trees.project] }).report, { home: trees.home });
    assert.deepEqual(parse(readFileSync(out, 'utf8')), parse(direct.yaml));
    writeFileSync(saved, '{"clients": "nope"}');
    assert.equal((await runCli(['import', '--from-discovery', saved, '-o', join(trees.root, 'x.yaml')])).code, 2, 'a file that is not a report is refused');
  });
});
