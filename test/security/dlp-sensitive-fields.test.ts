/**
 * Red team "redteam-data" F11: a field configured as sensitive (`arguments.fields: [password]`) reached
 * an open-world tool when written as a percent-encoded name in a URL, JSON stringified twice, XML, a
 * command-line flag, a boolean, or a name/value pair (`["password", …]`, `[{ name: "password", value:
 * … }]`). Each is now refused; asserted on the server's side (the call never arrived). The real gateway,
 * the SDK client, an SDK server (test/fixtures/payload-server.ts) behind the recorder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorded.ts';

const SERVER = new URL('../fixtures/payload-server.ts', import.meta.url).pathname;
/** The value of the field: a marker to look for on the server's side. */
const VALUE = ['hunter', '2', 'xyz'].join('');
const FIELD = 'password';

const REFUSED: Record<string, unknown> = {
  percentName: `https://x.test/?passw%6Frd=${VALUE}`,
  twiceStringified: JSON.stringify(JSON.stringify({ [FIELD]: VALUE })),
  xml: `<request><${FIELD}>${VALUE}</${FIELD}></request>`,
  xmlAttributes: `<${FIELD} type="text">${VALUE}</${FIELD}>`,
  cliFlag: `run --${FIELD} ${VALUE} --verbose`,
  boolean: { [FIELD]: true, note: VALUE },
  pair: [FIELD, VALUE],
  pairObjects: [{ name: 'user', value: 'alice' }, { name: FIELD, value: VALUE }],
  headerObjects: { headers: [{ key: FIELD, val: VALUE }] },
};
const PASSED: Record<string, unknown> = {
  prose: `the ${FIELD} policy asks for twelve characters (${VALUE})`,
  xmlOther: `<note>${VALUE}</note>`,
  cliOther: `run --verbose ${VALUE}`,
};

// One describe for the file: its hooks run before and after its own tests, also when files share a process.
describe('DLP sensitive fields', () => {
  let gw: TestGateway;
  let log: string;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-fields-'));
    const file = join(dir, 'payloads.json');
    writeFileSync(file, JSON.stringify({ payloads: {} }));
    log = join(dir, 'received.jsonl');
    gw = await startSecureGateway({
      dataDir: join(dir, 'data'),
      servers: { evil: recordedServer(log, SERVER, [file]) },
      policy: { rules: [{ name: 'evil', effect: 'allow', servers: ['evil'] }] },
      dlp: { arguments: { secrets: 'block', fields: [FIELD] } },
    });
  });
  after(async () => gw?.close());

  async function send(name: string, body: unknown): Promise<string | undefined> {
    const client = await legacyClient(`${gw.url}/mcp/evil`);
    try {
      await client.callTool({ name: 'send', arguments: { to: name, body } });
      return undefined;
    } catch (error) {
      return (error as { data?: { code?: string } }).data?.code ?? String(error);
    } finally {
      await client.close();
    }
  }

  const arrived = (name: string): boolean => received(log, 'tools/call').some((m) => (m.params?.arguments as { to?: string } | undefined)?.to === name);

  describe('F11: a sensitive field in other spellings is refused before the server', () => {
    for (const [name, body] of Object.entries(REFUSED)) {
      it(`refuses ${name}`, async () => {
        const code = await send(name, body);
        assert.equal(code, 'PC_DLP_EXFILTRATION', `${name}: ${code ?? 'sent'}`);
        assert.ok(!arrived(name), `${name} reached the server`);
      });
    }
    for (const [name, body] of Object.entries(PASSED)) {
      it(`passes ${name}, which names no sensitive field`, async () => {
        assert.equal(await send(name, body), undefined);
        assert.ok(arrived(name), `${name} did not reach the server`);
      });
    }
  });
});
