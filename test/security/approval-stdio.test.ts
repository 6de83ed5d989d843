/**
 * Approval on the stdio front (`portcullis stdio`, a local principal: the OS user and the configured
 * agent): in band by elicitation for a client that can be asked, out of band for one that cannot — where
 * the operator at the same terminal cannot grant their own agent's call under their own name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { auditTrail } from '../helpers/audit.ts';
import { MAIN, stdioClientEnv, runCli } from '../helpers/gateway.ts';
import { recordedEverything } from '../helpers/oauth.ts';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'pc-appr-stdio-'));
  const everything = recordedEverything();
  const file = join(dir, 'portcullis.yaml');
  const config = {
    dataDir: dir,
    supply: { allowUnpinned: true },
    identity: { localAgent: 'desktop-agent' },
    approvals: { waitMs: 300, pollMs: 25 },
    policy: { rules: [{ name: 'allow-rest', effect: 'allow' }, { name: 'echo-needs-approval', effect: 'approve', tools: ['echo'] }] },
    servers: { everything: everything.server },
  };
  writeFileSync(file, JSON.stringify(config));
  const echoes = (message: string) => everything.received().filter((m) => m.method === 'tools/call' && m.params?.name === 'echo' && (m.params.arguments as Record<string, unknown>)?.message === message);
  return { dir, file, echoes };
}

async function connect(file: string, onElicit?: (params: unknown) => unknown): Promise<Client> {
  const client = new Client({ name: 'stdio-approval', version: '1' }, { capabilities: onElicit ? { elicitation: {} } : {} });
  if (onElicit) client.setRequestHandler(ElicitRequestSchema, async (r) => onElicit(r.params) as never);
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, 'stdio', '-c', file, '--server', 'everything'], env: stdioClientEnv(), stderr: 'ignore' }));
  return client;
}

describe('approval on the stdio front', () => {
  it('asks in band and runs only on yes', async () => {
    const { file, echoes, dir } = setup();
    let answer: unknown = { action: 'decline' };
    const client = await connect(file, () => answer);
    try {
      await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'stdio no' } }), (error: any) => error?.data?.code === 'PC_APPROVAL_DECLINED');
      answer = { action: 'accept', content: { approve: true } };
      const result = await client.callTool({ name: 'echo', arguments: { message: 'stdio yes' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: stdio yes' }]);
    } finally {
      await client.close();
    }
    assert.equal(echoes('stdio no').length, 0);
    assert.equal(echoes('stdio yes').length, 1);
    assert.ok(auditTrail(dir).some((r) => r.approval?.event === 'used' && r.principal.agent === 'desktop-agent'));
  });

  it('queues a call from a client that cannot be asked; the OS user cannot grant it under their own name, another approver can', async () => {
    const { file, echoes } = setup();
    const client = await connect(file);
    try {
      let id = '';
      await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'stdio queued' } }), (error: any) => {
        id = error?.data?.approvalId;
        return error?.data?.code === 'PC_APPROVAL_PENDING';
      });
      const self = await runCli(['approvals', 'grant', id, '-c', file]);
      assert.equal(self.code, 1, `the default --by is the OS user (${userInfo().username}), who made the call`);
      assert.match(self.stderr, /PC_APPROVAL_SELF/);
      const agent = await runCli(['approvals', 'grant', id, '--by', 'desktop-agent', '-c', file]);
      assert.match(agent.stderr, /PC_APPROVAL_SELF/);
      assert.equal(echoes('stdio queued').length, 0);
      const grant = await runCli(['approvals', 'grant', id, '--by', 'security-officer', '-c', file]);
      assert.equal(grant.code, 0, grant.stderr);
      const result = await client.callTool({ name: 'echo', arguments: { message: 'stdio queued' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: stdio queued' }]);
    } finally {
      await client.close();
    }
    assert.equal(echoes('stdio queued').length, 1);
  });
});
