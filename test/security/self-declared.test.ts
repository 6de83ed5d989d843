/**
 * Self-declared values only narrow. A task label (Portcullis-Task header, `_meta`) cannot select an
 * allow or approve rule on its own — such a policy is refused at load — and however it is sent it
 * grants nothing the caller's principal does not hold; `config check` names every rule and limit that
 * leans on a self-declared name while identity is off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.ts';
import { legacyClient, post, runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer, TOOLS_SERVER } from '../helpers/recorded.ts';

const SERVERS = { tickets: { command: 'node' } };
const rule = (extra: Record<string, unknown>) => ({ servers: SERVERS, policy: { rules: [{ name: 'r', servers: ['tickets'], ...extra }] } });

describe('self-declared values only narrow', () => {
  it('refuses at load an allow or approve rule selected by a task label without a principal selector', () => {
    const refused: [Record<string, unknown>, string][] = [
      [{ effect: 'allow', tasks: ['triage-*'] }, 'policy.rules[0].tasks'],
      [{ effect: 'approve', tasks: ['triage-*'] }, 'policy.rules[0].tasks'],
      [{ effect: 'allow', tasks: ['*'], principal: { agents: ['*'] } }, 'policy.rules[0].tasks'],
      [{ effect: 'allow', tasks: ['x'], principal: { subjects: ['*'], agents: ['*'] } }, 'policy.rules[0].tasks'],
      // Wildcards alone name nobody, however they are spelled.
      [{ effect: 'allow', tasks: ['x'], principal: { agents: ['**'] } }, 'policy.rules[0].tasks'],
      [{ effect: 'allow', tasks: ['x'], principal: { agents: ['?*'] } }, 'policy.rules[0].tasks'],
      [{ effect: 'approve', tasks: ['x'], principal: { subjects: ['*?'] } }, 'policy.rules[0].tasks'],
      [{ effect: 'allow', tasks: ['x'], principal: { agents: ['ci-*', '???*'] } }, 'policy.rules[0].tasks'],
      [{ effect: 'allow', when: 'task == "triage"' }, 'policy.rules[0].when'],
      [{ effect: 'allow', when: 'task.startsWith("triage") && args.n < 3' }, 'policy.rules[0].when'],
    ];
    for (const [extra, path] of refused) {
      const loaded = validateConfig(rule(extra));
      assert.equal(loaded.ok, false, JSON.stringify(extra));
      if (!loaded.ok) assert.deepEqual(loaded.problems.map((p) => p.path), [path], JSON.stringify(extra));
    }
    for (const extra of [
      { effect: 'allow', tasks: ['triage-*'], principal: { roles: ['support'] } },
      { effect: 'allow', tasks: ['triage-*'], principal: { subjects: ['alice'] } },
      { effect: 'allow', when: 'task == "x"', principal: { scopes: ['tickets:write'] } },
      { effect: 'deny', tasks: ['prod-*'] },
    ]) {
      assert.equal(validateConfig(rule(extra)).ok, true, JSON.stringify(extra));
    }
  });

  it('config check names what relies on self-declared names or labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-self-'));
    const file = join(dir, 'portcullis.yaml');
    writeFileSync(
      file,
      [
        `dataDir: ${JSON.stringify(dir)}`,
        'servers: { tickets: { command: node } }',
        'policy:',
        '  rules:',
        '    - { name: trusted-agent, effect: allow, principal: { agents: [ci-bot] } }',
        '    - { name: no-prod, effect: deny, tasks: ["prod-*"] }',
        '    - { name: no-intern, effect: deny, when: \'principal.agent == "intern"\' }',
        '    - { name: ask-prod, effect: approve, tasks: ["prod-*"], principal: { subjects: [alice] } }',
        '  limits:',
        '    - { name: per-agent, per: agent, rate: 10/s }',
        '',
      ].join('\n'),
    );
    const check = await runCli(['config', 'check', '-c', file]);
    assert.equal(check.code, 0, check.stderr);
    // An approve rule is a gate too: narrowed by the task the caller declares, it is avoided by declaring another (red team F3).
    for (const path of ['policy.rules[0].principal', 'policy.rules[1].tasks', 'policy.rules[2].when', 'policy.rules[3].tasks', 'policy.limits[0].per']) {
      assert.ok(check.stderr.includes(path), `warned about ${path}:\n${check.stderr}`);
    }
    writeFileSync(file, `dataDir: ${JSON.stringify(dir)}\nservers: { tickets: { command: node } }\npolicy: { rules: [{ name: triage, effect: allow, tasks: ["triage-*"] }] }\n`);
    const refused = await runCli(['config', 'check', '-c', file]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /policy\.rules\[0\]\.tasks/);
  });

  it('config check warns that the stdio front trusts a declared name while identity is on but identity.localAgent is not set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-self-stdio-'));
    const file = join(dir, 'portcullis.yaml');
    const write = (localAgent: string) =>
      writeFileSync(
        file,
        [
          `dataDir: ${JSON.stringify(dir)}`,
          `identity: { apiKeys: {}${localAgent} }`,
          'servers: { tickets: { command: node } }',
          'policy:',
          '  rules:',
          '    - { name: alice-only, effect: allow, principal: { agents: [alice] } }',
          '    - { name: no-intern, effect: deny, when: \'principal.agent == "intern"\' }',
        '    - { name: ask-prod, effect: approve, tasks: ["prod-*"], principal: { subjects: [alice] } }',
          '  limits:',
          '    - { name: per-agent, per: agent, rate: 10/s }',
          '',
        ].join('\n'),
      );
    write('');
    const check = await runCli(['config', 'check', '-c', file]);
    assert.equal(check.code, 0, check.stderr);
    for (const path of ['policy.rules[0].principal', 'policy.rules[1].when']) {
      assert.match(check.stderr, new RegExp(`${path.replace(/[[\].]/g, '\\$&')}.*stdio front.*identity\\.localAgent`), `warned about ${path}:\n${check.stderr}`);
    }
    write(', localAgent: local-desk');
    const fixed = await runCli(['config', 'check', '-c', file]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.doesNotMatch(fixed.stderr, /stdio front|agent name/, fixed.stderr);
  });

  describe('a declared task grants nothing by itself', () => {
    let gw: TestGateway;
    let log: string;

    before(async () => {
      log = join(mkdtempSync(join(tmpdir(), 'pc-self-e2e-')), 'tickets.log');
      gw = await startSecureGateway({
        servers: { tickets: recordedServer(log, TOOLS_SERVER, [JSON.stringify([{ name: 'delete_record', inputSchema: { type: 'object' } }, { name: 'read_record', inputSchema: { type: 'object' } }])]) },
        policy: {
          rules: [
            { name: 'triage-for-support', effect: 'allow', servers: ['tickets'], tools: ['delete_record'], tasks: ['triage-*'], principal: { subjects: ['support-lead'] } },
            { name: 'reads', effect: 'allow', servers: ['tickets'], tools: ['read_record'], principal: { subjects: [userInfo().username] } },
          ],
        },
      });
    });
    after(async () => gw?.close());

    it('refuses the destructive call however the label is sent; nothing reaches the server; the refusal is recorded', async () => {
      const url = `${gw.url}/mcp/tickets`;
      let count = 0;
      for (const header of ['Portcullis-Task', 'portcullis-task', 'PORTCULLIS-TASK']) {
        const client = await legacyClient(url, { headers: { [header]: 'triage-x' }, name: 'support-lead' });
        try {
          await assert.rejects(client.callTool({ name: 'delete_record', arguments: { id: 1 } }), (e: { data?: { code?: string } }) => e.data?.code === 'PC_POLICY_DENIED', header);
          count++;
          assert.ok(!(await client.listTools()).tools.some((t) => t.name === 'delete_record'), 'not even listed');
        } finally {
          await client.close();
        }
      }
      const client = await legacyClient(url, { name: 'support-lead' });
      try {
        for (const meta of [{ 'dev.portcullis/task': 'triage-1' }, { 'dev.portcullis/task': ['triage-1'] }, { 'DEV.PORTCULLIS/TASK': 'triage-1' }, { task: 'triage-1' }]) {
          await assert.rejects(client.callTool({ name: 'delete_record', arguments: { id: 2 }, _meta: meta }), (e: { data?: { code?: string } }) => e.data?.code === 'PC_POLICY_DENIED', JSON.stringify(meta));
          count++;
        }
        const ok = await client.callTool({ name: 'read_record', arguments: { id: 3 }, _meta: { 'dev.portcullis/task': 'triage-1' } });
        assert.match(JSON.stringify(ok.content), /read_record ran/, 'a label narrows nothing the principal already has');
      } finally {
        await client.close();
      }
      // The modern era: a stateless POST with the header twice and the label in _meta.
      const raw = await post(
        url,
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_record', arguments: { id: 4 }, _meta: { 'dev.portcullis/task': 'triage-9', 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'support-lead', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } } }),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'delete_record', 'portcullis-task': 'triage-9' },
      );
      assert.notEqual(raw.json?.error, undefined, raw.text);
      count++;
      assert.deepEqual(callsReceived(log).map((c) => c.name), ['read_record'], 'the destructive call never reached the server');
      const refused = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.target === 'delete_record');
      assert.equal(refused.length, count, 'every attempt is recorded');
      assert.ok(refused.every((r) => r.decision === 'denied'));
      assert.ok(refused.some((r) => r.task === 'triage-x') && refused.some((r) => r.task === 'triage-1'), 'the declared label is recorded with the refusal');
    });
  });
});
