/**
 * Redteam2 G3 and G6 — toxic-flow timing dodges and channels other than a tool call. `mail.read_mail`
 * is private, `web` has egress tools; toxicFlow enforce: block. Through the real gateway and a real
 * SDK client, on the egress server's side nothing private arrives:
 * (a) an egress call opened before the private read, whose server asks the client to sample: the
 *     client reads the mail, then answers with it — the answer is withheld from the server;
 * (b) an egress call while the private read is still running (its progress already carried the data);
 * (c) prompts/get and completion/complete to the egress server after a private read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { legacyClient, startGateway, waitFor } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorded.ts';
import { auditRecords, codeOf, legacySession } from '../helpers/security.ts';

const ASKING = new URL('../fixtures/asking-server.ts', import.meta.url).pathname;
const call = (id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } });

describe('G3/G6: toxic flows judged at every moment client data goes to an egress server', () => {
  it('sampling answers, calls during a running private read, prompts/get and completion/complete carry nothing private to the egress server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-g3-'));
    const mailLog = join(dir, 'mail.log');
    const webLog = join(dir, 'web.log');
    const gw = await startGateway({
      servers: { mail: recordedServer(mailLog, ASKING), web: recordedServer(webLog, ASKING) },
      policy: {
        rules: [{ name: 'both', effect: 'allow', servers: ['mail', 'web'] }],
        tools: [
          { server: 'mail', tool: '*', annotations: { private: true, egress: false, untrusted: false } },
          { server: 'web', tool: '*', annotations: { egress: true, untrusted: true } },
        ],
      },
      monitor: { learningPeriod: '1d', detectors: { toxicFlow: { enforce: 'block' } }, sinks: [] },
    });
    const webGot = () => JSON.stringify(received(webLog));
    try {
      // (a) The egress call starts clean; its server asks the client to sample; the client reads private mail and answers with it.
      const client = await legacyClient(`${gw.url}/mcp`, {
        name: 'agent-a',
        onSampling: async () => {
          const mail = (await client.callTool({ name: 'mail__read_mail', arguments: { text: 'PRIVATE-a', delayMs: 0 } })) as { content: Array<{ text: string }> };
          return { role: 'assistant', content: { type: 'text', text: mail.content[0]!.text }, model: 'm' };
        },
      });
      const asked = (await client.callTool({ name: 'web__ask', arguments: { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } } })) as { content: Array<{ text: string }> };
      assert.match(asked.content[0]!.text, /^refused: .*withheld/, asked.content[0]!.text);
      await client.close();

      // (b) An egress call while the private read still runs (its progress already reached the client).
      const b = await legacySession(`${gw.url}/mcp`, '2025-11-25', 'agent-b');
      const reading = b.send(call(1, 'mail__read_mail', { text: 'PRIVATE-b', delayMs: 1500 }, { progressToken: 'p1' }));
      await waitFor(() => (received(mailLog).some((m) => JSON.stringify(m).includes('PRIVATE-b')) ? true : undefined), 5000, 'the private read to reach the mail server');
      assert.equal(codeOf(await b.send(call(2, 'web__echo', { text: 'exfil PRIVATE-b' }))), 'PC_POLICY_TOXIC_FLOW');
      await reading;

      // (c) prompts/get and completion/complete to the egress server: allowed before a private read, refused after.
      const c = await legacySession(`${gw.url}/mcp`, '2025-11-25', 'agent-c');
      const prompt = (id: number, who: string) => ({ jsonrpc: '2.0', id, method: 'prompts/get', params: { name: 'web__greet', arguments: { who } } });
      const complete = (id: number, value: string) => ({ jsonrpc: '2.0', id, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'web__greet' }, argument: { name: 'who', value } } });
      assert.equal(codeOf(await c.send(prompt(1, 'clean-before'))), undefined);
      assert.equal(codeOf(await c.send(call(2, 'mail__read_mail', { text: 'PRIVATE-c', delayMs: 0 }))), undefined);
      assert.equal(codeOf(await c.send(prompt(3, 'PRIVATE-c-prompt'))), 'PC_POLICY_TOXIC_FLOW');
      assert.equal(codeOf(await c.send(complete(4, 'PRIVATE-c-completion'))), 'PC_POLICY_TOXIC_FLOW');
    } finally {
      await gw.close();
    }
    assert.ok(webGot().includes('clean-before'), 'the control prompt reached the egress server');
    for (const secret of ['PRIVATE-a', 'PRIVATE-b', 'PRIVATE-c']) assert.ok(!webGot().includes(secret), `${secret} never reached the egress server`);
    const withheld = auditRecords(gw).flatMap((r) => r.refusedServerRequests ?? []);
    assert.ok(withheld.some((r) => r.startsWith('sampling/createMessage: the client\'s answer was withheld')), JSON.stringify(withheld));
  });
});
