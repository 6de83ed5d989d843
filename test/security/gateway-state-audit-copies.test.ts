/**
 * Every file the audit trail is written to is the gateway's own state, with the files written beside it
 * (red team L3): a JSON Lines sink (the SOC's copy), a JSON Lines store outside the data dir with its
 * rotated segments and checkpoints, the witness. A filesystem server whose directory holds them must not
 * read them (other callers' records) nor rewrite them (an agent hiding its traces from whoever reads the
 * copy). The real gateway (`serve -c`) in front of the real server-filesystem and the official SDK
 * client; asserted on the server's side (nothing it received names those files) and on disk.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, legacyClient, runCli, serveChild } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

type Rejection = { data?: { code?: string; reason?: string } };

describe('security: the audit trail\'s files behind a filesystem server', () => {
  let base: string;
  let config: string;
  let log: string;
  let sink: string;
  let store: string;
  let segment: string;
  let gw: Awaited<ReturnType<typeof serveChild>>;
  let client: Awaited<ReturnType<typeof legacyClient>>;

  before(async () => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'pc-audit-copies-')));
    mkdirSync(join(base, 'trail'));
    writeFileSync(join(base, 'notes.txt'), 'ordinary file\n');
    sink = join(base, 'audit-copy.jsonl');
    store = join(base, 'trail', 'audit.jsonl');
    // A segment the store rotated out earlier (`<path>.<ISO time>.<n>`), still on disk.
    segment = `${store}.2026-01-01T00-00-00-000Z.1`;
    writeFileSync(segment, '{"earlier":"segment"}\n');
    log = join(base, 'server.log');
    config = join(base, 'portcullis.yaml');
    writeFileSync(config, JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: join(tmpdir(), `pc-audit-copies-data-${process.pid}-${Date.now()}`),
      servers: { files: recordedServer(log, FILESYSTEM, [base]) },
      audit: { store: 'jsonl', path: store, sinks: [{ type: 'jsonl', path: sink }] },
      policy: { rules: [{ name: 'files-allow', effect: 'allow', servers: ['files'] }] },
    }, null, 2));
    gw = await serveChild(config);
    client = await legacyClient(`${gw.base}/mcp`);
  });
  after(async () => {
    await client?.close();
    await gw?.stop();
  });

  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
  const refused = (error: Rejection) => {
    assert.equal(error.data?.code, 'PC_POLICY_GATEWAY_STATE', JSON.stringify(error.data));
    return true;
  };

  it('config check and start-up warn that the server\'s directory holds the audit copy', async () => {
    const checked = await runCli(['config', 'check', '-c', config]);
    assert.match(checked.stderr, /holds the gateway's own state \(.*the audit copy \S+audit-copy\.jsonl \(audit\.sinks\)/);
    assert.match(gw.stderr(), /the audit copy/);
  });

  it('an ordinary file beside them still works, and its record reaches the copy', async () => {
    const result = await call('files__read_text_file', { path: join(base, 'notes.txt') });
    assert.match(JSON.stringify(result.content), /ordinary file/);
  });

  it('the sink, the store, its rotated segment and its checkpoints cannot be read or rewritten', async () => {
    const sinkBefore = readFileSync(sink, 'utf8');
    assert.match(sinkBefore, /read_text_file/, 'the copy holds the earlier call');
    for (const path of [sink, store, segment, `${store}.checkpoints`, `${base}/trail/../audit-copy.jsonl`, `file://${sink}`, 'audit-copy.jsonl']) {
      await assert.rejects(call('files__read_text_file', { path }), refused, path);
      await assert.rejects(call('files__write_file', { path, content: '{"forged":true}\n' }), refused, path);
    }
    await assert.rejects(call('files__move_file', { source: sink, destination: join(base, 'gone.jsonl') }), refused);
    await assert.rejects(call('files__move_file', { source: join(base, 'notes.txt'), destination: sink }), refused);
    await assert.rejects(call('files__move_file', { source: join(base, 'trail'), destination: join(base, 'elsewhere') }), refused);
    assert.ok(readFileSync(sink, 'utf8').startsWith(sinkBefore), 'the copy was only appended to');
    assert.equal(readFileSync(segment, 'utf8'), '{"earlier":"segment"}\n');
  });

  it('the server received no call naming the trail\'s files', () => {
    const named = callsReceived(log).filter((c) => /audit-copy\.jsonl|audit\.jsonl|\/trail|gone\.jsonl|elsewhere/.test(JSON.stringify(c.arguments)));
    assert.deepEqual(named, []);
    assert.ok(callsReceived(log).length >= 1, 'the ordinary call reached the server');
  });
});
