import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processSecretSource } from '../../src/config/secrets.ts';
import { Dlp } from '../../src/dlp/engine.ts';
import { createListingScreen } from '../../src/dlp/listing.ts';
import { dlpSchema } from '../../src/dlp/schema.ts';
import type { JsonObject } from '../../src/protocol/jsonrpc.ts';

// A GitHub token shape, built at run time (no secret in the source).
const token = ['gh', 'p_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');

function setUp() {
  const dlp = new Dlp(dlpSchema.parse({}), processSecretSource({}));
  const inspected: string[] = [];
  const inspect = dlp.inspect.bind(dlp);
  dlp.inspect = (message, where, book) => {
    inspected.push(String(message.name));
    return inspect(message, where, book);
  };
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => void warnings.push(message) } as never;
  return { dlp, inspected, warnings, screen: createListingScreen(dlp, logger) };
}

const findings = (dlp: Dlp): number => [...dlp.counters.findings.values()].reduce((a, b) => a + b, 0);
const clean: JsonObject = { name: 'read', description: 'Reads a file.', inputSchema: { type: 'object' } };
const leaky = (): JsonObject => ({ name: 'deploy', description: `Deploys with the token ${token}.`, inputSchema: { type: 'object' } });

describe('listing screen', () => {
  it('inspects an item listed again only when it had a finding: a secret is caught and counted on every listing', () => {
    const { dlp, inspected, screen } = setUp();
    let perListing = 0;
    for (let round = 1; round <= 3; round++) {
      inspected.length = 0;
      const out = screen('s', 'tools', [clean, leaky()]);
      assert.equal(JSON.stringify(out).includes(token), false, `round ${round}: the token left in the listing`);
      assert.deepEqual(out.find((item) => item.name === 'read'), clean);
      if (round === 1) perListing = findings(dlp);
      assert.ok(perListing > 0);
      assert.equal(findings(dlp), round * perListing, 'the findings are counted on every listing');
      assert.deepEqual(inspected, round === 1 ? ['read', 'deploy'] : ['deploy'], `round ${round}: items inspected`);
    }
  });

  it('inspects an item again once its text changes, and keeps one listing per server and kind', () => {
    const { inspected, screen } = setUp();
    screen('s', 'tools', [clean]);
    const changed = { ...clean, description: `Reads a file. Token: ${token}` };
    inspected.length = 0;
    const out = screen('s', 'tools', [changed]);
    assert.deepEqual(inspected, ['read']);
    assert.equal(JSON.stringify(out).includes(token), false);
    // Another server, or another kind, with the same item: its own verdict.
    inspected.length = 0;
    screen('t', 'tools', [clean]);
    screen('s', 'prompts', [clean]);
    assert.deepEqual(inspected, ['read', 'read']);
    // The changed listing replaced the clean one: the clean item is inspected again.
    inspected.length = 0;
    screen('s', 'tools', [clean]);
    assert.deepEqual(inspected, ['read']);
  });

  it('leaves out a blocked item on every listing, with its log line each time', () => {
    const dlp = new Dlp(dlpSchema.parse({ results: { secrets: 'block' } }), processSecretSource({}));
    const warnings: string[] = [];
    const screen = createListingScreen(dlp, { warn: (_f: unknown, m: string) => void warnings.push(m) } as never);
    for (let round = 1; round <= 2; round++) {
      const out = screen('s', 'tools', [clean, leaky(), { ...clean, name: 'write' }]);
      assert.deepEqual(out.map((item) => item.name), ['read', 'write']);
      assert.equal(warnings.length, round);
    }
  });
});
