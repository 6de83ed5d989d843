import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK, redact } from '../../src/audit/redact.ts';

/** Secret-shaped test values, assembled at run time so that no secret-shaped literal is committed. */
export function fakeSecrets(): Record<string, string> {
  const r = (n: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') => Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
  return {
    aws: `AKIA${r(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    github: `ghp_${r(36)}`,
    slack: `xoxb-${r(12, '0123456789')}-${r(24)}`,
    stripe: `sk_live_${r(24)}`,
    jwt: `eyJ${r(20)}.eyJ${r(30)}.${r(43)}`,
    bearer: `Bearer ${r(40)}`,
    pem: `-----BEGIN RSA PRIVATE KEY-----\n${r(64)}\n-----END RSA PRIVATE KEY-----`,
    url: `postgres://admin:${r(14)}@db.internal:5432/app`,
  };
}

describe('argument redaction', () => {
  it('masks secret-shaped values anywhere, credential-named keys and listed fields', () => {
    const secrets = fakeSecrets();
    const args = {
      query: 'select 1',
      nested: { list: Object.values(secrets), note: `token is ${secrets.github}` },
      password: 'hunter2-but-long',
      customerId: 'c-42',
      ssn: '123-45-6789',
    };
    const out = JSON.stringify(redact(args, new Set(['ssn'])));
    for (const secret of [...Object.values(secrets), 'hunter2-but-long', '123-45-6789']) assert.ok(!out.includes(secret), `leaked ${secret.slice(0, 8)}…`);
    assert.ok(out.includes('select 1') && out.includes('c-42'), 'ordinary values are kept');
    assert.equal((redact({ password: 'x' }, new Set()) as { password: string }).password, MASK);
  });

  it('stays linear on hostile input', () => {
    const hostile = `${'a'.repeat(200_000)}!`;
    const started = performance.now();
    redact({ v: hostile, w: `Bearer ${'x'.repeat(100_000)}` }, new Set());
    assert.ok(performance.now() - started < 1000);
  });
});
