/**
 * Values the gateway and a server's parser read differently. A deny rule compares `args.text` exactly
 * and the gateway forwards what it judged, but a server in C stops at a NUL, a decoder replaces a lone
 * surrogate, a JavaScript server that merges arguments reads a `__proto__` key as the prototype, and a
 * number JSON cannot hold becomes Infinity (then `null`). Each is refused with a typed -32602 naming
 * the place (PC_ARGS_INVALID; PC_PROTOCOL_INVALID_PARAMS for the number, refused as the body is read), on every endpoint and era, and the server receives none of them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { codeOf, everyEndpoint, forwarded, type RawSession } from '../helpers/security.ts';
import { recordedServer } from '../helpers/security.ts';

const POLICY = {
  rules: [
    { name: 'echo-only', effect: 'allow', servers: ['gov'], tools: ['echo'] },
    { name: 'no-rm', effect: 'deny', servers: ['gov'], tools: ['echo'], when: 'has(args.text) && args.text == "rm"' },
  ],
};

/**
 * The raw JSON text of each attack's `arguments` (raw, because `1e400` and `__proto__` do not survive
 * a JavaScript object literal), and where the refusal must say the problem is.
 */
const ATTACKS: ReadonlyArray<{ label: string; args: string; where: string; code?: string }> = [
  { label: 'NUL after the denied value', args: '{"text":"rm\\u0000 -rf"}', where: 'params.arguments.text' },
  { label: 'a lone high surrogate', args: '{"text":"\\ud800rm"}', where: 'params.arguments.text' },
  { label: 'a lone low surrogate in a nested key', args: '{"text":"ok","opts":{"\\udc00":"rm"}}', where: 'params.arguments.opts["\\udc00"]' },
  { label: '__proto__ carrying the denied value', args: '{"__proto__":{"text":"rm"}}', where: 'params.arguments.__proto__' },
  { label: 'constructor.prototype deep in an array', args: '{"text":"ok","list":[{"constructor":{"prototype":{"text":"rm"}}}]}', where: 'params.arguments.list[0].constructor' },
  { label: 'prototype as a key', args: '{"text":"ok","prototype":1}', where: 'params.arguments.prototype' },
  // Refused as the body is read (an invalid parameter, not PC_INTERNAL): nothing can judge, hash or re-encode it.
  { label: 'a number that overflows to Infinity', args: '{"text":"ok","n":1e400}', where: 'params.arguments.n', code: 'PC_PROTOCOL_INVALID_PARAMS' },
  { label: 'a negative overflow in an array', args: '{"text":"ok","list":[1,-1E+999]}', where: 'params.arguments.list[1]', code: 'PC_PROTOCOL_INVALID_PARAMS' },
];

describe('values a server could parse otherwise than the gateway judged them', () => {
  let gw: TestGateway;
  let log: string;
  let sessions: Record<string, RawSession> = {};

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-differentials-')), 'gov.log');
    gw = await startSecureGateway({ servers: { gov: recordedServer(log) }, policy: POLICY });
    sessions = await everyEndpoint(gw.url, 'gov');
  });
  after(async () => gw?.close());

  /** One tools/call whose arguments are the raw JSON text `args`, in the session's era. */
  function call(label: string, session: RawSession, name: string, args: string) {
    const modern = label.startsWith('modern');
    const params = modern ? `{"name":${JSON.stringify(name)},"arguments":${args},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}` : `{"name":${JSON.stringify(name)},"arguments":${args}}`;
    const body = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":${params}}`;
    return session.send(body, modern ? { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name } : {});
  }

  it('refuses each with PC_ARGS_INVALID, says where, and forwards nothing', async () => {
    const before = forwarded(log).length;
    for (const [label, session] of Object.entries(sessions)) {
      const name = label.endsWith('/mcp') ? 'gov__echo' : 'echo';
      for (const attack of ATTACKS) {
        const answer = await call(label, session, name, attack.args);
        assert.equal(codeOf(answer), attack.code ?? 'PC_ARGS_INVALID', `${label}: ${attack.label}: ${JSON.stringify(answer.json)}`);
        assert.equal(answer.json.error.code, -32602, `${label}: ${attack.label}`);
        assert.equal(answer.json.error.data.where, attack.where, `${label}: ${attack.label}`);
      }
    }
    assert.deepEqual(forwarded(log).slice(before), []);
  });

  it('still forwards well-formed text, astral characters and ordinary keys as judged', async () => {
    for (const [label, session] of Object.entries(sessions)) {
      const name = label.endsWith('/mcp') ? 'gov__echo' : 'echo';
      const before = forwarded(log).length;
      const answer = await call(label, session, name, '{"text":"caf\\u00e9 \\ud83d\\ude00 proto"}');
      assert.equal(codeOf(answer), undefined, `${label}: ${JSON.stringify(answer.json)}`);
      const arrived = forwarded(log).slice(before).filter((m) => m.method === 'tools/call');
      assert.deepEqual(arrived.map((m) => m.params?.arguments), [{ text: 'café 😀 proto' }], label);
      // The rule still sees the plain value.
      assert.equal(codeOf(await call(label, session, name, '{"text":"rm"}')), 'PC_POLICY_DENIED', label);
    }
  });
});
