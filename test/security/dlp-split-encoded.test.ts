/**
 * Red team C3 and C9 (the rest): secrets that evaded DLP by how they were written — as string
 * literals joined in code, in CSS and other backslash escapes, split between an object's keys and
 * values, as UTF-16 or UTF-32 text inside base64, as Ascii85; a private key printed one PEM line per
 * log row of an array; a card number grouped with underscores or other separators. One real gateway
 * (HTTP front, shipped defaults plus a dlp section), the SDK client, and an SDK server answering with
 * what the test wrote (test/fixtures/payload-server.ts). Each test asserts on what the client received:
 * neither the secret nor any piece of it that a reader could join again is left.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startPayloadGateway } from '../helpers/secure.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { fakePersonalData } from '../helpers/personal-data.ts';

const secrets = fakeSecrets();
const aws = secrets.aws;
const github = secrets.github;
const text = (t: string) => ({ type: 'text', text: t });
const structured = (value: unknown) => ({ result: { content: [text('see structured')], structuredContent: value } });
const plain = (t: string) => ({ result: { content: [text(t)] } });

/** CSS escape of each character (`\41 ` with the space that ends it). */
const css = (s: string): string => [...s].map((c) => `\\${c.charCodeAt(0).toString(16)} `).join('');
const utf32 = (s: string, bigEndian: boolean): Buffer => {
  const out = Buffer.alloc(4 * s.length);
  [...s].forEach((c, i) => (bigEndian ? out.writeUInt32BE(c.codePointAt(0)!, 4 * i) : out.writeUInt32LE(c.codePointAt(0)!, 4 * i)));
  return out;
};
/** Ascii85 (Adobe's alphabet), written here rather than taken from a library. */
function ascii85(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const group = Buffer.alloc(4);
    bytes.copy(group, 0, i, Math.min(i + 4, bytes.length));
    let value = group.readUInt32BE(0);
    const digits: string[] = [];
    for (let k = 0; k < 5; k++) {
      digits.unshift(String.fromCharCode(33 + (value % 85)));
      value = Math.floor(value / 85);
    }
    out += digits.slice(0, Math.min(5, bytes.length - i + 1)).join('');
  }
  return out;
}
const pem = (generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).trim().split('\n');
const logRows = pem.map((line, i) => `2026-12-07T10:00:${String(i).padStart(2, '0')}Z app[12]: ${line}`);
const card = fakePersonalData().card.replace(/\D/g, '');
const grouped = (sep: string): string => card.match(/.{1,4}/g)!.join(sep);

/** Per payload: what the server answers, and what must not reach the client (the secret and the pieces a reader joins). */
const CASES: Record<string, { step: unknown; gone: string[] }> = {
  concatPlus: { step: plain(`const key = "${aws.slice(0, 4)}" + "${aws.slice(4)}";`), gone: [aws.slice(4)] },
  concatPhp: { step: plain(`$t = '${github.slice(0, 4)}' . '${github.slice(4, 20)}' . '${github.slice(20)}';`), gone: [github.slice(4, 20), github.slice(20)] },
  concatJoin: { step: plain(`token = "".join(["${github.slice(0, 12)}", "${github.slice(12)}"])`), gone: [github.slice(12)] },
  concatSql: { step: plain(`SELECT '${aws.slice(0, 9)}' || '${aws.slice(9)}' AS k`), gone: [aws.slice(9)] },
  cssEscapes: { step: plain(`.k::after { content: "${css(aws.slice(0, 4))}${aws.slice(4)}"; }`), gone: [aws.slice(4)] },
  longUnicode: { step: plain(`k = "\\U00000041${aws.slice(1)}"`), gone: [aws.slice(1)] },
  perlHex: { step: plain(`my $k = "\\x{41}${aws.slice(1)}";`), gone: [aws.slice(1)] },
  keyValue: { step: structured({ [aws.slice(0, 8)]: aws.slice(8) }), gone: [aws.slice(8)] },
  adjacent: { step: structured({ config: { note: 'rotated', [github.slice(0, 20)]: github.slice(20), region: 'eu' } }), gone: [github.slice(0, 20), github.slice(20)] },
  utf32Text: { step: plain(`payload ${utf32(`key ${aws}`, false).toString('base64')}`), gone: [utf32(`key ${aws}`, false).toString('base64')] },
  utf32Blob: { step: { result: { content: [{ type: 'resource', resource: { uri: 'mem://k.txt', mimeType: 'text/plain', blob: utf32(`key ${aws} end`, true).toString('base64') } }] } }, gone: [] },
  utf16Blob: { step: { result: { content: [{ type: 'resource', resource: { uri: 'mem://k.txt', mimeType: 'text/plain', blob: Buffer.from(`\ufeffkey ${aws} end`, 'utf16le').toString('base64') } }] } }, gone: [] },
  ascii85Raw: { step: plain(`blob ${ascii85(Buffer.from(`deploy key ${aws} ok`))} end`), gone: [ascii85(Buffer.from(`deploy key ${aws} ok`))] },
  ascii85Adobe: { step: plain(`<~${ascii85(Buffer.from(`${github} is the token`))}~>`), gone: [ascii85(Buffer.from(`${github} is the token`))] },
  pemRows: { step: structured({ logs: logRows }), gone: pem.slice(1, -1) },
  pemRowObjects: { step: structured({ logs: logRows.map((row) => ({ ts: row.slice(0, 20), line: row.slice(21) })) }), gone: pem.slice(1, -1) },
  cardUnderscores: { step: plain(`card on file: ${grouped('_')}`), gone: [grouped('_')] },
  cardBullets: { step: plain(`card on file: ${grouped('\u2022')}`), gone: [grouped('\u2022')] },
};

// One describe for the file: its hooks run before and after its own tests, also when files share a process.
describe('DLP split and encoded values', () => {
  let gw: TestGateway;
  before(async () => {
    ({ gw } = await startPayloadGateway('pc-dlp-split-', Object.fromEntries(Object.entries(CASES).map(([name, c]) => [name, c.step]))));
  });
  after(async () => gw?.close());

  /** What the SDK client received for payload `name`, with every blob decoded as UTF-8, UTF-16 and UTF-32 beside it. */
  async function play(name: string): Promise<string> {
    const client = await legacyClient(`${gw.url}/mcp/evil`);
    try {
      const got = JSON.stringify(await client.callTool({ name: 'get', arguments: { name } }));
      const blobs = [...got.matchAll(/"blob":"([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64'));
      const readings = blobs.flatMap((b) => [b.toString('utf8'), b.toString('utf16le'), Buffer.from(b).swap16().toString('utf16le'), [...Array(b.length >> 2).keys()].map((i) => String.fromCodePoint(Math.min(b.readUInt32BE(4 * i), 0x10ffff))).join('')]);
      return [got, ...readings].join('\n');
    } finally {
      await client.close();
    }
  }

  describe('DLP on secrets split or encoded past the detectors (red team C3, C9)', () => {
    for (const [name, { gone }] of Object.entries(CASES)) {
      it(`leaves nothing of the secret in what the client receives (${name})`, async () => {
        const got = await play(name);
        assert.match(got, /REDACTED:|\*{8}/, `${name}: nothing was masked: ${got.slice(0, 300)}`);
        for (const value of [aws, github, card, ...gone]) assert.ok(!got.includes(value), `${name}: the client received ${value.slice(0, 8)}…: ${got.slice(0, 400)}`);
      });
    }
  });
});
