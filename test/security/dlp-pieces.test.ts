/**
 * DLP against a value handed over in pieces that a reader puts together (src/dlp/pieces.ts): two text
 * items of one result, the elements of an array, the members of an object (arguments), character codes —
 * in results (asserted on the client's side: no piece of the value arrives) and in the arguments of an
 * open-world tool (asserted on the server's side: the call never arrived). One real gateway on the
 * shipped defaults plus the `dlp` section of the evasion tests, in front of the recorded stdio fixture
 * (test/fixtures/dlp-evasion-server.ts). Values are assembled at run time (helpers/secrets.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { processSecretSource } from '../../src/config/secrets.ts';
import { legacyClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { received, recordedServer } from '../helpers/recorded.ts';
import { SECRETS, VALUE_CANARY } from '../fixtures/dlp-evasion-cases.ts';

const SERVER = new URL('../fixtures/dlp-evasion-server.ts', import.meta.url).pathname;
const DLP = {
  arguments: { secrets: 'block' },
  results: { secrets: 'mask', pii: 'mask', injection: 'off' },
  patterns: [
    { name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block', arguments: true },
    { name: 'build-canary', value: 'env:BUILD_CANARY', action: 'block', arguments: true },
  ],
  servers: {},
};
/** The values with a shape of their own (what pieces are joined for: docs/dlp.md). */
const KINDS = ['aws', 'github', 'slack', 'stripe', 'jwt', 'canary', 'valueCanary'];
const half = (v: string) => Math.floor(v.length / 2);

// One describe for the file: its hooks run before and after its own tests, also when files share a process.
describe('DLP pieces', () => {
  let gw: TestGateway;
  let log: string;
  let client: Client;
  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-pieces-'));
    log = join(dataDir, 'received.jsonl');
    gw = await startSecureGateway(
      { dataDir, servers: { ev: recordedServer(log, SERVER) }, policy: { rules: [{ name: 'ev', effect: 'allow', servers: ['ev'] }] }, dlp: DLP },
      processSecretSource({ ...process.env, BUILD_CANARY: VALUE_CANARY }),
    );
    client = (await legacyClient(`${gw.url}/mcp/ev`)) as Client;
  });
  after(async () => {
    await client?.close();
    await gw?.close();
  });

  describe('DLP: a value in pieces, in results (secrets: mask)', () => {
    /** What the client received for `out` at `where` (result or error), as JSON. */
    const seen = async (kind: string, where: string): Promise<string> => {
      try {
        return JSON.stringify(await client.callTool({ name: 'out', arguments: { enc: 'plain', kind, where } }));
      } catch (e) {
        return JSON.stringify({ message: (e as Error).message, data: (e as { data?: unknown }).data });
      }
    };
    /** Whether `got` holds a piece of `v` (either half, or its character codes in a row). */
    const holdsPiece = (got: string, v: string, where: string): boolean => {
      if (where === 'structuredCodes') return got.includes(JSON.stringify([...v].map((c) => c.charCodeAt(0))).slice(1, -1));
      if (where === 'structuredChars') return got.includes(JSON.stringify([...v]).slice(1, -1));
      return got.includes(v.slice(0, half(v))) || got.includes(v.slice(half(v)));
    };

    // (The members of one object are joined in arguments only: docs/dlp.md.)
    for (const where of ['splitItems', 'structuredPieces', 'structuredChars', 'structuredCodes']) {
      it(`${where}: no piece of a secret or a canary reaches the client`, async () => {
        const through: string[] = [];
        for (const kind of KINDS) if (holdsPiece(await seen(kind, where), SECRETS[kind]!, where)) through.push(kind);
        assert.deepEqual(through, [], `${where}: the client received pieces of ${through.join(', ')}`);
      });
    }

    it('ordinary pieces (an id and a region) pass unchanged', async () => {
      const v = 'order-2f9c41d0-eu-west-1';
      const result = (await client.callTool({ name: 'out', arguments: { enc: 'plain', kind: v, where: 'structuredPieces' } })) as { structuredContent?: { parts?: string[] } };
      assert.deepEqual(result.structuredContent?.parts, [v.slice(0, half(v)), v.slice(half(v))]);
    });
  });

  describe('DLP: a value in pieces, in the arguments of an open-world tool (arguments.secrets: block)', () => {
    let n = 0;
    /** Sends `extra` as arguments of `send` under a fresh marker; whether the server received the call. */
    const arrives = async (extra: Record<string, unknown>): Promise<boolean> => {
      const id = `pieces-${++n}-${Date.now()}`;
      try {
        await client.callTool({ name: 'send', arguments: { to: id, ...extra } });
      } catch {
        // refused: judged below, on the server's side
      }
      return received(log, 'tools/call').some((m) => (m.params?.arguments as { to?: string } | undefined)?.to === id);
    };

    const SHAPES: Record<string, (v: string) => Record<string, unknown>> = {
      'two arguments': (v) => ({ a: v.slice(0, half(v)), b: v.slice(half(v)) }),
      'members of a nested object': (v) => ({ body: { head: v.slice(0, half(v)), tail: v.slice(half(v)) } }),
      'array elements': (v) => ({ body: [v.slice(0, half(v)), v.slice(half(v))] }),
      'array of chunks of four': (v) => ({ body: v.match(/.{1,4}/g) }),
      'character codes': (v) => ({ body: [...v].map((c) => c.charCodeAt(0)) }),
      'hex bytes as strings': (v) => ({ body: [...Buffer.from(v)].map((b) => b.toString(16)) }),
    };
    for (const [shape, make] of Object.entries(SHAPES)) {
      it(`${shape}: no secret or canary reaches the server`, async () => {
        const through: string[] = [];
        for (const kind of KINDS) if (await arrives(make(SECRETS[kind]!))) through.push(kind);
        assert.deepEqual(through, [], `${shape}: reached the server: ${through.join(', ')}`);
      });
    }

    it('ordinary arguments in pieces (ids, tags, numbers) still reach the server', async () => {
      assert.ok(await arrives({ a: 'order-1042', b: 'eu-west-1', tags: ['red', 'blue', 'v2'], ids: [1, 2, 3, 5, 8, 13, 21, 34, 55], sha: ['3f2a9c1e', 'b7d04e55'] }), 'an ordinary call did not reach the server');
    });
  });
});
