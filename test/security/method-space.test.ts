/**
 * Issue 11 item 3 — default deny covers the whole method space. A policy allows one tool (`echo`), the
 * public prompt and the public resources of a gullible server that answers anything it is sent; every
 * other method, name shape and spelling is refused on both endpoints and in both eras, nothing of it
 * reaches the server (recorded on the server's side), and every refusal is in the audit trail.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, codeOf, forwarded, legacySession, modernSession, received, recordedServer, type RawSession } from '../helpers/security.ts';

const POLICY = {
  rules: [
    { name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] },
    { name: 'public-prompts', effect: 'allow', servers: ['gov'], prompts: ['public_*'] },
    { name: 'public-resources', effect: 'allow', servers: ['gov'], resources: ['mem://public/*'] },
    { name: 'custom-x', effect: 'allow', servers: ['gov'], methods: ['x/*'] },
  ],
};

describe('default deny over the method space', () => {
  let gw: TestGateway;
  let log: string;
  let dir: string;
  const sessions: Record<string, RawSession> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-methods-'));
    log = join(dir, 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: POLICY });
    sessions['legacy /mcp/gov'] = await legacySession(`${gw.url}/mcp/gov`);
    sessions['legacy /mcp'] = await legacySession(`${gw.url}/mcp`, '2025-06-18');
    sessions['modern /mcp/gov'] = modernSession(`${gw.url}/mcp/gov`);
    sessions['modern /mcp'] = modernSession(`${gw.url}/mcp`);
  });
  after(async () => gw?.close());

  const echoName = (label: string) => (label.endsWith('/mcp') ? 'gov__echo' : 'echo');

  it('refuses tools/call whose name is missing, a number, true, null, an object or an array (-32602); nothing reaches the server', async () => {
    const before = forwarded(log).length;
    const trail = auditRecords(gw).length;
    let sent = 0;
    for (const [label, session] of Object.entries(sessions)) {
      for (const name of [undefined, 7, true, null, { name: 'delete_record' }, ['delete_record'], ['echo']]) {
        const params: Record<string, unknown> = { arguments: { id: '1' } };
        if (name !== undefined) params.name = name;
        const answer = await session.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params });
        assert.equal(answer.json?.error?.code, -32602, `${label} ${JSON.stringify(name)}: ${JSON.stringify(answer.json)}`);
        assert.equal(codeOf(answer), 'PC_PROTOCOL_INVALID_PARAMS', label);
        sent += 1;
      }
      const noParams = await session.send({ jsonrpc: '2.0', id: 2, method: 'tools/call' });
      assert.equal(codeOf(noParams), label.startsWith('modern') ? 'PC_PROTOCOL_INVALID_PARAMS' : 'PC_PROTOCOL_INVALID_PARAMS');
      sent += 1;
    }
    assert.deepEqual(forwarded(log).slice(before), [], 'the server received none of them');
    const recorded = auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_PROTOCOL_INVALID_PARAMS' && r.decision === 'denied');
    assert.equal(recorded.length, sent, 'each refusal is in the audit trail');
  });

  it('refuses case, NUL, zero-width, percent-encoded and padded spellings, server→client methods and unknown names (PC_ROUTE_UNKNOWN_METHOD)', async () => {
    const before = forwarded(log).length;
    const trail = auditRecords(gw).length;
    const methods = [
      'TOOLS/CALL',
      'Tools/Call',
      'tools/call\u0000',
      'tools/call\u200b',
      'tools%2fcall',
      'tools%2Fcall',
      ' tools/call',
      'tools/call ',
      'tools//call',
      'tools/ｃall',
      'sampling/createMessage',
      'elicitation/create',
      'roots/list',
      'notifications/message',
      'notifications/tools/list_changed',
      'admin/shutdown',
      'delete_record',
    ];
    let sent = 0;
    for (const [label, session] of Object.entries(sessions)) {
      for (const method of methods) {
        const answer = await session.send({ jsonrpc: '2.0', id: 3, method, params: { name: echoName(label), arguments: { text: 'x' } } });
        const code = codeOf(answer);
        // A modern request whose method cannot travel in the Mcp-Method header is refused before the
        // pipeline (-32020); every other one by the route stage.
        if (label.startsWith('modern') && code === 'PC_PROTOCOL_HEADER_MISMATCH') continue;
        assert.equal(code, 'PC_ROUTE_UNKNOWN_METHOD', `${label} ${JSON.stringify(method)}: ${JSON.stringify(answer.json)}`);
        assert.equal(answer.json.error.code, -32601);
        sent += 1;
      }
    }
    assert.deepEqual(forwarded(log).slice(before), [], 'the server received none of them');
    const recorded = auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_ROUTE_UNKNOWN_METHOD');
    assert.equal(recorded.length, sent, 'each refusal is in the audit trail');
    assert.ok(recorded.some((r) => r.method === 'sampling/createMessage'));
  });

  it('refuses methods the negotiated version does not define (tasks/* before 2025-11-25, ping and setLevel in 2026-07-28)', async () => {
    const before = forwarded(log).length;
    const old = await legacySession(`${gw.url}/mcp/gov`, '2025-03-26');
    assert.equal(codeOf(await old.send({ jsonrpc: '2.0', id: 1, method: 'tasks/list', params: {} })), 'PC_ROUTE_UNKNOWN_METHOD');
    assert.equal(codeOf(await old.send({ jsonrpc: '2.0', id: 2, method: 'tasks/get', params: { taskId: 'task-1' } })), 'PC_ROUTE_UNKNOWN_METHOD');
    const modern = sessions['modern /mcp/gov']!;
    for (const method of ['logging/setLevel', 'resources/subscribe', 'ping', 'initialize']) {
      const answer = await modern.send({ jsonrpc: '2.0', id: 4, method, params: { level: 'debug', uri: 'mem://public/readme' } });
      assert.equal(answer.status, 404, method);
      assert.equal(codeOf(answer), 'PC_ROUTE_UNKNOWN_METHOD', method);
    }
    assert.deepEqual(forwarded(log).slice(before), []);
  });

  it('governs completion/complete as the prompt or template its ref names, and hides what the policy hides on /mcp', async () => {
    const before = forwarded(log).length;
    for (const [label, session] of Object.entries(sessions)) {
      const prefix = label.endsWith('/mcp') ? 'gov__' : '';
      const secret = await session.send({ jsonrpc: '2.0', id: 5, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: `${prefix}secret_prompt` }, argument: { name: 'topic', value: 'a' } } });
      assert.equal(codeOf(secret), 'PC_ROUTE_UNKNOWN_PROMPT', `${label}: a hidden prompt looks like no prompt`);
      const missing = await session.send({ jsonrpc: '2.0', id: 6, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: `${prefix}no_such_prompt` }, argument: { name: 'topic', value: 'a' } } });
      assert.equal(codeOf(missing), 'PC_ROUTE_UNKNOWN_PROMPT', label);
      const same = (answer: { json: any }, name: string) => JSON.parse(JSON.stringify(answer.json.error).replaceAll(name, 'X'));
      assert.deepEqual(same(secret, 'secret_prompt'), same(missing, 'no_such_prompt'), `${label}: the two refusals read the same`);
      const vault = await session.send({ jsonrpc: '2.0', id: 7, method: 'completion/complete', params: { ref: { type: 'ref/resource', uri: 'mem://secret/vault/{id}' }, argument: { name: 'id', value: '' } } });
      assert.equal(codeOf(vault), 'PC_ROUTE_UNKNOWN_RESOURCE', label);
      const ok = await session.send({ jsonrpc: '2.0', id: 8, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: `${prefix}public_prompt` }, argument: { name: 'topic', value: 'a' } } });
      assert.deepEqual(ok.json.result.completion.values, ['alpha', 'beta'], label);
    }
    const completions = forwarded(log).slice(before);
    assert.equal(completions.length, 4, 'only the four allowed completions arrived');
    for (const c of completions) assert.deepEqual(c.params?.ref, { type: 'ref/prompt', name: 'public_prompt' });
  });

  it('filters resources/templates/list and refuses resources/unsubscribe and reads outside the policy', async () => {
    const before = forwarded(log).length;
    for (const [label, session] of Object.entries(sessions)) {
      const templates = await session.send({ jsonrpc: '2.0', id: 9, method: 'resources/templates/list', params: {} });
      assert.deepEqual(templates.json.result.resourceTemplates.map((t: { uriTemplate: string }) => t.uriTemplate), ['mem://public/notes/{id}', 'mem://public/files/{+path}'], label);
      const read = await session.send({ jsonrpc: '2.0', id: 10, method: 'resources/read', params: { uri: 'mem://secret/keys' } });
      assert.equal(codeOf(read), 'PC_POLICY_DENIED', label);
      if (label.startsWith('legacy')) {
        const unsubscribe = await session.send({ jsonrpc: '2.0', id: 11, method: 'resources/unsubscribe', params: { uri: 'mem://secret/keys' } });
        assert.equal(codeOf(unsubscribe), 'PC_POLICY_DENIED', label);
      }
    }
    assert.deepEqual(forwarded(log).slice(before), [], 'template lists come from the catalog; nothing else arrived');
  });

  it('lets logging/setLevel reach only servers a whole-server rule gives the caller, and refuses unknown task ids', async () => {
    const before = forwarded(log).length;
    const oneTool = await sessions['legacy /mcp/gov']!.send({ jsonrpc: '2.0', id: 12, method: 'logging/setLevel', params: { level: 'debug' } });
    assert.equal(codeOf(oneTool), 'PC_POLICY_DENIED', 'allowing one tool does not allow changing the server');
    const bad = await sessions['legacy /mcp/gov']!.send({ jsonrpc: '2.0', id: 13, method: 'logging/setLevel', params: { level: 'loud' } });
    assert.equal(codeOf(bad), 'PC_PROTOCOL_INVALID_PARAMS');
    const task = await sessions['legacy /mcp/gov']!.send({ jsonrpc: '2.0', id: 14, method: 'tasks/get', params: { taskId: 'task-1' } });
    assert.equal(codeOf(task), 'PC_TASK_UNKNOWN');
    assert.deepEqual(forwarded(log).slice(before), []);

    const log2 = join(mkdtempSync(join(tmpdir(), 'pc-methods-')), 'gov.log');
    const other = await startSecureGateway({ servers: { gov: recordedServer(log2) }, policy: { rules: [{ name: 'gov-for-ops', effect: 'allow', servers: ['gov'], principal: { agents: ['ops-agent'] } }] } });
    try {
      const ops = await legacySession(`${other.url}/mcp/gov`, '2025-11-25', 'ops-agent');
      assert.deepEqual((await ops.send({ jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'debug' } })).json.result, {});
      const someone = await legacySession(`${other.url}/mcp/gov`, '2025-11-25', 'someone');
      assert.equal(codeOf(await someone.send({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'error' } })), 'PC_POLICY_DENIED');
      const broadcast = await (await legacySession(`${other.url}/mcp`, '2025-11-25', 'someone')).send({ jsonrpc: '2.0', id: 3, method: 'logging/setLevel', params: { level: 'error' } });
      assert.deepEqual(broadcast.json.result, {}, 'the broadcast answers, reaching no server this caller may not use');
      assert.deepEqual(
        forwarded(log2).filter((m) => m.method === 'logging/setLevel').map((m) => m.params),
        [{ level: 'debug' }],
        'only the allowed caller\'s level reached the server',
      );
    } finally {
      await other.close();
    }
  });

  it('forwards a custom method only on /mcp/<server> and only when a rule names it', async () => {
    const before = forwarded(log).length;
    const named = await sessions['legacy /mcp/gov']!.send({ jsonrpc: '2.0', id: 15, method: 'x/ping', params: { anything: 1 } });
    assert.deepEqual(named.json.result, {});
    assert.equal(codeOf(await sessions['legacy /mcp/gov']!.send({ jsonrpc: '2.0', id: 16, method: 'y/ping', params: {} })), 'PC_ROUTE_UNKNOWN_METHOD');
    assert.equal(codeOf(await sessions['legacy /mcp']!.send({ jsonrpc: '2.0', id: 17, method: 'x/ping', params: {} })), 'PC_ROUTE_UNKNOWN_METHOD');
    assert.deepEqual(
      forwarded(log).slice(before).map((m) => [m.method, m.params]),
      [['x/ping', { anything: 1 }]],
    );
  });

  it('stops every message bound for the server after `portcullis kill --all`, notifications and lists included', async () => {
    const config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nsupply: { allowUnpinned: true }\nservers:\n  gov: { command: node }\n`);
    const before = forwarded(log).length;
    const beforeAll = received(log).length;
    const trail = auditRecords(gw).length;
    assert.equal((await runCli(['kill', '--all', '--reason', 'incident 11', '-c', config])).code, 0);
    try {
      let sent = 0;
      for (const [label, session] of Object.entries(sessions)) {
        const legacy = label.startsWith('legacy');
        const aggregate = label.endsWith('/mcp');
        const prefix = aggregate ? 'gov__' : '';
        const messages: Array<[string, Record<string, unknown>]> = [
          ['tools/call', { name: `${prefix}echo`, arguments: { text: 'x' } }],
          ['tools/list', {}],
          ['prompts/list', {}],
          ['resources/templates/list', {}],
          ['prompts/get', { name: `${prefix}public_prompt` }],
          ['resources/read', { uri: 'mem://public/readme' }],
          ['completion/complete', { ref: { type: 'ref/prompt', name: `${prefix}public_prompt` }, argument: { name: 'topic', value: 'a' } }],
        ];
        // resources/unsubscribe only stops work, and passes a switch (docs/policy.md, kill switch).
        if (legacy) messages.push(['logging/setLevel', { level: 'info' }], ['resources/subscribe', { uri: 'mem://public/readme' }]);
        if (!aggregate) messages.push(['x/ping', {}]);
        for (const [method, params] of messages) {
          const answer = await session.send({ jsonrpc: '2.0', id: 20, method, params });
          assert.equal(codeOf(answer), 'PC_KILL_SWITCH', `${label} ${method}: ${JSON.stringify(answer.json)}`);
          sent += 1;
        }
        await session.send({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
      }
      assert.deepEqual(forwarded(log).slice(before), [], 'nothing reached the server');
      assert.equal(received(log).length, beforeAll, 'not even housekeeping on a client\'s behalf');
      const recorded = auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_KILL_SWITCH');
      assert.equal(recorded.length, sent, 'each stop is in the audit trail');
    } finally {
      assert.equal((await runCli(['unkill', '--everything', '-c', config])).code, 0);
    }
    const back = await sessions['legacy /mcp/gov']!.send({ jsonrpc: '2.0', id: 21, method: 'tools/call', params: { name: 'echo', arguments: { text: 'back' } } });
    assert.match(JSON.stringify(back.json.result), /echo: back/);
  });
});
