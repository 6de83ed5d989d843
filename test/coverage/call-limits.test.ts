/**
 * Limits a call meets before it is forwarded, attacked end to end: policy.maxArgumentBytes
 * (PC_ARGS_TOO_LARGE, counted in bytes, not characters), policy.concurrency (PC_CONCURRENCY_LIMITED while a
 * call is in flight upstream), and a forged `requestState` on a parked call (PC_INPUT_STATE_INVALID). The
 * recorded server shows what reached it; the audit trail shows each refusal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, modernClient, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditTrail, callsReceived, received, recordedServer } from '../helpers/recorded.ts';
import { modernRequest } from '../helpers/sessions.ts';

const LEAKY = new URL('../fixtures/leaky-server.ts', import.meta.url).pathname;

const texts = (log: string): string[] => callsReceived(log).map((c) => JSON.stringify(c.arguments));
const errorCode = async (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    (result) => ({ result }),
    (error: { data?: { code?: string } }) => error.data?.code,
  );

describe('call limits and parked-call state', () => {
  let gw: TestGateway;
  let log: string;
  let dataDir: string;
  /** A second server without a concurrency limit, for the parked calls (a parked call holds its slot). */
  let freeLog: string;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-limits-'));
    log = join(dir, 'leaky.log');
    dataDir = join(dir, 'data');
    freeLog = join(dir, 'free.log');
    gw = await startGateway({
      dataDir,
      servers: { leaky: recordedServer(log, LEAKY), free: recordedServer(freeLog, LEAKY) },
      policy: { rules: [{ name: 'all', effect: 'allow' }], maxArgumentBytes: 64, concurrency: { leaky: 1 } },
      routing: { inputRequired: { maxPerPrincipal: 8, maxTotal: 3 } },
    });
  });
  after(async () => gw.close());

  it('refuses arguments over policy.maxArgumentBytes in either era, counting bytes rather than characters', async () => {
    const legacy = await legacyClient(`${gw.url}/mcp/leaky`);
    const modern = await modernClient(`${gw.url}/mcp/leaky`);
    try {
      const small = await legacy.callTool({ name: 'echo', arguments: { text: 'small' } });
      assert.equal(small.isError ?? false, false);
      // 30 characters, 90 bytes of UTF-8: a length check in characters would let it through.
      const attempts = [{ text: 'x'.repeat(100) }, { text: '€'.repeat(30) }, { text: 'ok', padding: 'y'.repeat(60) }];
      for (const args of attempts) {
        assert.equal(await errorCode(legacy.callTool({ name: 'echo', arguments: args })), 'PC_ARGS_TOO_LARGE', JSON.stringify(args));
        assert.equal(await errorCode(modern.callTool({ name: 'echo', arguments: args })), 'PC_ARGS_TOO_LARGE', JSON.stringify(args));
      }
      // The aggregated endpoint, where the name carries the server's prefix, counts the same bytes.
      const aggregated = await legacyClient(`${gw.url}/mcp`);
      assert.equal(await errorCode(aggregated.callTool({ name: 'leaky__echo', arguments: { text: '€'.repeat(30) } })), 'PC_ARGS_TOO_LARGE');
      await aggregated.close();
      assert.deepEqual(texts(log), ['{"text":"small"}'], 'only the small call reached the server');
      const refused = auditTrail(dataDir).filter((r) => r.code === 'PC_ARGS_TOO_LARGE');
      assert.equal(refused.length, 7);
      assert.ok(refused.every((r) => r.decision === 'denied' && r.target === 'echo'));
    } finally {
      await legacy.close();
      await modern.close();
    }
  });

  it('refuses a call past policy.concurrency while another is in flight upstream, and serves it after', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let asked!: () => void;
    const askedNow = new Promise<void>((resolve) => (asked = resolve));
    const holder = await legacyClient(`${gw.url}/mcp/leaky`, {
      onElicit: async () => {
        asked();
        await released;
        return { action: 'accept', content: { answer: 'done' } };
      },
    });
    const other = await legacyClient(`${gw.url}/mcp/leaky`);
    try {
      const held = holder.callTool({ name: 'ask', arguments: { question: 'hold-the-slot' } });
      await askedNow;
      const before = callsReceived(log).length;
      assert.equal(await errorCode(other.callTool({ name: 'echo', arguments: { text: 'over-limit' } })), 'PC_CONCURRENCY_LIMITED');
      assert.equal(callsReceived(log).length, before, 'the refused call did not reach the server');
      release();
      assert.match(JSON.stringify((await held).content), /asked hold-the-slot; accept/);
      const after = await other.callTool({ name: 'echo', arguments: { text: 'after' } });
      assert.equal(after.isError ?? false, false);
      assert.ok(texts(log).includes('{"text":"after"}'));
      assert.ok(!texts(log).includes('{"text":"over-limit"}'));
      assert.ok(auditTrail(dataDir).some((r) => r.code === 'PC_CONCURRENCY_LIMITED' && r.target === 'echo' && r.decision === 'denied'));
    } finally {
      release();
      await holder.close();
      await other.close();
    }
  });

  it('refuses a forged or altered requestState, leaving the parked call to its owner', async () => {
    const endpoint = `${gw.url}/mcp/free`;
    const args = { question: 'parked' };
    const first = await modernRequest(endpoint, 'tools/call', { name: 'ask', arguments: args });
    assert.equal(first.body.result?.resultType, 'input_required', JSON.stringify(first.body));
    const state = first.body.result.requestState as string;
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const [, id, mac] = state.split('.');
    // Another parked call's state: a valid MAC, but for another id (and another question).
    const other = await modernRequest(endpoint, 'tools/call', { name: 'ask', arguments: { question: 'other' } });
    const [, otherId, otherMac] = (other.body.result.requestState as string).split('.');
    const forged = ['pc1.', 'pc1.forged', `pc1.${id}`, `pc1.${id}.`, `pc1.${id}.${mac}.extra`, state.slice(0, -1), flip(state, 10), flip(state, state.length - 1), `${state}x`, `pc1.${otherId}.${mac}`, `pc1.${id}.${otherMac}`];
    for (const requestState of forged) {
      const refused = await modernRequest(endpoint, 'tools/call', { name: 'ask', arguments: args, inputResponses: { 'input-1': { action: 'accept', content: { answer: 'forged-answer' } } }, requestState });
      assert.equal((refused.body as { error?: { data?: { code?: string } } }).error?.data?.code, 'PC_INPUT_STATE_INVALID', `${JSON.stringify(requestState)}: ${JSON.stringify(refused.body)}`);
    }
    // A state not in the gateway's format is one the client made up (a modern server's own state reaches
    // the client only as a gateway handle, routing/request-states.ts): refused like a forged one.
    const foreign = await modernRequest(endpoint, 'tools/call', { name: 'ask', arguments: args, inputResponses: { 'input-1': { action: 'accept', content: { answer: 'forged-answer' } } }, requestState: 'forged' });
    assert.equal((foreign.body as { error?: { data?: { code?: string } } }).error?.data?.code, 'PC_INPUT_STATE_INVALID', JSON.stringify(foreign.body));
    // Neither the state nor the answer reaches a legacy server: its revision defines neither field.
    const carrying = received(freeLog).filter((m) => JSON.stringify(m).includes('forged-answer') || m.params?.requestState !== undefined);
    assert.deepEqual(carrying, [], 'no forged state or answer reached the server; no forged pc1 state resumed anything');
    const resumed = await modernRequest(endpoint, 'tools/call', { name: 'ask', arguments: args, inputResponses: { 'input-1': { action: 'accept', content: { answer: 'real' } } }, requestState: state });
    assert.match(JSON.stringify(resumed.body), /asked parked; accept \{\\"answer\\":\\"real\\"\}/);
    await waitFor(() => auditTrail(dataDir).filter((r) => r.code === 'PC_INPUT_STATE_INVALID').length >= forged.length || undefined, 5000, 'the refusals recorded');
  });

  it('refuses to park more calls than routing.inputRequired.maxTotal, cancelling the extra call upstream', async () => {
    const endpoint = `${gw.url}/mcp/free`;
    for (let i = 0; i < 6 && gw.gateway.isolation().parkedCalls < 3; i++) {
      const parked = await modernRequest(endpoint, 'tools/call', { name: 'ask', arguments: { question: `fill-${i}` } });
      assert.equal(parked.body.result?.resultType, 'input_required', JSON.stringify(parked.body));
    }
    assert.equal(gw.gateway.isolation().parkedCalls, 3);
    const over = await modernRequest(endpoint, 'tools/call', { name: 'ask', arguments: { question: 'one-too-many' } });
    assert.equal((over.body as { error?: { data?: { code?: string } } }).error?.data?.code, 'PC_INPUT_PARKED_LIMIT', JSON.stringify(over.body));
    const sent = received(freeLog).find((m) => m.method === 'tools/call' && (m.params?.arguments as { question?: string })?.question === 'one-too-many') as { id?: number } | undefined;
    assert.ok(sent, 'the call had reached the server before it asked');
    await waitFor(() => received(freeLog).some((m) => m.method === 'notifications/cancelled' && m.params?.requestId === sent.id) || undefined, 5000, 'the extra call cancelled upstream');
    assert.equal(gw.gateway.isolation().parkedCalls, 3, 'no parked call was given up for it');
  });
});
