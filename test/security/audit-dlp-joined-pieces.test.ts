/**
 * Red team M, M2: a call DLP refused because a secret was found only with its pieces read together
 * (two arguments, array items, a canary split, a key and its value) kept every piece in clear in its
 * audit record — the trail handed out the credential DLP had just stopped. One real gateway (HTTP
 * front), the SDK client, an SDK server (test/fixtures/payload-server.ts) behind the recording wrapper;
 * asserted on the audit store, read the way a reader puts the pieces back (keys and values in order,
 * joined), and on what the server received.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callToolText, type TestGateway } from '../helpers/gateway.ts';
import { startPayloadGateway } from '../helpers/secure.ts';
import { auditTrail } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const secrets = fakeSecrets();
const CANARY = ['CANARY', '482913'].join('-');
const aws = secrets.aws;
const CASES: Array<[string, Record<string, unknown>, string]> = [
  ['two arguments', { a: aws.slice(0, 8), b: aws.slice(8) }, aws],
  ['array items', { m: [aws.slice(0, 5), aws.slice(5, 10), aws.slice(10, 15), aws.slice(15)] }, aws],
  ['a canary over two arguments', { a: 'CANARY-', b: '482913' }, CANARY],
  ['a canary over array items', { m: ['CANARY', '-', '482913'] }, CANARY],
  ['a key and its value', { m: { [aws.slice(0, 8)]: aws.slice(8) } }, aws],
  ['a github token as character codes', { m: [...secrets.github].map((c) => c.charCodeAt(0)) }, secrets.github],
];
/**
 * What a reader puts back: keys and string values in order, joined — and values alone (`withKeys`
 * false); numbers read as character codes where an array is all codes.
 */
function joinedText(value: unknown, withKeys = true): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.every((v) => typeof v === 'number') ? String.fromCharCode(...(value as number[])) : value.map((v) => joinedText(v, withKeys)).join('');
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([k, v]) => (withKeys ? k : '') + joinedText(v, withKeys)).join('');
  return '';
}
const holds = (value: unknown, secret: string): boolean => joinedText(value).includes(secret) || joinedText(value, false).includes(secret);

let gw: TestGateway;
let dataDir: string;
before(async () => {
  ({ gw, dataDir } = await startPayloadGateway('pc-audit-joined-', {}, {
    results: { secrets: 'mask' },
    arguments: { secrets: 'block' },
    patterns: [{ name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block' }],
  }));
});
after(async () => gw?.close());

describe('M2: the audit record of a call refused for a secret in pieces', () => {
  for (const [name, args, value] of CASES) {
    it(`masks every piece: ${name}`, async () => {
      const got = await callToolText(`${gw.url}/mcp/evil`, 'send', args);
      assert.match(got, /PC_DLP_EXFILTRATION|refused/, got.slice(0, 300));
      const records = auditTrail(dataDir).filter((r) => r.target === 'send');
      assert.ok(records.length > 0, 'no record of the call');
      for (const record of records) assert.ok(!holds(record.args, value), `the record keeps the pieces: ${JSON.stringify(record.args).slice(0, 60).replace(/[A-Z0-9]{4}/g, '…')}`);
      assert.ok(!holds(readFileSync(join(dataDir, 'received.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)), value), 'the server received it');
    });
  }
});
