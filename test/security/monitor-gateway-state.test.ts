/**
 * Redteam-b B5: an agent reaching for the gateway's own state (its kill switch, its signing key)
 * through an allowed filesystem tool is refused (PC_POLICY_GATEWAY_STATE) — and that refusal is a monitor
 * signal: alerted at the first one (there is no benign reason to read oauth-secrets.json or write
 * killswitch.json), contained as `monitor.detectors.gatewayState.action` says, from the next message on.
 * The real server-filesystem whose root holds the data dir; asserted on the server's side (no call of
 * the agent after the first refusal reached it), in the alert store and the kill switch store.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { FILESYSTEM, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';
import { codeOf, legacySession } from '../helpers/security.ts';
import { validateConfig } from '../../src/config/load.ts';

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('monitor: attempts on the gateway\'s own state (redteam-b B5)', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function setup(gatewayState: Record<string, unknown>): Promise<{ gw: TestGateway; base: string; dataDir: string; log: string }> {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-mon-state-')));
    const dataDir = join(base, 'state');
    mkdirSync(join(base, 'work'));
    writeFileSync(join(base, 'work', 'notes.txt'), 'ordinary file\n');
    const log = join(base, 'received.jsonl');
    const gw = await startGateway(
      {
        dataDir,
        servers: { files: recordedServer(log, FILESYSTEM, [base]) },
        policy: { rules: [{ name: 'files', effect: 'allow', servers: ['files'] }] },
        monitor: { learningPeriod: '1d', detectors: { gatewayState, denials: { enabled: false } } },
      },
      processSecretSource(process.env),
    );
    closers.push(() => gw.close());
    return { gw, base, dataDir, log };
  }

  it('the first refusal raises a critical alert and, with action kill-agent, stops the agent from its next message', async () => {
    const { gw, base, dataDir, log } = await setup({ action: 'kill-agent', for: '1h' });
    const probe = await legacySession(`${gw.url}/mcp/files`, '2025-11-25', 'probe');
    const ok = await probe.send(call(1, 'read_text_file', { path: join(base, 'work', 'notes.txt') }));
    assert.equal(codeOf(ok), undefined, JSON.stringify(ok.json));
    assert.equal(codeOf(await probe.send(call(2, 'write_file', { path: join(dataDir, 'killswitch.json'), content: '{"switches":[]}' }))), 'PC_POLICY_GATEWAY_STATE');
    const [line, ...more] = gw.gateway.monitor!.alerts.list();
    assert.equal(more.length, 0);
    assert.equal(line?.alert.kind, 'gateway-state');
    assert.equal(line.alert.severity, 'critical');
    assert.equal(line.alert.principal.agent, 'probe');
    // Contained as the principal the alert judged: the agent of its issuer (here the local callers).
    assert.equal(line.alert.response?.target, 'agent "probe" of local callers');
    // From the next message on, nothing of the agent reaches the server — not even an ordinary read.
    assert.equal(codeOf(await probe.send(call(3, 'read_text_file', { path: join(base, 'work', 'notes.txt') }))), 'PC_KILL_SWITCH');
    assert.deepEqual(callsReceived(log).map((c) => c.name), ['read_text_file'], 'only the first, ordinary read reached the server');
    assert.match(readFileSync(join(dataDir, 'killswitch.json'), 'utf8'), /"probe"/, 'the kill switch file holds the monitor\'s switch, not the agent\'s write');
  });

  it('with the default action it alerts at once and contains nothing', async () => {
    const { gw, dataDir } = await setup({ severity: 'high' });
    const probe = await legacySession(`${gw.url}/mcp/files`, '2025-11-25', 'probe2');
    assert.equal(codeOf(await probe.send(call(1, 'read_text_file', { path: join(dataDir, 'oauth-secrets.json') }))), 'PC_POLICY_GATEWAY_STATE');
    assert.deepEqual(gw.gateway.monitor!.alerts.list().map((l) => [l.alert.kind, l.alert.severity, l.alert.response]), [['gateway-state', 'high', undefined]]);
    assert.equal(gw.gateway.kill.list().length, 0);
  });

  it('the detector is in the config schema: unknown keys refused, the default on', () => {
    const loaded = validateConfig({ monitor: { detectors: { gatewayState: { enabled: true, action: 'require-approval', severity: 'critical', for: '30m' } } } });
    assert.equal(loaded.ok, true, JSON.stringify(!loaded.ok && loaded.problems));
    assert.equal(validateConfig({ monitor: { detectors: { gatewayState: { count: 3 } } } }).ok, false);
  });
});
