/** `policy test` reports a held call as APPROVE with its rule; `policy explain` marks the tools that need approval. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/gateway.ts';
import { APPROVAL_POLICY, approvalHarness, type ApprovalHarness } from './harness.ts';

describe('policy tooling and approve rules', () => {
  let h: ApprovalHarness;
  let config: string;
  before(async () => {
    h = await approvalHarness();
    config = join(h.dataDir, 'portcullis.yaml');
    // JSON is YAML: the same servers (pinned by the gateway that just ran) and policy.
    writeFileSync(config, JSON.stringify({ dataDir: h.dataDir, supply: { allowUnpinned: true }, servers: h.gw.gateway.config.servers, policy: APPROVAL_POLICY }));
  });
  after(async () => h.close());

  it('policy test: APPROVE with the rule, exit 1; an allowed call exit 0', async () => {
    const held = await runCli(['policy', 'test', '-c', config, '--call', 'everything.echo {"message":"x"}', '--json']);
    assert.equal(held.code, 1, held.stderr);
    const decision = JSON.parse(held.stdout);
    assert.equal(decision.decision, 'approve');
    assert.equal(decision.rule, 'echo-needs-approval');
    const allowed = await runCli(['policy', 'test', '-c', config, '--call', 'everything.get-tiny-image {}']);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
  });

  it('policy explain: marks the tools an approve rule may hold', async () => {
    const explained = await runCli(['policy', 'explain', '-c', config, '--json']);
    assert.equal(explained.code, 0, explained.stderr);
    const tools = JSON.parse(explained.stdout).tools as Array<{ tool: string; approval?: string }>;
    assert.equal(tools.find((t) => t.tool === 'echo')?.approval, 'echo-needs-approval');
    assert.equal(tools.find((t) => t.tool === 'get-tiny-image')?.approval, undefined);
    const text = await runCli(['policy', 'explain', '-c', config]);
    assert.match(text.stdout, /everything\.echo .*\[needs approval: rule echo-needs-approval\]/);
  });
});
