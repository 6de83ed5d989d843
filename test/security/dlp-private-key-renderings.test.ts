/**
 * Red team J, F4: a private key printed as `openssl pkey|ec -text -noout` prints it (labelled colon hex)
 * or as `xxd -p key.der` writes its DER (hex, 60 columns) was not found, in results or in arguments,
 * while its PEM was. Keys generated at run time (node:crypto), rendered the way those tools render them.
 * One real gateway (HTTP front), the SDK client, an SDK server answering with what the test wrote
 * (test/fixtures/payload-server.ts) behind the recording wrapper; asserted on what the client received
 * and on every byte the server received.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callToolText, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { recordedServer } from '../helpers/recorded.ts';

const SERVER = new URL('../fixtures/payload-server.ts', import.meta.url).pathname;

/** Bytes as openssl's `-text` prints them: `xx:` pairs, 15 a line, each line indented by four spaces. */
const colonHex = (bytes: Buffer): string => {
  const pairs = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += 15) lines.push(`    ${pairs.slice(i, i + 15).join(':')}${i + 15 < pairs.length ? ':' : ''}`);
  return lines.join('\n');
};
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ecJwk = ec.privateKey.export({ format: 'jwk' });
const ecPriv = Buffer.from(ecJwk.d!, 'base64url');
const EC_TEXT = `Private-Key: (256 bit)\npriv:\n${colonHex(ecPriv)}\npub:\n${colonHex(Buffer.concat([Buffer.from([4]), Buffer.from(ecJwk.x!, 'base64url'), Buffer.from(ecJwk.y!, 'base64url')]))}\nASN1 OID: prime256v1\nNIST CURVE: P-256\n`;
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const der = rsa.privateKey.export({ format: 'der', type: 'pkcs8' });
const XXD = (der.toString('hex').match(/.{1,60}/g) ?? []).join('\n');
/** Red team M, M4: the EC key's PKCS#8 DER as byte lists — colon hex, Python's `list(der)`, `xxd -i` (12 a line) — and as base64 reversed. */
const ecDer = ec.privateKey.export({ format: 'der', type: 'pkcs8' });
const ecHex = [...ecDer].map((b) => b.toString(16).padStart(2, '0'));
const BYTE_LISTS: Record<string, string> = {
  colonHex: ecHex.join(':'),
  decimal: `[${[...ecDer].join(', ')}]`,
  reversedBase64: [...ecDer.toString('base64')].reverse().join(''),
  xxdI: `unsigned char key_der[] = {\n${Array.from({ length: Math.ceil(ecHex.length / 12) }, (_, i) => `  ${ecHex.slice(12 * i, 12 * i + 12).map((h) => `0x${h}`).join(', ')}`).join(',\n')}\n};`,
};
/** A PuTTY v3 `.ppk` of an Ed25519 key: its `Private-Lines` are the key (an SSH string of the 32-byte seed). */
const edSeed = Buffer.from(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }).d!, 'base64url');
const PPK_PRIVATE = Buffer.concat([Buffer.from([0, 0, 0, 32]), edSeed]).toString('base64');
const PPK = `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIB4k9Xr2Qw8Y\nt6Zc1Vb3Nm5Lp7Hj9Gf2Ds4Aa6Ss8Dd\nPrivate-Lines: 1\n${PPK_PRIVATE}\nPrivate-MAC: ${'0f'.repeat(32)}\n`;
/** The private scalar (after `04 20` in the DER), as each list writes it: what must not get through. */
const scalar = [...ecPriv];
const LIST_MARKS = [[...ecDer.toString('base64')].reverse().join('').slice(8, 72), scalar.map((b) => b.toString(16).padStart(2, '0')).join(':'), scalar.slice(0, 12).join(', '), scalar.slice(0, 6).map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')];
/** What must not get through: the private scalar as printed, and pieces of the DER's hex. */
const EC_MARK = colonHex(ecPriv).split('\n')[0]!.trim();
const XXD_MARKS = XXD.split('\n').slice(2, 5);

let gw: TestGateway;
let log: string;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-keys-'));
  const file = join(dir, 'payloads.json');
  const one = (t: string) => ({ result: { content: [{ type: 'text', text: t }] } });
  const lists = Object.fromEntries(Object.entries(BYTE_LISTS).map(([name, text]) => [name, one(`the key's bytes:\n${text}\n`)]));
  writeFileSync(file, JSON.stringify({ payloads: { ecText: one(`$ openssl ec -in key.pem -text -noout\n${EC_TEXT}`), xxd: one(`$ xxd -p key.der\n${XXD}\n`), flush: one(`priv:\n${colonHex(ecPriv).replace(/^ +/gm, '')}`), ppk: one(PPK), ...lists } }));
  log = join(dir, 'received.jsonl');
  gw = await startSecureGateway({
    dataDir: join(dir, 'data'),
    servers: { evil: recordedServer(log, SERVER, [file]) },
    policy: { rules: [{ name: 'evil', effect: 'allow', servers: ['evil'] }] },
    dlp: { results: { secrets: 'mask' }, arguments: { secrets: 'block' } },
  });
});
after(async () => gw?.close());

const call = (name: string, args: Record<string, unknown>): Promise<string> => callToolText(`${gw.url}/mcp/evil`, name, args);

describe('F4: private keys in the renderings tools print them in', () => {
  it('masks an EC key printed by openssl -text in a result', async () => {
    const got = await call('get', { name: 'ecText' });
    assert.ok(!got.includes(EC_MARK), got.slice(0, 400));
    assert.match(got, /REDACTED:private-key/);
  });
  it('masks an RSA key DER printed by xxd -p in a result', async () => {
    const got = await call('get', { name: 'xxd' });
    for (const mark of XXD_MARKS) assert.ok(!got.includes(mark), got.slice(0, 400));
    assert.match(got, /REDACTED:private-key/);
  });
  it('refuses both as arguments of an open-world tool: the server never receives them', async () => {
    for (const body of [EC_TEXT, XXD]) {
      const got = await call('send', { to: 'x', body });
      assert.match(got, /PC_DLP_EXFILTRATION|refused/, got.slice(0, 300));
    }
    const bytes = readFileSync(log, 'utf8');
    assert.ok(!bytes.includes(EC_MARK) && !XXD_MARKS.some((m) => bytes.includes(m)), 'a key reached the server');
  });
});

describe('M4: a private key\'s DER written as a byte list, and openssl\'s text pasted flush left', () => {
  for (const name of [...Object.keys(BYTE_LISTS), 'flush']) {
    it(`masks ${name} in a result`, async () => {
      const got = await call('get', { name });
      for (const mark of [...LIST_MARKS, EC_MARK]) assert.ok(!got.includes(mark), got.slice(0, 400));
      assert.match(got, /REDACTED:private-key/);
    });
  }
  it('masks the private lines of a PuTTY .ppk in a result', async () => {
    const got = await call('get', { name: 'ppk' });
    assert.ok(!got.includes(PPK_PRIVATE), got.slice(0, 400));
    assert.match(got, /REDACTED:private-key/);
  });
  it('refuses each as arguments of an open-world tool: the server never receives them', async () => {
    for (const body of [...Object.values(BYTE_LISTS), PPK]) {
      const got = await call('send', { to: 'x', body });
      assert.match(got, /PC_DLP_EXFILTRATION|refused/, got.slice(0, 300));
    }
    const bytes = readFileSync(log, 'utf8');
    assert.ok(![...LIST_MARKS, PPK_PRIVATE].some((m) => bytes.includes(m)), 'a key reached the server');
  });
});
