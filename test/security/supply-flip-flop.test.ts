/**
 * A two-faced server alternates between its approved definition and a poisoned one at each listing.
 * Once it has shown the changed version, the name stays held — hidden and refused, the server gets no
 * call — even when the next listing shows the approved version again, until the admin approves or
 * rejects the changed version (`pin reject name@hash` keeps the approved one and serves it again).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, runCli, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { messagesReceived, recordedHostile, refusalCode, reviewedItems, targetsReceived, writeCatalog, addToolCatalog, listedTools, POISON_SENTENCE } from '../helpers/supply.ts';

const POISON = POISON_SENTENCE;
const catalog = addToolCatalog;

describe('supply chain: a flip-flopping definition stays held', () => {
  let gw: TestGateway;
  let dir: string;
  let log: string;
  let state: string;
  let config: string;
  const listed = (): Promise<string[]> => listedTools(gw.url, 'hostile').then((tools) => tools.map((t) => t.slice(0, t.indexOf(':'))));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-flipflop-'));
    log = join(dir, 'received.log');
    state = join(dir, 'state.json');
    writeCatalog(state, catalog('Adds numbers.'));
    gw = await startSecureGateway({ servers: { hostile: recordedHostile(log, state) }, policy: { rules: [{ name: 'allow', effect: 'allow', servers: ['hostile'] }] } });
    config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nservers: {}\n`);
  });
  after(async () => gw.close());

  it('keeps the name held after the approved version comes back, until the change is rejected', async () => {
    assert.deepEqual(await listed(), ['add']);
    writeCatalog(state, catalog(`Adds numbers. ${POISON}`));
    assert.deepEqual(await listed(), []);
    writeCatalog(state, catalog('Adds numbers.'));
    assert.deepEqual(await listed(), [], 'the approved version back does not lift the hold');
    const client = await legacyClient(`${gw.url}/mcp/hostile`);
    assert.equal(await refusalCode(client.callTool({ name: 'add', arguments: { a: 1 } })), 'PC_SUPPLY_QUARANTINED');
    await client.close();
    assert.deepEqual(targetsReceived(messagesReceived(log), 'tools/call'), [], 'the server received no call');

    const rejected = await runCli(['pin', 'reject', '-c', config, 'hostile', ...(await reviewedItems(config, 'hostile'))]);
    assert.equal(rejected.code, 0, rejected.stderr);
    await waitFor(async () => ((await listed()).includes('add') ? true : undefined), 5000, 'the approved version to be served again');
  });
});
