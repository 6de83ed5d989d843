/**
 * Red-team finding F7 — a client's answer to a server's question (`elicitation/create`, sampling) had
 * its values inspected, but a secret used as an object key (`{"content":{"ghp_…":true}}`) reached the
 * server as is. A client's answer goes the exfiltration way: its keys are inspected like its values,
 * at every depth, and masked. Asserted on the server's side (the recorder's log).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { recordedServer } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';
import { startSecureGateway } from '../helpers/secure.ts';

const LEAKY = new URL('../fixtures/dlp-server.ts', import.meta.url).pathname;
const secrets = fakeSecrets();

describe('object keys in a client\'s answers are inspected', () => {
  let gw: TestGateway;
  let log: string;

  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-answer-keys-'));
    log = join(dataDir, 'received.jsonl');
    gw = await startSecureGateway({ dataDir, servers: { leaky: recordedServer(log, LEAKY) }, policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }] } });
  });
  after(async () => gw?.close());

  it('masks a secret used as a key in an elicitation answer, for both eras; the server never sees it', async () => {
    for (const [era, connect] of [['legacy', legacyClient], ['modern', modernClient]] as const) {
      const client = await connect(`${gw.url}/mcp/leaky`, {
        onElicit: () => ({ action: 'accept', content: { [secrets.github]: true, [secrets.aws]: 'x' } }),
      });
      try {
        await client.callTool({ name: 'ask_elicit', arguments: {} });
      } finally {
        await client.close();
      }
      const serverSide = readFileSync(log, 'utf8');
      assert.equal(serverSide.includes(secrets.github), false, `${era}: the key reached the server`);
      assert.equal(serverSide.includes(secrets.aws), false, `${era}: the second key reached the server`);
      assert.match(serverSide, /REDACTED:[a-z0-9-]+#1/, `${era}: the answer arrived, masked`);
    }
  });
});
