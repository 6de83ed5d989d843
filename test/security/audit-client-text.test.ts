/**
 * Red team "redteam-data" F2 (client side): every string a client chooses that reaches an audit record
 * or a log line goes through the secret test first — the agent name (`clientInfo.name`) on every
 * record, a string JSON-RPC id, a method name (also one sent before initialize), and the names of
 * tools and prompts that do not exist, quoted in the log's refusal lines. The real `portcullis stdio`
 * (its own logger at debug, a JSONL audit store) behind the official SDK client, and raw JSON-RPC for
 * what the SDK never sends (string ids, a request before initialize); asserted on the audit file and
 * the gateway's stderr.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { MAIN, waitFor } from '../helpers/gateway.ts';
import { COMPILE_CACHE, recordedServer } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const SERVER = new URL('../fixtures/payload-server.ts', import.meta.url).pathname;
const secrets = fakeSecrets();
const LEAKS = [secrets.aws, secrets.github, secrets.stripe, secrets.slack];

function setup(): { dir: string; config: string; audit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pc-audit-client-'));
  const payloads = join(dir, 'payloads.json');
  writeFileSync(payloads, JSON.stringify({ payloads: {} }));
  const audit = join(dir, 'audit.jsonl');
  const config = join(dir, 'gw.yaml');
  writeFileSync(
    config,
    [
      `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
      'logging: { level: debug }',
      `audit: { store: jsonl, path: ${JSON.stringify(audit)} }`,
      `servers:\n  evil: ${JSON.stringify(recordedServer(join(dir, 'received.jsonl'), SERVER, [payloads]))}`,
      'policy: { rules: [{ name: evil, effect: allow, servers: [evil] }] }',
    ].join('\n'),
  );
  return { dir, config, audit };
}

const assertNone = (haystack: string, where: string): void => {
  for (const value of LEAKS) assert.ok(!haystack.includes(value), `${where} holds ${value.slice(0, 6)}… in clear`);
};

describe('F2: what a client chooses is screened before the audit trail and the log', () => {
  it('masks a secret in the agent name, a string id, a method and unknown tool and prompt names (SDK client)', async () => {
    const { config, audit } = setup();
    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'stdio', '-c', config, '--server', 'evil'], env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE }, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const client = new Client({ name: `agent-${secrets.github}`, version: '1.0.0' });
    await client.connect(transport);
    try {
      await assert.rejects(client.callTool({ name: `get_${secrets.aws}`, arguments: {} }));
      await assert.rejects(client.getPrompt({ name: `p-${secrets.github}` }));
      await assert.rejects(client.request({ method: `tools/${secrets.aws}`, params: {} }, EmptyResultSchema));
      // The SDK numbers its requests; a client may as well choose string ids.
      const answered = new Promise<void>((resolve) => {
        const previous = transport.onmessage;
        transport.onmessage = (message) => ((message as { id?: unknown }).id === `req-${secrets.stripe}` ? resolve() : previous?.(message));
      });
      await transport.send({ jsonrpc: '2.0', id: `req-${secrets.stripe}`, method: 'tools/call', params: { name: 'get', arguments: { name: 'none' } } });
      await answered;
      await client.callTool({ name: 'get', arguments: { name: 'none' } });
    } finally {
      await client.close();
    }
    const trail = readFileSync(audit, 'utf8');
    const records = trail.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    assert.ok(records.length >= 5, `records written (${records.length})`);
    assertNone(trail, 'the audit trail');
    assertNone(stderr, 'the log');
    // Masked, not dropped: the fields are there, saying so.
    assert.ok(records.every((r) => r.principal.agent === '[redacted]'), JSON.stringify(records.map((r) => r.principal.agent)));
    assert.ok(records.some((r) => r.requestId === '[redacted]'));
    assert.ok(records.some((r) => r.method === '[redacted]'));
    assert.match(stderr, /\[redacted\]/);
  });

  it('masks a secret in a method sent before initialize (raw JSON-RPC)', async () => {
    const { config, audit } = setup();
    const child = spawn(process.execPath, [MAIN, 'stdio', '-c', config, '--server', 'evil'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...COMPILE_CACHE } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: `pre-${secrets.aws}`, method: `tools/${secrets.github}`, params: {} })}\n`);
    await waitFor(() => stdout.includes('"error"') || undefined, 60_000, 'the refusal');
    child.stdin.end();
    await exited;
    const trail = readFileSync(audit, 'utf8');
    assert.match(trail, /"method":"\[redacted\]"/, 'the refusal is recorded, with the method masked');
    assertNone(trail, 'the audit trail');
    assertNone(stderr, 'the log');
  });
});
