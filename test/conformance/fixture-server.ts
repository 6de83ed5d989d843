/**
 * The upstream fixture the official conformance suite is pointed at, directly and through the gateway.
 * It implements the tools, resources and prompts the suite's server scenarios call (as the suite's own
 * scenario descriptions specify them), on the official v2 SDK's low-level `Server`, serving both eras on
 * one URL: 2026-07-28 requests through `createMcpHandler`, legacy requests through stateful Streamable
 * HTTP sessions with an in-memory event store (for SSE polling / resumption).
 *
 * Run alone: `node test/conformance/fixture-server.ts [port]`.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMcpHandler,
  inputRequired,
  isLegacyRequest,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  Server,
  WebStandardStreamableHTTPServerTransport,
  type EventStore,
} from '@modelcontextprotocol/server';
import { sendWebResponse, toWebRequest } from '../fixtures/web-bridge.ts';

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
/** 44-byte WAV header with no samples: the smallest valid audio/wav. */
const WAV_EMPTY = Buffer.from('UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=', 'base64').toString('base64');
const STATE_KEY = Buffer.from('conformance-fixture-request-state-key');

const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

const noArgs = { type: 'object', properties: {} };
const tool = (name: string, description: string, inputSchema: Record<string, unknown> = noArgs) => ({ name, description, inputSchema });

const TOOLS = [
  tool('test_simple_text', 'Returns simple text'),
  tool('test_image_content', 'Returns an image'),
  tool('test_audio_content', 'Returns audio'),
  tool('test_embedded_resource', 'Returns an embedded resource'),
  tool('test_multiple_content_types', 'Returns text, image and resource'),
  tool('test_tool_with_logging', 'Sends three log messages'),
  tool('test_tool_with_progress', 'Reports progress'),
  tool('test_error_handling', 'Always fails'),
  tool('test_sampling', 'Asks the client to sample', { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] }),
  tool('test_elicitation', 'Asks the user', { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] }),
  tool('test_elicitation_sep1034_defaults', 'Elicitation with defaults'),
  tool('test_elicitation_sep1330_enums', 'Elicitation with enum variants'),
  tool('json_schema_2020_12_tool', 'Tool with JSON Schema 2020-12 features', JSON_SCHEMA_2020_12),
  tool('test_reconnection', 'Closes its SSE stream mid-call'),
  tool('test_missing_capability', 'Needs the sampling capability'),
  tool('test_trigger_tool_change', 'Announces a tools/list change'),
  tool('test_trigger_prompt_change', 'Announces a prompts/list change'),
  tool('test_logging_tool', 'Logs when asked to'),
  tool('test_region', 'Echoes a region sent as a custom header', {
    type: 'object',
    properties: { region: { type: 'string', 'x-mcp-header': 'Region' } },
    required: ['region'],
  }),
  tool('test_input_required_result_elicitation', 'MRTR: one elicitation'),
  tool('test_input_required_result_sampling', 'MRTR: one sampling'),
  tool('test_input_required_result_list_roots', 'MRTR: roots'),
  tool('test_input_required_result_request_state', 'MRTR: request state'),
  tool('test_input_required_result_multiple_inputs', 'MRTR: several inputs'),
  tool('test_input_required_result_multi_round', 'MRTR: two rounds'),
  tool('test_input_required_result_tampered_state', 'MRTR: integrity-protected state'),
  tool('test_input_required_result_capabilities', 'MRTR: asks only for what the client declared'),
  tool('test_streaming_elicitation', 'Asks for input mid-call, in whichever way the era allows'),
];

const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A simple prompt' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  { name: 'test_prompt_with_embedded_resource', description: 'A prompt embedding a resource', arguments: [{ name: 'resourceUri', description: 'URI to embed', required: true }] },
  { name: 'test_prompt_with_image', description: 'A prompt with an image' },
  { name: 'test_input_required_result_prompt', description: 'A prompt that needs input' },
];

const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', description: 'Static text', mimeType: 'text/plain' },
  { uri: 'test://static-binary', name: 'static-binary', description: 'Static binary', mimeType: 'image/png' },
  { uri: 'test://watched-resource', name: 'watched-resource', description: 'A resource to subscribe to', mimeType: 'text/plain' },
];

const sign = (payload: string): string => `${Buffer.from(payload).toString('base64url')}.${createHmac('sha256', STATE_KEY).update(payload).digest('base64url')}`;
function verify(state: unknown): string | undefined {
  if (typeof state !== 'string') return undefined;
  const [body, mac] = state.split('.');
  if (!body || !mac) return undefined;
  const payload = Buffer.from(body, 'base64url').toString();
  const expected = Buffer.from(createHmac('sha256', STATE_KEY).update(payload).digest('base64url'));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? payload : undefined;
}

const elicit = (message: string, property: string, type = 'string') =>
  inputRequired.elicit({ message, requestedSchema: { type: 'object', properties: { [property]: { type } }, required: [property] } } as never);
const text = (value: string) => ({ content: [{ type: 'text', text: value }] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

class MemoryEventStore implements EventStore {
  readonly #events = new Map<string, { streamId: string; message: unknown }>();
  async storeEvent(streamId: string, message: unknown): Promise<string> {
    const id = `${streamId}_${randomUUID()}`;
    this.#events.set(id, { streamId, message });
    return id;
  }
  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.#events.get(eventId)?.streamId;
  }
  async replayEventsAfter(lastEventId: string, { send }: { send: (id: string, message: never) => Promise<void> }): Promise<string> {
    const streamId = this.#events.get(lastEventId)?.streamId ?? '';
    let after = false;
    for (const [id, event] of this.#events) {
      if (id === lastEventId) {
        after = true;
        continue;
      }
      if (after && event.streamId === streamId) await send(id, event.message as never);
    }
    return streamId;
  }
}

export interface FixtureServer {
  url: string;
  close(): Promise<void>;
}

export async function startFixtureServer(port = 0): Promise<FixtureServer> {
  const legacyServers = new Set<Server>();
  let notifyModern: { toolsChanged(): void; promptsChanged(): void } | undefined;

  function createFixture(): Server {
    const server = new Server(
      { name: 'portcullis-conformance-fixture', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {}, completions: {} } },
    );
    const rpc = server as unknown as { setRequestHandler(method: string, handler: (request: any, ctx: any) => unknown): void };

    rpc.setRequestHandler('tools/list', () => ({ tools: TOOLS }));
    rpc.setRequestHandler('tools/call', async (request, ctx) => {
      const args = isObject(request.params.arguments) ? request.params.arguments : {};
      const responses = ctx.mcpReq.inputResponses as Record<string, any> | undefined;
      const state = ctx.mcpReq.requestState?.();
      const capabilities = ctx.mcpReq.envelope?.clientCapabilities ?? server.getClientCapabilities() ?? {};
      switch (request.params.name) {
        case 'test_simple_text':
          return text('This is a simple text response for testing.');
        case 'test_image_content':
          return { content: [{ type: 'image', data: PNG_1X1, mimeType: 'image/png' }] };
        case 'test_audio_content':
          return { content: [{ type: 'audio', data: WAV_EMPTY, mimeType: 'audio/wav' }] };
        case 'test_embedded_resource':
          return { content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] };
        case 'test_multiple_content_types':
          return {
            content: [
              { type: 'text', text: 'Multiple content types test:' },
              { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
              { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
            ],
          };
        case 'test_tool_with_logging':
        case 'test_logging_tool':
          await ctx.mcpReq.log('info', 'Tool execution started');
          await sleep(50);
          await ctx.mcpReq.log('info', 'Tool processing data');
          await sleep(50);
          await ctx.mcpReq.log('info', 'Tool execution completed');
          return text('Tool with logging executed successfully');
        case 'test_tool_with_progress': {
          const token = ctx.mcpReq._meta?.progressToken;
          for (const progress of [0, 50, 100]) {
            if (token !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100 } });
            if (progress < 100) await sleep(50);
          }
          return text('Tool with progress executed successfully');
        }
        case 'test_error_handling':
          return { isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] };
        case 'test_sampling': {
          const result = await ctx.mcpReq.requestSampling({ messages: [{ role: 'user', content: { type: 'text', text: String(args.prompt ?? '') } }], maxTokens: 100 });
          const content = result.content;
          return text(`LLM response: ${isObject(content) && typeof content.text === 'string' ? content.text : JSON.stringify(content)}`);
        }
        case 'test_elicitation': {
          const result = await ctx.mcpReq.elicitInput({
            message: String(args.message ?? ''),
            requestedSchema: {
              type: 'object',
              properties: { username: { type: 'string', description: "User's response" }, email: { type: 'string', description: "User's email address" } },
              required: ['username', 'email'],
            },
          });
          return text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
        }
        case 'test_elicitation_sep1034_defaults': {
          const result = await ctx.mcpReq.elicitInput({
            message: 'Please review and update the form fields with defaults',
            requestedSchema: {
              type: 'object',
              properties: {
                name: { type: 'string', description: 'User name', default: 'John Doe' },
                age: { type: 'integer', description: 'User age', default: 30 },
                score: { type: 'number', description: 'User score', default: 95.5 },
                status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
                verified: { type: 'boolean', description: 'Verification status', default: true },
              },
              required: [],
            },
          });
          return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
        }
        case 'test_elicitation_sep1330_enums': {
          const result = await ctx.mcpReq.elicitInput({
            message: 'Please select options from the enum fields',
            requestedSchema: {
              type: 'object',
              properties: {
                untitledSingle: { type: 'string', description: 'Untitled single-select', enum: ['option1', 'option2', 'option3'] },
                titledSingle: {
                  type: 'string',
                  description: 'Titled single-select',
                  oneOf: [
                    { const: 'value1', title: 'First Option' },
                    { const: 'value2', title: 'Second Option' },
                    { const: 'value3', title: 'Third Option' },
                  ],
                },
                legacyEnum: { type: 'string', description: 'Legacy titled enum', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
                untitledMulti: { type: 'array', description: 'Untitled multi-select', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
                titledMulti: {
                  type: 'array',
                  description: 'Titled multi-select',
                  items: {
                    anyOf: [
                      { const: 'value1', title: 'First Choice' },
                      { const: 'value2', title: 'Second Choice' },
                      { const: 'value3', title: 'Third Choice' },
                    ],
                  },
                },
              },
              required: [],
            },
          });
          return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
        }
        case 'json_schema_2020_12_tool':
          return text(`received ${JSON.stringify(args)}`);
        case 'test_reconnection':
          await sleep(50);
          ctx.http?.closeSSE?.();
          await sleep(200);
          return text('Reconnection test completed');
        case 'test_missing_capability':
          if (!isObject(capabilities.sampling)) {
            throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { sampling: {} } } as never, 'this tool needs the sampling capability');
          }
          return text('sampling is available');
        case 'test_trigger_tool_change':
          notifyModern?.toolsChanged();
          for (const s of legacyServers) await s.sendToolListChanged().catch(() => undefined);
          return text('tools changed');
        case 'test_trigger_prompt_change':
          notifyModern?.promptsChanged();
          for (const s of legacyServers) await s.sendPromptListChanged().catch(() => undefined);
          return text('prompts changed');
        case 'test_region':
          return text(`region=${String(args.region)}`);
        case 'test_input_required_result_elicitation': {
          const answer = responses?.user_name;
          if (!isObject(answer)) return inputRequired({ inputRequests: { user_name: elicit('What is your name?', 'name') } });
          if (answer.action !== 'accept' || !isObject(answer.content)) return inputRequired({ inputRequests: { user_name: elicit('What is your name?', 'name') } });
          return text(`Hello, ${String(answer.content.name)}!`);
        }
        case 'test_input_required_result_sampling': {
          const answer = responses?.capital_question;
          if (!isObject(answer)) {
            return inputRequired({
              inputRequests: {
                capital_question: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 } as never),
              },
            });
          }
          return text(`Sampling answered: ${JSON.stringify(answer.content ?? answer)}`);
        }
        case 'test_input_required_result_list_roots': {
          const answer = responses?.client_roots;
          if (!isObject(answer) || !Array.isArray(answer.roots)) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
          return text(`Roots: ${answer.roots.map((r: { uri: string }) => r.uri).join(', ')}`);
        }
        case 'test_input_required_result_request_state': {
          const answer = responses?.confirm;
          if (!isObject(answer)) return inputRequired({ inputRequests: { confirm: elicit('Please confirm', 'ok', 'boolean') }, requestState: sign('request-state') });
          if (verify(state) !== 'request-state') throw new ProtocolError(-32602, 'requestState failed its integrity check');
          return text('state-ok: confirmed');
        }
        case 'test_input_required_result_multiple_inputs': {
          const keys = ['user_name', 'greeting', 'client_roots'];
          if (!keys.every((k) => isObject(responses?.[k]))) {
            return inputRequired({
              inputRequests: {
                user_name: elicit('What is your name?', 'name'),
                greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 } as never),
                client_roots: inputRequired.listRoots(),
              },
              requestState: sign('multiple'),
            });
          }
          return text('all inputs received');
        }
        case 'test_input_required_result_multi_round': {
          const round = verify(state);
          if (round === undefined || !isObject(responses?.step1) && round === 'round-1') {
            if (!isObject(responses?.step1)) return inputRequired({ inputRequests: { step1: elicit('Step 1: What is your name?', 'name') }, requestState: sign('round-1') });
          }
          if (round === 'round-1' && isObject(responses?.step1)) {
            return inputRequired({ inputRequests: { step2: elicit('Step 2: What is your favorite color?', 'color') }, requestState: sign('round-2') });
          }
          if (round === 'round-2' && isObject(responses?.step2)) return text('multi-round complete');
          return inputRequired({ inputRequests: { step1: elicit('Step 1: What is your name?', 'name') }, requestState: sign('round-1') });
        }
        case 'test_streaming_elicitation': {
          if (ctx.mcpReq.envelope === undefined) {
            const result = await ctx.mcpReq.elicitInput({ message: 'Continue?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } });
            return text(`answered: ${result.action}`);
          }
          if (isObject(responses?.go_on)) return text('answered');
          return inputRequired({ inputRequests: { go_on: elicit('Continue?', 'ok', 'boolean') } });
        }
        case 'test_input_required_result_capabilities': {
          if (isObject(responses) && Object.keys(responses).length > 0) return text('inputs received');
          const requests: Record<string, unknown> = {};
          if (isObject(capabilities.sampling)) {
            requests.summary = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Summarize' } }], maxTokens: 20 } as never);
          }
          if (isObject(capabilities.elicitation)) requests.confirm = elicit('Confirm?', 'ok', 'boolean');
          if (Object.keys(requests).length === 0) return text('nothing to ask: the client declared no input capability');
          return inputRequired({ inputRequests: requests as never });
        }
        case 'test_input_required_result_tampered_state': {
          if (state === undefined) return inputRequired({ inputRequests: { confirm: elicit('Please confirm', 'ok', 'boolean') }, requestState: sign('tamper-proof') });
          if (verify(state) !== 'tamper-proof') throw new ProtocolError(-32602, 'requestState failed its integrity check');
          return text('state verified');
        }
        default:
          throw new ProtocolError(-32602, `Unknown tool: ${String(request.params.name)}`);
      }
    });

    rpc.setRequestHandler('resources/list', () => ({ resources: RESOURCES }));
    rpc.setRequestHandler('resources/templates/list', () => ({
      resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', description: 'A template', mimeType: 'application/json' }],
    }));
    rpc.setRequestHandler('resources/read', (request) => {
      const uri = String(request.params.uri);
      if (uri === 'test://static-text') return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
      if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: PNG_1X1 }] };
      if (uri === 'test://watched-resource') return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content.' }] };
      const match = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
      if (match) return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: match[1], templateTest: true, data: `Data for ID: ${match[1]}` }) }] };
      throw new ProtocolError(-32602, 'Resource not found', { uri });
    });
    rpc.setRequestHandler('resources/subscribe', () => ({}));
    rpc.setRequestHandler('resources/unsubscribe', () => ({}));

    rpc.setRequestHandler('prompts/list', () => ({ prompts: PROMPTS }));
    rpc.setRequestHandler('prompts/get', (request, ctx) => {
      const args = isObject(request.params.arguments) ? request.params.arguments : {};
      const user = (content: unknown) => ({ role: 'user', content });
      switch (request.params.name) {
        case 'test_simple_prompt':
          return { messages: [user({ type: 'text', text: 'This is a simple prompt for testing.' })] };
        case 'test_prompt_with_arguments':
          return { messages: [user({ type: 'text', text: `Prompt with arguments: arg1='${String(args.arg1)}', arg2='${String(args.arg2)}'` })] };
        case 'test_prompt_with_embedded_resource':
          return {
            messages: [
              user({ type: 'resource', resource: { uri: String(args.resourceUri), mimeType: 'text/plain', text: 'Embedded resource content for testing.' } }),
              user({ type: 'text', text: 'Please process the embedded resource above.' }),
            ],
          };
        case 'test_prompt_with_image':
          return { messages: [user({ type: 'image', data: PNG_1X1, mimeType: 'image/png' }), user({ type: 'text', text: 'Please analyze the image above.' })] };
        case 'test_input_required_result_prompt': {
          const answer = (ctx.mcpReq.inputResponses as Record<string, any> | undefined)?.user_context;
          if (!isObject(answer)) return inputRequired({ inputRequests: { user_context: elicit('What context should the prompt use?', 'context') } });
          return { messages: [user({ type: 'text', text: `Context: ${JSON.stringify(answer.content ?? {})}` })] };
        }
        default:
          throw new ProtocolError(-32602, `Unknown prompt: ${String(request.params.name)}`);
      }
    });
    rpc.setRequestHandler('completion/complete', () => ({ completion: { values: ['paris', 'park', 'party'], total: 3, hasMore: false } }));
    return server;
  }

  const modern = createMcpHandler(() => createFixture() as never, { legacy: 'reject' });
  notifyModern = { toolsChanged: () => modern.notify.toolsChanged(), promptsChanged: () => modern.notify.promptsChanged() };
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();

  const isLocal = (value: string): boolean => {
    try {
      const host = new URL(value.includes('://') ? value : `http://${value}`).hostname;
      return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
    } catch {
      return false;
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    if (!isLocal(host) || (origin !== undefined && !isLocal(origin))) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Forbidden host or origin' } }));
      return;
    }
    const { request, text } = await toWebRequest(req, res, host);
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    let response: Response;
    const legacy = req.method !== 'POST' || (await isLegacyRequest(request.clone(), parsed));
    if (!legacy) {
      response = await modern.fetch(request);
    } else {
      const sid = req.headers['mcp-session-id'];
      const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (existing) {
        response = await existing.handleRequest(request, { parsedBody: parsed } as never);
      } else if (sid === undefined && req.method === 'POST' && isObject(parsed) && parsed.method === 'initialize') {
        const server = createFixture();
        const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore: new MemoryEventStore() as never,
          retryInterval: 100,
          onsessioninitialized: (id) => {
            sessions.set(id, transport);
          },
          onsessionclosed: (id) => {
            sessions.delete(id);
            legacyServers.delete(server);
          },
        });
        legacyServers.add(server);
        await server.connect(transport as never);
        response = await transport.handleRequest(request, { parsedBody: parsed } as never);
      } else {
        response = new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }), {
          status: sid === undefined ? 400 : 404,
          headers: { 'content-type': 'application/json' },
        });
      }
    }
    await sendWebResponse(res, response);
  }

  const http: HttpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const address = http.address() as AddressInfo;
  return {
    url: `http://localhost:${address.port}/mcp`,
    close: async () => {
      for (const transport of sessions.values()) await transport.close().catch(() => undefined);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await modern.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fixture = await startFixtureServer(Number(process.argv[2] ?? 0));
  process.stdout.write(`${fixture.url}\n`);
}
