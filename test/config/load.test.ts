import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText, validateConfig } from '../../src/config/load.ts';
import type { SecretSource } from '../../src/config/secrets.ts';

const secrets = (env: Record<string, string> = {}, files: Record<string, string> = {}): SecretSource => ({
  env,
  readFile: (path) => {
    const found = files[path];
    if (found === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return found;
  },
});

const problemsOf = (result: ReturnType<typeof validateConfig>) => (result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`));

describe('config loading', () => {
  it('accepts the shape anyone can write from memory, with defaults filled in', () => {
    const result = parseConfigText(
      `listen: { host: 127.0.0.1, port: 8787 }
servers:
  files:  { command: npx, args: [-y, "@modelcontextprotocol/server-filesystem", /srv/data], env: {} }
  tickets: { url: https://mcp.example.com/mcp, headers: { Authorization: "env:TICKETS_TOKEN" } }
`,
      secrets({ TICKETS_TOKEN: 'Bearer abc' }),
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.equal(result.config.listen.port, 8787);
    assert.equal(result.config.routing.separator, '__');
    assert.equal(result.config.defaults.timeoutMs, 60_000);
    assert.ok(Object.isFrozen(result.config.servers));
  });

  it('lists every problem with its path, not just the first', () => {
    const result = validateConfig(
      {
        listen: { port: 'eighty', extra: true },
        routing: { separator: '' },
        servers: {
          github: { url: 'http://api.github.com/mcp' },
          both: { command: 'x', url: 'https://x.example' },
          neither: { args: [] },
          'bad name!': { command: 'x' },
          local: { command: 'x', timeoutMs: 5 },
        },
      },
      secrets(),
    );
    const problems = problemsOf(result);
    const has = (path: string, pattern: RegExp) =>
      assert.ok(problems.some((p) => p.startsWith(`${path}: `) && pattern.test(p)), `expected ${path} ~ ${pattern}, got:\n${problems.join('\n')}`);
    has('servers.github.url', /must be an https URL/);
    has('servers.both', /exactly one of "command"/);
    has('servers.neither', /exactly one of "command"/);
    has('servers.bad name!', /server names/);
    has('servers.local.timeoutMs', />=100/);
    has('listen.port', /number/);
    has('listen', /unknown key.*"extra"/);
    has('routing.separator', /1-4 characters/);
    assert.ok(problems.length >= 8);
  });

  it('accepts plain http only on loopback hosts, and never credentials in a URL', () => {
    assert.ok(validateConfig({ servers: { a: { url: 'http://127.0.0.1:3000/mcp' } } }).ok);
    assert.ok(validateConfig({ servers: { a: { url: 'http://localhost:3000/mcp' } } }).ok);
    assert.deepEqual(problemsOf(validateConfig({ servers: { a: { url: 'https://user:pw@x.example/mcp' } } })), [
      'servers.a.url: must not carry credentials; put them in headers as env:/file: references',
    ]);
  });

  it('refuses a credential written as a literal, and does not echo it', () => {
    const result = validateConfig({
      servers: {
        t: { url: 'https://x.example/mcp', headers: { Authorization: 'Bearer sk-live-123' } },
        s: { command: 'x', env: { GITHUB_TOKEN: 'ghp_abcdef', LOG_LEVEL: 'debug' } },
      },
    });
    const problems = problemsOf(result);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^servers\.t\.headers\.Authorization: looks like a credential/);
    assert.match(problems[1]!, /^servers\.s\.env\.GITHUB_TOKEN: looks like a credential/);
    assert.ok(!problems.join().includes('sk-live-123') && !problems.join().includes('ghp_abcdef'), 'secret value never printed');
  });

  it('checks that secret references resolve, naming the reference and not a value', () => {
    const doc = { servers: { t: { url: 'https://x.example/mcp', headers: { Authorization: 'env:MISSING_TOKEN', 'X-Key': 'file:/run/secrets/key' } } } };
    assert.deepEqual(problemsOf(validateConfig(doc, secrets())), [
      'servers.t.headers.Authorization: environment variable MISSING_TOKEN (from "env:MISSING_TOKEN") is not set',
      'servers.t.headers.X-Key: cannot read secret file /run/secrets/key (from "file:/run/secrets/key"): ENOENT',
    ]);
    assert.ok(validateConfig(doc, secrets({ MISSING_TOKEN: 'x' }, { '/run/secrets/key': 'k\n' })).ok);
  });

  it('reports YAML syntax errors with their line', () => {
    const result = parseConfigText('servers:\n  a: { command: x\n');
    assert.ok(!result.ok);
    assert.match(result.problems[0]!.path, /line \d+/);
  });

  it('warns when no server is configured or the listener is exposed', () => {
    const result = validateConfig({ listen: { host: '0.0.0.0' } });
    assert.ok(result.ok);
    const paths = result.warnings.map((w) => w.path);
    assert.deepEqual(paths.sort(), ['listen.host', 'policy', 'servers']);
  });

  it('requires a PostgreSQL audit URL, and a password in it only as a reference', () => {
    const problems = (audit: Record<string, unknown>) => problemsOf(validateConfig({ audit }, secrets({ PG: 'postgres://u:p@h/db' })));
    assert.deepEqual(problems({ store: 'postgres' }), ['audit.url: is required when audit.store is postgres (e.g. env:PORTCULLIS_AUDIT_URL)']);
    assert.match(problems({ store: 'postgres', url: 'postgres://admin:hunter2@db/audit' })[0]!, /^audit\.url: carries a password/);
    assert.match(problems({ store: 'postgres', url: 'mysql://db/audit' })[0]!, /^audit\.url: must be a postgres:\/\/ URL/);
    assert.deepEqual(problems({ store: 'postgres', url: 'env:PG' }), []);
    assert.deepEqual(problems({ store: 'postgres', url: 'postgres://db.internal/audit' }), []);
  });
});

describe('identity configuration', () => {
  it('checks that user passwords and introspection secrets resolve, and refuses literal ones', () => {
    const doc = {
      identity: {
        embedded: { users: [{ username: 'alice', password: 'env:MISSING_PW' }, { username: 'bob', password: 'hunter2' }] },
        issuers: [{ issuer: 'https://as.example.com', introspection: { url: 'https://as.example.com/i', clientId: 'gw', clientSecret: 'env:INTRO' } }],
      },
    };
    const problems = problemsOf(validateConfig(doc, secrets({ INTRO: 'x' })));
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['identity.embedded.users[1].password', 'identity.embedded.users[0].password']);
    assert.match(problems[0]!, /must be a reference/);
    assert.match(problems[1]!, /MISSING_PW/);
    assert.doesNotMatch(problems.join('\n'), /hunter2/, 'a literal secret is never echoed');
  });
});
