import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { localPrincipal, type Principal } from '../../src/auth/principal.ts';
import { compilePolicy, type CallFacts, type Policy } from '../../src/policy/policy.ts';
import { isForbiddenAddress } from '../../src/policy/ip-address.ts';
import { policySchema } from '../../src/policy/schema.ts';

const DNS: Record<string, string[]> = {
  'public.example': ['93.184.216.34'],
  'internal.example': ['127.0.0.1'],
  'metadata.example': ['169.254.169.254'],
  'mixed.example': ['93.184.216.34', '10.0.0.5'],
};
const resolveHost = async (host: string): Promise<string[]> => {
  const found = DNS[host];
  if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return found;
};

function compile(policy: unknown, knownTools?: Record<string, string[]>): { policy: Policy; problems: string[] } {
  const parsed = policySchema.parse(policy);
  const { policy: compiled, problems } = compilePolicy(parsed, {
    servers: ['fs', 'web', 'git'],
    knownTools: knownTools ? (s) => (knownTools[s] ? new Set(knownTools[s]) : undefined) : undefined,
    resolveHost,
  });
  return { policy: compiled, problems: problems.map((p) => `${p.path.join('.')}: ${p.message}`) };
}

function ok(policy: unknown): Policy {
  const { policy: compiled, problems } = compile(policy);
  assert.deepEqual(problems, []);
  return compiled;
}

const token = (over: Partial<Principal> = {}): Principal => ({ kind: 'token', subject: 'alice', agent: 'claude', scopes: [], allScopes: false, roles: [], ...over });

function facts(over: Partial<CallFacts> = {}): CallFacts {
  return { principal: localPrincipal('alice', 'claude'), server: 'fs', kind: 'tool', name: 'read_file', args: {}, declared: undefined, task: undefined, now: new Date('2026-11-27T10:00:00Z'), ...over };
}

describe('policy decisions', () => {
  it('denies everything when there is no policy, and says so', async () => {
    const { policy } = compilePolicy(undefined, { servers: [], resolveHost });
    const d = await policy.decide(facts());
    assert.equal(d.effect, 'deny');
    assert.equal(d.code, 'PC_POLICY_DENIED');
    assert.match(d.reason, /no policy is configured/);
    assert.equal(policy.visible(localPrincipal('a', 'b'), 'fs', 'tool', 'read_file', undefined, undefined, new Date()).visible, false);
  });

  it('allows by server and tool globs, and denies by default what no rule allows', async () => {
    const p = ok({ rules: [{ name: 'reads', effect: 'allow', servers: ['fs'], tools: ['read_*'] }] });
    assert.deepEqual(await p.decide(facts()), { effect: 'allow', rule: 'reads', reason: 'allowed by rule "reads"' });
    const denied = await p.decide(facts({ name: 'write_file' }));
    assert.equal(denied.effect, 'deny');
    assert.equal(denied.rule, undefined);
    assert.match(denied.reason, /default deny/);
    assert.equal((await p.decide(facts({ server: 'web' }))).effect, 'deny');
  });

  it('lets any matching deny win over allow, wherever it stands, and approve win over allow', async () => {
    const p = ok({
      rules: [
        { name: 'all', effect: 'allow' },
        { name: 'no-delete', effect: 'deny', tools: ['delete_*'], reason: 'deletes are off' },
        { name: 'review-writes', effect: 'approve', tools: ['write_*'] },
      ],
    });
    assert.deepEqual(await p.decide(facts({ name: 'delete_file' })), { effect: 'deny', rule: 'no-delete', code: 'PC_POLICY_DENIED', reason: 'deletes are off' });
    const approve = await p.decide(facts({ name: 'write_file' }));
    assert.equal(approve.effect, 'approve');
    assert.equal(approve.code, 'PC_POLICY_APPROVAL_REQUIRED');
    assert.equal((await p.decide(facts())).rule, 'all');
  });

  it('matches principals by subject, agent, any role and all scopes', async () => {
    const p = ok({
      rules: [
        { name: 'admins', effect: 'allow', principal: { roles: ['admin', 'sre'] } },
        { name: 'claude-readers', effect: 'allow', tools: ['read_*'], principal: { agents: ['claude*'], scopes: ['fs:read', 'fs:list'] } },
        { name: 'bob', effect: 'allow', principal: { subjects: ['bob'] }, tools: ['write_file'] },
      ],
    });
    assert.equal((await p.decide(facts({ principal: token({ roles: ['sre'] }), name: 'anything' }))).rule, 'admins');
    assert.equal((await p.decide(facts({ principal: token({ scopes: ['fs:read'] }) }))).effect, 'deny', 'all listed scopes are needed');
    assert.equal((await p.decide(facts({ principal: token({ scopes: ['fs:read', 'fs:list'] }) }))).rule, 'claude-readers');
    assert.equal((await p.decide(facts({ principal: token({ agent: 'cursor', scopes: ['fs:read', 'fs:list'] }) }))).effect, 'deny');
    assert.equal((await p.decide(facts({ principal: token({ subject: 'bob' }), name: 'write_file' }))).rule, 'bob');
    assert.equal((await p.decide(facts({ principal: token({ subject: 'eve' }), name: 'write_file' }))).effect, 'deny');
  });

  it('matches the declared task label', async () => {
    const p = ok({ rules: [{ name: 'triage', effect: 'allow', tasks: ['triage-*'], principal: { subjects: ['alice'] } }] });
    assert.equal((await p.decide(facts({ task: 'triage-42' }))).effect, 'allow');
    assert.equal((await p.decide(facts({ task: 'deploy' }))).effect, 'deny');
    assert.equal((await p.decide(facts())).effect, 'deny', 'no task declared');
  });

  it('matches annotations with MCP defaults, and the admin\'s attestation wins over the server\'s', async () => {
    const p = ok({
      rules: [{ name: 'read-only', effect: 'allow', annotations: { readOnly: true } }],
      tools: [{ server: 'fs', tool: 'liar', annotations: { readOnly: false, destructive: true } }],
    });
    assert.equal((await p.decide(facts({ declared: { readOnlyHint: true } }))).effect, 'allow');
    assert.equal((await p.decide(facts({ declared: undefined }))).effect, 'deny', 'no annotation: not read-only');
    assert.equal((await p.decide(facts({ name: 'liar', declared: { readOnlyHint: true } }))).effect, 'deny', 'attested read-write');
    const destructive = ok({ rules: [{ name: 'x', effect: 'allow', annotations: { destructive: false } }] });
    assert.equal((await destructive.decide(facts({ declared: {} }))).effect, 'deny', 'destructiveHint defaults to true');
    assert.equal((await destructive.decide(facts({ declared: { destructiveHint: false } }))).effect, 'allow');
  });

  it('matches time windows in a time zone, overnight windows included', async () => {
    const p = ok({ rules: [{ name: 'office', effect: 'allow', time: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '09:00-18:00', timezone: 'Europe/Berlin' } }] });
    assert.equal((await p.decide(facts({ now: new Date('2026-11-27T10:00:00Z') }))).effect, 'allow', 'Friday 11:00 in Berlin');
    assert.equal((await p.decide(facts({ now: new Date('2026-11-27T17:30:00Z') }))).effect, 'deny', 'Friday 18:30 in Berlin');
    assert.equal((await p.decide(facts({ now: new Date('2026-11-28T10:00:00Z') }))).effect, 'deny', 'Saturday');
    const night = ok({ rules: [{ name: 'night', effect: 'deny', time: { hours: '22:00-06:00' } }, { name: 'all', effect: 'allow' }] });
    assert.equal((await night.decide(facts({ now: new Date('2026-11-27T23:30:00Z') }))).rule, 'night');
    assert.equal((await night.decide(facts({ now: new Date('2026-11-27T05:59:00Z') }))).rule, 'night');
    assert.equal((await night.decide(facts({ now: new Date('2026-11-27T06:00:00Z') }))).rule, 'all');
  });

  it('evaluates CEL conditions over args, principal, tool and task; an unevaluable deny denies', async () => {
    const p = ok({
      rules: [
        { name: 'small-heads', effect: 'allow', tools: ['read_file'], when: 'has(args.head) && args.head <= 100 && principal.agent == "claude" && tool.annotations.readOnly == false' },
        { name: 'no-secrets', effect: 'deny', tools: ['search'], when: 'args.query.contains("password")' },
        { name: 'search', effect: 'allow', tools: ['search'] },
      ],
    });
    assert.equal((await p.decide(facts({ args: { head: 10 } }))).effect, 'allow');
    assert.equal((await p.decide(facts({ args: { head: 1000 } }))).effect, 'deny');
    assert.equal((await p.decide(facts({ name: 'search', args: { query: 'my password' } }))).rule, 'no-secrets');
    assert.equal((await p.decide(facts({ name: 'search', args: { query: 'weather' } }))).rule, 'search');
    const unevaluable = await p.decide(facts({ name: 'search', args: {} }));
    assert.equal(unevaluable.effect, 'deny', 'args.query missing: the deny rule cannot be evaluated, so it denies');
    assert.equal(unevaluable.rule, 'no-secrets');
    assert.match(unevaluable.reason, /could not be evaluated/);
  });

  it('asks for every scope a tool needs, and holds local principals to none', async () => {
    const p = ok({ rules: [{ name: 'all', effect: 'allow' }], tools: [{ server: 'git', tool: 'push*', scopes: ['repo:write', 'repo:read'] }] });
    const d = await p.decide(facts({ server: 'git', name: 'push', principal: token({ scopes: ['repo:read'] }) }));
    assert.equal(d.code, 'PC_AUTH_INSUFFICIENT_SCOPE');
    assert.deepEqual(d.scopes, ['repo:write', 'repo:read']);
    assert.equal((await p.decide(facts({ server: 'git', name: 'push', principal: token({ scopes: ['repo:read', 'repo:write'] }) }))).effect, 'allow');
    assert.equal((await p.decide(facts({ server: 'git', name: 'push' }))).effect, 'allow', 'local principal');
  });
});

describe('policy guards', () => {
  const root = mkdtempSync(join(tmpdir(), 'pc-guard-'));
  const sandbox = join(root, 'sandbox');
  mkdirSync(join(sandbox, 'docs'), { recursive: true });
  writeFileSync(join(root, 'secret.txt'), 'outside');
  symlinkSync(root, join(sandbox, 'escape'));
  symlinkSync(join(sandbox, 'docs'), join(sandbox, 'inside-link'));
  const p = ok({
    rules: [
      { name: 'files', effect: 'allow', servers: ['fs'], guards: { paths: { args: ['path', 'paths'], roots: [sandbox] } } },
      { name: 'fetch', effect: 'allow', servers: ['web'], tools: ['fetch'], guards: { urls: { args: ['url'] } } },
      { name: 'gh', effect: 'allow', servers: ['web'], tools: ['gh'], guards: { urls: { args: ['url'], hosts: ['api.github.com', '*.githubusercontent.com'] } } },
      { name: 'commit', effect: 'allow', servers: ['git'], guards: { values: { message: { type: 'string', required: true, maxLength: 20, pattern: '[a-z: ]+' }, n: { type: 'integer', min: 1, max: 5 } }, maxBytes: 200 } },
    ],
  });
  const path = async (value: unknown) => p.decide(facts({ args: { path: value } }));

  it('keeps paths inside the roots: .., absolute, symlinks, encodings, NUL, ~ and relative', async () => {
    assert.equal((await path(join(sandbox, 'docs', 'a.txt'))).effect, 'allow');
    assert.equal((await path(join(sandbox, 'new-file.txt'))).effect, 'allow', 'a file that does not exist yet');
    assert.equal((await path(join(sandbox, 'inside-link', 'x'))).effect, 'allow', 'a symlink that stays inside');
    for (const bad of [
      `${sandbox}/../secret.txt`,
      '/etc/passwd',
      join(sandbox, 'escape', 'secret.txt'),
      `${sandbox}/..%2fsecret.txt`,
      `${sandbox}/%2e%2e/secret.txt`,
      `${sandbox}/a\u0000b`,
      '~/.ssh/id_rsa',
      'docs/a.txt',
      `file://${root}/secret.txt`,
    ]) {
      const d = await path(bad);
      assert.equal(d.effect, 'deny', bad);
      assert.equal(d.code, 'PC_POLICY_GUARD', bad);
      assert.equal(d.rule, 'files');
    }
    assert.equal((await p.decide(facts({ args: { paths: [join(sandbox, 'docs'), '/etc'] } }))).effect, 'deny', 'one bad path in a list');
    assert.equal((await path(42)).effect, 'deny', 'a path that is not a string cannot be checked');
  });

  it('refuses URLs to loopback, private, link-local and metadata addresses, after DNS', async () => {
    const url = async (value: string, tool = 'fetch') => p.decide(facts({ server: 'web', name: tool, args: { url: value } }));
    assert.equal((await url('https://public.example/page')).effect, 'allow');
    for (const bad of [
      'https://127.0.0.1/',
      'https://2130706433/',
      'https://0x7f.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:169.254.169.254]/latest/meta-data',
      'https://169.254.169.254/latest/meta-data',
      'https://internal.example/admin',
      'https://metadata.example/',
      'https://mixed.example/',
      'https://unknown.example/',
      'http://public.example/',
      'file:///etc/passwd',
      'not a url',
    ]) {
      const d = await url(bad);
      assert.equal(d.effect, 'deny', bad);
      assert.equal(d.code, 'PC_POLICY_GUARD', bad);
    }
    const d = await url('https://user:hunter2@internal.example/x?token=abc');
    assert.doesNotMatch(d.reason, /hunter2|token=abc/, 'credentials and query are never echoed');
    assert.equal((await url('https://api.github.com/repos', 'gh')).effect, 'deny', 'api.github.com is not in DNS here: unresolvable is refused');
    assert.match((await url('https://evil.com/', 'gh')).reason, /not allowed/);
  });

  it('classifies addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '::ffff:7f00:1']) {
      assert.equal(isForbiddenAddress(a), true, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isForbiddenAddress(a), false, a);
  });

  it('checks values and sizes without echoing them', async () => {
    const call = async (args: Record<string, unknown>) => p.decide(facts({ server: 'git', name: 'commit', args }));
    assert.equal((await call({ message: 'fix: typo', n: 2 })).effect, 'allow');
    for (const args of [{}, { message: 7 }, { message: 'x'.repeat(21) }, { message: 'Secret123' }, { message: 'ok', n: 2.5 }, { message: 'ok', n: 9 }, { message: 'ok', pad: 'y'.repeat(300) }]) {
      const d = await call(args);
      assert.equal(d.code, 'PC_POLICY_GUARD', JSON.stringify(args));
    }
    assert.doesNotMatch((await call({ message: 'Secret123' })).reason, /Secret123/);
  });
});

describe('list visibility', () => {
  it('shows a tool only if some allow rule could match this caller', () => {
    const p = ok({
      rules: [
        { name: 'reads', effect: 'allow', tools: ['read_*'] },
        { name: 'writes-small', effect: 'allow', tools: ['write_file'], when: 'size(args.content) < 100' },
        { name: 'ops-only', effect: 'allow', tools: ['restart'], principal: { roles: ['ops'] } },
        { name: 'never-rm', effect: 'deny', tools: ['read_secret'] },
        { name: 'sometimes', effect: 'deny', tools: ['read_log'], when: 'args.path == "/x"' },
      ],
      tools: [{ tool: 'read_private', scopes: ['private'] }],
    });
    const me = token();
    const seen = (name: string, who = me) => p.visible(who, 'fs', 'tool', name, undefined, undefined, new Date()).visible;
    assert.equal(seen('read_file'), true);
    assert.equal(seen('write_file'), true, 'a condition on args could hold');
    assert.equal(seen('delete_file'), false);
    assert.equal(seen('restart'), false);
    assert.equal(seen('restart', token({ roles: ['ops'] })), true);
    assert.equal(seen('read_secret'), false, 'an unconditional deny hides');
    assert.equal(seen('read_log'), true, 'a conditional deny does not hide');
    assert.equal(seen('read_private'), false, 'missing scope hides');
    assert.equal(seen('read_private', token({ scopes: ['private'] })), true);
  });
});

describe('policy compilation', () => {
  it('rejects what cannot work, naming the rule and the field', () => {
    const { problems } = compile(
      {
        rules: [
          { name: 'a', effect: 'allow', when: 'args.path.startsWith(' },
          { name: 'b', effect: 'allow', when: 'args.x + 1' },
          { name: 'c', effect: 'allow', on: ['list'], when: 'args.path == "/"' },
          { name: 'd', effect: 'deny', guards: { maxBytes: 10 } },
          { name: 'e', effect: 'allow', servers: ['nope'] },
          { name: 'e', effect: 'allow', time: { timezone: 'Mars/Olympus' } },
          { name: 'f', effect: 'allow', guards: { values: { x: { pattern: '(' } } } },
          { name: 'g', effect: 'allow', servers: ['fs'], tools: ['read_file', 'reed_*', 'nosuch'] },
          { name: 'h', effect: 'allow', when: 'unknown_var == 1' },
        ],
      },
      { fs: ['read_file', 'write_file'] },
    );
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      [
        'policy.rules.0.when',
        'policy.rules.1.when',
        'policy.rules.2.when',
        'policy.rules.3.guards',
        'policy.rules.4.servers.0',
        'policy.rules.5.name',
        'policy.rules.5.time.timezone',
        'policy.rules.6.guards.values.x.pattern',
        'policy.rules.7.tools.1',
        'policy.rules.7.tools.2',
        'policy.rules.8.when',
      ],
    );
    assert.match(problems[0]!, /syntax error/);
    assert.match(problems[1]!, /must be a bool/);
    assert.match(problems[2]!, /cannot be known while filtering a list/);
  });

  it('rejects an empty rule list', () => {
    assert.match(compile({ rules: [] }).problems[0]!, /no rules denies every call/);
  });
});

describe('custom methods and server-level methods', () => {
  it('matches a custom method only through a rule that names it in `methods`', async () => {
    const policy = ok({
      rules: [
        { name: 'everything-on-fs', effect: 'allow', servers: ['fs'] },
        { name: 'x-methods', effect: 'allow', servers: ['web'], methods: ['x/*'] },
        { name: 'no-x-admin', effect: 'deny', servers: ['web'], methods: ['x/admin*'] },
      ],
    });
    assert.equal((await policy.decide(facts({ server: 'fs', kind: 'method', name: 'x/ping' }))).effect, 'deny', 'a rule without targets does not cover custom methods');
    assert.equal((await policy.decide(facts({ server: 'fs', kind: 'method', name: 'x/ping' }))).rule, undefined);
    const allowed = await policy.decide(facts({ server: 'web', kind: 'method', name: 'x/ping' }));
    assert.deepEqual([allowed.effect, allowed.rule], ['allow', 'x-methods']);
    assert.equal((await policy.decide(facts({ server: 'web', kind: 'method', name: 'x/admin/reset' }))).rule, 'no-x-admin');
    assert.equal((await policy.decide(facts({ server: 'web', kind: 'method', name: 'y/ping' }))).effect, 'deny');
    assert.equal((await policy.decide(facts({ server: 'web', kind: 'tool', name: 'fetch' }))).effect, 'deny', 'a methods-only rule covers no tool');
    assert.equal((await policy.decide(facts({ server: 'fs', kind: 'tool', name: 'read_file' }))).effect, 'allow');
  });

  it('allows a server-level method only through a rule about the whole server', () => {
    const policy = ok({
      rules: [
        { name: 'fs-for-ops', effect: 'allow', servers: ['fs'], principal: { agents: ['ops'] } },
        { name: 'one-web-tool', effect: 'allow', servers: ['web'], tools: ['fetch'] },
        { name: 'no-git-for-bots', effect: 'deny', servers: ['git'], principal: { agents: ['bot-*'] } },
        { name: 'git', effect: 'allow', servers: ['git'] },
      ],
    });
    const at = new Date('2026-11-27T10:00:00Z');
    assert.equal(policy.serverAllowed(localPrincipal('alice', 'ops'), 'fs', undefined, at).allowed, true);
    assert.equal(policy.serverAllowed(localPrincipal('alice', 'claude'), 'fs', undefined, at).allowed, false);
    assert.equal(policy.serverAllowed(localPrincipal('alice', 'ops'), 'web', undefined, at).allowed, false, 'allowing one tool does not allow the server');
    assert.equal(policy.serverAllowed(localPrincipal('alice', 'claude'), 'git', undefined, at).allowed, true);
    const bot = policy.serverAllowed(localPrincipal('alice', 'bot-1'), 'git', undefined, at);
    assert.deepEqual([bot.allowed, bot.rule], [false, 'no-git-for-bots']);
    const { policy: absent } = compilePolicy(undefined, { servers: [], resolveHost });
    assert.equal(absent.serverAllowed(localPrincipal('alice', 'ops'), 'fs', undefined, at).allowed, false);
  });

  it('refuses a methods selector that is not a list of globs', () => {
    assert.throws(() => policySchema.parse({ rules: [{ name: 'bad', effect: 'allow', methods: 'x/*' }] }));
    assert.throws(() => policySchema.parse({ rules: [{ name: 'bad', effect: 'allow', methods: [] }] }));
  });
});
