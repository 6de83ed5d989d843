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
    const seen: { alice: string[]; bob: string[] } = { alice: [], bob: [] };
    alice.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.alice.push(n.params.uri));
    bob.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.bob.push(n.params.uri));
    await waitFor(() => [...gw.front.sessions.all()].filter((s) => s.stream).length === 2 || undefined, 5000, 'both GET streams');
    const { resources } = await bob.listResources();
    const [uri, marker] = [resources[0]!.uri, resources[1]!.uri];
    await alice.subscribeResource({ uri });
    await bob.subscribeResource({ uri });
    await alice.unsubscribeResource({ uri });
    // Alice's marker: she stays subscribed to a second resource. The server sends each round of updates
    // in the order the resources were first subscribed (uri, then marker) over the one upstream session,
    // so by the time alice hears the marker, any update for uri meant for her would already be on her
    // stream: a late leak cannot slip past the assertion.
    await alice.subscribeResource({ uri: marker });
    await bob.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    await waitFor(() => (seen.bob.includes(uri) && seen.alice.includes(marker)) || undefined, 8000, 'an update for bob and the marker for alice');
    assert.deepEqual([...new Set(seen.alice)], [marker], 'alice unsubscribed from uri and hears only her marker');
    assert.deepEqual([...new Set(seen.bob)], [uri], 'bob hears only what he subscribed to');
    await alice.close();
    await bob.close();
  });
});
