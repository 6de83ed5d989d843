/**
 * Red-team F16 (c): a private key in JWK form (RSA, EC, OKP, symmetric) is found by DLP like a PEM key —
 * masked whole in what the real filesystem server returns (oauth-secrets.json's shape, pretty-printed or
 * on one line), refused (PC_DLP_EXFILTRATION) when sent to a tool that can reach outside, which never
 * receives it. A public JWK passes unchanged. Keys are generated at run time.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

const LEAKY = new URL('../fixtures/dlp-server.ts', import.meta.url).pathname;

type Jwk = Record<string, string>;
const privateJwks = (): { ec: Jwk; rsa: Jwk; okp: Jwk; oct: Jwk } => ({
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, string>,
  rsa: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' }) as Record<string, string>,
  okp: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, string>,
  oct: { kty: 'oct', k: randomBytes(32).toString('base64url'), alg: 'HS256' },
});
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const privateValues = (jwk: Record<string, string>): string[] => PRIVATE.filter((m) => typeof jwk[m] === 'string').map((m) => jwk[m]!);

describe('DLP: private keys in JWK form', () => {
  let gw: TestGateway;
  let sandbox: string;
  let filesLog: string;
  let leakyLog: string;
  const keys = privateJwks();

  before(async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-jwk-')));
    sandbox = join(base, 'sandbox');
    mkdirSync(sandbox);
    filesLog = join(base, 'files.log');
    leakyLog = join(base, 'leaky.log');
    // The embedded authorization server's file shape, a JWK Set on one line, a key with the members reordered.
    writeFileSync(join(sandbox, 'secrets.json'), JSON.stringify({ signingKey: { ...keys.ec, kid: 'k1', alg: 'ES256', use: 'sig' }, cookieKey: 'x' }, null, 2));
    writeFileSync(join(sandbox, 'jwks.json'), JSON.stringify({ keys: [keys.rsa, keys.okp, keys.oct] }));
    const { kty, ...rest } = keys.rsa;
    writeFileSync(join(sandbox, 'reordered.json'), JSON.stringify({ ...rest, kty }));
    const { d: _d, ...publicEc } = keys.ec;
    writeFileSync(join(sandbox, 'public.json'), JSON.stringify(publicEc));
    gw = await startSecureGateway({
      servers: { files: recordedServer(filesLog, FILESYSTEM, [sandbox]), leaky: recordedServer(leakyLog, LEAKY) },
      policy: {
        rules: [
          { name: 'files-in-sandbox', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path', 'paths'], roots: [sandbox] } } },
          { name: 'leaky', effect: 'allow', servers: ['leaky'] },
        ],
      },
    });
  });
  after(async () => gw?.close());

  it('masks every private member of every key the filesystem server returns', async () => {
    const client = await legacyClient(`${gw.url}/mcp`);
    try {
      for (const [file, jwks] of [['secrets.json', [keys.ec]], ['jwks.json', [keys.rsa, keys.okp, keys.oct]], ['reordered.json', [keys.rsa]]] as const) {
        const result = await client.callTool({ name: 'files__read_text_file', arguments: { path: join(sandbox, file) } });
        const text = JSON.stringify(result);
        for (const jwk of jwks) for (const value of privateValues(jwk)) assert.ok(!text.includes(value), `${file}: a private member of a ${jwk.kty} key came back`);
        assert.match(text, /\[REDACTED:private-key#\d+\]/, file);
      }
      // The server did send them: the masking is the gateway's.
      assert.equal(callsReceived(filesLog).length, 3);
      const publicResult = JSON.stringify(await client.callTool({ name: 'files__read_text_file', arguments: { path: join(sandbox, 'public.json') } }));
      assert.ok(publicResult.includes(keys.ec.x!) && !publicResult.includes('REDACTED'), 'a public JWK passes unchanged');
    } finally {
      await client.close();
    }
  });

  it('refuses a private JWK sent to a tool that can reach outside; the server never receives it', async () => {
    const client = await legacyClient(`${gw.url}/mcp`);
    try {
      for (const jwk of Object.values(keys)) {
        for (const body of [JSON.stringify(jwk), { key: jwk }, `exported: ${JSON.stringify(JSON.stringify(jwk))}`]) {
          await assert.rejects(client.callTool({ name: 'leaky__send', arguments: { to: 'someone@example.org', body } }), (e: { data?: { code?: string } }) => e.data?.code === 'PC_DLP_EXFILTRATION', `${jwk.kty} ${typeof body}`);
        }
      }
      const received = JSON.stringify(callsReceived(leakyLog));
      for (const jwk of Object.values(keys)) for (const value of privateValues(jwk)) assert.ok(!received.includes(value));
    } finally {
      await client.close();
    }
  });
});
