/**
 * Keys one only to the server (red team F7): `{"amount": 5, "AMOUNT": 5000}` passes a rule on
 * `args.amount` while a server that binds keys without case (Go's encoding/json by default, .NET's
 * System.Text.Json with PropertyNameCaseInsensitive, alias binders) reads 5000; `ａmount` (fullwidth),
 * `ſ` (long s) and `K` (Kelvin sign) are the same key to NFKC or Go's folding. Such an object is refused
 * anywhere in a request's params, on both eras' fronts, and the server behind receives nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { callsReceived, recordedServer, TOOLS_SERVER } from '../helpers/recorded.ts';
import { foldKey, foldName } from '../../src/util/fold.ts';

const TOOLS = [{ name: 'pay', inputSchema: { type: 'object' } }];

type Rejection = { data?: { code?: string; where?: string; keys?: string[] } };

describe('keys that fold to one key are refused', () => {
  let gw: TestGateway;
  let log: string;

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-folded-')), 'tools.log');
    gw = await startSecureGateway({
      servers: { bank: recordedServer(log, TOOLS_SERVER, [JSON.stringify(TOOLS)]) },
      policy: {
        rules: [
          { name: 'no-big-payments', effect: 'deny', tools: ['pay'], when: '!has(args.amount) || args.amount > 100 || args.to != "alice"' },
          { name: 'pay', effect: 'allow', tools: ['pay'] },
        ],
      },
    });
  });
  after(async () => gw?.close());

  const attacks: Array<{ args: Record<string, unknown>; where: string }> = [
    { args: { amount: 5, AMOUNT: 5000, to: 'alice' }, where: 'params.arguments' },
    { args: { amount: 5, Amount: 5000, to: 'alice' }, where: 'params.arguments' },
    { args: { amount: 5, 'ａｍｏｕｎｔ': 5000, to: 'alice' }, where: 'params.arguments' },
    { args: { amount: 5, to: 'alice', TO: 'mallory' }, where: 'params.arguments' },
    // Go's encoding/json/v2 ignores `_` and `-` when it matches names case-insensitively (red team I, F1).
    { args: { amount: 5, a_mount: 5000, to: 'alice' }, where: 'params.arguments' },
    { args: { amount: 5, 'amo-unt': 5000, to: 'alice' }, where: 'params.arguments' },
    { args: { amount: 5, to: 'alice', memo: { status: 'ok', 'ſtatus': 'refund' } }, where: 'params.arguments.memo' },
    { args: { amount: 5, to: 'alice', batch: [{ kind: 'a', '\u212Aind': 'b' }] }, where: 'params.arguments.batch[0]' },
  ];

  for (const era of ['legacy', 'modern'] as const) {
    it(`refuses them on the ${era} front, naming where and which keys; the server receives nothing`, async () => {
      const client = era === 'legacy' ? await legacyClient(`${gw.url}/mcp/bank`) : await modernClient(`${gw.url}/mcp/bank`);
      const before = callsReceived(log).length;
      try {
        for (const attack of attacks) {
          await assert.rejects(client.callTool({ name: 'pay', arguments: attack.args }), (e: Rejection) => {
            assert.equal(e.data?.code, 'PC_PROTOCOL_AMBIGUOUS', JSON.stringify(e.data));
            assert.equal(e.data?.where, attack.where);
            assert.equal(e.data?.keys?.length, 2);
            return true;
          }, JSON.stringify(attack.args));
        }
        assert.deepEqual(callsReceived(log).slice(before), [], 'no call reached the server');
        // The same payment with each key once goes through, as the rule decided.
        await client.callTool({ name: 'pay', arguments: { amount: 5, to: 'alice', memo: { status: 'ok' } } });
        assert.deepEqual(callsReceived(log).slice(before).map((c) => c.arguments), [{ amount: 5, to: 'alice', memo: { status: 'ok' } }]);
      } finally {
        await client.close();
      }
    });
  }

  it('folds at least as wide as Go (ASCII case, Kelvin sign, long s) and NFKC', () => {
    for (const [a, b] of [['amount', 'AMOUNT'], ['kind', '\u212Aind'], ['status', '\u017Ftatus'], ['amount', 'ａｍｏｕｎｔ'], ['σ', 'ς'], ['Σ', 'σ'], ['ı', 'I']]) assert.equal(foldName(a!), foldName(b!), `${a} ~ ${b}`);
    for (const [a, b] of [['amount', 'amount_'], ['a-b', 'a_b'], ['to', 'tó']]) assert.notEqual(foldName(a!), foldName(b!), `${a} ≁ ${b}`);
    // Keys fold wider still (file names do not): without `_` and `-`, as Go's encoding/json/v2 matches names.
    for (const [a, b] of [['amount', 'a_mount'], ['amount', 'amo-unt'], ['user_id', 'UserID']]) assert.equal(foldKey(a!), foldKey(b!), `${a} ~ ${b}`);
    assert.notEqual(foldKey('to'), foldKey('tó'));
  });
});

/**
 * A lone key in another case (red team I, F6): `{"PATH": "/etc/passwd"}` has no `path` for the paths
 * guard (a missing argument passes it) and `{"AMOUNT": 5000}` no `amount` for a deny rule, yet a server
 * binding names loosely reads both as the declared names. A key that folds to a name the tool's schema
 * declares, without being it, is refused at any depth; the server receives nothing.
 */
describe('a lone key that is a declared name only to the server is refused', () => {
  let gw: TestGateway;
  let log: string;
  const DECLARED = [
    {
      name: 'pay',
      inputSchema: { type: 'object', properties: { amount: { type: 'number' }, to: { type: 'string' }, memo: { type: 'object', properties: { status: { type: 'string' } } } } },
    },
    { name: 'read', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } },
  ];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-folded-lone-'));
    log = join(dir, 'tools.log');
    gw = await startSecureGateway({
      servers: { bank: recordedServer(log, TOOLS_SERVER, [JSON.stringify(DECLARED)]) },
      policy: {
        rules: [
          { name: 'no-big-payments', effect: 'deny', tools: ['pay'], when: 'has(args.amount) && args.amount > 100' },
          { name: 'pay', effect: 'allow', tools: ['pay'] },
          { name: 'read-in-sandbox', effect: 'allow', tools: ['read'], guards: { paths: { args: ['path'], roots: [dir] } } },
        ],
      },
    });
  });
  after(async () => gw?.close());

  for (const era of ['legacy', 'modern'] as const) {
    it(`refuses PATH, Path, fullwidth ＰＡＴＨ and AMOUNT on the ${era} front; the same calls spelled as declared are judged as usual`, async () => {
      const client = era === 'legacy' ? await legacyClient(`${gw.url}/mcp/bank`) : await modernClient(`${gw.url}/mcp/bank`);
      const before = callsReceived(log).length;
      try {
        const attacks: Array<[string, Record<string, unknown>]> = [
          ['read', { PATH: '/etc/passwd' }],
          ['read', { Path: '/etc/passwd' }],
          ['read', { '\uFF30\uFF21\uFF34\uFF28': '/etc/passwd' }],
          ['pay', { AMOUNT: 5000, to: 'mallory' }],
          ['pay', { _amount: 5000, to: 'mallory' }],
          ['pay', { amount: 5, to: 'alice', memo: { STATUS: 'refund' } }],
        ];
        for (const [name, args] of attacks) {
          await assert.rejects(client.callTool({ name, arguments: args }), (e: Rejection) => {
            assert.equal(e.data?.code, 'PC_PROTOCOL_AMBIGUOUS', JSON.stringify(e.data));
            return true;
          }, JSON.stringify(args));
        }
        assert.deepEqual(callsReceived(log).slice(before), [], 'no call reached the server');
        await assert.rejects(client.callTool({ name: 'read', arguments: { path: '/etc/passwd' } }), (e: Rejection) => e.data?.code === 'PC_POLICY_GUARD');
        await assert.rejects(client.callTool({ name: 'pay', arguments: { amount: 5000, to: 'mallory' } }), (e: Rejection) => e.data?.code === 'PC_POLICY_DENIED');
        await client.callTool({ name: 'pay', arguments: { amount: 5, to: 'alice', memo: { status: 'ok' } } });
        assert.deepEqual(callsReceived(log).slice(before).map((c) => c.arguments), [{ amount: 5, to: 'alice', memo: { status: 'ok' } }]);
      } finally {
        await client.close();
      }
    });
  }
});
