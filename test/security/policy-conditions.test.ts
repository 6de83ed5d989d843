/**
 * Conditions are exact: a deny rule's condition that is not exactly `false` denies (true, errors,
 * `"yes"`, `1`, lists, objects, null), an allow condition must be exactly `true`, and an argument of a
 * type the condition never compares (`["rm"]` where it compares with "rm") cannot slip past. The server
 * behind is careless (it validates nothing, as a coercing server would), so whatever the gateway lets
 * through would run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer, TOOLS_SERVER } from '../helpers/recorded.ts';

const LOOSE = { type: 'object' };
const TOOLS = [
  { name: 'run', inputSchema: LOOSE },
  { name: 'purge', inputSchema: LOOSE },
  { name: 'peek', inputSchema: LOOSE },
];

/** Values of every JSON type and the usual coercion bait. */
const NOT_FALSE = [true, 'yes', 'true', 'false', '', 1, 0, -1, 1.5, null, ['x'], [], [false], { a: 1 }, {}];

describe('policy conditions are exact', () => {
  let gw: TestGateway;
  let log: string;

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-conditions-')), 'tools.log');
    gw = await startSecureGateway({
      servers: { tools: recordedServer(log, TOOLS_SERVER, [JSON.stringify(TOOLS)]) },
      policy: {
        rules: [
          { name: 'no-force', effect: 'deny', tools: ['run', 'purge'], when: 'has(args.force) && args.force' },
          { name: 'no-rm', effect: 'deny', tools: ['run'], when: 'has(args.cmd) && (args.cmd == "rm" || args.cmd in ["rmdir", "shred"])' },
          { name: 'no-big-n', effect: 'deny', tools: ['run'], when: 'has(args.n) && args.n > 10' },
          { name: 'run-anything-else', effect: 'allow', tools: ['run'] },
          { name: 'purge-only-tmp', effect: 'allow', tools: ['purge'], when: 'args.dir == "/tmp"' },
          { name: 'purge-truthy', effect: 'allow', tools: ['purge'], when: 'args.confirm' },
          { name: 'peek-hidden', effect: 'deny', tools: ['peek'], when: 'tool.name' },
          { name: 'peek', effect: 'allow', tools: ['peek'] },
        ],
      },
    });
  });
  after(async () => gw?.close());

  it('a deny condition that is not exactly false denies, whatever the type', async () => {
    const client = await legacyClient(`${gw.url}/mcp/tools`);
    const before = callsReceived(log).length;
    try {
      await client.callTool({ name: 'run', arguments: { cmd: 'ls', force: false } });
      await client.callTool({ name: 'run', arguments: { cmd: 'ls' } });
      for (const force of NOT_FALSE) {
        await assert.rejects(client.callTool({ name: 'run', arguments: { cmd: 'ls', force } }), (e: { data?: { code?: string; rule?: string } }) => {
          assert.equal(e.data?.code, 'PC_POLICY_DENIED');
          assert.equal(e.data?.rule, 'no-force');
          return true;
        }, JSON.stringify(force));
      }
    } finally {
      await client.close();
    }
    assert.deepEqual(callsReceived(log).slice(before).map((c) => c.arguments), [{ cmd: 'ls', force: false }, { cmd: 'ls' }]);
  });

  it('an argument of a type the deny condition never compares is refused, not waved through', async () => {
    const client = await modernClient(`${gw.url}/mcp`);
    const before = callsReceived(log).length;
    const variants: unknown[] = [['rm'], [['rm']], { 0: 'rm' }, { cmd: 'rm' }, 1, true, null, ['rmdir'], ['ls', 'rm']];
    try {
      for (const cmd of variants) {
        await assert.rejects(client.callTool({ name: 'tools__run', arguments: { cmd } }), (e: { data?: { code?: string; rule?: string } }) => {
          assert.equal(e.data?.code, 'PC_POLICY_DENIED');
          assert.equal(e.data?.rule, 'no-rm');
          return true;
        }, JSON.stringify(cmd));
      }
      for (const n of ['11', '1e9', [11], { n: 11 }, true]) {
        await assert.rejects(client.callTool({ name: 'tools__run', arguments: { n } }), (e: { data?: { rule?: string } }) => e.data?.rule === 'no-big-n', JSON.stringify(n));
      }
      for (const cmd of ['rm', 'rmdir', 'shred']) await assert.rejects(client.callTool({ name: 'tools__run', arguments: { cmd } }), (e: { data?: { rule?: string } }) => e.data?.rule === 'no-rm');
      await client.callTool({ name: 'tools__run', arguments: { cmd: 'rmx', n: 3 } });
    } finally {
      await client.close();
    }
    assert.deepEqual(callsReceived(log).slice(before).map((c) => c.arguments), [{ cmd: 'rmx', n: 3 }], 'only the well-typed, allowed call ran');
  });

  it('an allow condition must be exactly true', async () => {
    const client = await legacyClient(`${gw.url}/mcp/tools`);
    const before = callsReceived(log).length;
    try {
      for (const args of [{ dir: ['/tmp'] }, { dir: '/tmp/../etc' }, { confirm: 'yes' }, { confirm: 1 }, { confirm: ['true'] }, { confirm: null }, {}]) {
        await assert.rejects(client.callTool({ name: 'purge', arguments: args }), (e: { data?: { code?: string } }) => e.data?.code === 'PC_POLICY_DENIED', JSON.stringify(args));
      }
      await client.callTool({ name: 'purge', arguments: { dir: '/tmp' } });
      await client.callTool({ name: 'purge', arguments: { confirm: true } });
    } finally {
      await client.close();
    }
    assert.deepEqual(callsReceived(log).slice(before).map((c) => c.arguments), [{ dir: '/tmp' }, { confirm: true }]);
  });

  it('a deny condition that gives a non-boolean hides the tool from lists too, and every refusal is recorded', async () => {
    const client = await legacyClient(`${gw.url}/mcp/tools`);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(!names.includes('peek'), 'hidden');
      assert.ok(names.includes('run'));
      await assert.rejects(client.callTool({ name: 'peek', arguments: {} }), (e: { data?: { rule?: string } }) => e.data?.rule === 'peek-hidden');
    } finally {
      await client.close();
    }
    assert.ok(!callsReceived(log).some((c) => c.name === 'peek'));
    const denied = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.decision === 'denied');
    const byRule = (rule: string) => denied.filter((r) => r.rule === rule).length;
    assert.equal(byRule('no-force'), NOT_FALSE.length);
    assert.equal(byRule('no-rm'), 9 + 3);
    assert.equal(byRule('no-big-n'), 5);
    assert.equal(byRule('peek-hidden'), 1);
  });
});
