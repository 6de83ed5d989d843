/**
 * `pin approve` binds to what the admin reviewed: a server that swaps the pending definition between
 * `pin diff` and `pin approve` (a benign change shown, a poisoned one pending when the admin approves)
 * gets nothing approved. Approval names the hash `pin diff` / `pin list` showed; a bare name, a stale
 * hash and a definition the scanner rated high without `--accept-findings` are all refused, and the
 * server never receives a call to the swapped tool.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, runCli, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { messagesReceived, recordedHostile, refusalCode, targetsReceived, writeCatalog, addToolCatalog, listedTools, POISON_SENTENCE } from '../helpers/supply.ts';

const POISON = POISON_SENTENCE;
const catalog = addToolCatalog;

describe('supply chain: pin approve approves what was reviewed', () => {
  let gw: TestGateway;
  let dir: string;
  let log: string;
  let state: string;
  let config: string;

  const listed = (): Promise<string[]> => listedTools(gw.url, 'hostile');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-approve-reviewed-'));
    log = join(dir, 'received.log');
    state = join(dir, 'state.json');
    writeCatalog(state, catalog('Adds two numbers.'));
    gw = await startSecureGateway({
      audit: { store: 'jsonl' },
      servers: { hostile: recordedHostile(log, state) },
      policy: { rules: [{ name: 'the-server-under-test', effect: 'allow', servers: ['hostile'] }] },
    });
    config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nservers: {}\n`);
  });
  after(async () => {
    await gw.close();
  });

  it('refuses an approval once the pending definition was swapped after review', async () => {
    assert.deepEqual(await listed(), ['add: Adds two numbers.']);
    writeCatalog(state, catalog('Adds two numbers. Supports decimals.'));
    assert.deepEqual(await listed(), [], 'the benign change is held');
    const diff = await runCli(['pin', 'diff', '-c', config, 'hostile']);
    assert.equal(diff.code, 0, diff.stderr);
    const reviewed = /tools:add@([0-9a-f]{12})/.exec(diff.stdout)?.[1];
    assert.ok(reviewed, `pin diff shows the hash to approve: ${diff.stdout}`);
    assert.match(diff.stdout, /\+ +"description": "Adds two numbers\. Supports decimals\."/);

    // The server swaps what is pending for a poisoned variant before the admin approves.
    writeCatalog(state, catalog(`Adds two numbers. Supports decimals. ${POISON}`));
    assert.deepEqual(await listed(), []);

    const stale = await runCli(['pin', 'approve', '-c', config, 'hostile', `add@${reviewed}`, '--by', 'alice']);
    assert.equal(stale.code, 2, 'the reviewed hash is no longer what is pending');
    assert.match(stale.stderr, /changed since/);
    const bare = await runCli(['pin', 'approve', '-c', config, 'hostile', 'add', '--by', 'alice']);
    assert.equal(bare.code, 2, 'an approval must name the reviewed hash');
    const all = await runCli(['pin', 'approve', '-c', config, 'hostile', '--by', 'alice']);
    assert.equal(all.code, 2, 'approving everything pending, unseen, is refused');

    // Even approving the poisoned version by its own hash needs an explicit acknowledgement of the findings.
    const list = await runCli(['pin', 'list', '-c', config]);
    const poisoned = /WAITING +tools:add +([0-9a-f]{12})/.exec(list.stdout)?.[1];
    assert.ok(poisoned && poisoned !== reviewed, list.stdout);
    const unacknowledged = await runCli(['pin', 'approve', '-c', config, 'hostile', `add@${poisoned}`, '--by', 'alice']);
    assert.equal(unacknowledged.code, 2);
    assert.match(unacknowledged.stderr, /--accept-findings/);

    await new Promise((r) => setTimeout(r, 1100)); // the gateway re-reads pins.json at most once a second
    assert.deepEqual(await listed(), [], 'nothing was approved');
    const client = await legacyClient(`${gw.url}/mcp/hostile`);
    assert.equal(await refusalCode(client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })), 'PC_SUPPLY_QUARANTINED');
    await client.close();
    assert.deepEqual(targetsReceived(messagesReceived(log), 'tools/call'), [], 'the server never received a call');
  });

  it('approves exactly the reviewed version', async () => {
    writeCatalog(state, catalog('Adds two numbers. Supports decimals.'));
    assert.deepEqual(await listed(), []);
    const diff = await runCli(['pin', 'diff', '-c', config, 'hostile']);
    const reviewed = /tools:add@([0-9a-f]{12})/.exec(diff.stdout)?.[1];
    const ok = await runCli(['pin', 'approve', '-c', config, 'hostile', `add@${reviewed}`, '--by', 'alice']);
    assert.equal(ok.code, 0, ok.stderr);
    await waitFor(async () => ((await listed()).length === 1 ? true : undefined), 5000, 'the approved tool to be served');
    assert.deepEqual(await listed(), ['add: Adds two numbers. Supports decimals.']);

    // The decision is in the audit trail (red team rt-h, L1): the declared approver, the OS user that
    // ran the command, the server and the full hash; the refused attempts above left none.
    const tail = await runCli(['audit', 'tail', '-c', config, '-n', '200', '--json']);
    const decisions = tail.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { method: string; server?: string; target?: string; principal: { subject: string }; approval?: { by?: string; event: string } }).filter((r) => r.method.startsWith('pin/'));
    assert.equal(decisions.length, 1, tail.stdout + tail.stderr);
    const [decision] = decisions;
    assert.equal(decision!.method, 'pin/approve');
    assert.equal(decision!.server, 'hostile');
    assert.match(decision!.target!, new RegExp(`^tools:add@${reviewed}[0-9a-f]{52}$`));
    assert.equal(decision!.approval?.by, 'alice');
    assert.equal(decision!.approval?.event, 'granted');
    assert.equal(decision!.principal.subject, `os:${userInfo().username}:${userInfo().uid}`);
  });
});
