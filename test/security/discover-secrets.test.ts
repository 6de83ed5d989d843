/**
 * Attacks on discover / import / install: secrets in every place a client config can hold one must never
 * come out in any output; hostile files (symlinks out of the home folder, FIFOs, devices, huge or deeply
 * nested files, malformed files quoting a secret) must not hang, crash or leak; install must not write
 * through a symlink or a planted file, nor trust a tampered install record.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { discover } from '../../src/discover/discover.ts';
import { applyPlan, planInstall, recordPath } from '../../src/discover/install.ts';
import { MAX_CONFIG_BYTES } from '../../src/discover/read.ts';
import { runCli } from '../helpers/gateway.ts';
import { fakeJwt } from '../helpers/discover-fixtures.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const fresh = (prefix: string): string => realpathSync(mkdtempSync(join(tmpdir(), prefix)));

/** Every value, and every 10-character run of its body, that must never appear in output. */
function leaks(output: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (output.includes(value)) found.push(`${name} (whole value)`);
    // A URL's secret is its password; its host is not.
    const body = value.replace(/^(Bearer |-----BEGIN [A-Z ]+-----\n|[a-z]+:\/\/[a-z]+:)/, '').replace(/@.*$/s, '');
    for (let i = 0; i + 10 <= body.length; i += 5) if (output.includes(body.slice(i, i + 10))) found.push(`${name} (substring at ${i})`);
  }
  return [...new Set(found)];
}

/** A home folder with a secret in every place a client config can hold one. */
function secretEverywhere(): { home: string; secrets: Record<string, string> } {
  const home = fresh('pc-sec-discover-');
  const f = fakeSecrets();
  const s = { github: f.github!, aws: f.aws!, slack: f.slack!, stripe: f.stripe!, bearer: f.bearer!, pem: f.pem!, url: f.url!, jwt: fakeJwt(30), unknown: 'Zq8xW2vR7tK4pL9mN3bC6yH1jF5dS0gA' };
  const put = (path: string, text: string): void => {
    mkdirSync(join(home, path, '..'), { recursive: true });
    writeFileSync(join(home, path), text, { mode: 0o644 });
  };
  put(
    '.cursor/mcp.json',
    JSON.stringify({
      mcpServers: {
        env: { command: 'npx', args: ['-y', 'x-mcp'], env: { GITHUB_TOKEN: s.github, AWS: s.aws, DB: s.url, KEY: s.pem, RANDOM: s.unknown } },
        args: { command: 'npx', args: ['-y', 'y-mcp', `--token=${s.slack}`, '--api-key', s.stripe, s.jwt, s.url] },
        remote: { url: `https://user:${s.stripe.slice(8)}@mcp.example/mcp?api_key=${s.github}&mode=1`, headers: { Authorization: s.bearer, 'X-Api-Key': s.aws } },
        oauth: { url: 'https://mcp.example/o', auth: { CLIENT_ID: 'id', CLIENT_SECRET: s.unknown } },
      },
    }),
  );
  put('.codex/config.toml', `[mcp_servers.a]\ncommand = "npx"\nargs = ["-y", "z-mcp", "--token", "${s.slack}"]\n[mcp_servers.a.env]\nTOKEN = "${s.github}"\n[mcp_servers.b]\nurl = "https://x.example/mcp"\nhttp_headers = { Authorization = "${s.bearer}" }\n`);
  put('.config/goose/config.yaml', `extensions:\n  g:\n    type: stdio\n    cmd: uvx\n    args: [g-mcp]\n    envs: { TOKEN: "${s.stripe}" }\n`);
  put('.gemini/settings.json', JSON.stringify({ mcpServers: { o: { httpUrl: 'https://o.example/mcp', oauth: { enabled: true, clientId: 'c', clientSecret: s.stripe } } } }));
  put('.config/zed/settings.json', `// zed\n{ "context_servers": { "z": { "command": "z", "env": { "API_KEY": "${s.aws}" } } } }`);
  // Malformed files that quote secrets right where the parser stops.
  put('.codeium/windsurf/mcp_config.json', `{ "mcpServers": { "w": { "env": { "T": "${s.github}" ${s.slack} } } }`);
  put('.continue/config.yaml', `mcpServers:\n  - name: c\n    env: { T: "${s.aws}" }\n   bad: ${s.stripe}: [\n`);
  put('.gemini/extensions/e/gemini-extension.json', `{"mcpServers": {"e": {"env": {"K": "${s.github}`);
  return { home, secrets: s };
}

describe('discover, import and install never print a secret', () => {
  const { home, secrets } = secretEverywhere();

  it('in the text, JSON and SARIF reports, and on stderr', async () => {
    for (const format of [[], ['--json'], ['--sarif']]) {
      const r = await runCli(['discover', '--home', home, ...format]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(leaks(r.stdout + r.stderr, secrets), [], `discover ${format.join(' ')}`);
    }
    const report = discover({ home }).report;
    const kinds = report.clients.flatMap((f) => f.servers.flatMap((s) => s.credentials.filter((c) => c.literal).map((c) => `${s.name}:${c.where}:${c.kind}`)));
    for (const expected of ['env:env.GITHUB_TOKEN:github-pat', 'env:env.AWS:aws-access-key-id', 'env:env.KEY:private-key', 'env:env.RANDOM:unknown', 'args:args[2]:slack-token', 'args:args[4]:stripe-key', 'args:args[5]:jwt', 'remote:url.userinfo:url-credentials', 'remote:url.query.api_key:github-pat', 'remote:headers.Authorization:bearer-token', 'oauth:auth.CLIENT_SECRET:oauth-client-secret', 'a:args[3]:slack-token', 'g:env.TOKEN:stripe-key', 'o:oauth.clientSecret:stripe-key', 'z:env.API_KEY:aws-access-key-id']) {
      assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(', ')}`);
    }
    const malformed = report.clients.filter((f) => f.findings.some((x) => x.id === 'config-malformed')).map((f) => f.client).sort();
    assert.deepEqual(malformed, ['continue', 'gemini', 'windsurf']);
  });

  it('in the configuration import writes and what it prints', async () => {
    const out = join(home, 'imported.yaml');
    const r = await runCli(['import', '--home', home, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leaks(r.stdout + r.stderr + readFileSync(out, 'utf8'), secrets), []);
  });

  it('in an install dry-run diff, an install, its undo, and the credential register', async () => {
    for (const client of ['cursor', 'codex', 'gemini', 'zed']) {
      const dry = await runCli(['install', '--client', client, '--home', home, '--gateway', 'http://127.0.0.1:8787', '--dry-run']);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^\+/m, `${client}: a diff is shown`);
      assert.deepEqual(leaks(dry.stdout + dry.stderr, secrets), [], `install --dry-run --client ${client}`);
    }
    const done = await runCli(['install', '--client', 'cursor', '--home', home, '--gateway', 'http://127.0.0.1:8787']);
    const undo = await runCli(['install', '--undo', '--client', 'cursor', '--home', home]);
    assert.deepEqual(leaks(done.stdout + done.stderr + undo.stdout + undo.stderr, secrets), []);
    const config = join(home, 'register.yaml');
    writeFileSync(config, `dataDir: ${join(home, 'data')}\nidentity: { maxCredentialAgeDays: 30 }\nservers:\n  a: { url: "https://a.example/mcp", headers: { Authorization: "env:A_TOKEN" }, credentials: { Authorization: { owner: ops, rotatedAt: 2026-01-01 } } }\n`);
    const register = await runCli(['credentials', '-c', config, '--json'], { A_TOKEN: secrets.github! });
    assert.equal(register.code, 0, register.stderr);
    assert.deepEqual(leaks(register.stdout + register.stderr, secrets), [], 'the register names references, never resolves them');
  });
});

describe('hostile files', () => {
  it('a FIFO, a device and a directory where a config should be are findings, and nothing blocks', async () => {
    const home = fresh('pc-sec-fifo-');
    mkdirSync(join(home, '.cursor'));
    execFileSync('mkfifo', [join(home, '.cursor', 'mcp.json')]);
    mkdirSync(join(home, '.codeium', 'windsurf'), { recursive: true });
    symlinkSync('/dev/zero', join(home, '.codeium', 'windsurf', 'mcp_config.json'));
    const r = await runCli(['discover', '--home', home, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ids = JSON.parse(r.stdout).clients.map((f: { client: string; findings: Array<{ id: string }> }) => `${f.client}:${f.findings.map((x) => x.id).join('+')}`);
    assert.ok(ids.includes('cursor:config-not-a-file'), ids.join(' '));
    assert.ok(ids.includes('windsurf:config-symlink+config-not-a-file') || ids.includes('windsurf:config-not-a-file'), ids.join(' '));
  });

  it('a file past the size limit is reported unread; deep nesting is a parse finding, not a crash', () => {
    const home = fresh('pc-sec-huge-');
    mkdirSync(join(home, '.cursor'));
    const huge = join(home, '.cursor', 'mcp.json');
    closeSync(openSync(huge, 'w'));
    truncateSync(huge, MAX_CONFIG_BYTES + 1);
    mkdirSync(join(home, '.config', 'zed'), { recursive: true });
    writeFileSync(join(home, '.config', 'zed', 'settings.json'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    mkdirSync(join(home, '.codex'));
    writeFileSync(join(home, '.codex', 'config.toml'), `a = ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    mkdirSync(join(home, '.config', 'goose'), { recursive: true });
    writeFileSync(join(home, '.config', 'goose', 'config.yaml'), `a: &a [x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nextensions: [*e, *e, *e, *e, *e, *e, *e, *e]\n`);
    const report = discover({ home }).report;
    const by = Object.fromEntries(report.clients.map((f) => [f.client, f.findings.map((x) => x.id)]));
    assert.deepEqual(by.cursor, ['config-too-large']);
    assert.equal(by.zed!.length, by.zed!.includes('config-malformed') ? 1 : 0, 'deep JSON: a finding or an empty document, never a crash');
    assert.ok(by.codex !== undefined && by.goose !== undefined);
  });

  it('install refuses a config that is a symlink out of the home folder, and writes through one that stays inside', async () => {
    const outside = fresh('pc-sec-outside-');
    writeFileSync(join(outside, 'mcp.json'), JSON.stringify({ mcpServers: { a: { command: 'a-mcp' } } }));
    const home = fresh('pc-sec-symlink-');
    mkdirSync(join(home, '.cursor'));
    symlinkSync(join(outside, 'mcp.json'), join(home, '.cursor', 'mcp.json'));
    const r = await runCli(['install', '--client', 'cursor', '--home', home, '--gateway', 'http://127.0.0.1:8787']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /outside --home and --project; not touched/);
    assert.equal(readFileSync(join(outside, 'mcp.json'), 'utf8'), JSON.stringify({ mcpServers: { a: { command: 'a-mcp' } } }));
    assert.deepEqual(readdirSync(outside), ['mcp.json']);
    // A dotfile manager's link inside the home folder: the real file changes, the link stays a link.
    const home2 = fresh('pc-sec-symlink-in-');
    mkdirSync(join(home2, 'dotfiles'));
    mkdirSync(join(home2, '.cursor'));
    writeFileSync(join(home2, 'dotfiles', 'mcp.json'), JSON.stringify({ mcpServers: { a: { command: 'a-mcp' } } }));
    symlinkSync(join(home2, 'dotfiles', 'mcp.json'), join(home2, '.cursor', 'mcp.json'));
    const ok = await runCli(['install', '--client', 'cursor', '--home', home2, '--gateway', 'http://127.0.0.1:8787']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(readFileSync(join(home2, 'dotfiles', 'mcp.json'), 'utf8'), /127\.0\.0\.1:8787\/mcp\/a/);
    assert.ok(existsSync(join(home2, '.cursor', 'mcp.json')) && realpathSync(join(home2, '.cursor', 'mcp.json')) === join(home2, 'dotfiles', 'mcp.json'));
  });

  it('install never writes its backup through a planted symlink', () => {
    const home = fresh('pc-sec-backup-');
    mkdirSync(join(home, '.cursor'));
    const file = join(home, '.cursor', 'mcp.json');
    const original = JSON.stringify({ mcpServers: { a: { command: 'a-mcp', env: { GITHUB_TOKEN: fakeSecrets().github } } } });
    writeFileSync(file, original);
    const now = new Date('2026-01-02T03:04:05.678Z');
    const victim = join(fresh('pc-sec-victim-'), 'victim');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, `${file}.portcullis-backup-${now.toISOString().replace(/[:.]/g, '-')}`);
    const plan = planInstall({ client: 'cursor', home, projects: [], route: { mode: 'http', base: 'http://127.0.0.1:8787' } }).plans[0]!;
    const applied = applyPlan(plan, now);
    assert.ok('problem' in applied && /cannot create the backup/.test(applied.problem));
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assert.equal(readFileSync(file, 'utf8'), original, 'no backup, no change');
  });

  it('a FIFO planted as the install record blocks neither install nor undo', async () => {
    const home = fresh('pc-sec-record-fifo-');
    mkdirSync(join(home, '.cursor'));
    const file = join(home, '.cursor', 'mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { a: { command: 'a-mcp' } } }));
    execFileSync('mkfifo', [recordPath(file)]);
    const undo = await runCli(['install', '--undo', '--client', 'cursor', '--home', home]);
    assert.equal(undo.code, 1);
    assert.match(undo.stderr, /install record .* cannot be read \(not-a-file/);
    const install = await runCli(['install', '--client', 'cursor', '--home', home, '--gateway', 'http://127.0.0.1:8787']);
    assert.equal(install.code, 0, install.stderr);
    assert.match(readFileSync(file, 'utf8'), /mcp\/a/);
  });

  it('undo does not trust a tampered install record to restore some other file', async () => {
    const home = fresh('pc-sec-record-');
    mkdirSync(join(home, '.cursor'));
    const file = join(home, '.cursor', 'mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { a: { command: 'a-mcp' } } }));
    assert.equal((await runCli(['install', '--client', 'cursor', '--home', home, '--gateway', 'http://127.0.0.1:8787'])).code, 0);
    const installed = readFileSync(file, 'utf8');
    const record = JSON.parse(readFileSync(recordPath(file), 'utf8'));
    const secret = join(fresh('pc-sec-other-'), 'shadow');
    writeFileSync(secret, 'not a config');
    record.installs[0].backup = secret;
    writeFileSync(recordPath(file), JSON.stringify(record));
    const undo = await runCli(['install', '--undo', '--client', 'cursor', '--home', home]);
    assert.equal(undo.code, 1);
    assert.match(undo.stderr, /install record does not match/);
    assert.equal(readFileSync(file, 'utf8'), installed);
    assert.equal(readFileSync(secret, 'utf8'), 'not a config');
  });
});
