import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { localPrincipal } from '../../src/auth/principal.ts';
import { KillSwitchStore } from '../../src/killswitch/store.ts';
import { policySchema } from '../../src/policy/schema.ts';
import { ConcurrencyLimiter, RateLimiter } from '../../src/ratelimit/limiter.ts';
import { ArgumentValidator } from '../../src/validate/args.ts';

const limits = (list: unknown[]) => policySchema.parse({ rules: [{ name: 'x', effect: 'allow' }], limits: list }).limits;

describe('rate limits', () => {
  it('allows a burst, refuses with a retry time, and recovers at the sustained rate', () => {
    let now = 0;
    const limiter = new RateLimiter(limits([{ name: 'agent', per: 'agent', rate: '2/s', burst: 3 }]), () => now);
    const claude = localPrincipal('u', 'claude');
    for (let i = 0; i < 3; i++) assert.equal(limiter.take(claude, 'fs', 'read'), undefined);
    const refused = limiter.take(claude, 'fs', 'read');
    assert.deepEqual(refused, { limit: 'agent', rate: '2/s', retryAfterMs: 500 });
    assert.ok(limiter.take(localPrincipal('u', 'cursor'), 'fs', 'read') === undefined, 'another agent has its own bucket');
    now = 499;
    assert.ok(limiter.take(claude, 'fs', 'read'), 'not yet');
    now = 500;
    assert.equal(limiter.take(claude, 'fs', 'read'), undefined, 'one token back after 500 ms');
  });

  it('takes from every applicable bucket or from none', () => {
    let now = 0;
    const limiter = new RateLimiter(
      limits([
        { name: 'server', per: 'server', rate: '10/m' },
        { name: 'writes', per: 'tool', servers: ['fs'], tools: ['write_*'], rate: '1/h' },
      ]),
      () => now,
    );
    const p = localPrincipal('u', 'a');
    assert.equal(limiter.take(p, 'fs', 'write_file'), undefined);
    for (let i = 0; i < 5; i++) assert.equal(limiter.take(p, 'fs', 'write_file')?.limit, 'writes');
    // The refused writes took nothing from the server bucket: 9 reads still fit.
    for (let i = 0; i < 9; i++) assert.equal(limiter.take(p, 'fs', 'read_file'), undefined, `read ${i}`);
    assert.equal(limiter.take(p, 'fs', 'read_file')?.limit, 'server');
    assert.equal(limiter.take(p, 'other', 'read_file'), undefined, 'limits apply per server');
    now = 6000;
    assert.equal(limiter.take(p, 'fs', 'read_file'), undefined, '10/m refills one every 6 s');
  });

  it('caps calls in flight per server and releases each slot once', () => {
    const c = new ConcurrencyLimiter({ fs: 2 });
    const a = c.acquire('fs');
    const b = c.acquire('fs');
    assert.equal(typeof a, 'function');
    assert.equal(c.acquire('fs'), undefined);
    assert.equal(c.acquire('other'), 'unlimited');
    (a as () => void)();
    (a as () => void)();
    const d = c.acquire('fs');
    assert.equal(typeof d, 'function');
    assert.equal(c.acquire('fs'), undefined, 'a double release did not free two slots');
    void b;
  });
});

describe('kill switch store', () => {
  it('stops by all, server, tool (name, server.tool, glob) and agent; persists; lifts', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pc-kill-')), 'killswitch.json');
    const store = new KillSwitchStore(path, { key: { kind: 'file', path: join(dirname(path), 'pins.key') } });
    assert.equal(store.stops('fs', 'read', { agent: 'claude' }), undefined);
    store.add({ tool: 'fs.write_*' }, 'incident 7', 'oncall');
    assert.equal(store.stops('fs', 'write_file', { agent: 'claude' })?.reason, 'incident 7');
    assert.equal(store.stops('git', 'write_file', { agent: 'claude' }), undefined);
    const other = new KillSwitchStore(path, { key: { kind: 'file', path: join(dirname(path), 'pins.key') } });
    other.add({ agent: 'cursor' }, 'compromised', 'oncall');
    assert.equal(store.stops('git', 'status', { agent: 'cursor' })?.target, 'agent "cursor"', 'another process\'s switch is seen at once');
    assert.equal(store.remove({ agent: 'cursor' }), 1);
    assert.equal(other.stops('git', 'status', { agent: 'cursor' }), undefined);
    store.add({ server: 'git' }, 'maintenance', 'oncall');
    store.add({ all: true }, 'stop everything', 'ciso');
    assert.equal(new KillSwitchStore(path, { key: { kind: 'file', path: join(dirname(path), 'pins.key') } }).list().length, 3, 'persisted');
    assert.equal(store.stops('web', undefined, { agent: 'x' })?.target, 'all calls');
    assert.equal(store.remove('everything'), 3);
    assert.equal(store.stops('web', undefined, { agent: 'x' }), undefined);
  });

  it('stops everything while its file cannot be read (fail closed)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pc-kill-')), 'killswitch.json');
    writeFileSync(path, '{ not json');
    const store = new KillSwitchStore(path, { key: { kind: 'file', path: join(dirname(path), 'pins.key') } });
    assert.match(store.stops('fs', 'read', { agent: 'a' })?.reason ?? '', /cannot be read/);
    assert.throws(() => store.add({ all: true }, 'x', 'y'), /cannot be read/);
  });
});

describe('kill switch seal', () => {
  const open = (path: string, onUntrusted?: (problem: string) => void) => new KillSwitchStore(path, { key: { kind: 'file', path: join(dirname(path), 'pins.key') }, ...(onUntrusted ? { onUntrusted } : {}) });

  it('keeps the switches in force when the file is edited, believes nothing of it, and tells once per change', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pc-kill-')), 'killswitch.json');
    const told: string[] = [];
    const store = open(path, (p) => told.push(p));
    store.add({ server: 'fs' }, 'incident', 'oncall');
    const sealed = readFileSync(path, 'utf8');
    writeFileSync(path, JSON.stringify({ version: 1, switches: [{ target: { agent: 'x' }, reason: 'forged', by: 'y', at: '2025-01-01T00:00:00Z' }], mac: (JSON.parse(sealed) as { mac: string }).mac }));
    assert.equal(store.stops('fs', 'read', { agent: 'a' })?.reason, 'incident', 'the lifted switch holds');
    assert.equal(store.stops('git', 'read', { agent: 'x' }), undefined, 'the forged switch does not');
    assert.equal(store.stops('fs', 'read', { agent: 'a' })?.reason, 'incident');
    assert.equal(told.length, 1);
    assert.match(told[0]!, /does not match its seal/);
    assert.equal(store.integrity().ok, false);
    assert.throws(() => store.remove({ server: 'fs' }), /reseal/);
    // This process's own switch is written sealed with the kept ones; the edited file is set aside.
    store.add({ tool: 'fs.write' }, 'more', 'monitor');
    assert.match(readFileSync(`${path}.untrusted`, 'utf8'), /forged/);
    assert.deepEqual(open(path).list().map((s) => s.reason), ['incident', 'more']);
  });

  it('stops everything on a first look at an untrusted file until resealed', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pc-kill-')), 'killswitch.json');
    writeFileSync(path, JSON.stringify({ switches: [{ target: { server: 'fs' }, reason: 'old', by: 'x', at: '2025-01-01T00:00:00Z' }] }));
    const store = open(path);
    assert.match(store.stops('web', undefined, { agent: 'a' })?.reason ?? '', /not sealed/);
    assert.deepEqual(open(path).reseal(), { switches: 1 });
    assert.equal(store.stops('web', undefined, { agent: 'a' }), undefined);
    assert.equal(store.stops('fs', undefined, { agent: 'a' })?.reason, 'old');
  });
});

describe('argument validation', () => {
  it('names the field that breaks the schema, and refuses schemas it cannot compile', () => {
    const v = new ArgumentValidator();
    const schema = { type: 'object', properties: { path: { type: 'string' }, head: { type: 'integer', minimum: 1 }, mode: { enum: ['r', 'w'] } }, required: ['path'], additionalProperties: false };
    assert.equal(v.check(schema, { path: '/x', head: 2, mode: 'r' }), undefined);
    assert.deepEqual(v.check(schema, {}), { invalid: 'missing required argument "path"' });
    assert.deepEqual(v.check(schema, { path: 7 }), { invalid: 'argument "path" must be string' });
    assert.deepEqual(v.check(schema, { path: '/x', head: 0 }), { invalid: 'argument "head" must be >= 1' });
    assert.deepEqual(v.check(schema, { path: '/x', head: '2' }), { invalid: 'argument "head" must be integer' }, 'nothing is coerced');
    assert.deepEqual(v.check(schema, { path: '/x', mode: 'x' }), { invalid: 'argument "mode" must be one of "r", "w"' });
    const extra = v.check(schema, { path: '/x', extra: 1 });
    assert.ok(extra && 'invalid' in extra && /unexpected argument "extra"/.test(extra.invalid));
    assert.ok(v.unsafe({ type: 'object', properties: { a: { $ref: '#/nowhere' } } }), 'a schema that cannot be compiled makes the tool unsafe');
    assert.ok(v.unsafe(undefined), 'no inputSchema: unsafe');
  });
});
