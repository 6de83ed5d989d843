/**
 * Deny rules against spellings of a path the server canonicalises (red team F5). A path guard forwards
 * the value as sent by default; server-filesystem runs path.resolve and realpath on it, so `.env/`,
 * `.env/.`, `a.txt/../.env` and a symlink to `.env` all read `.env`. A deny rule written on the argument
 * (`args.path.endsWith(".env")`) must hold for every one of them: the decision is taken again on the
 * form the guard resolved. Asserted on the server's log: only the allowed read reached it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; rule?: string } };

describe('deny rules judge the path the server will read', () => {
  let gw: TestGateway;
  let sandbox: string;
  let filesLog: string;

  before(async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-denycanon-')));
    sandbox = join(base, 'sandbox');
    mkdirSync(join(sandbox, 'sub'), { recursive: true });
    writeFileSync(join(sandbox, '.env'), ['DB', 'PASSWORD=hunter2'].join('_') + '\n');
    writeFileSync(join(sandbox, 'a.txt'), 'public\n');
    symlinkSync('.env', join(sandbox, 'settings'));
    filesLog = join(base, 'files.log');
    gw = await startSecureGateway({
      servers: { files: { ...recordedServer(filesLog, FILESYSTEM, [sandbox]), auditArguments: 'full' } },
      policy: {
        rules: [
          { name: 'files-in-sandbox', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [sandbox] } } },
          { name: 'no-dotenv', effect: 'deny', servers: ['files'], when: 'has(args.path) && args.path.endsWith(".env")' },
        ],
      },
    });
  });
  after(async () => gw?.close());

  const spellings = (): string[] => [
    `${sandbox}/.env`,
    `${sandbox}/.env/`,
    `${sandbox}/.env/.`,
    `${sandbox}/./.env/`,
    `${sandbox}//.env//`,
    `${sandbox}/a.txt/../.env/`,
    `${sandbox}/sub/../.env/.`,
    `${sandbox}/settings`, // a symlink to .env
    `file://${sandbox}/.env/`,
  ];

  it('refuses every spelling of the denied file on both eras; only the allowed read reaches the server', async () => {
    const legacy = await legacyClient(`${gw.url}/mcp/files`);
    const modern = await modernClient(`${gw.url}/mcp`);
    try {
      const ok = await legacy.callTool({ name: 'read_text_file', arguments: { path: `${sandbox}/sub/../a.txt` } });
      assert.match(JSON.stringify(ok.content), /public/, 'a path the deny rule does not cover is served, as sent');
      for (const path of spellings()) {
        for (const [client, tool] of [[legacy, 'read_text_file'], [modern, 'files__read_text_file']] as const) {
          await assert.rejects(
            client.callTool({ name: tool, arguments: { path } }),
            (error: Rejection) => error.data?.code === 'PC_POLICY_DENIED' && error.data?.rule === 'no-dotenv',
            JSON.stringify(path),
          );
        }
      }
      await assert.rejects(legacy.callTool({ name: 'edit_file', arguments: { path: `${sandbox}/.env/.`, edits: [{ oldText: 'hunter2', newText: 'x' }] } }), (error: Rejection) => error.data?.rule === 'no-dotenv');
    } finally {
      await legacy.close();
      await modern.close();
    }
    const reached = callsReceived(filesLog).map((c) => c.arguments.path);
    assert.deepEqual(reached, [`${sandbox}/sub/../a.txt`], 'the allowed call is forwarded as sent, and nothing else reached the server');
    const denied = auditTrail(gw.gateway.config.dataDir!).filter((r) => r.server === 'files' && r.decision === 'denied');
    assert.equal(denied.length, spellings().length * 2 + 1, 'every refusal is recorded');
    assert.ok(denied.every((r) => r.rule === 'no-dotenv'));
  });
});
