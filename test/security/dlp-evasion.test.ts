/**
 * DLP against encodings and hiding places (the red team's repros, issue 15; src/dlp/views.ts).
 *
 * Each test tries one evasion against one real gateway on the shipped defaults plus an explicit `dlp`
 * section (per-tool overrides give the results and injection cases their actions), with a recorded
 * stdio upstream (test/fixtures/dlp-evasion-server.ts). It asserts that NOTHING got through: on the
 * server side for arguments (the call with that marker never reached the server), on the client side
 * for results (the encoded value is nowhere in what the client received). A failing test is an evasion
 * that worked; its message names what got through. Encodings and values:
 * test/fixtures/dlp-evasion-cases.ts (what is out of scope is listed there and in docs/dlp.md).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { processSecretSource } from '../../src/config/secrets.ts';
import { legacyClient, modernClient, post, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorded.ts';
import { CANARY, CARD, ENCODINGS, encoded, INJECTIONS, REAL_KEYS, SECRETS, SINGLE_CASE, triedOn, VALUE_CANARY } from '../fixtures/dlp-evasion-cases.ts';

const SERVER = new URL('../fixtures/dlp-evasion-server.ts', import.meta.url).pathname;

async function start(dlp: Record<string, unknown>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-ev-'));
  const log = join(dataDir, 'received.jsonl');
  const gw = await startSecureGateway(
    { dataDir, servers: { ev: recordedServer(log, SERVER) }, policy: { rules: [{ name: 'ev', effect: 'allow', servers: ['ev'] }] }, dlp },
    processSecretSource({ ...process.env, BUILD_CANARY: VALUE_CANARY }),
  );
  return { gw, log, dataDir };
}

const DLP = {
  arguments: { secrets: 'block', pii: 'block', fields: ['password'] },
  results: { secrets: 'mask', pii: 'mask', injection: 'block' },
  patterns: [
    { name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block' },
    { name: 'build-canary', value: 'env:BUILD_CANARY', action: 'block' },
  ],
  // `out` returns personal data in sentences an injection signal would also flag: masking is what is tested there.
  servers: { ev: { tools: { out: { results: { injection: 'off' } }, inject_wrapped: { results: { injection: 'wrap' } } } } },
};

// One describe for the file: its hooks run before and after its own tests, also when files share a process.
describe('DLP evasion', () => {
  /** One gateway (and one upstream) for the whole file. */
  let shared: Promise<{ gw: TestGateway; log: string }> | undefined;
  const gateway = () => (shared ??= start(DLP));
  after(async () => {
    if (shared) await (await shared).gw.close();
  });

  /** Runs at most `n` tasks at a time (the encodings' calls are started together and judged one test each). */
  function limiter(n: number) {
    let active = 0;
    const waiting: Array<() => void> = [];
    return async <T>(task: () => Promise<T>): Promise<T> => {
      if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await task();
      } finally {
        active--;
        waiting.shift()?.();
      }
    };
  }
  const CONCURRENT = 24;
  /** Case changes are lossy for mixed-case tokens: only single-case values are tried in upper and lower case. */
  const kindsFor = (enc: string, kinds: readonly string[]) => kinds.filter((kind) => triedOn(enc, kind) && (enc !== 'crlfPem' || kind === 'pem' || REAL_KEYS.has(kind)) && ((enc !== 'lowercase' && enc !== 'uppercase') || SINGLE_CASE.has(kind)));

  const outcomeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'passed';
    } catch (e) {
      return (e as { data?: { code?: string } }).data?.code ?? String((e as Error).message).slice(0, 80);
    }
  };

  describe('DLP evasion: arguments to an open-world tool (arguments.secrets: block)', () => {
    let gw: TestGateway;
    let log: string;
    let client: Client;
    let n = 0;
    const marker = () => `m${++n}-${Date.now()}`;
    const reached = (id: string) => received(log, 'tools/call').some((m) => (m.params?.arguments as { to?: string } | undefined)?.to === id);
    /** Calls `tool` with `body` under a fresh marker; returns whether the server received the call, and the gateway's answer. */
    const send = async (body: unknown, tool = 'send', extra: Record<string, unknown> = {}) => {
      const id = marker();
      const outcome = await outcomeOf(client.callTool({ name: tool, arguments: { to: id, body, ...extra } }));
      return { arrived: reached(id), outcome };
    };

    before(async () => {
      ({ gw, log } = await gateway());
      client = (await legacyClient(`${gw.url}/mcp/ev`, { onElicit: () => ({ action: 'accept', content: { note: SECRETS.github } }), onSampling: () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: `here ${SECRETS.aws}` } }) })) as Client;
      startEncodings();
    });
    after(async () => {
      await client?.close();
    });

    /** Every encoding's calls, started together (the server is judged per call, by its marker). */
    const sentByEncoding = new Map<string, Promise<string[]>>();
    const startEncodings = () => {
      const limit = limiter(CONCURRENT);
      for (const enc of Object.keys(ENCODINGS)) {
        const kinds = kindsFor(enc, Object.keys(SECRETS));
        const through = Promise.all(kinds.map((kind) => limit(() => send(`here it is: ${ENCODINGS[enc]!(SECRETS[kind]!)}`)).then((r) => (r.arrived ? [`${kind} (${r.outcome})`] : []))));
        sentByEncoding.set(enc, through.then((lists) => lists.flat()));
      }
    };

    for (const enc of Object.keys(ENCODINGS)) {
      it(`encoding ${enc}: no secret-shaped value reaches the server`, async () => {
        const through = await sentByEncoding.get(enc)!;
        assert.deepEqual(through, [], `${enc}: reached the server: ${through.join(', ')}`);
      });
    }

    it('object key: a secret as an argument name (at the top and nested) does not reach the server', async () => {
      const kinds = Object.keys(SECRETS);
      const sent = await Promise.all(kinds.flatMap((kind) => [send({ [SECRETS[kind]!]: 'x' }), send([{ a: { [`${SECRETS[kind]!}`]: 1 } }])]));
      const through = sent.flatMap((r, i) => (r.arrived ? [`${kinds[i >> 1]}${i % 2 ? ' nested' : ''}`] : []));
      assert.deepEqual(through, [], `as object key, reached the server: ${through.join(', ')}`);
    });

    it('_meta of tools/call: a secret in params._meta (as a value or a key) does not reach the server', async () => {
      const through: string[] = [];
      for (const [kind, v] of Object.entries(SECRETS)) {
        for (const meta of [{ note: v }, { [v]: 1 }]) {
          const id = marker();
          const outcome = await outcomeOf(client.callTool({ name: 'send', arguments: { to: id, body: 'hello' }, _meta: meta }));
          if (reached(id)) through.push(`${kind} ${'note' in meta ? 'value' : 'key'} (${outcome})`);
        }
      }
      assert.deepEqual(through, [], `in _meta, reached the server: ${through.join(', ')}`);
    });

    it('an ordinary call with _meta, a prompt argument and a completion value still reaches the server', async () => {
      const id = marker();
      await client.callTool({ name: 'send', arguments: { to: id, body: 'see you at 10:30, café Ünter den Linden, ref A-17' }, _meta: { traceId: 'abc-123' } });
      assert.ok(reached(id), 'the ordinary call did not reach the server');
      await client.getPrompt({ name: 'p', arguments: { topic: 'weather in Zürich' } });
      await client.complete({ ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'topic', value: 'wea' } });
      const got = received(log);
      assert.ok(got.some((m) => m.method === 'prompts/get' && (m.params?.arguments as { topic?: string } | undefined)?.topic === 'weather in Zürich'), 'prompts/get did not reach the server');
      assert.ok(got.some((m) => m.method === 'completion/complete'), 'completion/complete did not reach the server');
    });

    it('number instead of string: a payment card as a JSON number (and as a string) does not reach an open-world tool', async () => {
      const asNumber = await send(Number(CARD));
      const asString = await send(`card ${CARD}`);
      assert.deepEqual({ asNumber: asNumber.arrived, asString: asString.arrived }, { asNumber: false, asString: false }, `card reached the server (number: ${asNumber.outcome}, string: ${asString.outcome})`);
    });

    it('deep nesting: a secret 64 / 256 / 1000 levels deep does not reach the server', async () => {
      const through: string[] = [];
      for (const depth of [64, 256, 1000]) {
        let body: unknown = SECRETS.github;
        for (let i = 0; i < depth; i++) body = { a: body };
        const { arrived, outcome } = await send(body);
        if (arrived) through.push(`depth ${depth} (${outcome})`);
      }
      assert.deepEqual(through, [], `reached the server: ${through.join(', ')}`);
    });

    it('many fields / long strings: a secret after 20 000 fields or 256 KB / 2 MB of padding does not reach the server', async () => {
      const through: string[] = [];
      const many: Record<string, string> = {};
      for (let i = 0; i < 20_000; i++) many[`f${i}`] = 'x';
      many.last = SECRETS.github!;
      let r = await send(many);
      if (r.arrived) through.push(`20000 fields (${r.outcome})`);
      const arr = Array.from({ length: 20_000 }, () => 'x');
      arr.push(SECRETS.aws!);
      r = await send(arr);
      if (r.arrived) through.push(`20000 elements (${r.outcome})`);
      for (const size of [256 * 1024, 2 * 1024 * 1024]) {
        r = await send('lorem ipsum '.repeat(size / 12) + SECRETS.github);
        if (r.arrived) through.push(`${size} bytes of padding (${r.outcome})`);
      }
      assert.deepEqual(through, [], `reached the server: ${through.join(', ')}`);
    });

    it('sensitive field `password`: variants of the name do not reach the server', async () => {
      const through: string[] = [];
      const names = ['PASSWORD', 'pass\u200Bword', 'pass\u00ADword', '\uFF50\uFF41\uFF53\uFF53\uFF57\uFF4F\uFF52\uFF44', 'p\u0430ssword', 'password ', ' password', 'password\u0000']; // exact names, normalised (not synonyms like passwd)
      for (const name of names) {
        if ((await send({ [name]: 'hunter2-Zq9' })).arrived) through.push(JSON.stringify(name));
      }
      if ((await send(JSON.stringify({ password: 'hunter2-Zq9' }))).arrived) through.push('nested JSON string {"password":…}');
      for (const value of [87654321, ['hunter2-Zq9'], { v: 'hunter2-Zq9' }]) {
        if ((await send({ password: value })).arrived) through.push(`password: ${JSON.stringify(value)}`);
      }
      if ((await send('password=hunter2-Zq9')).arrived) through.push('"password=…" in a string');
      assert.deepEqual(through, [], `field names that reached the server: ${through.join(', ')}`);
    });

    it('tools a server leaves open-world by default / hides / marks falsy-not-false are still checked', async () => {
      const through: string[] = [];
      for (const tool of ['send_default', 'send_zero', 'send_hidden', 'SEND']) {
        const { arrived, outcome } = await send(SECRETS.github, tool);
        if (arrived) through.push(`${tool} (${outcome})`);
      }
      assert.deepEqual(through, [], `reached the server: ${through.join(', ')}`);
    });

    it('JSON parser differentials: duplicate keys and __proto__ carry a secret past the inspection', async () => {
      const through: string[] = [];
      const url = `${gw.url}/mcp/ev`;
      const init = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
      const headers: Record<string, string> = { 'mcp-protocol-version': '2025-11-25' };
      const sid = init.headers.get('mcp-session-id');
      if (sid) headers['mcp-session-id'] = sid;
      await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
      const v = SECRETS.github!;
      const raws: Record<string, (id: string) => string> = {
        'duplicate key, secret first': (id) => `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"send","arguments":{"to":"${id}","body":"${v}","body":"hello"}}}`,
        'duplicate arguments, secret first': (id) => `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"send","arguments":{"to":"${id}","body":"${v}"},"arguments":{"to":"${id}","body":"hello"}}}`,
        '__proto__ key': (id) => `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"send","arguments":{"to":"${id}","body":{"__proto__":{"x":"${v}"}}}}}`,
        'top-level __proto__ in arguments': (id) => `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"send","arguments":{"to":"${id}","__proto__":{"body":"${v}"}}}}`,
      };
      {
        // Sanity: an innocuous raw call reaches the server on this session.
        const id = marker();
        const r = await post(url, `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"send","arguments":{"to":"${id}","body":"hello"}}}`, headers);
        assert.ok(reached(id), `the innocuous raw call did not reach the server: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      }
      for (const [what, raw] of Object.entries(raws)) {
        const id = marker();
        const mark = received(log).length;
        const r = await post(url, raw(id), headers);
        if (JSON.stringify(received(log).slice(mark)).includes(v)) through.push(`${what} (HTTP ${r.status} ${r.text.slice(0, 80).replace(/\s+/g, ' ')})`);
      }
      assert.deepEqual(through, [], `the raw secret reached the server: ${through.join('; ')}`);
    });

    it('modern era (2026-07-28): elicitation and sampling answers carrying a secret to an open-world tool', async () => {
      const modern = await modernClient(`${gw.url}/mcp/ev`, { onElicit: () => ({ action: 'accept', content: { note: SECRETS.github } }), onSampling: () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: `here ${SECRETS.aws}` } }) });
      const through: string[] = [];
      try {
        for (const [tool, v] of [['ask_elicit', SECRETS.github!], ['ask_sampling', SECRETS.aws!]] as const) {
          const mark = received(log).length;
          const outcome = await outcomeOf(modern.callTool({ name: tool, arguments: {} }));
          if (JSON.stringify(received(log).slice(mark)).includes(v)) through.push(`${tool} answer (${outcome})`);
        }
      } finally {
        await modern.close();
      }
      assert.deepEqual(through, [], `reached the server: ${through.join(', ')}`);
    });

    it('other client→server channels: resource uri, prompt argument, completion value, cancel reason, elicitation/sampling answers', async () => {
      const through: string[] = [];
      const v = SECRETS.github!;
      const probe = async (what: string, p: () => Promise<unknown>) => {
        const mark = received(log).length;
        const outcome = await outcomeOf(p());
        if (JSON.stringify(received(log).slice(mark)).includes(v)) through.push(`${what} (${outcome})`);
      };
      await probe('resources/read uri', () => client.readResource({ uri: `ev://other/x?token=${v}` }));
      await probe('prompts/get argument', () => client.getPrompt({ name: 'p', arguments: { topic: v } }));
      await probe('completion/complete value', () => client.complete({ ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'topic', value: v } }));
      await probe('elicitation answer (open-world tool)', () => client.callTool({ name: 'ask_elicit', arguments: {} }));
      const vAws = SECRETS.aws!;
      {
        const mark = received(log).length;
        const outcome = await outcomeOf(client.callTool({ name: 'ask_sampling', arguments: {} }));
        if (JSON.stringify(received(log).slice(mark)).includes(vAws)) through.push(`sampling answer (open-world tool) (${outcome})`);
      }
      {
        // Cancelling an in-flight call: the SDK sends notifications/cancelled with the abort reason.
        const mark = received(log).length;
        const controller = new AbortController();
        const call = outcomeOf(client.callTool({ name: 'slow', arguments: { to: 'slow' } }, undefined, { signal: controller.signal }));
        await new Promise((r) => setTimeout(r, 300));
        controller.abort(`user cancelled; key ${v}`);
        await call;
        await new Promise((r) => setTimeout(r, 300));
        if (JSON.stringify(received(log).slice(mark)).includes(v)) through.push('notifications/cancelled reason');
      }
      assert.deepEqual(through, [], `a secret reached the server through: ${through.join('; ')}`);
    });
  });

  describe('DLP evasion: results (secrets: mask, pii: mask)', () => {
    let gw: TestGateway;
    let client: Client;
    let notes: unknown[] = [];
    let asked: unknown[] = [];
    before(async () => {
      ({ gw } = await gateway());
      client = (await legacyClient(`${gw.url}/mcp/ev`, {
        onSampling: (p) => (asked.push(p), { role: 'assistant', model: 'm', content: { type: 'text', text: 'ok' } }),
        onElicit: (p) => (asked.push(p), { action: 'decline' }),
      })) as Client;
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void notes.push(n));
      await client.setLoggingLevel('debug');
    });
    after(async () => {
      await client?.close();
    });

    /** Calls `out` and returns everything the client saw for it (result or error, notifications, server requests). */
    async function seen(enc: string, kind: string, where: string): Promise<string> {
      notes = [];
      asked = [];
      const got: unknown[] = [];
      try {
        got.push(await client.callTool({ name: 'out', arguments: { enc, kind, where } }, undefined, { onprogress: (p) => void got.push(p) }));
      } catch (e) {
        got.push({ message: (e as Error).message, data: (e as { data?: unknown }).data });
      }
      await new Promise((r) => setTimeout(r, 20));
      return JSON.stringify([got, notes, asked]);
    }
    const leaks = (text: string, enc: string, kind: string) => text.includes(JSON.stringify(encoded(enc, kind)).slice(1, -1));

    // A text result has no side traffic: every encoding's calls run together (started by the first of
    // these tests), each judged on its own answer.
    const TEXT_ENCODINGS = Object.keys(ENCODINGS).filter((enc) => enc !== 'crlfPem' && enc !== 'tabsAround');
    let textResults: Map<string, Promise<string[]>> | undefined;
    const textThrough = (enc: string): Promise<string[]> => {
      if (!textResults) {
        const limit = limiter(CONCURRENT);
        textResults = new Map(
          TEXT_ENCODINGS.map((e) => {
            const kinds = kindsFor(e, ['github', 'aws', 'jwt', 'pem', 'pemKey', 'pemRsa', 'canary', 'email', 'card', 'iban']);
            const got = kinds.map((kind) => limit(() => client.callTool({ name: 'out', arguments: { enc: e, kind, where: 'text' } }).then(JSON.stringify, (err: Error) => err.message)));
            return [e, Promise.all(got).then((texts) => kinds.filter((kind, i) => leaks(texts[i]!, e, kind)))];
          }),
        );
      }
      return textResults.get(enc)!;
    };
    for (const enc of TEXT_ENCODINGS) {
      it(`encoding ${enc} in a text result: masked or blocked`, async () => {
        const through = await textThrough(enc);
        assert.deepEqual(through, [], `${enc}: the client received ${through.join(', ')}`);
      });
    }


    const PLACES = ['text', 'structuredValue', 'structuredKey', 'resourceLink', 'embeddedUri', 'mimeType', 'resultMeta', 'contentMeta', 'isError', 'error', 'errorData', 'log', 'logString', 'progress', 'sampling', 'samplingMessage', 'elicitSchema'];
    for (const where of PLACES) {
      it(`hiding place ${where}: a plain secret / personal data is masked or blocked`, async () => {
        const through: string[] = [];
        for (const kind of ['github', 'canary', 'email', 'card']) {
          if (leaks(await seen('plain', kind, where), 'plain', kind)) through.push(kind);
        }
        assert.deepEqual(through, [], `${where}: the client received ${through.join(', ')}`);
      });
    }

    it('an IBAN with its account part in lower case, its country code ending a four-byte word of a long text, is masked', async () => {
      // The personal-data pass skips whole words of four bytes: it once forgot the capitals at the end of
      // the word before the skip, and this IBAN went through at one alignment in four.
      assert.equal(leaks(await seen('plain', 'ibanLowerAccount', 'wordEnd'), 'plain', 'ibanLowerAccount'), false, 'the client received the IBAN');
    });

    it('binary hiding places: a secret inside base64 blob / image data (tool result and resources/read)', async () => {
      const through: string[] = [];
      const b64 = (kind: string) => Buffer.from(`key: ${SECRETS[kind]}`).toString('base64');
      for (const where of ['embeddedBlob', 'imageData']) {
        if ((await seen('plain', 'github', where)).includes(b64('github'))) through.push(`${where} (tool result)`);
      }
      const blob = JSON.stringify(await outcomeOf(Promise.resolve()).then(() => client.readResource({ uri: 'ev://blob/github' }).catch((e) => ({ e: String(e) }))));
      if (blob.includes(b64('github'))) through.push('resources/read blob');
      assert.deepEqual(through, [], `decodable secret received in: ${through.join(', ')}`);
    });

    it('size and shape: a secret after 900 KB / 6 MB of text, after 50 000 structured rows, 2 000 levels deep', async () => {
      const through: string[] = [];
      const probe = async (what: string, args: Record<string, unknown>) => {
        let got: string;
        try {
          got = JSON.stringify(await client.callTool({ name: 'out', arguments: { enc: 'plain', kind: 'github', ...args } }));
        } catch (e) {
          got = JSON.stringify({ m: (e as Error).message, d: (e as { data?: unknown }).data });
        }
        if (got.includes(SECRETS.github!)) through.push(what);
      };
      await probe('900 KB text', { where: 'big', size: 900 * 1024 });
      await probe('6 MB text', { where: 'big', size: 6 * 1024 * 1024 });
      await probe('50 000 structured rows', { where: 'bigStructured', size: 50_000 });
      await probe('2 000 levels deep', { where: 'deep', size: 2000 });
      assert.deepEqual(through, [], `the client received the secret after: ${through.join(', ')}`);
    });

    it('completion values and prompts/get description / embedded resource uri & mimeType', async () => {
      const through: string[] = [];
      const c = JSON.stringify(await client.complete({ ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'topic', value: 'leak' } }).catch((e) => ({ e: String(e) })));
      if (c.includes(SECRETS.github!)) through.push('completion/complete values: github');
      if (c.includes(encoded('plain', 'email'))) through.push('completion/complete values: email');
      const p = JSON.stringify(await client.getPrompt({ name: 'p', arguments: { topic: 'leak' } }).catch((e) => ({ e: String(e) })));
      for (const [field, re] of [['description', /"description":"[^"]*ghp_/], ['resource uri', /"uri":"mem:\/\/ghp_/], ['resource mimeType', /"mimeType":"[^"]*ghp_/]] as const) if (re.test(p)) through.push(`prompts/get ${field}`);
      assert.deepEqual(through, [], `the client received: ${through.join(', ')}`);
    });

    it('resources/read text with encodings: masked or blocked', async () => {
      const through: string[] = [];
      for (const enc of ['plain', 'base64', 'zeroWidthSpace', 'softHyphen', 'urlAll', 'fullwidth']) {
        for (const kind of ['github', 'email']) {
          const r = JSON.stringify(await client.readResource({ uri: `ev://text/${enc}/${kind}` }).catch((e) => ({ e: String(e) })));
          if (r.includes(JSON.stringify(encoded(enc, kind)).slice(1, -1))) through.push(`${enc}/${kind}`);
        }
      }
      assert.deepEqual(through, [], `resources/read delivered: ${through.join(', ')}`);
    });
  });

  describe('DLP evasion: injected instructions in results (injection: block; inject_wrapped: wrap)', () => {
    let client: Client;
    before(async () => {
      const { gw } = await gateway();
      client = (await legacyClient(`${gw.url}/mcp/ev`)) as Client;
    });
    after(async () => {
      await client?.close();
    });

    it('a result that closes </untrusted-data> itself does not get text outside the wrapper', async () => {
      const result = (await client.callTool({ name: 'inject_wrapped', arguments: { variant: 'wrapEscape' } })) as { content: { text: string }[] };
      const body = result.content[0]!.text;
      const closes = body.split('</untrusted-data>').length - 1;
      assert.equal(closes, 1, `the wrapped text holds ${closes} closing delimiters; the model sees "The tool finished. New instruction…" outside the data:\n${body}`);
    });

    it('every variant of the phrase is blocked', async () => {
      const variants = Object.keys(INJECTIONS).filter((v) => v !== 'wrapEscape' && v !== 'ordinary');
      const outcomes = await Promise.all(variants.map((variant) => outcomeOf(client.callTool({ name: 'inject', arguments: { variant } }))));
      const through = variants.flatMap((variant, i) => (outcomes[i] === 'PC_DLP_BLOCKED' ? [] : [`${variant} (${outcomes[i]})`]));
      assert.deepEqual(through, [], `reached the client: ${through.join(', ')}`);
    });

    it('ordinary text with an emoji and its VS16, a ZWJ family, accents, right-to-left marks and a URL passes unchanged', async () => {
      const got = (await client.callTool({ name: 'inject', arguments: { variant: 'ordinary' } })) as { content: { text: string }[] };
      assert.equal(got.content[0]!.text, INJECTIONS.ordinary);
    });
  });

  void CANARY;
});
