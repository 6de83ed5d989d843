/**
 * Both protocol eras downstream and upstream, and the translation between them: a modern (2026-07-28)
 * client in front of a legacy stdio server, a legacy client in front of a modern-only HTTP server, and
 * modern to modern.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, legacyClient, modernClient, startGateway, stdioServer, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';

describe('protocol eras through the gateway', () => {
  let gw: TestGateway;
  let modern: ModernServer;

  before(async () => {
    modern = await startModernServer({ legacy: 'reject' });
    gw = await startGateway({
      servers: {
        everything: stdioServer(EVERYTHING, ['stdio']),
        modern: { url: modern.url },
      },
    });
  });
  after(async () => {
    await gw.close();
    await modern.close();
  });

  it('detects a modern-only upstream and reaches it statelessly', () => {
    const info = gw.gateway.upstreams.get('modern')?.info();
    assert.equal(info?.era, 'modern');
    assert.equal(info?.protocolVersion, '2026-07-28');
    assert.equal(gw.gateway.upstreams.get('everything')?.info()?.era, 'legacy');
  });

  it('serves a modern client: discover, list and call on a legacy stdio server', async () => {
    const client = await modernClient(`${gw.url}/mcp/everything`);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'modern to legacy' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: modern to legacy' }]);
    await client.close();
  });

  it('turns a legacy server\'s mid-call sampling request into input_required for a modern client', async () => {
    let asked = 0;
    const client = await modernClient(`${gw.url}/mcp/everything`, {
      onSampling: () => {
        asked += 1;
        return { model: 'm', role: 'assistant', content: { type: 'text', text: 'answer via input_required' } };
      },
    });
    const result = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'p', maxTokens: 3 } });
    assert.equal(asked, 1);
    assert.match(JSON.stringify(result.content), /answer via input_required/);
    await client.close();
  });

  it('passes a modern server\'s input_required through to a modern client', async () => {
    const client = await modernClient(`${gw.url}/mcp/modern`, { onElicit: () => ({ action: 'accept', content: { ok: true } }) });
    const result = await client.callTool({ name: 'confirm', arguments: { action: 'deploy' } });
    assert.match(JSON.stringify(result.content), /confirmed deploy: \{\\"ok\\":true\}/);
    await client.close();
  });

  it("round-trips a modern server's token-shaped requestState for a modern client, which holds only the gateway's handle", async () => {
    // The state is an HS256 JWT: relayed as is it was a secret in the result (blocked under secrets: mask).
    const asked: unknown[] = [];
    const client = await modernClient(`${gw.url}/mcp/modern`, { onElicit: (params) => (asked.push(params), { action: 'accept', content: { ok: true } }) });
    const result = await client.callTool({ name: 'sign_off', arguments: { action: 'ship' } });
    await client.close();
    assert.match(JSON.stringify(result.content), /signed off ship: \{\\"ok\\":true\}/, JSON.stringify(result));
    assert.equal(asked.length, 1);
    const token = modern.issuedTokens().at(-1)!;
    assert.ok(modern.bodies().some((b) => b.includes(`"requestState":"${token}"`)), 'the server got its own token back');
  });

  it('serves a legacy client in front of a modern-only server, translating input_required into elicitation', async () => {
    const asked: unknown[] = [];
    const client = await legacyClient(`${gw.url}/mcp/modern`, {
      onElicit: (params) => {
        asked.push(params);
        return { action: 'accept', content: { ok: true } };
      },
    });
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'legacy to modern' } });
    assert.deepEqual(echo.content, [{ type: 'text', text: 'legacy to modern' }]);
    const result = await client.callTool({ name: 'confirm', arguments: { action: 'ship' } });
    assert.equal(asked.length, 1);
    assert.match(JSON.stringify(asked[0]), /Really ship\?/);
    assert.match(JSON.stringify(result.content), /confirmed ship/);
    const prompt = await client.getPrompt({ name: 'greet', arguments: { who: 'Ada' } });
    assert.match(JSON.stringify(prompt.messages), /Hello, Ada/);
    const resource = await client.readResource({ uri: 'fixture://hello' });
    assert.match(JSON.stringify(resource.contents), /hello from the modern fixture/);
    await client.close();
  });

  it('aggregates servers of both eras on /mcp for a modern client', async () => {
    const client = await modernClient(`${gw.url}/mcp`);
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('modern__echo') && names.includes('everything__echo'), names.join(','));
    const result = await client.callTool({ name: 'modern__echo', arguments: { text: 'aggregated' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'aggregated' }]);
    await client.close();
  });

  it('propagates tools/list_changed from a modern server to a legacy session\'s GET stream', async () => {
    const { ToolListChangedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const client = await legacyClient(`${gw.url}/mcp`);
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed += 1;
    });
    await waitFor(() => [...gw.front.sessions.all()].some((s) => s.stream !== undefined) || undefined, 5000, 'GET stream');
    await waitFor(() => {
      modern.notifyToolsChanged();
      return changed > 0 || undefined;
    }, 10_000, 'list_changed on the legacy client');
    await client.close();
  });

  it('propagates tools/list_changed to a modern client\'s subscriptions/listen stream', async () => {
    const client = await modernClient(`${gw.url}/mcp/modern`);
    let changed = 0;
    client.setNotificationHandler('notifications/tools/list_changed' as never, (() => {
      changed += 1;
    }) as never);
    const subscription = await client.listen({ toolsListChanged: true });
    assert.equal(subscription.honoredFilter.toolsListChanged, true);
    await waitFor(() => {
      modern.notifyToolsChanged();
      return changed > 0 || undefined;
    }, 10_000, 'list_changed on the modern client');
    await subscription.close();
    await client.close();
  });
});
