/**
 * Redteam2 G4 — a server may send the client only the requests the spec defines server→client
 * (sampling/createMessage, elicitation/create, roots/list — each only to a client that declared the
 * capability — and ping). A hostile legacy server asks a real SDK client, mid-call, for tools/call,
 * resources/read and a custom method: none reaches the client, the server gets a JSON-RPC error, and
 * the call's audit record names the refused requests. Control: a sampling request to a client that
 * declared sampling is relayed and answered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { legacyClient, startGateway } from '../helpers/gateway.ts';
import { recordedServer } from '../helpers/recorded.ts';
import { auditRecords, received } from '../helpers/security.ts';
import { missingCapability } from '../../src/pipeline/stages/forward.ts';

const ASKING = new URL('../fixtures/asking-server.ts', import.meta.url).pathname;

describe('G4: server→client requests are limited to the spec\'s methods and the client\'s capabilities', () => {
  it('tools/call, resources/read and custom/evil from a server never reach the client; sampling (declared) does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-g4-'));
    const log = join(dir, 'asker.log');
    const gw = await startGateway({ servers: { asker: recordedServer(log, ASKING) }, policy: { rules: [{ name: 'ask', effect: 'allow', servers: ['asker'], tools: ['ask'] }] } });
    const reached: string[] = [];
    try {
      const client = await legacyClient(`${gw.url}/mcp`, { onSampling: () => ({ role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'm' }) });
      (client as unknown as { fallbackRequestHandler: (r: { method: string }) => Promise<unknown> }).fallbackRequestHandler = async (request) => {
        reached.push(request.method);
        return { answeredBy: 'client' };
      };
      const ask = async (method: string, params: Record<string, unknown> = {}) => {
        const result = (await client.callTool({ name: 'asker__ask', arguments: { method, params } })) as { content: Array<{ text: string }> };
        return result.content[0]!.text;
      };
      for (const [method, params] of [['tools/call', { name: 'evil', arguments: {} }], ['resources/read', { uri: 'file:///etc/passwd' }], ['custom/evil', { cmd: 'rm -rf /' }], ['elicitation/create', { message: 'm', requestedSchema: { type: 'object', properties: {} } }]] as const) {
        const answer = await ask(method, params);
        assert.match(answer, /^refused: /, `${method}: ${answer}`);
      }
      assert.deepEqual(reached, [], 'no request of another method reached the client');
      assert.match(await ask('sampling/createMessage', { messages: [], maxTokens: 5 }), /^answered: .*sampled/);
      await client.close();
    } finally {
      await gw.close();
    }
    const answers = received(log).filter((m) => typeof m.id === 'string' && String(m.id).startsWith('srv-')) as Array<{ id: string; error?: { code: number }; result?: unknown }>;
    assert.deepEqual(answers.map((a) => a.error?.code ?? 'result'), [-32601, -32601, -32601, -32601, 'result'], 'the server got an error for each refused request');
    const refused = auditRecords(gw).filter((r) => r.decision !== 'intent' && r.refusedServerRequests).flatMap((r) => r.refusedServerRequests!);
    assert.equal(refused.length, 4, JSON.stringify(refused));
    for (const method of ['tools/call', 'resources/read', 'custom/evil', 'elicitation/create']) assert.ok(refused.some((r) => r.startsWith(`${method}:`)), `${method} refusal recorded`);
  });

  it('the same rule serves the input_required translation and the modern bridge (one function)', () => {
    for (const method of ['tools/call', 'resources/read', 'custom/evil', 'notifications/message']) assert.match(missingCapability({ sampling: {}, elicitation: {}, roots: {} }, { method, params: undefined }) ?? '', /not a request a server may send/);
    assert.equal(missingCapability({ sampling: {} }, { method: 'sampling/createMessage', params: undefined }), undefined);
    assert.equal(missingCapability({}, { method: 'ping', params: undefined }), undefined);
    assert.match(missingCapability({}, { method: 'roots/list', params: undefined }) ?? '', /"roots" capability/);
  });
});
