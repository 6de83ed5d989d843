/**
 * Issue 12 "Data at rest": the data dir is 0700 and every file the identity layer writes is 0600 (also
 * under a permissive umask), OAuth artefacts whose id is the secret (refresh tokens, registration access
 * tokens, codes) are stored by hash — their values appear nowhere in identity.db or its WAL — and
 * `status` and `config check` warn about looser modes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { IdentityStore } from '../../src/auth/store.ts';
import { embeddedDefault } from '../../src/config/defaults.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { authorizeWithBrowser, launchBrowser, startCallback } from '../helpers/browser.ts';
import { runCliProcess as runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { authorizeUrl, pkcePair, register, tokenRequest } from '../helpers/oauth.ts';

const PASSWORD = randomBytes(12).toString('base64url');
const mode = (path: string): number => statSync(path).mode & 0o777;

describe('security: identity data at rest', () => {
  let gw: TestGateway;
  let dataDir: string;
  let previousUmask: number;

  before(async () => {
    // The harness runs the gateway in-process, without main.ts's umask: a permissive one proves the
    // modes come from the code, not from the environment.
    previousUmask = process.umask(0o022);
    dataDir = join(mkdtempSync(join(tmpdir(), 'pc-rest-')), 'data');
    gw = await startSecureGateway(
      { dataDir, servers: {}, identity: { scopes: ['mcp'], embedded: { users: [{ username: 'alice', password: 'env:PC_TEST_ALICE', scopes: ['mcp'] }] } } },
      processSecretSource({ ...process.env, PC_TEST_ALICE: PASSWORD }),
    );
  });
  after(async () => {
    await gw?.close();
    process.umask(previousUmask);
  });

  it('keeps the data dir 0700 and identity.db, its -wal and -shm, and the signing keys 0600', async () => {
    assert.equal(mode(dataDir), 0o700);
    for (const file of ['identity.db', 'identity.db-wal', 'identity.db-shm', 'oauth-secrets.json']) {
      assert.ok(existsSync(join(dataDir, file)), file);
      assert.equal(mode(join(dataDir, file)), 0o600, file);
    }
    const other = mkdtempSync(join(tmpdir(), 'pc-default-'));
    chmodSync(other, 0o755);
    embeddedDefault(other);
    assert.equal(mode(other), 0o700, 'an existing looser data dir is narrowed');
    assert.equal(mode(join(other, 'login-password')), 0o600);
    assert.equal(mode(join(other, 'sandbox')), 0o700);
  });

  it('stores refresh tokens, registration access tokens and codes only by hash', async () => {
    const browser = await launchBrowser();
    const callback = await startCallback();
    try {
      const client = await register(gw.url, { client_name: 'at-rest', redirect_uris: [callback.url], grant_types: ['authorization_code', 'refresh_token'] });
      assert.equal(client.status, 201);
      const rat = client.body.registration_access_token as string;
      assert.ok(rat, 'a registration access token was issued');
      const { verifier, challenge } = pkcePair();
      const resource = `${gw.url}/mcp`;
      const context = await browser.context();
      const url = await authorizeWithBrowser(context, authorizeUrl(gw.url, { client_id: client.body.client_id, redirect_uri: callback.url, resource, scope: 'mcp offline_access', prompt: 'consent', code_challenge: challenge, code_challenge_method: 'S256' }), { username: 'alice', password: PASSWORD, redirect: callback.url });
      await context.close();
      const code = url.searchParams.get('code')!;
      const token = await tokenRequest(gw.url, { grant_type: 'authorization_code', client_id: client.body.client_id, code, code_verifier: verifier, redirect_uri: callback.url, resource });
      assert.ok(token.body.refresh_token, JSON.stringify(token.body));
      // The registration access token still works (looked up by hash).
      const read = await fetch(client.body.registration_client_uri, { headers: { authorization: `Bearer ${rat}` } });
      assert.equal(read.status, 200);
      const bytes = readdirSync(dataDir).filter((f) => f.startsWith('identity.db')).map((f) => readFileSync(join(dataDir, f)).toString('latin1')).join('');
      for (const [what, value] of [['refresh token', token.body.refresh_token], ['registration access token', rat], ['authorization code', code]] as const) {
        assert.ok(!bytes.includes(value), `the ${what} is not stored in clear`);
      }
    } finally {
      await browser.close();
      await callback.close();
    }
  });

  it('drops artefacts an older version stored in clear, once, when the database is opened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-upgrade-'));
    const path = join(dir, 'identity.db');
    new IdentityStore(path).close();
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 0; INSERT INTO oauth (model, id, payload) VALUES ('RefreshToken', 'clear-refresh-token', '{}'), ('Grant', 'g1', '{}')");
    db.close();
    const store = new IdentityStore(path);
    store.close();
    const after = new DatabaseSync(path, { readOnly: true });
    const rows = after.prepare('SELECT model, id FROM oauth').all() as Array<{ model: string; id: string }>;
    after.close();
    assert.deepEqual(rows.map((r) => r.model), ['Grant'], 'the clear refresh token is gone; grants (public ids) stay');
  });

  it('`status` and `config check` warn when a file or the directory is readable by others', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'pc-cfg-')), 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\nidentity: { embedded: {} }\nservers: {}\n`);
    // audit.db is the audit layer's (main.ts's umask covers it in a real run; this process's is 022).
    const quiet = await runCli(['config', 'check', '-c', config]);
    assert.doesNotMatch(quiet.stderr, /readable by others: \S*(identity\.db|oauth-secrets|data )/);
    // Opening identity.db narrows the modes again, so each command gets loose ones to find.
    const loosen = (): void => {
      chmodSync(join(dataDir, 'identity.db'), 0o644);
      chmodSync(dataDir, 0o755);
    };
    loosen();
    try {
      const checked = await runCli(['config', 'check', '-c', config]);
      assert.equal(checked.code, 0);
      assert.match(checked.stderr, /readable by others: .*identity\.db is 0644 \(want 0600/);
      assert.match(checked.stderr, /readable by others: .*data is 0755 \(want 0700/);
      assert.equal(mode(join(dataDir, 'identity.db')), 0o600, 'and narrowed once the store was opened');
      loosen();
      const status = await runCli(['status', '-c', config]);
      assert.match(status.stdout, /WARNING readable by others: .*identity\.db is 0644/);
      loosen();
      const json = JSON.parse((await runCli(['status', '--json', '-c', config])).stdout);
      assert.equal(json.looseModes.filter((m: string) => /identity\.db |data is/.test(m)).length, 2);
    } finally {
      chmodSync(join(dataDir, 'identity.db'), 0o600);
      chmodSync(dataDir, 0o700);
    }
  });
});
