/**
 * Red team "redteam-data" F5, F6, F2 (server side), F10: what a hostile server puts outside the strings
 * DLP used to read — a card number as a JSON number, a secret as an object key in `_meta`, `error.data`,
 * log data or a sampling request's metadata, text after a PNG or PDF header in a blob — reaches the
 * client masked, and the audit trail names no secret-holding key in a finding's path. One real gateway
 * (HTTP front, shipped defaults plus a dlp section), the SDK client, and an SDK server that answers with
 * what the test wrote (test/fixtures/payload-server.ts); each test asserts on what the client received
 * and on the audit store's bytes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startPayloadGateway } from '../helpers/secure.ts';
import { auditTrail } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { fakePersonalData } from '../helpers/personal-data.ts';

const secrets = fakeSecrets();
const card = fakePersonalData().card.replace(/\D/g, '');
const text = (t: string) => ({ type: 'text', text: t });
const ok = { content: [text('ok')] };
/** A PNG header (with its NULs) and a PDF header, each followed by text that holds a key. */
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0]), Buffer.from(`tEXtComment\u0000key ${secrets.aws} end`), Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44])]);
const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n', 'latin1'), Buffer.from([0, 1, 2, 3, 0xff, 0xfe]), Buffer.from(`<< /Title (${secrets.github}) >>\nendobj\n%%EOF`)]);

const PAYLOADS: Record<string, unknown> = {
  numStructured: { result: { content: [text('see structured')], structuredContent: { card: Number(card) } } },
  numErrorData: { throw: { code: -32000, message: 'failed', data: Number(card) } },
  numLog: [{ log: { level: 'error', data: Number(card) } }, { result: ok }],
  metaKey: { result: { content: [text('ok')], _meta: { [secrets.aws]: 1 } } },
  errorDataKey: { throw: { code: -32000, message: 'failed', data: { [secrets.github]: 1 } } },
  logKey: [{ log: { level: 'error', data: { [secrets.github]: 'x' } } }, { result: ok }],
  samplingKey: [{ sample: { messages: [{ role: 'user', content: text('hi') }], maxTokens: 5, metadata: { [secrets.slack]: 'v' } } }, { result: ok }],
  metaKeyPath: { result: { content: [text('ok')], _meta: { [secrets.github]: { inner: `key ${secrets.aws}` } } } },
  errorKeyPath: { throw: { code: -32000, message: 'failed', data: { [secrets.github]: { inner: `key ${secrets.aws}` } } } },
  pngBlob: { result: { content: [{ type: 'image', mimeType: 'image/png', data: png.toString('base64') }] } },
  pdfBlob: { result: { content: [{ type: 'resource', resource: { uri: 'mem://doc.pdf', mimeType: 'application/pdf', blob: pdf.toString('base64') } }] } },
};

// One describe for the file: its hooks run before and after its own tests, also when files share a process.
describe('DLP data paths (red team F2, F5, F6, F10)', () => {
  let gw: TestGateway;
  let dataDir: string;
  before(async () => {
    ({ gw, dataDir } = await startPayloadGateway('pc-dlp-paths-', PAYLOADS));
  });
  after(async () => gw?.close());

  /** Plays payload `name` to the SDK client: what it received (result or error, and notifications and sampling requests). */
  async function play(name: string): Promise<string> {
    const seen: unknown[] = [];
    const client = await legacyClient(`${gw.url}/mcp/evil`, { onSampling: (params) => (seen.push({ sampling: params }), { role: 'assistant', content: text('fine'), model: 'm' }) });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void seen.push({ log: n.params }));
    await client.setLoggingLevel('debug');
    try {
      seen.push(await client.callTool({ name: 'get', arguments: { name } }));
    } catch (error) {
      seen.push({ error: (error as Error).message, data: (error as { data?: unknown }).data });
    } finally {
      await client.close();
    }
    return JSON.stringify(seen);
  }

  const assertNone = (haystack: string, values: readonly string[], where: string): void => {
    for (const value of values) assert.ok(!haystack.includes(value), `${where} holds ${value.slice(0, 6)}… in clear: ${haystack.slice(0, 400)}`);
  };

  describe('F5: numbers are inspected wherever a server sends them', () => {
    for (const name of ['numStructured', 'numErrorData', 'numLog']) {
      it(`masks a card number sent as a JSON number (${name})`, async () => {
        const got = await play(name);
        assertNone(got, [card], name);
        assert.match(got, /REDACTED:/, `${name}: the number was masked, not dropped`);
      });
    }
  });

  describe('F6: object keys are inspected everywhere a server puts them', () => {
    const cases: Array<[string, string]> = [
      ['metaKey', secrets.aws],
      ['errorDataKey', secrets.github],
      ['logKey', secrets.github],
      ['samplingKey', secrets.slack],
    ];
    for (const [name, value] of cases) {
      it(`renames a secret-holding key to its mask (${name})`, async () => {
        const got = await play(name);
        assertNone(got, [value], name);
        assert.match(got, /\[REDACTED:[a-z0-9-]+#\d+\]/, `${name}: the key was renamed to its mask`);
      });
    }
  });

  describe('F2 (server side): a finding path never spells a secret-holding key', () => {
    for (const name of ['metaKeyPath', 'errorKeyPath']) {
      it(`records the finding under the masked key (${name})`, async () => {
        const got = await play(name);
        assertNone(got, [secrets.github, secrets.aws], name);
        const records = auditTrail(dataDir).filter((r) => r.dlp?.some((f) => /inner/.test(f.path)));
        assert.ok(records.length > 0, 'the finding under the key is recorded');
        assertNone(readFileSync(join(dataDir, 'audit.db')).toString('latin1'), [secrets.github, secrets.aws], 'the audit store');
      });
    }
  });

  describe('F10: text inside binary blobs is read', () => {
    it('masks a key after a PNG header in an image, keeping the image binary', async () => {
      const got = await play('pngBlob');
      const data = /"data":"([^"]+)"/.exec(got)?.[1];
      assert.ok(data, got.slice(0, 300));
      const bytes = Buffer.from(data, 'base64');
      assertNone(bytes.toString('latin1'), [secrets.aws], 'the image bytes');
      assert.deepEqual([...bytes.subarray(0, 8)], [...png.subarray(0, 8)], 'the PNG header is kept');
    });
    it('masks a key in the text of a PDF blob', async () => {
      const got = await play('pdfBlob');
      const blob = /"blob":"([^"]+)"/.exec(got)?.[1];
      assert.ok(blob, got.slice(0, 300));
      assertNone(Buffer.from(blob, 'base64').toString('latin1'), [secrets.github], 'the PDF bytes');
    });
  });
});
