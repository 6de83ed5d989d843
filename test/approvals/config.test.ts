/**
 * The approval options are checked before anything runs: bad input gets a problem naming its path, and
 * the command line refuses what is not an approval id without touching the queue.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDurationMs } from '../../src/approvals/options.ts';
import { ApprovalStore, isApprovalId } from '../../src/approvals/store.ts';
import { validateConfig } from '../../src/config/load.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { runCli } from '../helpers/gateway.ts';

const problemsOf = (document: Record<string, unknown>, env: Record<string, string> = {}): string[] => {
  const loaded = validateConfig({ dataDir: mkdtempSync(join(tmpdir(), 'pc-appr-cfg-')), ...document }, processSecretSource(env));
  return loaded.ok ? [] : loaded.problems.map((p) => `${p.path}: ${p.message}`);
};

const policyWith = (rule: Record<string, unknown>) => ({ policy: { rules: [{ name: 'r', tools: ['x'], ...rule }] } });

describe('approval configuration', () => {
  it('reads durations and refuses what is not one', () => {
    assert.equal(parseDurationMs('10m'), 600_000);
    assert.equal(parseDurationMs('90s'), 90_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
    for (const bad of ['10', 'ten minutes', '-1m', '1.5h', '']) assert.equal(parseDurationMs(bad), undefined, bad);
  });

  it('accepts a complete approve rule and approvals section', () => {
    assert.deepEqual(
      problemsOf({
        ...policyWith({ effect: 'approve', approval: { ttl: '10m', approvers: ['security'], mode: 'out-of-band', remember: '1h' } }),
        approvals: { waitMs: 30_000, maxPendingPerPrincipal: 5, maxPending: 100, adminScope: 'desk:approve', pollMs: 100, webhook: { url: 'https://hooks.example.com/x', secret: 'env:HOOK', format: 'slack', retries: 2, backoffMs: 100 } },
      }, { HOOK: 'k'.repeat(32) }),
      [],
    );
  });

  it('names each mistake with its path', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [policyWith({ effect: 'allow', approval: { ttl: '10m' } }), /rules\.?\[?0\]?\.approval/],
      [policyWith({ effect: 'approve', approval: { approvers: ['security'], mode: 'in-band' } }), /approval\.mode/],
      [policyWith({ effect: 'approve', approval: { ttl: 'ten minutes' } }), /approval\.ttl/],
      [policyWith({ effect: 'approve', approval: { ttl: '500ms' } }), /approval\.ttl/],
      [policyWith({ effect: 'approve', approval: { mode: 'sometimes' } }), /approval\.mode/],
      [{ approvals: { webhook: { url: 'http://hooks.example.com/x', secret: 'env:HOOK' } } }, /approvals\.webhook\.url/],
      [{ approvals: { webhook: { url: 'https://hooks.example.com/x', secret: 'literal-key' } } }, /approvals\.webhook\.secret/],
      [{ approvals: { webhook: { url: 'https://hooks.example.com/x', secret: 'env:UNSET_HOOK_KEY' } } }, /approvals\.webhook\.secret/],
      [{ approvals: { waitMs: -1 } }, /approvals\.waitMs/],
      [{ approvals: { unknown: 1 } }, /approvals/],
    ];
    for (const [document, path] of cases) {
      const problems = problemsOf(document, { HOOK: 'k'.repeat(32) });
      assert.ok(problems.some((p) => path.test(p)), `${JSON.stringify(document)} → ${JSON.stringify(problems)}`);
    }
  });
});

describe('approval store', () => {
  const binding = { principal: 'key\u0000key:1\u0000alice', server: 's', kind: 'tool', name: 't', argsHash: 'a'.repeat(64) };
  const open = () => new ApprovalStore(join(mkdtempSync(join(tmpdir(), 'pc-appr-store-')), 'approvals.db'));
  const file = (store: ApprovalStore, now: number) =>
    store.create({ ...binding, subject: 'key:1', agent: 'alice', args: '{}', rule: 'r', reason: 'why', approvers: null, channel: 'out-of-band', createdAt: now, expiresAt: now + 1000, rememberMs: null });

  it('uses a grant once, only for its binding, only before it expires', () => {
    const store = open();
    try {
      const a = file(store, 0);
      assert.equal(store.consume(a.id, binding, 10), false, 'not granted yet');
      assert.ok(!(store.decide(a.id, 'granted', { name: 'officer' }, undefined, 10) instanceof Error));
      assert.equal(store.consume(a.id, { ...binding, argsHash: 'b'.repeat(64) }, 20), false, 'other arguments');
      assert.equal(store.consume(a.id, { ...binding, principal: 'key\u0000key:2\u0000bob' }, 20), false, 'another principal');
      assert.equal(store.consume(a.id, binding, 1000), false, 'expired');
      assert.equal(store.consume(a.id, binding, 20), true);
      assert.equal(store.consume(a.id, binding, 30), false, 'single use');
    } finally {
      store.close();
    }
  });

  it('makes ids the command line takes as an argument (never starting with "-")', () => {
    const store = open();
    try {
      for (let i = 0; i < 300; i++) {
        const { id } = file(store, i);
        assert.ok(isApprovalId(id) && !id.startsWith('-'), id);
      }
    } finally {
      store.close();
    }
  });

  it('refuses decisions on unknown, decided or expired approvals, and by the caller', () => {
    const store = open();
    try {
      const a = file(store, 0);
      const code = (r: unknown) => (r as { code?: string }).code;
      assert.equal(code(store.decide('0'.repeat(32), 'granted', { name: 'officer' }, undefined, 10)), 'PC_APPROVAL_UNKNOWN');
      assert.equal(code(store.decide(a.id, 'granted', { name: 'key:1' }, undefined, 10)), 'PC_APPROVAL_SELF');
      assert.equal(code(store.decide(a.id, 'granted', { name: 'x', agent: 'alice' }, undefined, 10)), 'PC_APPROVAL_SELF');
      assert.equal(code(store.decide(a.id, 'granted', { name: 'officer' }, undefined, 1000)), 'PC_APPROVAL_UNKNOWN', 'expired');
      assert.equal(store.decide(a.id, 'denied', { name: 'officer' }, 'no', 10).constructor.name, 'Object');
      assert.equal(code(store.decide(a.id, 'granted', { name: 'officer' }, undefined, 20)), 'PC_APPROVAL_UNKNOWN', 'a denial is final');
    } finally {
      store.close();
    }
  });
});

describe('portcullis approvals (command line)', () => {
  it('lists nothing in a fresh data dir and refuses what is not an approval id', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-appr-cli-'));
    const list = await runCli(['approvals', 'list', '--json', '--data-dir', dataDir]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
    const bad = await runCli(['approvals', 'grant', '../../etc/passwd', '--data-dir', dataDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /PC_APPROVAL_UNKNOWN/);
    const unknown = await runCli(['approvals', 'deny', '0'.repeat(32), '--data-dir', dataDir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /PC_APPROVAL_UNKNOWN/);
  });
});

describe('the admin endpoint without identity', () => {
  it('refuses everyone: with every caller the same local principal, the agent could approve itself', async () => {
    const { startGateway } = await import('../helpers/gateway.ts');
    const gw = await startGateway({ servers: {} });
    try {
      for (const [method, path] of [['GET', '/admin/approvals'], ['POST', `/admin/approvals/${'0'.repeat(32)}/grant`]] as const) {
        const response = await fetch(`${gw.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
        assert.equal(response.status, 403, path);
        assert.equal(((await response.json()) as any).error?.data?.code, 'PC_APPROVAL_ADMIN_FORBIDDEN');
      }
    } finally {
      await gw.close();
    }
  });
});
