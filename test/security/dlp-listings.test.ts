/**
 * Red team "redteam-data" F12: what a server lists went to the model unmasked — a tool description
 * carrying a key, a resource URI with a token, a resource template, a prompt description. Listed items
 * now go through DLP after the supply-chain review (src/dlp/listing.ts): secrets are masked, on the
 * server's endpoint and the aggregated one; an item whose finding's action is `block` is left out. The
 * real gateway, the SDK client, an SDK server listing what the test wrote (test/fixtures/payload-server.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { recordedServer } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const SERVER = new URL('../fixtures/payload-server.ts', import.meta.url).pathname;
const secrets = fakeSecrets();
const LEAKS = [secrets.aws, secrets.github, secrets.slack, secrets.stripe];

async function listingGateway(dlp: Record<string, unknown>): Promise<{ gw: TestGateway }> {
  const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-lists-'));
  const file = join(dir, 'payloads.json');
  const schema = { type: 'object', properties: { name: { type: 'string' } } };
  writeFileSync(
    file,
    JSON.stringify({
      payloads: {},
      tools: [
        { name: 'get', description: `Returns a stored payload. key ${secrets.aws}`, inputSchema: schema, annotations: { openWorldHint: false } },
        { name: 'plain', description: 'Returns nothing in particular.', inputSchema: schema, annotations: { openWorldHint: false } },
      ],
      resources: [{ uri: `https://files.example/report.csv?token=${secrets.github}`, name: 'report', description: `shared with ${secrets.slack}`, mimeType: 'text/csv' }],
      resourceTemplates: [{ uriTemplate: `https://files.example/{name}?sig=${secrets.stripe}`, name: 'files' }],
      prompts: [{ name: 'summary', description: `Summarises with ${secrets.github}` }],
    }),
  );
  const gw = await startSecureGateway({
    dataDir: join(dir, 'data'),
    servers: { evil: recordedServer(join(dir, 'received.jsonl'), SERVER, [file]) },
    policy: { rules: [{ name: 'evil', effect: 'allow', servers: ['evil'] }] },
    dlp,
  });
  return { gw };
}

async function lists(url: string): Promise<{ text: string; tools: string[] }> {
  const client = await legacyClient(url);
  try {
    const tools = await client.listTools();
    const all = [tools, await client.listResources(), await client.listResourceTemplates(), await client.listPrompts()];
    return { text: JSON.stringify(all), tools: tools.tools.map((t) => t.name) };
  } finally {
    await client.close();
  }
}

describe('F12: listings carry no secret to the model', () => {
  let masked: TestGateway;
  let blocked: TestGateway;
  before(async () => {
    [{ gw: masked }, { gw: blocked }] = await Promise.all([listingGateway({ results: { secrets: 'mask' } }), listingGateway({ results: { secrets: 'block' } })]);
  });
  after(async () => {
    await masked?.close();
    await blocked?.close();
  });

  for (const endpoint of ['/mcp/evil', '/mcp']) {
    it(`masks secrets in tools, resources, templates and prompts (${endpoint})`, async () => {
      const { text, tools } = await lists(`${masked.url}${endpoint}`);
      for (const value of LEAKS) assert.ok(!text.includes(value), `${endpoint} listed ${value.slice(0, 6)}… in clear`);
      assert.match(text, /\[REDACTED:[a-z0-9-]+#1\]/);
      assert.equal(tools.length, 2, 'both tools are still listed');
    });
  }

  it('leaves out an item holding a secret whose action is block, and lists the rest', async () => {
    const { text, tools } = await lists(`${blocked.url}/mcp/evil`);
    for (const value of LEAKS) assert.ok(!text.includes(value), `listed ${value.slice(0, 6)}… in clear`);
    assert.deepEqual(tools, ['plain']);
  });
});
