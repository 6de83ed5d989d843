import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK, redact } from '../../src/audit/redact.ts';
import { holdsBuiltInSecret } from '../../src/dlp/create.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

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
    const out = JSON.stringify(redact(args, new Set(['ssn']), holdsBuiltInSecret));
    for (const secret of [...Object.values(secrets), 'hunter2-but-long', '123-45-6789']) assert.ok(!out.includes(secret), `leaked ${secret.slice(0, 8)}…`);
    assert.ok(out.includes('select 1') && out.includes('c-42'), 'ordinary values are kept');
    assert.equal((redact({ password: 'x' }, new Set(), holdsBuiltInSecret) as { password: string }).password, MASK);
  });

  it('stays linear on hostile input', () => {
    const hostile = `${'a'.repeat(200_000)}!`;
    const started = performance.now();
    redact({ v: hostile, w: `Bearer ${'x'.repeat(100_000)}` }, new Set(), holdsBuiltInSecret);
    assert.ok(performance.now() - started < 1000);
  });
});
