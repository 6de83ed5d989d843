/**
 * Hot reload never applies a half-written file: the configuration is rewritten in two writes (the
 * first ends right before the rule's path guard), and in between the guard-less rule must never be in
 * force. The window is scaled down (reload.settleMs 1,500 ms, writes 600 ms apart) — the default of
 * 5 s covers the 3 s pause of the reported attack.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { validateConfig } from '../../src/config/load.ts';
import { FILESYSTEM, legacyClient, serveChild, waitFor } from '../helpers/gateway.ts';
import { auditTrail, callsReceived, recordedServer } from '../helpers/recorded.ts';

describe('hot reload', () => {
  let dir: string;
  let sandbox: string;
  let file: string;
  let log: string;
  let serve: Awaited<ReturnType<typeof serveChild>>;

  const head = (): string => {
    // Shipped defaults: the server is pinned (recordedServer pins its script), nothing runs unpinned.
    const files = recordedServer(log, FILESYSTEM, [dir]);
    return [
      `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
      'listen: { port: 0 }',
      'reload: { settleMs: 1500 }',
      'servers:',
      `  files: ${JSON.stringify(files)}`,
      'policy:',
      '  rules:',
      '    - name: files-in-sandbox',
      '      effect: allow',
      '      servers: [files]',
      '',
    ].join('\n');
  };
  const guard = (): string => `      guards: { paths: { args: [path, paths], roots: [${JSON.stringify(sandbox)}] } }\n`;

  before(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'pc-reload-')));
    sandbox = join(dir, 'sandbox');
    mkdirSync(sandbox);
    writeFileSync(join(sandbox, 'notes.txt'), 'inside\n');
    writeFileSync(join(dir, 'shadow'), 'root:$6$secret\n');
    log = join(dir, 'files.log');
    file = join(dir, 'portcullis.yaml');
    writeFileSync(file, head() + guard());
    serve = await serveChild(file);
  });
  after(async () => serve?.stop());

  it('waits longer by default than the pause of the reported attack', () => {
    const loaded = validateConfig({});
    assert.ok(loaded.ok && loaded.config.reload.settleMs > 3000);
  });

  it('never puts the half-written file in force, and applies the complete one once it is stable', async () => {
    const client = await legacyClient(`${serve.base}/mcp/files`);
    const secret = { name: 'read_text_file', arguments: { path: join(dir, 'shadow') } };
    const refused = (e: { data?: { code?: string } }) => e.data?.code === 'PC_POLICY_GUARD';
    try {
      await assert.rejects(client.callTool(secret), refused, 'refused under the policy at start');
      // Write 1: the rule without its guard (a valid file on its own).
      writeFileSync(file, head());
      for (const wait of [300, 250]) {
        await delay(wait);
        await assert.rejects(client.callTool(secret), refused, 'the half-written rule is not in force');
      }
      // Write 2: the guard, and one more rule (so the complete file differs from the first).
      appendFileSync(file, `${guard()}    - { name: no-listing, effect: deny, servers: [files], tools: [list_allowed_directories] }\n`);
      for (let i = 0; i < 4; i++) {
        await assert.rejects(client.callTool(secret), refused, 'still refused while the complete file settles');
        await delay(200);
      }
      await waitFor(() => serve.stderr().includes('policy reloaded'), 10_000, 'the complete file to be applied');
      await assert.rejects(client.callTool(secret), refused, 'refused under the complete policy');
      await assert.rejects(client.callTool({ name: 'list_allowed_directories', arguments: {} }), (e: { data?: { rule?: string } }) => e.data?.rule === 'no-listing', 'the complete file is in force');
      const ok = await client.callTool({ name: 'read_text_file', arguments: { path: join(sandbox, 'notes.txt') } });
      assert.match(JSON.stringify(ok.content), /inside/);
    } finally {
      await client.close();
    }
    assert.equal(serve.stderr().split('policy reloaded').length - 1, 1, 'exactly one reload: the complete file');
    assert.deepEqual(callsReceived(log).map((c) => c.arguments.path), [join(sandbox, 'notes.txt')], 'the shadow file never reached the server');
    const records = auditTrail(join(dir, 'data')).filter((r) => r.target === 'read_text_file' && r.decision === 'denied');
    assert.ok(records.length >= 8 && records.every((r) => r.rule === 'files-in-sandbox' && r.code === 'PC_POLICY_GUARD'), 'every refusal is recorded');
  });
});
