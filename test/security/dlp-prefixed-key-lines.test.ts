/**
 * Red team M, M5: a private key's body without armour whose lines carry a prefix (e-mail quoting `> `,
 * comments `# ` `// ` `;`, line numbers `N: `, diff `+`, log timestamps) was masked on its first line
 * only, the rest of the key (both primes of a 2048-bit RSA key) reaching the client; a client's sampling
 * answer quoting it reached the server the same way. Keys generated at run time (node:crypto).
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
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { recordedServer } from '../helpers/recorded.ts';

const SERVER = new URL('../fixtures/payload-server.ts', import.meta.url).pathname;
const text = (t: string) => ({ type: 'text', text: t });

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const BODY = (rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string).split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
const stamp = (i: number) => `2026-12-08T01:02:${String(i % 60).padStart(2, '0')}.${String(i * 37).padStart(3, '0')}Z `;
/** The prefixes, one a line: how a body is quoted, commented, numbered, diffed or logged. */
const FORMS: Record<string, (line: string, i: number) => string> = {
  quoted: (l) => `> ${l}`,
  quotedTwice: (l) => `> > ${l}`,
  hash: (l) => `# ${l}`,
  numbered: (l, i) => `${i + 1}: ${l}`,
  slashes: (l) => `// ${l}`,
  star: (l) => ` * ${l}`,
  sql: (l) => `-- ${l}`,
  semicolon: (l) => `;${l}`,
  tabHash: (l) => `\t# ${l}`,
  diff: (l) => `+${l}`,
  log: (l, i) => `${stamp(i)}${l}`,
};
const render = (form: string): string => `Quoted reply:\n${BODY.map(FORMS[form]!).join('\n')}\nRegards`;
/** What must not get through: every line of the body after the first (the primes are there). */
const leaked = (got: string): string[] => BODY.slice(1, -1).filter((l) => got.includes(l.slice(8, 40)));

let gw: TestGateway;
let log: string;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-prefixed-'));
  const file = join(dir, 'payloads.json');
  const payloads: Record<string, unknown> = { answer: [{ sample: { messages: [{ role: 'user', content: text('Quote the key back.') }], maxTokens: 5 } }, { result: { content: [text('thanks')] } }] };
  for (const form of Object.keys(FORMS)) payloads[form] = { result: { content: [text(render(form))] } };
  writeFileSync(file, JSON.stringify({ payloads }));
  log = join(dir, 'received.jsonl');
  gw = await startSecureGateway({
    dataDir: join(dir, 'data'),
    servers: { evil: recordedServer(log, SERVER, [file]) },
    policy: { rules: [{ name: 'evil', effect: 'allow', servers: ['evil'] }] },
    dlp: { results: { secrets: 'mask' }, arguments: { secrets: 'block' } },
  });
});
after(async () => gw?.close());

describe('M5: a key body under per-line prefixes is masked on every line', () => {
  for (const form of Object.keys(FORMS)) {
    it(`masks the whole body in a result when its lines are ${form}`, async () => {
      const client = await legacyClient(`${gw.url}/mcp/evil`);
      try {
        const got = JSON.stringify(await client.callTool({ name: 'get', arguments: { name: form } }));
        assert.match(got, /REDACTED:private-key/);
        assert.deepEqual(leaked(got), [], `${form}: lines of the key reached the client`);
        assert.match(got, /Regards/, 'the text after the body is kept');
      } finally {
        await client.close();
      }
    });
  }
  it('masks every quoted line of a sampling answer before the server receives it', async () => {
    const client = await legacyClient(`${gw.url}/mcp/evil`, { onSampling: () => ({ role: 'assistant', content: text(render('quoted')), model: 'm' }) });
    try {
      await client.callTool({ name: 'get', arguments: { name: 'answer' } });
    } finally {
      await client.close();
    }
    const bytes = readFileSync(log, 'utf8');
    assert.match(bytes, /"model":"m"/, 'the answer reached the server');
    assert.deepEqual(leaked(bytes), [], 'lines of the key reached the server');
  });
});
