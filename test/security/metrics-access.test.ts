/**
 * Redteam-b B7: with identity on, /metrics was answered to anyone — a detection oracle: the watched
 * agent polls it between attempts and learns which of its actions raised an alert or a DLP finding.
 * With identity on, `/metrics` now needs a credential holding `listen.metricsScope` (default
 * `portcullis:metrics`), from any address, loopback included (the agent runs on the same host);
 * `listen.metrics: loopback` answers loopback callers without one, `open` anyone (both chosen by the
 * operator). Asserted on what is answered and on the refusals the gateway recorded.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords } from '../helpers/security.ts';

describe('/metrics with identity on (redteam-b B7)', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  async function gateway(listen: Record<string, unknown>): Promise<{ gw: TestGateway; key: (scopes: string) => Promise<string> }> {
    const gw = await startGateway({ listen: { port: 0, ...listen }, servers: {}, identity: { apiKeys: {} } });
    closers.push(() => gw.close());
    const config = join(gw.gateway.config.dataDir!, 'keys.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nidentity: { apiKeys: {} }\nservers: {}\n`);
    let n = 0;
    const key = async (scopes: string): Promise<string> => {
      const created = await runCli(['key', 'create', '--agent', `k${n++}`, '--scopes', scopes, '--expires', '1d', '--json', '-c', config]);
      assert.equal(created.code, 0, created.stderr);
      return JSON.parse(created.stdout).key as string;
    };
    return { gw, key };
  }
  const metrics = (gw: TestGateway, token?: string) => fetch(`${gw.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (r) => ({ status: r.status, text: await r.text(), challenge: r.headers.get('www-authenticate') }));

  it('by default needs a credential with the metrics scope, also from loopback; an agent\'s own key is refused', async () => {
    const { gw, key } = await gateway({});
    const anonymous = await metrics(gw);
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.text, /portcullis_monitor|portcullis_dlp/, 'no counter in the refusal');
    const agent = await metrics(gw, await key('mcp'));
    assert.equal(agent.status, 403, 'an agent\'s credential without the scope is refused');
    assert.doesNotMatch(agent.text, /portcullis_monitor|portcullis_dlp/);
    const operator = await metrics(gw, await key('portcullis:metrics'));
    assert.equal(operator.status, 200);
    assert.match(operator.text, /^portcullis_http_requests_total \d+$/m);
    const refused = auditRecords(gw).filter((r) => r.method === 'metrics' && (r.code === 'PC_AUTH_INSUFFICIENT_SCOPE' || r.code === 'PC_AUTH_INVALID_TOKEN'));
    assert.equal(refused.length, 1, 'the refused credential is recorded (a missing one, as everywhere, is not)');
  });

  it('listen.metrics: loopback answers a loopback caller without a credential; listen.metrics: open answers anyone', async () => {
    const { gw: loop } = await gateway({ metrics: 'loopback', metricsScope: 'ops:metrics' });
    assert.equal((await metrics(loop)).status, 200);
    const { gw: open } = await gateway({ metrics: 'open' });
    assert.equal((await metrics(open)).status, 200);
  });

  it('a custom scope is the one asked for', async () => {
    const { gw, key } = await gateway({ metrics: 'credential', metricsScope: 'ops:metrics' });
    assert.equal((await metrics(gw, await key('portcullis:metrics'))).status, 403);
    assert.equal((await metrics(gw, await key('ops:metrics'))).status, 200);
  });
});
