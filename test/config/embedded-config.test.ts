import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bundledFilesystemServer, embeddedDefault } from '../../src/config/defaults.ts';
import { validatedEmbeddedDefault } from '../../src/config/embedded-config.ts';
import { validateConfig } from '../../src/config/load.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { snapshotText } from '../../scripts/embedded-default.ts';

const secrets = processSecretSource(process.env);
const dirs: string[] = [];
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-embedded-test-'));
  dirs.push(dir);
  return dir;
};
describe('the embedded default validated without the schema', () => {
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  it('schema/embedded-default.json is what the schema makes of the embedded default now (else: npm run schema)', () => {
    assert.equal(readFileSync(new URL('../../schema/embedded-default.json', import.meta.url), 'utf8'), snapshotText());
  });

  for (const [variant, fs] of [
    ['pinned (a checkout)', bundledFilesystemServer()],
    ['unpinned (an npm-installed copy)', { command: bundledFilesystemServer().command, script: bundledFilesystemServer().script }],
  ] as const) {
    it(`gives the same frozen config and warnings as validating with the schema: ${variant}`, () => {
      const document = embeddedDefault(fresh(), fs);
      const stored = validatedEmbeddedDefault(document, secrets);
      const schema = validateConfig(document, secrets);
      assert.ok(stored, 'the stored validation applies');
      assert.deepEqual(stored, schema);
      assert.ok(stored.ok && Object.isFrozen(stored.config.policy!.rules[0]!.guards!.paths!.roots));
    });
  }

  it('does not apply to a document it was not made for: a relative data dir, an edited default', () => {
    const dir = fresh();
    const document = embeddedDefault(dir);
    assert.equal(validatedEmbeddedDefault({ ...document, dataDir: 'relative/data' }, secrets), undefined);
    assert.equal(validatedEmbeddedDefault({ ...document, listen: { host: '0.0.0.0', port: 8787 } }, secrets), undefined);
    const policy = document.policy as { rules: Array<Record<string, unknown>> };
    assert.equal(validatedEmbeddedDefault({ ...document, policy: { ...policy, rules: [{ ...policy.rules[0], effect: 'deny' }] } }, secrets), undefined);
  });

  it('a password file that cannot be read is refused, whoever runs it', () => {
    const dir = fresh();
    const document = embeddedDefault(dir);
    const failing = { ...secrets, readFile: () => { throw Object.assign(new Error('denied'), { code: 'EACCES' }); } };
    const stored = validatedEmbeddedDefault(document, failing);
    assert.ok(stored && !stored.ok);
    assert.deepEqual(stored, validateConfig(document, failing));
  });
});
