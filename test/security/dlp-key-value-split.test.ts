/**
 * Red team M, M3: a secret, a `block` pattern's value or an e-mail address cut between an object's key
 * and its value (`{"AKIAQ3EG": "RT5XK7MZP2LW"}`, `{"CANARY-": "482913"}`, keys as halves) reached an
 * open-world tool, in `tools/call` arguments and `params._meta` and in `prompts/get` arguments: the
 * key+value joins were read on results only. One real gateway (HTTP front), the SDK client, an SDK
 * server (test/fixtures/payload-server.ts) behind the recording wrapper; asserted on every byte the
 * server received, with what a receiver does: keys and values read in order, joined.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startPayloadGateway } from '../helpers/secure.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const secrets = fakeSecrets();
const CANARY = ['CANARY', '482913'].join('-');
const EMAIL = ['jo.smith', 'example.org'].join('@');
const cut = (value: string, at: number): [string, string] => [value.slice(0, at), value.slice(at)];
const [awsKey, awsValue] = cut(secrets.aws, 8);
const [ghA, ghB] = cut(secrets.github, 20);
/** Each shape's object, and the value it hides. */
const SHAPES: Array<[string, Record<string, unknown>, string]> = [
  ['a key and its value', { [awsKey]: awsValue }, secrets.aws],
  ['a canary as key and value', { [cut(CANARY, 7)[0]]: cut(CANARY, 7)[1] }, CANARY],
  ['a canary as key and value without its dash', { CANARY: '482913' }, 'CANARY482913'],
  ['keys as halves of one object', { [ghA]: 1, [ghB]: 2 }, secrets.github],
  ['an e-mail address as key and value (pii: block)', { 'jo.smith@': 'example.org' }, EMAIL],
];
/** What a receiver makes of the message: every key and string value in order, joined (and without `-`). */
function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(joinedText).join('');
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([k, v]) => k + joinedText(v)).join('');
  return '';
}

let gw: TestGateway;
let dataDir: string;
before(async () => {
  ({ gw, dataDir } = await startPayloadGateway('pc-dlp-kv-', {}, {
    results: { secrets: 'mask', pii: 'mask', injection: 'flag' },
    arguments: { secrets: 'block', pii: 'block' },
    patterns: [{ name: 'canary', regex: 'CANARY-?[0-9]{6}', action: 'block' }],
  }, { prompts: [{ name: 'p', description: 'A prompt.' }] }));
});
after(async () => gw?.close());

function assertNothingReached(): void {
  const lines = readFileSync(join(dataDir, 'received.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const seen = lines.map((l) => joinedText(JSON.parse(l))).join('\n');
  for (const [name, , hidden] of SHAPES) assert.ok(!seen.includes(hidden), `${name}: the server received it`);
}

describe('M3: a value cut between an object\'s keys and values, client to server', () => {
  for (const [name, shape] of SHAPES) {
    it(`refuses ${name} in tools/call arguments and params._meta, and in prompts/get arguments`, async () => {
      const client = await legacyClient(`${gw.url}/mcp/evil`);
      try {
        await assert.rejects(client.callTool({ name: 'send', arguments: { to: 'x', body: shape } }), /PC_DLP_EXFILTRATION|refused/);
        await assert.rejects(client.callTool({ name: 'send', arguments: { to: 'x', body: 'hi' }, _meta: { trace: shape } }), /PC_DLP_EXFILTRATION|refused/);
        const [key, value] = Object.entries(shape)[0]!;
        if (typeof value === 'string') await assert.rejects(client.getPrompt({ name: 'p', arguments: { [key]: value } }), /PC_DLP_EXFILTRATION|refused/);
      } finally {
        await client.close();
      }
      assertNothingReached();
    });
  }

  it('still passes ordinary keys and values', async () => {
    const client = await legacyClient(`${gw.url}/mcp/evil`);
    try {
      const result = await client.callTool({ name: 'send', arguments: { to: 'x', body: { Region: 'eu-west-1', OrderId: 'ORD-2026-0042', Name: 'Ada' } } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'ok' }]);
    } finally {
      await client.close();
    }
  });
});
