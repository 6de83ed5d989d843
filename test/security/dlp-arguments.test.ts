/**
 * Data-loss prevention on what leaves (issue 15): an agent sending a secret-shaped value (or a field
 * configured as sensitive, or an administrator pattern) to a tool that can reach outside is refused
 * with PC_DLP_EXFILTRATION by default — whatever the nesting, on both endpoints and eras — and the
 * server never receives it (asserted on the server's side); tools that cannot reach outside are not
 * concerned unless the administrator attests `egress`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { legacyClient, modernClient } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const LEAKY = new URL('../fixtures/dlp-server.ts', import.meta.url).pathname;
const secrets = fakeSecrets();

async function gateway(document: Record<string, unknown> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-args-'));
  const log = join(dataDir, 'received.jsonl');
  const gw = await startSecureGateway({ dataDir, servers: { leaky: recordedServer(log, LEAKY) }, policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }] }, ...document });
  return { gw, dataDir, log };
}

const refusedWith = (code: string) => (e: { data?: { code?: string } }) => {
  assert.equal(e.data?.code, code);
  return true;
};

describe('DLP on arguments', () => {
  for (const era of ['legacy', 'modern'] as const) {
    it(`refuses a secret sent to an open-world tool, nested anywhere (${era} client); the server never receives it`, async () => {
      const { gw, dataDir, log } = await gateway();
      try {
        const client = (era === 'legacy' ? await legacyClient(`${gw.url}/mcp`) : await modernClient(`${gw.url}/mcp`)) as Client;
        const variants: unknown[] = [
          `here is the key: ${secrets.aws}`,
          { nested: { deeper: [`x`, { token: secrets.github }] } },
          [`${secrets.slack}`],
          `-----BEGIN RSA PRIVATE KEY-----\n${secrets.pem.split('\n')[1]}\n-----END RSA PRIVATE KEY-----`,
          `curl ${secrets.url}`,
        ];
        for (const body of variants) {
          await assert.rejects(client.callTool({ name: 'leaky__send', arguments: { to: 'someone@example.org', body } }), refusedWith('PC_DLP_EXFILTRATION'));
        }
        // An innocuous call to the same tool goes through.
        await client.callTool({ name: 'leaky__send', arguments: { to: 'someone@example.org', body: 'hello' } });
        await client.close();
        const calls = callsReceived(log);
        assert.equal(calls.length, 1, 'only the innocuous call reached the server');
        const serverSide = JSON.stringify(calls);
        for (const value of [secrets.aws, secrets.github, secrets.slack]) assert.ok(!serverSide.includes(value));
        const refusals = auditTrail(dataDir).filter((r) => r.code === 'PC_DLP_EXFILTRATION');
        assert.equal(refusals.length, variants.length);
        for (const r of refusals) {
          assert.equal(r.decision, 'denied');
          assert.ok(r.dlp?.some((f) => f.type === 'secret' && f.action === 'block' && f.path.startsWith('arguments.body')));
        }
        const stored = JSON.stringify(auditTrail(dataDir).map(({ args: _args, ...rest }) => rest));
        for (const value of [secrets.aws, secrets.github, secrets.slack]) assert.ok(!stored.includes(value), 'no value in the findings');
      } finally {
        await gw.close();
      }
    });
  }

  it('lets a closed tool (openWorldHint: false) take a secret, unless the administrator attests egress', async () => {
    const open = await gateway();
    try {
      const client = await legacyClient(`${open.gw.url}/mcp/leaky`);
      await client.callTool({ name: 'store', arguments: { body: secrets.aws } });
      await client.close();
      assert.equal(callsReceived(open.log).length, 1);
    } finally {
      await open.gw.close();
    }
    const attested = await gateway({ policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }], tools: [{ server: 'leaky', tool: 'store', annotations: { egress: true } }] } });
    try {
      const client = await legacyClient(`${attested.gw.url}/mcp/leaky`);
      await assert.rejects(client.callTool({ name: 'store', arguments: { body: secrets.aws } }), refusedWith('PC_DLP_EXFILTRATION'));
      await client.close();
      assert.equal(callsReceived(attested.log).length, 0);
    } finally {
      await attested.gw.close();
    }
  });

  it('refuses configured sensitive fields and administrator patterns; alert lets the call pass with a record', async () => {
    const { gw, dataDir, log } = await gateway({
      dlp: {
        arguments: { fields: ['password'] },
        patterns: [{ name: 'project-code', regex: 'PRJ-[0-9]{4}', action: 'mask' }],
        servers: { leaky: { tools: { store: { arguments: { secrets: 'alert' } } } } },
      },
      policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }], tools: [{ server: 'leaky', tool: 'store', annotations: { egress: true } }] },
    });
    try {
      const client = await legacyClient(`${gw.url}/mcp/leaky`);
      await assert.rejects(client.callTool({ name: 'send', arguments: { to: 'x', body: { PassWord: 'hunter2' } } }), refusedWith('PC_DLP_EXFILTRATION'));
      await assert.rejects(client.callTool({ name: 'send', arguments: { to: 'x', body: 'code PRJ-1234' } }), refusedWith('PC_DLP_EXFILTRATION'));
      await client.callTool({ name: 'store', arguments: { body: secrets.github } });
      await client.close();
      assert.deepEqual(callsReceived(log).map((c) => c.name), ['store']);
      const alert = auditTrail(dataDir).find((r) => r.target === 'store');
      assert.equal(alert?.decision, 'allowed');
      assert.ok(alert?.dlp?.some((f) => f.action === 'alert'));
    } finally {
      await gw.close();
    }
  });

  it('arguments.secrets: off turns the check off', async () => {
    const { gw, log } = await gateway({ dlp: { arguments: { secrets: 'off' } } });
    try {
      const client = await legacyClient(`${gw.url}/mcp/leaky`);
      await client.callTool({ name: 'send', arguments: { to: 'x', body: secrets.aws } });
      await client.close();
      assert.equal(callsReceived(log).length, 1);
    } finally {
      await gw.close();
    }
  });
});
