/**
 * The stdio front as a local client launches it: `portcullis stdio -c file [--server NAME]`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdioTransport } from '@modelcontextprotocol/client/stdio';
import { ALLOW_ALL_YAML, EVERYTHING, FILESYSTEM, MAIN, stdioClientEnv } from '../helpers/gateway.ts';

function writeConfig(): { file: string; sandbox: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pc-stdio-'));
  const sandbox = join(dir, 'sandbox');
  mkdirSync(sandbox);
  writeFileSync(join(sandbox, 'note.txt'), 'stdio front works\n');
  const file = join(dir, 'portcullis.yaml');
  writeFileSync(
    file,
    `dataDir: ${JSON.stringify(dir)}
supply: { allowUnpinned: true }
identity: { localAgent: desktop-agent }
${ALLOW_ALL_YAML}servers:
  everything: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }
  files: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(sandbox)}] }
`,
  );
  return { file, sandbox, dir };
}

describe('stdio front', () => {
  it('serves the aggregated view to a legacy client launching the gateway', async () => {
    const { file, sandbox, dir } = writeConfig();
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'stdio', '-c', file], env: stdioClientEnv(), stderr: 'ignore' });
    const client = new Client({ name: 'stdio-test', version: '1' }, { capabilities: {} });
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'files__read_text_file'));
    assert.ok(tools.some((t) => t.name === 'everything__echo'));
    const read = await client.callTool({ name: 'files__read_text_file', arguments: { path: join(sandbox, 'note.txt') } });
    assert.match(JSON.stringify(read.content), /stdio front works/);
    await client.close();
    // No token on stdio: the principal is the configured local agent and the OS user, and it is audited.
    const db = new DatabaseSync(join(dir, 'audit.db'), { readOnly: true });
    const records = (db.prepare('SELECT record FROM audit_records').all() as Array<{ record: string }>).map((r) => JSON.parse(r.record));
    db.close();
    const call = records.find((r) => r.target === 'read_text_file');
    assert.equal(call.principal.agent, 'desktop-agent');
    assert.equal(call.principal.subject, userInfo().username);
  });

  it('exposes one server unchanged with --server, to a modern client', async () => {
    const { file } = writeConfig();
    const transport = new ModernStdioTransport({ command: process.execPath, args: [MAIN, 'stdio', '-c', file, '--server', 'everything'], env: stdioClientEnv(), stderr: 'ignore' });
    const client = new ModernClient({ name: 'stdio-modern', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } } as never);
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'over stdio' } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: over stdio' }]);
    await client.close();
  });
});
