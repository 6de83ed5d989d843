/**
 * Regular expressions from outside the code run in linear time: a server's catastrophic schema pattern
 * cannot stall the gateway, a pattern the linear-time engine cannot run withholds the tool instead of
 * skipping the check, and policy patterns it cannot run are refused at load.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.ts';
import { ArgumentValidator } from '../../src/validate/args.ts';
import { legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer, TOOLS_SERVER } from '../helpers/recorded.ts';

const schema = (pattern: string, where: 'pattern' | 'patternProperties' | 'propertyNames' = 'pattern') =>
  where === 'pattern'
    ? { type: 'object', properties: { text: { type: 'string', pattern } } }
    : where === 'patternProperties'
      ? { type: 'object', patternProperties: { [pattern]: { type: 'string', maxLength: 1 } }, additionalProperties: false }
      : { type: 'object', propertyNames: { pattern } };

const TOOLS = [
  { name: 'exponential', inputSchema: schema('^(a|aa)+$') },
  { name: 'nested', inputSchema: schema('^(a+)+$') },
  { name: 'polynomial', inputSchema: schema('^a*a*a*a*a*a*a*b$') },
  { name: 'keys', inputSchema: schema('^(a|aa)+$', 'patternProperties') },
  { name: 'names', inputSchema: schema('^(a|aa)+$', 'propertyNames') },
  { name: 'backref', inputSchema: schema('^(a+)\\1$') },
  { name: 'lookahead', inputSchema: schema('^(?=.*admin).*$') },
  { name: 'lookbehind', inputSchema: schema('(?<!x)y') },
  { name: 'named-backref', inputSchema: schema('(?<q>a)\\k<q>') },
  { name: 'broken', inputSchema: schema('([a-z]') },
  { name: 'huge-repeat', inputSchema: schema('^a{2000}$') },
  { name: 'unsafe-key', inputSchema: schema('^(a)\\1$', 'patternProperties') },
];
const UNSAFE = ['backref', 'lookahead', 'lookbehind', 'named-backref', 'broken', 'huge-repeat', 'unsafe-key'];

describe('linear-time regular expressions', () => {
  let gw: TestGateway;
  let log: string;

  before(async () => {
    log = join(mkdtempSync(join(tmpdir(), 'pc-redos-')), 'tools.log');
    gw = await startSecureGateway({
      servers: { tools: recordedServer(log, TOOLS_SERVER, [JSON.stringify(TOOLS)]) },
      policy: {
        rules: [
          { name: 'tools', effect: 'allow', servers: ['tools'], tools: ['exponential', 'nested', 'polynomial', 'keys', 'names', 'backref', 'lookahead', 'lookbehind', 'named-backref', 'broken', 'huge-repeat', 'unsafe-key'] },
          { name: 'tools-value', effect: 'allow', servers: ['tools'], tools: ['polynomial'], guards: { values: { text: { pattern: '(x+x+)+y' } } } },
        ],
      },
    });
  });
  after(async () => gw?.close());

  it('answers a catastrophic schema pattern on a 10,000-character argument at once, and still checks it', async () => {
    const client = await legacyClient(`${gw.url}/mcp/tools`);
    try {
      const long = 'a'.repeat(10_000);
      const cases: [string, Record<string, unknown>][] = [
        ['exponential', { text: `${long}!` }],
        ['nested', { text: `${long}!` }],
        ['polynomial', { text: long }],
        ['keys', { [`${long}!`]: 'x' }],
        ['names', { [`${long}!`]: 'x' }],
      ];
      for (const [name, args] of cases) {
        const started = performance.now();
        await assert.rejects(client.callTool({ name, arguments: args }), (e: { data?: { code?: string } }) => e.data?.code === 'PC_ARGS_INVALID', name);
        const ms = performance.now() - started;
        // Generous bound (a shared machine): a backtracking engine takes longer than the age of the universe here.
        assert.ok(ms < 2000, `${name} answered in ${ms.toFixed(1)} ms`);
      }
      // The check itself, without the round trip: the bound.
      const validator = new ArgumentValidator();
      validator.check(TOOLS[0]!.inputSchema, { text: 'aa' });
      const started = performance.now();
      assert.ok(validator.check(TOOLS[0]!.inputSchema, { text: `${long}!` }));
      assert.ok(performance.now() - started < 50, `checked in ${(performance.now() - started).toFixed(1)} ms`);
      const accepted = await client.callTool({ name: 'exponential', arguments: { text: long } });
      assert.match(JSON.stringify(accepted.content), /exponential ran/, 'a matching value still passes');
    } finally {
      await client.close();
    }
    assert.deepEqual(callsReceived(log).map((c) => c.name), ['exponential'], 'only the valid call reached the server');
  });

  it('withholds a tool whose schema pattern cannot run in linear time and refuses calls to it, on both endpoints', async () => {
    const legacy = await legacyClient(`${gw.url}/mcp/tools`);
    const modern = await modernClient(`${gw.url}/mcp`);
    const before = callsReceived(log).length;
    try {
      const listed = (await legacy.listTools()).tools.map((t) => t.name);
      const aggregated = (await modern.listTools()).tools.map((t) => t.name);
      for (const name of UNSAFE) {
        assert.ok(!listed.includes(name), `${name} is withheld from tools/list`);
        assert.ok(!aggregated.includes(`tools__${name}`), `${name} is withheld from the aggregated list`);
        const unsafe = (e: { data?: { code?: string } }) => e.data?.code === 'PC_ARGS_SCHEMA_UNSAFE';
        await assert.rejects(legacy.callTool({ name, arguments: { text: 'aa' } }), unsafe, name);
        await assert.rejects(modern.callTool({ name: `tools__${name}`, arguments: { text: 'aa' } }), unsafe, name);
      }
      assert.ok(listed.includes('exponential'), 'a safe pattern is listed');
    } finally {
      await legacy.close();
      await modern.close();
    }
    assert.equal(callsReceived(log).length, before, 'no call to an unsafe tool reached the server');
    const refused = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.code === 'PC_ARGS_SCHEMA_UNSAFE');
    assert.equal(refused.length, UNSAFE.length * 2, 'every refusal is recorded');
  });

  it('refuses at load a policy value pattern the linear-time engine cannot run, naming where', () => {
    for (const pattern of ['(a)\\1', '(?=x)y', '(?<!x)y', 'a{5000}', '(', '\\k<n>(?<n>a)']) {
      const loaded = validateConfig({ servers: { s: { command: 'x' } }, policy: { rules: [{ name: 'r', effect: 'allow', guards: { values: { text: { pattern } } } }] } });
      assert.equal(loaded.ok, false, pattern);
      if (!loaded.ok) assert.deepEqual(loaded.problems.map((p) => p.path), ['policy.rules[0].guards.values.text.pattern'], pattern);
    }
    const fine = validateConfig({ servers: { s: { command: 'x' } }, policy: { rules: [{ name: 'r', effect: 'allow', guards: { values: { text: { pattern: '(x+x+)+y' } } } }] } });
    assert.equal(fine.ok, true);
  });
});
