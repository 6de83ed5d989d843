/**
 * An agent made with `portcullis agent add NAME` is NAME to the policy, the kill switch and the audit,
 * the name the CLI gives it — not its OAuth client id `agent-NAME`. A deny rule and `kill --agent NAME`
 * written with that name hold against its client-credentials tokens, and `policy test --as agent=NAME`
 * says what the live gateway does. Nothing of the refused calls reaches server-everything.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail } from '../helpers/recorded.ts';
import { basic, callTool, recordedEverything, tokenRequest } from '../helpers/oauth.ts';

describe('security: an agent is known by the name given to `agent add`', () => {
  let gw: TestGateway;
  let config: string;
  let token: string;
  const upstream = recordedEverything();
  const policy = {
    rules: [
      { name: 'everything-for-mcp-scope', effect: 'allow', servers: ['everything'], tools: ['echo', 'get-sum'], principal: { scopes: ['mcp'] } },
      { name: 'deny-alicebot-echo', effect: 'deny', servers: ['everything'], tools: ['echo'], principal: { agents: ['alicebot'], issuers: ['portcullis'] } },
    ],
  };
  const reached = () => upstream.received().filter((m) => m.method === 'tools/call').map((m) => JSON.stringify(m.params?.arguments));

  before(async () => {
    gw = await startSecureGateway({ servers: { everything: upstream.server }, identity: { embedded: {}, apiKeys: {}, scopes: ['mcp'] }, policy });
    const dataDir = gw.gateway.config.dataDir!;
    config = join(dataDir, 'portcullis.yaml');
    writeFileSync(config, JSON.stringify({ dataDir, identity: { embedded: {}, apiKeys: {}, scopes: ['mcp'] }, servers: { everything: upstream.server }, policy }));
    const agent = JSON.parse((await runCli(['agent', 'add', 'alicebot', '--scopes', 'mcp', '--json', '-c', config])).stdout) as { client_id: string; client_secret: string };
    const minted = await tokenRequest(gw.url, { grant_type: 'client_credentials', resource: `${gw.url}/mcp`, scope: 'mcp' }, basic(agent.client_id, agent.client_secret));
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    token = minted.body.access_token as string;
  });
  after(async () => {
    await gw?.close();
  });

  it('a deny rule naming the agent holds against its tokens, and `policy test` says so too', async () => {
    const denied = await callTool(`${gw.url}/mcp`, token, 'everything__echo', { message: 'alicebot echo' });
    assert.equal(denied.json.error?.data?.code, 'PC_POLICY_DENIED', denied.text);
    assert.equal(denied.json.error?.data?.rule, 'deny-alicebot-echo', denied.text);
    const allowed = await callTool(`${gw.url}/mcp`, token, 'everything__get-sum', { a: 1, b: 2 });
    assert.equal(allowed.json.error, undefined, allowed.text);
    const predicted = await runCli(['policy', 'test', '-c', config, '--as', 'agent=alicebot,scopes=mcp', '--call', 'everything.echo {"message":"x"}']);
    assert.match(predicted.stdout, /DENY\s+everything\.echo\s+rule=deny-alicebot-echo/, predicted.stdout + predicted.stderr);
    const record = auditTrail(gw.gateway.config.dataDir!).find((r) => r.decision === 'allowed' && r.target === 'get-sum');
    assert.equal(record?.principal?.agent, 'alicebot', JSON.stringify(record));
    assert.ok(!reached().some((a) => a.includes('alicebot echo')), 'the denied call never reached the server');
  });

  it('`kill --agent NAME` stops the agent, and so does its client id given by mistake', async () => {
    for (const given of ['alicebot', 'agent-alicebot']) {
      const killed = await runCli(['kill', '--agent', given, '--reason', 'incident', '-c', config]);
      assert.equal(killed.code, 0, killed.stderr);
      const stopped = await callTool(`${gw.url}/mcp`, token, 'everything__get-sum', { a: 40, b: 2 });
      assert.equal(stopped.json.error?.data?.code, 'PC_KILL_SWITCH', `${given}: ${stopped.text}`);
      const lifted = await runCli(['unkill', '--agent', 'alicebot', '-c', config]);
      assert.equal(lifted.code, 0, lifted.stderr);
    }
    assert.ok(!reached().some((a) => a.includes('40')), 'no call of the killed agent reached the server');
  });
});
