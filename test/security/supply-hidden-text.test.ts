/**
 * Every text a model sees is reviewed: a hostile server hides a payload the scanner rates high in
 * each place a model reads — `$defs`, `definitions`, `additionalProperties`, `items`, `oneOf`/`anyOf`/
 * `allOf`, enums, examples, `const`, property names, `outputSchema`, `annotations.title`, `_meta`,
 * deep nesting, prompt arguments, resource and template names and descriptions, server instructions
 * and serverInfo. Through the real gateway, on every endpoint and in both eras (a legacy stdio
 * upstream and a modern HTTP one), clients never see the payload, calls to what carries it are
 * refused, what the server never listed is not served, and the server receives none of those calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import { legacyClient, modernClient, post, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, messagesReceived, recordedHostile, refusalCode, targetsReceived, writeCatalog } from '../helpers/supply.ts';
import { startHostileHttp } from '../fixtures/hostile-server.ts';
import { MARK, POISONED_PROMPTS, POISONED_RESOURCES, POISONED_TOOLS, poisonedCatalog } from '../fixtures/hostile-catalog.ts';

const MODERN = '2026-07-28';
const modernMeta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

type AnyClient = LegacyClient | ModernClient;

/** Everything a client can see before calling anything: its description and every list. */
async function everythingSeen(client: AnyClient): Promise<{ text: string; tools: string[]; prompts: string[]; resources: string[]; templates: string[]; instructions: string | undefined }> {
  const [tools, prompts, resources, templates] = await Promise.all([client.listTools(), client.listPrompts(), client.listResources(), client.listResourceTemplates()]);
  const instructions = client.getInstructions();
  const seen = { instructions, serverInfo: client.getServerVersion(), tools, prompts, resources, templates };
  return {
    text: JSON.stringify(seen),
    tools: tools.tools.map((t) => t.name),
    prompts: prompts.prompts.map((p) => p.name),
    resources: resources.resources.map((r) => r.uri),
    templates: templates.resourceTemplates.map((t) => t.uriTemplate),
    instructions,
  };
}

describe('supply chain: every text a model sees is reviewed', () => {
  let gw: TestGateway;
  let log: string;
  let remote: Awaited<ReturnType<typeof startHostileHttp>>;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-hidden-'));
    log = join(dir, 'received.log');
    writeCatalog(join(dir, 'stdio.json'), poisonedCatalog());
    writeCatalog(join(dir, 'http.json'), poisonedCatalog());
    remote = await startHostileHttp(join(dir, 'http.json'));
    gw = await startSecureGateway({
      audit: { store: 'jsonl' },
      servers: { hostile: recordedHostile(log, join(dir, 'stdio.json')), remote: { url: remote.url } },
      // The servers' own items are allowed: what hides a poisoned one is the scanner, not the policy.
      policy: { rules: [{ name: 'the-servers-under-test', effect: 'allow', servers: ['hostile', 'remote'] }] },
    });
  });
  after(async () => {
    await gw.close();
    await remote.close();
  });

  for (const [era, connect] of [['legacy', legacyClient], ['modern', modernClient]] as const) {
    for (const path of ['/mcp/hostile', '/mcp/remote', '/mcp']) {
      it(`never shows the payload to a ${era} client on ${path}: instructions, serverInfo and every list`, async () => {
        const client = await connect(`${gw.url}${path}`);
        try {
          const seen = await everythingSeen(client);
          assert.ok(!seen.text.includes(MARK), `the payload reached the client: ${seen.text.slice(seen.text.indexOf(MARK) - 300, seen.text.indexOf(MARK) + 50)}`);
          const prefix = path === '/mcp' ? 'hostile__' : '';
          // The clean definitions are all there: only what carries the payload is withheld.
          if (path !== '/mcp/remote') {
            assert.ok(seen.tools.includes(`${prefix}ok_tool`) && seen.prompts.includes(`${prefix}ok_prompt`), seen.tools.join(','));
            assert.ok(seen.resources.includes('hostile://res/ok') && seen.templates.includes('hostile://item/{id}'), JSON.stringify(seen.templates));
          }
          for (const tool of POISONED_TOOLS) assert.ok(!seen.tools.some((name) => name.endsWith(String(tool.name))), `${String(tool.name)} is withheld`);
          for (const prompt of POISONED_PROMPTS) assert.ok(!seen.prompts.some((name) => name.endsWith(String(prompt.name))), `${String(prompt.name)} is withheld`);
          for (const resource of POISONED_RESOURCES) assert.ok(!seen.resources.includes(String(resource.uri)), `${String(resource.uri)} is withheld`);
          assert.deepEqual(seen.templates.filter((t) => t.startsWith('hostile://poison')), []);
          // Poisoned instructions are replaced by a notice, not dropped silently.
          assert.match(seen.instructions ?? '', /withheld the instructions of server "(hostile|remote)"/);
        } finally {
          await client.close();
        }
      });
    }
  }

  it('answers raw initialize and server/discover with the instructions withheld', async () => {
    for (const path of ['/mcp/hostile', '/mcp/remote', '/mcp']) {
      const legacy = await post(`${gw.url}${path}`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
      const modern = await post(`${gw.url}${path}`, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'server/discover', params: { _meta: modernMeta } }), { 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' });
      for (const answer of [legacy, modern]) {
        assert.equal(answer.status, 200, answer.text);
        assert.ok(!answer.text.includes(MARK), `${path}: ${answer.text}`);
        assert.match(answer.text, /withheld the instructions/);
      }
    }
  });

  it('refuses calls to every definition that carries the payload, and the servers receive none', async () => {
    const legacy = await legacyClient(`${gw.url}/mcp/hostile`);
    const modern = await modernClient(`${gw.url}/mcp/remote`);
    try {
      for (const client of [legacy, modern]) {
        for (const tool of POISONED_TOOLS) assert.equal(await refusalCode(client.callTool({ name: String(tool.name), arguments: {} })), 'PC_SUPPLY_QUARANTINED', String(tool.name));
        for (const prompt of POISONED_PROMPTS) assert.equal(await refusalCode(client.getPrompt({ name: String(prompt.name), arguments: { topic: 'x' } })), 'PC_SUPPLY_QUARANTINED', String(prompt.name));
        for (const resource of POISONED_RESOURCES) assert.equal(await refusalCode(client.readResource({ uri: String(resource.uri) })), 'PC_SUPPLY_QUARANTINED', String(resource.uri));
        // A URI that only a poisoned (never reviewed) template would match.
        assert.equal(await refusalCode(client.readResource({ uri: 'hostile://poison/1' })), 'PC_ROUTE_UNKNOWN_RESOURCE');
      }
      // On the aggregated endpoint they do not exist at all.
      const aggregated = await legacyClient(`${gw.url}/mcp`);
      assert.equal(await refusalCode(aggregated.callTool({ name: 'hostile__in_defs', arguments: {} })), 'PC_ROUTE_UNKNOWN_TOOL');
      assert.equal(await refusalCode(aggregated.readResource({ uri: 'hostile://res/description' })), 'PC_ROUTE_UNKNOWN_RESOURCE');
      await aggregated.close();
      // The controls are served (so the refusals above are not the server being unreachable).
      assert.deepEqual((await legacy.callTool({ name: 'ok_tool', arguments: { q: 'x' } })).content, [{ type: 'text', text: 'ok_tool ran' }]);
      assert.deepEqual((await modern.callTool({ name: 'ok_tool', arguments: { q: 'x' } })).content, [{ type: 'text', text: 'ok_tool ran' }]);
    } finally {
      await legacy.close();
      await modern.close();
    }
    const received = messagesReceived(log);
    assert.deepEqual(targetsReceived(received, 'tools/call'), ['ok_tool']);
    assert.deepEqual(targetsReceived(received, 'prompts/get'), []);
    assert.deepEqual(targetsReceived(received, 'resources/read'), []);
    const remoteCalls = remote.bodies.filter((b) => /"method":"(tools\/call|prompts\/get|resources\/read)"/.test(b));
    assert.equal(remoteCalls.length, 1, remoteCalls.join('\n'));
    assert.match(remoteCalls[0]!, /"name":"ok_tool"/);
    // Each refusal is in the audit trail with its code.
    const records = await waitFor(() => {
      const all = auditRecords(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_SUPPLY_QUARANTINED');
      return all.length >= 2 * (POISONED_TOOLS.length + POISONED_PROMPTS.length + POISONED_RESOURCES.length) ? all : undefined;
    }, 5000, 'the refusals in the audit trail');
    assert.ok(records.some((r) => r.server === 'hostile' && r.target === 'in_defs' && r.decision === 'denied'));
    assert.ok(records.some((r) => r.server === 'remote' && r.target === 'hostile://res/name' && r.decision === 'denied'));
  });

  it('does not serve a tool, prompt or resource the server never listed', async () => {
    const before = messagesReceived(log).length;
    const bodiesBefore = remote.bodies.length;
    const legacy = await legacyClient(`${gw.url}/mcp/hostile`);
    const modern = await modernClient(`${gw.url}/mcp/remote`);
    try {
      for (const client of [legacy, modern]) {
        assert.equal(await refusalCode(client.callTool({ name: 'hidden_tool', arguments: {} })), 'PC_ROUTE_UNKNOWN_TOOL');
        assert.equal(await refusalCode(client.getPrompt({ name: 'secret_prompt' })), 'PC_ROUTE_UNKNOWN_PROMPT');
        assert.equal(await refusalCode(client.readResource({ uri: 'hostile://hidden/secret' })), 'PC_ROUTE_UNKNOWN_RESOURCE');
        assert.equal(await refusalCode(client.complete({ ref: { type: 'ref/prompt', name: 'secret_prompt' }, argument: { name: 'a', value: 'x' } })), 'PC_ROUTE_UNKNOWN_PROMPT');
        assert.equal(await refusalCode(client.complete({ ref: { type: 'ref/resource', uri: 'hostile://hidden/{x}' }, argument: { name: 'x', value: 'y' } })), 'PC_ROUTE_UNKNOWN_RESOURCE');
      }
      assert.equal(await refusalCode(legacy.subscribeResource({ uri: 'hostile://hidden/secret' })), 'PC_ROUTE_UNKNOWN_RESOURCE');
      // What was listed and reviewed is served: a listed resource, a URI of a listed template, a listed prompt.
      for (const client of [legacy, modern]) {
        assert.match(JSON.stringify(await client.readResource({ uri: 'hostile://res/ok' })), /content of hostile:\/\/res\/ok/);
        assert.match(JSON.stringify(await client.readResource({ uri: 'hostile://item/42' })), /content of hostile:\/\/item\/42/);
        assert.match(JSON.stringify(await client.getPrompt({ name: 'ok_prompt', arguments: { topic: 'x' } })), /prompt ok_prompt/);
      }
    } finally {
      await legacy.close();
      await modern.close();
    }
    const received = messagesReceived(log).slice(before);
    assert.deepEqual(targetsReceived(received, 'tools/call'), []);
    assert.deepEqual(targetsReceived(received, 'prompts/get'), ['ok_prompt']);
    assert.deepEqual(targetsReceived(received, 'resources/read'), ['hostile://res/ok', 'hostile://item/42']);
    assert.deepEqual(targetsReceived(received, 'completion/complete'), []);
    assert.deepEqual(targetsReceived(received, 'resources/subscribe'), []);
    const remoteBodies = remote.bodies.slice(bodiesBefore).join('\n');
    assert.ok(!/hidden_tool|secret_prompt|hostile:\/\/hidden/.test(remoteBodies), remoteBodies);
  });
});
