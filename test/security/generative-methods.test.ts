/**
 * Issue 11, done-when — the generative test. A seeded generator builds thousands of method names and
 * params shapes (every spec method of every revision and direction; case, Unicode, whitespace,
 * encoding and separator variants of them; custom names; type variants of every field) and sends them
 * through both endpoints (/mcp and /mcp/<server>), every legacy revision and the modern one, and the
 * stdio front, under a policy that allows one tool. On the server's side (the recorder in front of a
 * server that answers anything), the only calls that arrive are that tool's well-formed calls — as
 * many as an independent oracle in this file predicts — and lists with nothing but a cursor.
 *
 * Deterministic (SEED), bounded (2,400 messages: about 30 s on a quiet two-core machine).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, forwarded, legacySession, modernSession, recordedServer, startStdioFront, type RawSession } from '../helpers/security.ts';

const SEED = 0x11c0ffee;
const HTTP_CASES = 2000;
const STDIO_CASES = 400;

/** mulberry32: small, seeded, good enough to spread cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every method name of every revision, both directions. */
const SPEC_METHODS = [
  'initialize', 'ping', 'server/discover', 'subscriptions/listen',
  'tools/list', 'tools/call', 'prompts/list', 'prompts/get',
  'resources/list', 'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe',
  'completion/complete', 'logging/setLevel',
  'tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel',
  'sampling/createMessage', 'elicitation/create', 'roots/list',
  'notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed',
  'notifications/message', 'notifications/resources/updated', 'notifications/tools/list_changed', 'notifications/tasks/status',
];

const FULLWIDTH = (c: string) => String.fromCharCode(c.charCodeAt(0) + 0xfee0);
const MUTATIONS: ReadonlyArray<(m: string) => string> = [
  (m) => m.toUpperCase(),
  (m) => m.charAt(0).toUpperCase() + m.slice(1),
  (m) => m.replace(/[a-z]/, (c) => c.toUpperCase()),
  (m) => ` ${m}`,
  (m) => `${m} `,
  (m) => `${m}\t`,
  (m) => `${m}\n`,
  (m) => `${m}\u0000`,
  (m) => `${m}\u200b`,
  (m) => `\u200b${m}`,
  (m) => `\ufeff${m}`,
  (m) => `${m}\u00a0`,
  (m) => `\u202e${m}`,
  (m) => m.replace('/', '%2f'),
  (m) => m.replace('/', '%2F'),
  (m) => encodeURIComponent(m),
  (m) => m.replace('/', '//'),
  (m) => `${m}/`,
  (m) => `/${m}`,
  (m) => m.replace('/', '.'),
  (m) => m.replace('/', '\\'),
  (m) => m.replace('/', '\u2215'), // division slash
  (m) => m.replace('o', '\u043e'), // Cyrillic o
  (m) => m.replace(/[a-z]/, FULLWIDTH),
  (m) => m.replace('s', '\u017f'), // long s, upper-cases to S
  (m) => m.replace('/', '/\u0301'),
  (m) => m.slice(0, -1),
  (m) => `${m}s`,
];

/** Stands for the endpoint's name of the allowed tool until the case meets its endpoint. */
const ECHO = '\u0000echo-placeholder';
const NAMES: unknown[] = [
  ECHO, ECHO, ECHO, 'echo', 'gov__echo', 'delete_record', 'gov__delete_record', 'ECHO', 'echo ', ' echo', 'echo\u0000', 'echo\u200b',
  'ech\u043e', 7, 0, true, false, null, {}, { name: 'echo' }, ['echo'], ['delete_record'], '', 'x'.repeat(300), undefined,
];
const ARGUMENTS: unknown[] = [undefined, {}, { text: 'hi' }, { text: 'grüße 🎉' }, { text: 5 }, { text: null }, { text: 'a', extra: [1, 2] }, { id: '1' }, 'text', ['a'], null, 1, true];
const DECOYS: unknown[] = [undefined, { uri: 'mem://secret/keys', tool: 'delete_record' }, { ref: { type: 'ref/prompt', name: 'secret_prompt' }, taskId: 'task-1' }];
const OTHER_PARAMS: unknown[] = [
  undefined, {}, { cursor: 'abc' }, { cursor: 5 }, { name: 'public_prompt' }, { name: 'delete_record', arguments: {} }, { uri: 'mem://secret/keys' },
  { uri: 'mem://public/readme' }, { uri: 7 }, { uri: 'not a uri' }, { level: 'debug' }, { level: 'LOUD' }, { taskId: 'task-1' }, { taskId: 1 },
  { ref: { type: 'ref/prompt', name: 'secret_prompt' }, argument: { name: 'topic', value: 'a' } },
  { ref: { type: 'ref/resource', uri: 'mem://secret/vault/{id}' }, argument: { name: 'id', value: '' } },
  { ref: { type: 'ref/other', name: 'x' }, argument: { name: 'a', value: 'b' } },
  { messages: [], maxTokens: 10 }, { message: 'hi', requestedSchema: { type: 'object', properties: {} } },
  { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
  [], 'params', 7, null,
];

interface Case {
  method: string;
  params: unknown;
  notification: boolean;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The independent oracle: would this case be that tool's well-formed call on this endpoint? */
function wellFormedEcho(c: Case, echo: string): boolean {
  if (c.notification || c.method !== 'tools/call' || !isPlain(c.params)) return false;
  const { name, arguments: args } = c.params;
  if (name !== echo) return false;
  if (args === undefined) return true;
  return isPlain(args) && (args.text === undefined || typeof args.text === 'string');
}

function generate(random: () => number, count: number): Case[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    let method: string;
    if (roll < 0.45) method = 'tools/call';
    else if (roll < 0.7) method = pick(SPEC_METHODS);
    else if (roll < 0.93) method = pick(MUTATIONS)(random() < 0.6 ? 'tools/call' : pick(SPEC_METHODS));
    else method = pick(['x/custom', 'admin/shutdown', 'delete_record', 'tools', '', 'tools/call/extra', 'rpc.discover', '$/cancelRequest']);
    let params: unknown;
    if (method === 'tools/call' || random() < 0.5) {
      const shape: Record<string, unknown> = {};
      const name = pick(NAMES);
      if (name !== undefined) shape.name = name;
      const args = pick(ARGUMENTS);
      if (args !== undefined) shape.arguments = args;
      const decoy = pick(DECOYS);
      if (isPlain(decoy)) Object.assign(shape, decoy);
      params = random() < 0.05 ? pick([undefined, [], 'x', null]) : shape;
    } else {
      params = pick(OTHER_PARAMS);
    }
    cases.push({ method, params, notification: random() < 0.05 });
  }
  return cases;
}

/** Fills the endpoint's echo name into a case (the generator cannot know it). */
function forEndpoint(c: Case, echo: string): Case {
  if (!isPlain(c.params) || c.params.name !== ECHO) return c;
  return { ...c, params: { ...c.params, name: echo } };
}

/** What may reach the server on a client's behalf: lists with nothing but a cursor, and echo's well-formed calls. */
function assertOnlyEcho(log: string, expectedCalls: number, label: string): void {
  const arrived = forwarded(log);
  const calls = arrived.filter((m) => m.method === 'tools/call');
  for (const m of arrived) {
    const { _meta: _drop, ...params } = m.params ?? {};
    if (m.method === 'tasks/list') {
      assert.ok(Object.keys(params).every((k) => k === 'cursor'), `${label}: a list with more than a cursor: ${JSON.stringify(m)}`);
      continue;
    }
    assert.equal(m.method, 'tools/call', `${label}: only echo's calls may arrive, got ${JSON.stringify(m)}`);
    assert.equal(params.name, 'echo', `${label}: ${JSON.stringify(m)}`);
    assert.ok(Object.keys(params).every((k) => k === 'name' || k === 'arguments'), `${label}: nothing but name and arguments: ${JSON.stringify(m)}`);
    const args = params.arguments;
    assert.ok(args === undefined || (isPlain(args) && (args.text === undefined || typeof args.text === 'string')), `${label}: well-formed arguments: ${JSON.stringify(m)}`);
  }
  assert.equal(calls.length, expectedCalls, `${label}: every well-formed echo call, and nothing else, reached the server`);
}

describe('generative: thousands of method names and params shapes, one allowed tool', () => {
  let gw: TestGateway;
  let dir: string;
  let log: string;
  const FRONT_METHODS = new Set(['initialize', 'subscriptions/listen']);
  const FRONT_PARAMS = 'PC_PROTOCOL_INVALID_PARAMS (front)';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-generative-'));
    log = join(dir, 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: { rules: [{ name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] }] } });
  });
  after(async () => gw?.close());

  it('over HTTP: both endpoints, every revision — only echo\'s well-formed calls reach the server, every refusal recorded', async (t) => {
    const started = Date.now();
    const targets: Array<{ label: string; echo: string; session: RawSession }> = [];
    for (const [path, echo] of [['/mcp/gov', 'echo'], ['/mcp', 'gov__echo']] as const) {
      for (const version of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) targets.push({ label: `${version} ${path}`, echo, session: await legacySession(`${gw.url}${path}`, version) });
      targets.push({ label: `2026-07-28 ${path}`, echo, session: modernSession(`${gw.url}${path}`) });
    }
    const random = prng(SEED);
    const cases = generate(random, HTTP_CASES);
    const trail = auditRecords(gw).length;
    let expected = 0;
    const refusals = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      for (;;) {
        const index = next++;
        if (index >= cases.length) return;
        const target = targets[index % targets.length]!;
        const c = forEndpoint(cases[index]!, target.echo);
        if (wellFormedEcho(c, target.echo)) expected += 1;
        const message: Record<string, unknown> = { jsonrpc: '2.0', method: c.method };
        if (!c.notification) message.id = index + 1;
        if (c.params !== undefined) message.params = c.params;
        // A valid modern subscriptions/listen opens a stream that stays open by design (the fan-out
        // tests cover it); the generator's other listen shapes are sent.
        if (c.method === 'subscriptions/listen' && target.label.startsWith('2026') && (c.params === undefined || isPlain(c.params))) continue;
        const answer = await Promise.race([
          target.session.send(message),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within 15 s to ${target.label}: ${JSON.stringify(message)}`)), 15_000).unref()),
        ]);
        const code = answer.json?.error?.data?.code;
        // Parameters of initialize and subscriptions/listen are judged at the front, before a message
        // exists, so those refusals go through the bounded front recorder like malformed input.
        if (code !== undefined) {
          const key = code === 'PC_PROTOCOL_INVALID_PARAMS' && FRONT_METHODS.has(c.method) ? FRONT_PARAMS : code;
          refusals.set(key, (refusals.get(key) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assertOnlyEcho(log, expected, 'HTTP');
    assert.ok(expected > 50, `the generator produced allowed calls too (${expected})`);

    // Every refusal the pipeline decided is in the trail; those refused before it (malformed or
    // ambiguous input) are recorded up to the refusal recorder's burst, so a flood cannot flood it.
    const recorded = new Map<string, number>();
    for (const r of auditRecords(gw).slice(trail)) if (r.code !== undefined) recorded.set(r.code, (recorded.get(r.code) ?? 0) + 1);
    const FRONT = new Set(['PC_PROTOCOL_PARSE_ERROR', 'PC_PROTOCOL_AMBIGUOUS', 'PC_PROTOCOL_INVALID_REQUEST', 'PC_PROTOCOL_HEADER_MISMATCH', 'PC_PROTOCOL_INVALID_META', 'PC_PROTOCOL_BATCH_NOT_ALLOWED']);
    // Pipeline refusals: each one. Front refusals share one token bucket (burst 100, which
    // notifications refused at the front draw on too): at least half the burst, whatever the mix.
    let frontRefused = refusals.get(FRONT_PARAMS) ?? 0;
    let frontRecorded = 0;
    for (const [code, count] of refusals) {
      if (code === FRONT_PARAMS) continue;
      if (FRONT.has(code)) {
        frontRefused += count;
        frontRecorded += recorded.get(code) ?? 0;
        continue;
      }
      assert.ok((recorded.get(code) ?? 0) >= count, `${code}: ${count} refused, ${recorded.get(code) ?? 0} recorded`);
      if (code === 'PC_PROTOCOL_INVALID_PARAMS') frontRecorded += (recorded.get(code) ?? 0) - count;
    }
    assert.ok(frontRecorded >= Math.min(frontRefused, 50), `front refusals: ${frontRefused} refused, ${frontRecorded} recorded`);
    assert.ok((refusals.get('PC_ROUTE_UNKNOWN_METHOD') ?? 0) > 300, 'unknown methods were exercised');
    assert.ok((refusals.get('PC_PROTOCOL_INVALID_PARAMS') ?? 0) > 100, 'invalid params were exercised');
    t.diagnostic(`${cases.length} HTTP cases, ${expected} well-formed echo calls, ${Date.now() - started} ms; refusals: ${JSON.stringify(Object.fromEntries(refusals))}`);
    assert.ok(Date.now() - started < 60_000, `bounded in time (${Date.now() - started} ms)`);
  });

  it('over stdio: both eras on one connection — only echo\'s well-formed calls reach the server', async (t) => {
    const stdioLog = join(dir, 'stdio-gov.log');
    const front = startStdioFront(dir, stdioLog, join(dir, 'stdio-data'));
    const { answers, send } = front;
    try {
      send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'gen', version: '1' } } });
      await waitFor(() => answers.has('init'), 30_000, 'initialize');
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      const random = prng(SEED ^ 0x5eed);
      const cases = generate(random, STDIO_CASES);
      let expected = 0;
      const ids: number[] = [];
      cases.forEach((raw, index) => {
        const c = forEndpoint(raw, 'echo');
        const modern = index % 2 === 1;
        let params = c.params;
        if (modern && isPlain(params)) params = { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } };
        if (wellFormedEcho({ ...c, params }, 'echo')) expected += 1;
        const message: Record<string, unknown> = { jsonrpc: '2.0', method: c.method };
        // A request sent as `initialize` would reset the session; the generator's initialize cases go as other ids.
        if (!c.notification) {
          message.id = index + 1;
          if (c.method !== 'initialize') ids.push(index + 1);
        }
        if (params !== undefined) message.params = params;
        send(message);
      });
      await waitFor(() => ids.every((id) => answers.has(id)), 45_000, 'every stdio answer');
      assertOnlyEcho(stdioLog, expected, 'stdio');
      t.diagnostic(`${cases.length} stdio cases, ${expected} well-formed echo calls`);
      assert.ok(expected > 10, `the generator produced allowed calls too (${expected})`);
    } finally {
      await front.close();
    }
    const codes = new Set(auditRecords(join(dir, 'stdio-data')).map((r) => r.code));
    assert.ok(codes.has('PC_ROUTE_UNKNOWN_METHOD') && codes.has('PC_PROTOCOL_INVALID_PARAMS'), 'stdio refusals are recorded');
  });
});
