/**
 * Red team C2: a secret written in Unicode tag characters (one per ASCII character) or in variation
 * selectors (one per byte) renders as nothing but is read by models. DLP decodes both (the
 * `decoded:tags` and `decoded:variation-selectors` views): masked in results (content and
 * structuredContent), refused in the arguments of an open-world tool (the server receives nothing), and
 * kept out of the audit trail. Asserted on what the client received and what the server received,
 * after decoding the hidden characters.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, recording } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { openLegacySession, type LegacySession } from '../helpers/sessions.ts';

const NOTIFYING = new URL('../fixtures/notifying-server.ts', import.meta.url).pathname;
const secrets = fakeSecrets();
const VALUES = [secrets.github, secrets.aws];
const tagged = (text: string): string => [...text].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const selected = (text: string): string => [...Buffer.from(text)].map((b) => String.fromCodePoint(b < 16 ? 0xfe00 + b : 0xe0100 + b - 16)).join('');

/** What a model reads: the text with tag characters and variation selectors decoded. */
function revealed(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xe0020 && cp <= 0xe007e) out += String.fromCharCode(cp - 0xe0000);
    else if (cp >= 0xfe00 && cp <= 0xfe0f) out += String.fromCharCode(cp - 0xfe00);
    else if (cp >= 0xe0100 && cp <= 0xe01ef) out += String.fromCharCode(cp - 0xe0100 + 16);
    else out += ch;
  }
  return out;
}

function assertClean(payload: unknown, where: string): void {
  const text = revealed(JSON.stringify(payload));
  for (const value of VALUES) assert.ok(!text.includes(value), `${where} holds a secret value (decoded from hidden characters)`);
}

describe('DLP on text hidden in tag characters and variation selectors', () => {
  let gw: TestGateway;
  let dataDir: string;
  let session: LegacySession;
  const rec = recording(NOTIFYING);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-hidden-'));
    // `injection: flag` is what `portcullis init` writes: nothing but the secret rules strips them.
    gw = await startSecureGateway({
      dataDir,
      servers: { notes: { ...rec.server, auditArguments: 'redacted' } },
      policy: { rules: [{ name: 'notes', effect: 'allow', servers: ['notes'] }] },
      dlp: { results: { secrets: 'mask', pii: 'mask', injection: 'flag' }, arguments: { secrets: 'block' } },
    });
    session = await openLegacySession(`${gw.url}/mcp/notes`);
  });
  after(async () => {
    await session.close();
    await gw.close();
  });

  it('masks a secret smuggled in tag characters or variation selectors in content and structuredContent', async () => {
    const answer = await session.request('tools/call', { name: 'smuggle', arguments: {} });
    assert.ok(answer.result, JSON.stringify(answer.error));
    assertClean(answer, 'the result');
    assert.match(JSON.stringify(answer.result.content), /\[REDACTED:github/);
    assert.match(JSON.stringify(answer.result.structuredContent), /\[REDACTED:aws/);
  });

  for (const [name, hide] of [['tag characters', tagged], ['variation selectors', selected]] as const) {
    it(`refuses a secret hidden in ${name} in the arguments of an open-world tool`, async () => {
      const answer = await session.request('tools/call', { name: 'link', arguments: { q: `hello \u{1F600}${hide(secrets.github)}` } });
      assert.equal(answer.error?.data?.code, 'PC_DLP_EXFILTRATION', JSON.stringify(answer));
      // (The server's own list cursor, handed back to it by the gateway's paging, is its own value.)
      assertClean(rec.received().filter((m) => m.method === 'tools/call'), 'what the server received');
      assertClean(auditTrail(dataDir), 'the audit trail');
    });
  }
});
