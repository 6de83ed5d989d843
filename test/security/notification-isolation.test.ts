/**
 * Invariant 3, server→client traffic: on an upstream session shared by two API keys, what a server sends
 * outside a call (log lines, custom notifications, `elicitation/complete`, `tasks/status`, stray progress)
 * reaches only the caller it provably belongs to, or nobody — never every GET stream; what has no owner is
 * counted in /metrics. Server→client requests go to the one principal with calls in flight, and are refused
 * when two are. `upstreamSession: per-principal` attributes everything exactly.
 *
 * "Nothing leaked" is asserted only after a marker: the fixture ends each burst with
 * `tools/list_changed`, which every session receives after everything the server sent before it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, startEverythingHttp, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { pinned, startSecureGateway } from '../helpers/secure.ts';
import { recordedServer } from '../helpers/recorder.ts';
import { dataDirWithKeys, openLegacySession, type LegacySession } from '../helpers/sessions.ts';

const LEAKY = new URL('../fixtures/leaky-server.ts', import.meta.url).pathname;
const isMarker = (m: Record<string, any>) => m.method === 'notifications/tools/list_changed';

describe('notification isolation between callers', () => {
  let gw: TestGateway;
  let keys: Record<string, string>;
  let http: Awaited<ReturnType<typeof startEverythingHttp>>;
  const sessions: LegacySession[] = [];
  const bobAsked: unknown[] = [];

  before(async () => {
    let dataDir: string;
    ({ dataDir, keys } = dataDirWithKeys(['alice', 'bob']));
    http = await startEverythingHttp('streamableHttp');
    const leaky = recordedServer(LEAKY).server;
    gw = await startSecureGateway({
      dataDir,
      identity: { apiKeys: {} },
      listen: { port: 0, metrics: 'loopback' },
      servers: {
        leaky,
        'leaky-pp': { ...leaky, upstreamSession: 'per-principal', perPrincipal: { maxSessions: 4 } },
        everything: pinned({ command: process.execPath, args: [EVERYTHING, 'stdio'] }),
        'everything-pp': { ...pinned({ command: process.execPath, args: [EVERYTHING, 'stdio'] }), upstreamSession: 'per-principal' },
        'everything-http': { url: http.url, era: 'legacy', transport: 'streamable-http' },
      },
      policy: {
        rules: [
          { name: 'alice-all', effect: 'allow', principal: { agents: ['alice'] } },
          { name: 'bob-some', effect: 'allow', principal: { agents: ['bob'] }, tools: ['echo', 'trigger-long-running-operation'] },
          { name: 'bob-doc', effect: 'allow', principal: { agents: ['bob'] }, resources: ['leaky://doc'] },
        ],
      },
    });
  });
  after(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await gw.close();
    await http.close();
  });

  async function open(who: 'alice' | 'bob', path: string, capabilities: Record<string, unknown> = {}): Promise<LegacySession> {
    const session = await openLegacySession(`${gw.url}${path}`, {
      headers: { authorization: `Bearer ${keys[who]}` },
      name: who,
      capabilities,
      onRequest: (request) => {
        if (who === 'bob') bobAsked.push(request);
        if (request.method === 'elicitation/create') return { action: 'accept' };
        return { model: 'm', role: 'assistant', content: { type: 'text', text: `${who}-answer` } };
      },
    });
    sessions.push(session);
    return session;
  }

  /**
   * A call of `session` that runs (reporting progress under `id`) until `cancel()` sends
   * notifications/cancelled for it and its request stream has ended.
   */
  function busy(session: LegacySession, id: string): { cancel(): Promise<void> } {
    const call = session.request('tools/call', { name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 60 }, _meta: { progressToken: id } }, id).catch(() => undefined);
    return {
      async cancel() {
        await session.notify('notifications/cancelled', { requestId: id, reason: 'the test is done with it' });
        await call;
      },
    };
  }

  const unattributed = async (server: string, kind: string): Promise<number> => {
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const line = new RegExp(`^portcullis_unattributed_total\\{server="${server}",kind="${kind}"\\} (\\d+)$`, 'm').exec(metrics);
    return line ? Number(line[1]) : 0;
  };

  it('on a shared session, gives bob none of what the server sends about alice, during her call or after it', async () => {
    const alice = await open('alice', '/mcp/leaky', { elicitation: { form: {}, url: {} } });
    const bob = await open('bob', '/mcp/leaky');
    const bobEverywhere = await open('bob', '/mcp');
    assert.deepEqual((await bob.request('tools/call', { name: 'echo', arguments: { text: 'hi' } })).result.content, [{ type: 'text', text: 'hi' }]);

    assert.deepEqual((await alice.request('resources/subscribe', { uri: 'leaky://doc' })).result, {});
    const task = await alice.request('tools/call', { name: 'start_job', arguments: { secret: 'alice-job' }, task: { ttl: 60_000 } });
    const url = await alice.request('tools/call', { name: 'ask_url', arguments: { secret: 'alice-url' } });
    assert.deepEqual(url.result.content, [{ type: 'text', text: 'url accept' }]);
    const droppedBefore = await unattributed('leaky', 'notification');
    await alice.request('tools/call', { name: 'leak', arguments: { secret: 'alice-secret' } });

    await bob.until(isMarker, 'the marker on bob\'s session');
    await bobEverywhere.until(isMarker, 'the marker on bob\'s aggregate session');
    await alice.until(isMarker, 'the marker on alice\'s session');
    for (const session of [bob, bobEverywhere]) {
      assert.doesNotMatch(JSON.stringify(session.received), /alice|task-1|e-alice-url/, 'bob received nothing of alice\'s');
    }
    // What names its owner reaches her: her URL elicitation's completion, her task's status (in flight and late).
    const mine = (m: Record<string, any>) => JSON.stringify(m);
    assert.ok(alice.received.some((m) => m.method === 'notifications/elicitation/complete' && m.params.elicitationId === 'e-alice-url'));
    assert.ok(!alice.received.some((m) => m.method === 'notifications/elicitation/complete' && /guess/.test(mine(m))), 'a completion nobody was sent goes nowhere');
    const statuses = alice.received.filter((m) => m.method === 'notifications/tasks/status' && m.params.taskId === task.result.task.taskId).map((m) => m.params.statusMessage);
    assert.ok(statuses.includes('status alice-secret') && statuses.includes('status alice-secret-late'), statuses.join(','));
    // A session shared by two principals cannot say whose a log line or a custom notification is.
    assert.ok(!alice.received.some((m) => m.method === 'notifications/message' || m.method === 'notifications/x-leak'));
    assert.ok(!alice.received.some((m) => m.method === 'notifications/progress'), 'progress for a token nobody gave goes nowhere');
    assert.equal(alice.received.filter((m) => m.method === 'notifications/resources/updated').length, 2, 'her subscription\'s updates reach her');
    assert.ok(![bob, bobEverywhere].some((s) => s.received.some((m) => m.method === 'notifications/resources/updated')), 'bob did not subscribe');
    assert.ok((await unattributed('leaky', 'notification')) >= droppedBefore + 6, 'log, custom, stray completion and progress were counted (twice)');
  });

  it('with upstreamSession: per-principal, delivers alice\'s log lines and custom notifications to her alone, late ones too', async () => {
    const alice = await open('alice', '/mcp/leaky-pp');
    const bob = await open('bob', '/mcp/leaky-pp');
    await bob.request('tools/call', { name: 'echo', arguments: { text: 'bob was here' } });
    // Both subscribe, each in their own upstream session: an update in alice's session is hers alone.
    for (const session of [alice, bob]) assert.deepEqual((await session.request('resources/subscribe', { uri: 'leaky://doc' })).result, {});
    await alice.request('tools/call', { name: 'leak', arguments: { secret: 'pp-secret' } });
    await bob.until(isMarker, 'the marker on bob\'s session');
    await alice.until((m) => m.method === 'notifications/x-leak' && m.params.secret === 'pp-secret-late', 'alice\'s late custom notification (GET stream)');
    assert.ok(alice.received.some((m) => m.method === 'notifications/message' && m.params.data === 'log pp-secret'), 'in-call log line on her call\'s stream');
    assert.ok(alice.received.some((m) => m.method === 'notifications/message' && m.params.data === 'log pp-secret-late'), 'late log line on her GET stream');
    assert.doesNotMatch(JSON.stringify(bob.received), /pp-secret/);
    assert.ok(alice.received.some((m) => m.method === 'notifications/resources/updated'));
    assert.ok(!bob.received.some((m) => m.method === 'notifications/resources/updated'), 'bob\'s own session did not change');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^portcullis_upstream_sessions\{server="leaky-pp"\} 2$/m, 'one upstream session per principal');
  });

  it('refuses a sampling request on a shared session while two principals have calls in flight, and relays it per principal', async () => {
    const samplers = { sampling: {} };
    const alice = await open('alice', '/mcp/everything', samplers);
    const bob = await open('bob', '/mcp/everything', samplers);
    const refusedBefore = await unattributed('everything', 'request');
    // Bob's call stays in flight until the test cancels it (not for a fixed time that a slow machine could outlast).
    const bobBusy = busy(bob, 'bob-busy');
    await waitFor(() => (gw.gateway.upstreams.get('everything') as unknown as { callsInFlight: number }).callsInFlight > 0 || undefined, 5000, 'bob\'s call in flight');
    const shared = await alice.request('tools/call', { name: 'trigger-sampling-request', arguments: { prompt: 'alice-prompt', maxTokens: 5 } });
    assert.match(JSON.stringify(shared), /cannot be attributed to one caller.*per-principal/);
    assert.doesNotMatch(JSON.stringify(shared), /alice-answer/);
    assert.equal(await unattributed('everything', 'request'), refusedBefore + 1);
    await bobBusy.cancel();

    const alicePp = await open('alice', '/mcp/everything-pp', samplers);
    const bobPp = await open('bob', '/mcp/everything-pp', samplers);
    const bobBusyPp = busy(bobPp, 'bob-busy-pp');
    await bobPp.until((m) => m.method === 'notifications/progress' && m.params.progressToken === 'bob-busy-pp', 'bob\'s call in flight');
    const relayed = await alicePp.request('tools/call', { name: 'trigger-sampling-request', arguments: { prompt: 'alice-prompt', maxTokens: 5 } });
    assert.match(JSON.stringify(relayed.result), /alice-answer/);
    await bobBusyPp.cancel();
    assert.deepEqual(bobAsked, [], 'bob was never asked anything for alice');
    assert.doesNotMatch(JSON.stringify([bob.received, bobPp.received]), /alice-prompt/);
  });

  it('on a legacy Streamable HTTP upstream, relays a sampling request to the caller whose request stream carried it, even with two principals in flight', async () => {
    const samplers = { sampling: {} };
    const alice = await open('alice', '/mcp/everything-http', samplers);
    const bob = await open('bob', '/mcp/everything-http', samplers);
    const bobBusy = busy(bob, 'bob-progress');
    await bob.until((m) => m.method === 'notifications/progress' && m.params.progressToken === 'bob-progress', 'bob\'s call in flight');
    const relayed = await alice.request('tools/call', { name: 'trigger-sampling-request', arguments: { prompt: 'alice-http-prompt', maxTokens: 5 } });
    assert.match(JSON.stringify(relayed.result), /alice-answer/);
    await bobBusy.cancel();
    assert.deepEqual(bobAsked, []);
    assert.doesNotMatch(JSON.stringify(bob.received), /alice-http-prompt/);
  });

  it('drops and counts a shared session\'s log lines once two principals used it (server-everything simulated logging)', async () => {
    const alice = await open('alice', '/mcp/everything');
    const bob = await open('bob', '/mcp/everything');
    const before = await unattributed('everything', 'notification');
    await alice.request('tools/call', { name: 'toggle-simulated-logging', arguments: {} });
    // The first line is sent during the call; a leak would have been delivered instead of counted.
    await waitFor(async () => ((await unattributed('everything', 'notification')) > before ? true : undefined), 5000, 'the log line counted as unattributed');
    await alice.request('tools/call', { name: 'toggle-simulated-logging', arguments: {} });
    assert.ok(![alice, bob].some((s) => s.received.some((m) => m.method === 'notifications/message')), 'no session received the shared session\'s log lines');
  });
});
