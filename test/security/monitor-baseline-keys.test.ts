/**
 * Behaviour baselines belong to one principal — issuer, subject and agent — so one caller cannot poison
 * another's. Three callers of one external issuer setup share what could be shared: `bulk` and
 * `careful` act for the same user (carol, same issuer), and a second issuer's `careful` (same subject
 * and agent names) is a stranger. `bulk` and the stranger call often; `careful` rarely. When `careful`
 * spikes, its own low baseline catches it — had baselines been kept per user or per name, the others'
 * volume would have hidden the spike — and the containment (kill-agent) stops that caller only: on the
 * server's side, its calls after the alert never arrive, while the stranger with the same names goes on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { codeOf, forwarded, modernSession, recordedServer } from '../helpers/security.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');

describe('security: monitor baselines are per issuer, subject and agent', () => {
  let idp: TestIssuer;
  let origin: string;
  let gw: TestGateway;
  let log: string;
  const clock = { ms: T0 };
  const tokens: Record<string, string> = {};

  const mint = (iss: string, azp: string) => idp.sign(iss, `${gw.url}/mcp/gov`, { sub: 'carol', azp, scope: 'mcp' });

  before(async () => {
    idp = await startTestIssuer();
    origin = idp.origin;
    log = join(mkdtempSync(join(tmpdir(), 'pc-mon-keys-')), 'received.jsonl');
    const issuer = (path: string) => ({ issuer: `${origin}/${path}`, jwksUri: `${origin}/jwks`, agentClaim: ['azp'] });
    gw = await startGateway(
      {
        servers: { gov: recordedServer(log) },
        identity: { issuers: [issuer('a'), issuer('b')] },
        policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['gov'], tools: ['echo'] }] },
        monitor: {
          sinks: [],
          learningPeriod: '1s',
          detectors: { volume: { min: '10/m', factor: 3, warmup: 5, perTool: false, action: 'kill-agent', for: '1h' }, firstUse: { enabled: false }, offHours: { enabled: false }, distinctResources: { enabled: false } },
        },
      },
      undefined,
      { now: () => new Date(clock.ms) },
    );
    tokens.bulk = await mint(`${origin}/a`, 'bulk');
    tokens.careful = await mint(`${origin}/a`, 'careful');
    tokens.stranger = await mint(`${origin}/b`, 'careful');
  });
  after(async () => {
    await gw?.close();
    idp?.close();
  });

  let id = 0;
  const call = async (who: string, text: string) =>
    codeOf(await modernSession(`${gw.url}/mcp/gov`).send({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'echo', arguments: { text } } }, { authorization: `Bearer ${tokens[who]}` })) ?? 'ok';
  const reached = (prefix: string) => forwarded(log).filter((m) => m.method === 'tools/call' && String((m.params?.arguments as { text?: string }).text).startsWith(prefix)).length;

  it('a rarely calling agent\'s spike is caught against its own baseline and stops only that principal', async () => {
    for (let m = 0; m < 7; m++) {
      clock.ms = T0 + m * 60_000;
      for (let c = 0; c < 25; c++) assert.equal(await call('bulk', `bulk m${m}c${c}`), 'ok');
      for (let c = 0; c < 25; c++) assert.equal(await call('stranger', `stranger m${m}c${c}`), 'ok');
      for (let c = 0; c < 2; c++) assert.equal(await call('careful', `careful m${m}c${c}`), 'ok');
    }
    assert.deepEqual(gw.gateway.monitor!.alerts.list().map((l) => l.alert.kind), [], 'the usual volumes raise nothing');
    clock.ms = T0 + 7 * 60_000;
    const codes: string[] = [];
    for (let c = 0; c < 25; c++) codes.push(await call('careful', `spike c${c}`));
    const alerts = gw.gateway.monitor!.alerts.list().map((l) => l.alert);
    assert.deepEqual(alerts.map((a) => [a.kind, a.principal.agent]), [['volume', 'careful']], 'careful\'s own baseline caught its spike');
    const stoppedAt = codes.indexOf('PC_KILL_SWITCH');
    assert.ok(stoppedAt > 0, `the spike was stopped: ${codes.join(',')}`);
    assert.equal(reached('spike'), stoppedAt, 'on the server\'s side: nothing after the alert');
    // The other issuer's caller with the same subject and agent names is another principal.
    assert.equal(await call('stranger', 'stranger after the alert'), 'ok', 'the same names from another issuer are not contained');
    assert.equal(await call('bulk', 'bulk after the alert'), 'ok', 'the same user\'s other agent is not contained');
    assert.equal(reached('stranger after'), 1);
  });
});
