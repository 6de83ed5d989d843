/**
 * The legacy-era SDK client through the gateway to the reference servers from npm, run as stdio
 * children: everything, filesystem and memory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVERYTHING, FILESYSTEM, MEMORY, legacyClient, startGateway, stdioServer, type TestGateway } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorder.ts';

describe('legacy client through the gateway to stdio servers', () => {
  let gw: TestGateway;
  let sandbox: string;
  // server-everything behind the recorder: what it received, including the answers to its own requests.
  const everything = recordedServer(EVERYTHING, ['stdio']);

  before(async () => {
    sandbox = mkdtempSync(join(tmpdir(), 'pc-fs-'));
    writeFileSync(join(sandbox, 'hello.txt'), 'hello from the sandbox\n');
    gw = await startGateway({
      servers: {
        everything: everything.server,
        files: stdioServer(FILESYSTEM, [sandbox]),
        memory: stdioServer(MEMORY, [], { env: { MEMORY_FILE_PATH: join(sandbox, 'memory.jsonl') } }),
      },
    });
  });
  after(async () => gw.close());

  it('exposes one server unchanged on /mcp/<server>', async () => {
    const client = await legacyClient(`${gw.url}/mcp/everything`);
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('echo'), `echo listed, got ${names.join(',')}`);
    assert.ok(!names.some((n) => n.includes('__')), 'no namespacing on the per-server endpoint');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'through the gate' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: through the gate' }]);
    assert.equal(client.getServerVersion()?.name, 'mcp-servers/everything');
    await client.close();
  });

  it('aggregates every server on /mcp with namespaced tools, prompts and resources', async () => {
    const client = await legacyClient(`${gw.url}/mcp`);
    assert.equal(client.getServerVersion()?.name, 'portcullis');
    const tools = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...page.tools);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('everything__echo'));
    assert.ok(names.includes('files__read_text_file'));
    assert.ok(names.includes('memory__create_entities'));
    assert.ok(names.every((n) => n.length <= 64), 'names within 64 characters');
    assert.equal(new Set(names).size, names.length, 'no duplicates across pages');

    const read = await client.callTool({ name: 'files__read_text_file', arguments: { path: join(sandbox, 'hello.txt') } });
    assert.match(JSON.stringify(read.content), /hello from the sandbox/);

    await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'gate', entityType: 'thing', observations: ['strong'] }] } });
    const graph = await client.callTool({ name: 'memory__read_graph', arguments: {} });
    assert.match(JSON.stringify(graph), /gate/);

    const prompts = await client.listPrompts();
    const simple = prompts.prompts.find((p) => p.name === 'everything__simple-prompt');
    assert.ok(simple, `namespaced prompt listed: ${prompts.prompts.map((p) => p.name).join(',')}`);
    const prompt = await client.getPrompt({ name: 'everything__simple-prompt' });
    assert.ok(prompt.messages.length > 0);

    const resources = await client.listResources();
    const first = resources.resources[0];
    assert.ok(first, 'resources listed');
    const contents = await client.readResource({ uri: first.uri });
    assert.equal(contents.contents[0]?.uri, first.uri);

    const templates = await client.listResourceTemplates();
    assert.ok(templates.resourceTemplates.every((t) => t.name.includes('__')));
    await client.close();
  });

  it('paginates the aggregated list with its own cursor', async () => {
    const small = await startGateway({ routing: { pageSize: 3 }, servers: { everything: stdioServer(EVERYTHING, ['stdio']) } });
    try {
      const client = await legacyClient(`${small.url}/mcp`);
      const first = await client.listTools();
      assert.equal(first.tools.length, 3);
      assert.ok(first.nextCursor);
      const second = await client.listTools({ cursor: first.nextCursor });
      assert.notEqual(second.tools[0]?.name, first.tools[0]?.name);
      await assert.rejects(client.listTools({ cursor: 'not-a-cursor' }), /cursor/);
      await client.close();
    } finally {
      await small.close();
    }
  });

  it('rejects an unknown namespaced tool without forwarding it', async () => {
    const client = await legacyClient(`${gw.url}/mcp`);
    await assert.rejects(client.callTool({ name: 'everything__no_such_tool', arguments: {} }), (error: Error & { code?: number; data?: any }) => {
      assert.equal(error.code, -32602);
      assert.equal(error.data?.code, 'PC_ROUTE_UNKNOWN_TOOL');
      return true;
    });
    assert.ok(!received(everything.log).some((m) => m.method === 'tools/call' && m.params?.name === 'no_such_tool'), 'the server never received the call');
    await client.close();
  });

  it('relays progress notifications to the calling client', async () => {
    const client = await legacyClient(`${gw.url}/mcp/everything`);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.deepEqual(progress, [1, 2, 3]);
    assert.match(JSON.stringify(result.content), /completed/i);
    await client.close();
  });

  it('relays a sampling request to the client that made the call and its answer back', async () => {
    const seen: unknown[] = [];
    const client = await legacyClient(`${gw.url}/mcp`, {
      onSampling: (params) => {
        seen.push(params);
        return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled by the client' } };
      },
    });
    const result = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
    assert.equal(seen.length, 1);
    assert.match(JSON.stringify(result.content), /sampled by the client/);
    await client.close();
  });

  it('relays an elicitation round trip', async () => {
    const client = await legacyClient(`${gw.url}/mcp/everything`, {
      onElicit: () => ({ action: 'accept', content: { name: 'Ada', check: true, email: 'ada@example.com', integer: 3, number: 1.5, untitledSingleSelectEnum: 'option1', untitledMultipleSelectEnum: ['option1'], titledSingleSelectEnum: 'value1', titledMultipleSelectEnum: ['value1'], legacyTitledEnum: 'opt1' } }),
    });
    const result = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.match(JSON.stringify(result.content), /Ada/);
    await client.close();
  });

  it('refuses a sampling request when the calling client did not declare sampling', async () => {
    const client = await legacyClient(`${gw.url}/mcp/everything`);
    // Everything the client's transport hears: a relayed sampling request would show here (the SDK
    // client would then answer "method not found" itself, which the server cannot tell apart).
    const heard: Array<{ method?: string }> = [];
    const transport = client.transport!;
    const deliver = transport.onmessage!;
    transport.onmessage = (message, extra) => {
      heard.push(message as { method?: string });
      deliver(message, extra);
    };
    const prompt = `sampling-refusal-${Date.now()}`;
    const result = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt, maxTokens: 5 } }).catch((e: Error) => e);
    assert.ok(!heard.some((m) => m.method === 'sampling/createMessage'), 'the sampling request never reached the client');
    // On the server's side: its sampling request was answered by the gateway's refusal (-32601, with the
    // gateway's reason), never by a result.
    const log = received(everything.log);
    const asked = log.findIndex((m) => m.method === 'tools/call' && m.params?.arguments?.prompt === prompt);
    assert.ok(asked >= 0, 'the call reached the server');
    const answers = log.slice(asked + 1).filter((m) => m.method === undefined && ('result' in m || 'error' in m) && m.id !== undefined);
    assert.equal(answers.length, 1, `one answer to the server's sampling request: ${JSON.stringify(answers)}`);
    assert.equal(answers[0]!.result, undefined, 'no sampling result was sent to the server');
    assert.equal(answers[0]!.error.code, -32601);
    assert.match(answers[0]!.error.message, /^sampling\/createMessage refused: /);
    // The client hears the server's failure of its call (a tool error naming the refused sampling).
    const text = JSON.stringify(result instanceof Error ? result.message : result);
    assert.match(text, /sampling\/createMessage refused/);
    await client.close();
  });

  it('gives the child only a minimal environment plus declared variables', async () => {
    process.env.PORTCULLIS_TEST_GATEWAY_SECRET = 'must-not-leak';
    const envGw = await startGateway({
      servers: { everything: stdioServer(EVERYTHING, ['stdio'], { env: { DECLARED_FOR_CHILD: 'visible' } }) },
    });
    try {
      const client = await legacyClient(`${envGw.url}/mcp/everything`);
      const result = await client.callTool({ name: 'get-env', arguments: {} });
      const text = JSON.stringify(result.content);
      assert.match(text, /DECLARED_FOR_CHILD/);
      assert.match(text, /PATH/);
      assert.doesNotMatch(text, /PORTCULLIS_TEST_GATEWAY_SECRET/);
      assert.doesNotMatch(text, /must-not-leak/);
      await client.close();
    } finally {
      delete process.env.PORTCULLIS_TEST_GATEWAY_SECRET;
      await envGw.close();
    }
  });
});
