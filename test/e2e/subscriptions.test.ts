/**
 * Resource subscriptions through one shared upstream session: one client's unsubscribe must not
 * silence the updates another client subscribed to, and updates reach only subscribers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { EVERYTHING, legacyClient, startGateway, stdioServer, waitFor, type TestGateway } from '../helpers/gateway.ts';

describe('shared resource subscriptions', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ servers: { everything: stdioServer(EVERYTHING, ['stdio']) } });
  });
  after(async () => gw.close());

  it('keeps the upstream subscription while any client holds it, and notifies only subscribers', async () => {
    const alice = await legacyClient(`${gw.url}/mcp/everything`);
    const bob = await legacyClient(`${gw.url}/mcp/everything`);
    const seen = { alice: 0, bob: 0 };
    alice.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void (seen.alice += 1));
    bob.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void (seen.bob += 1));
    await waitFor(() => [...gw.front.sessions.all()].filter((s) => s.stream).length === 2 || undefined, 5000, 'both GET streams');
    const { resources } = await bob.listResources();
    const uri = resources[0]!.uri;
    await alice.subscribeResource({ uri });
    await bob.subscribeResource({ uri });
    await alice.unsubscribeResource({ uri });
    await bob.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    await waitFor(() => seen.bob > 0 || undefined, 8000, 'an update for bob');
    assert.equal(seen.alice, 0, 'alice unsubscribed and hears nothing');
    await alice.close();
    await bob.close();
  });
});
