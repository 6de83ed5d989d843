/**
 * The approval webhook and the gateway-wide `approvals` options: every new out-of-band request is
 * POSTed, signed (HMAC-SHA256 over `<timestamp>.<body>`), retried with backoff until the receiver takes
 * it, with the arguments redacted; `format: slack` carries a text line; `adminScope` decides who may use
 * the admin endpoint. A real loopback receiver stands in for Slack or a ticketing system.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createWebhook } from '../../src/approvals/webhook.ts';
import { waitFor } from '../helpers/gateway.ts';
import { approvalHarness, codeOf, type ApprovalHarness } from './harness.ts';

const KEY = 'approval-hook-key-0123456789abcdef';

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver that refuses the first `failures` deliveries with 500, then takes them. */
async function receiver(failures: number): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.writeHead(deliveries.length <= failures ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const signatureHolds = (d: Delivery): boolean =>
  d.headers['x-portcullis-signature'] === `sha256=${createHmac('sha256', KEY).update(`${String(d.headers['x-portcullis-timestamp'])}.${d.body}`).digest('hex')}`;

describe('approval webhook', () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  let h: ApprovalHarness;
  before(async () => {
    hook = await receiver(2);
    h = await approvalHarness({
      approvals: { waitMs: 0, pollMs: 25, maxPending: 50, adminScope: 'desk:approve', webhook: { url: hook.url, secret: 'env:APPROVAL_HOOK_KEY', format: 'json', retries: 3, backoffMs: 20 } },
    }, { APPROVAL_HOOK_KEY: KEY });
  });
  after(async () => {
    await h.close();
    await hook.close();
  });

  it('posts each request signed, retries with backoff until taken, and never sends a redacted value', async () => {
    const answer = await h.call('alice', 'echo', { message: 'announce me', password: 'hunter2-do-not-send' });
    assert.equal(codeOf(answer), 'PC_APPROVAL_PENDING');
    const id = answer.body.error.data.approvalId as string;
    await waitFor(() => hook.deliveries.length >= 3 || undefined, 10_000, 'three attempts');
    await h.gw.gateway.approvals.idle();
    assert.equal(hook.deliveries.length, 3, 'two refused attempts, then one taken; no more');
    for (const d of hook.deliveries) {
      assert.ok(signatureHolds(d), 'the signature covers timestamp and body');
      assert.ok(!d.body.includes('hunter2'), 'no redacted value leaves');
      assert.equal(JSON.parse(d.body).approval.id, id);
    }
    const body = JSON.parse(hook.deliveries[2]!.body);
    assert.equal(body.event, 'approval.requested');
    assert.equal(body.approval.tool, 'echo');
    assert.equal(body.approval.rule, 'echo-needs-approval');
    const forged = { ...hook.deliveries[0]!, body: hook.deliveries[0]!.body.replace('announce me', 'announce you') };
    assert.ok(!signatureHolds(forged), 'a changed body fails the signature (the check can fail)');
  });

  it('lets only credentials with approvals.adminScope decide', async () => {
    const answer = await h.call('alice', 'echo', { message: 'scope check' });
    const id = answer.body.error.data.approvalId as string;
    const officer = await h.admin('officer', 'POST', `/admin/approvals/${id}/grant`, {});
    assert.equal(officer.status, 403, 'portcullis:approvals is not the configured scope here');
    assert.equal(officer.body.error?.data?.code, 'PC_APPROVAL_ADMIN_FORBIDDEN');
    assert.deepEqual(h.received('echo').filter((a) => a.message === 'scope check'), []);
  });
});

describe('approval webhook, slack format', () => {
  it('carries a text line naming the call and how to decide it', async () => {
    const hook = await receiver(0);
    try {
      const webhook = createWebhook({ url: hook.url, secret: 'env:X', format: 'slack', retries: 0, backoffMs: 10 }, { key: KEY, logger: pino({ level: 'silent' }) });
      webhook.notify({
        id: 'AAAAAAAAAAAAAAAAAAAAAA', principal: 'p', server: 'files', kind: 'tool', name: 'delete_file', argsHash: 'ab'.repeat(32), subject: 'alice', agent: 'claude',
        args: '{"path":"/tmp/x"}', rule: 'deletes', reason: 'deleting needs a human', approvers: null, channel: 'out-of-band', createdAt: 0, expiresAt: 600_000,
        status: 'pending', decidedBy: null, decidedAt: null, note: null, usedAt: null, rememberMs: null, recorded: '',
      });
      await webhook.idle();
      assert.equal(hook.deliveries.length, 1);
      const body = JSON.parse(hook.deliveries[0]!.body);
      assert.match(body.text, /alice asks to run files\.delete_file/);
      assert.match(body.text, /portcullis approvals grant AAAAAAAAAAAAAAAAAAAAAA/);
      assert.ok(signatureHolds(hook.deliveries[0]!));
    } finally {
      await hook.close();
    }
  });
});
