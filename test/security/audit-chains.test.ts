/**
 * Issue 12 — one hash chain per process. `portcullis serve` and `portcullis stdio` started with the
 * same `-c` file (as the README recommends), plus a second `stdio` process as a second client would
 * launch, write the same store at the same time. Before, they shared one chain: with SQLite every
 * stdio call failed with PC_AUDIT_UNAVAILABLE, with JSON Lines `verify` reported a break nobody made.
 * Now every call of every process is answered and recorded, each process in a chain of its own, and
 * `audit verify` passes — on SQLite and on JSON Lines.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JsonlAuditStore } from '../../src/audit/jsonl-store.ts';
import type { AuditRecord } from '../../src/audit/record.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { MAIN, runCli, serveChild, waitFor } from '../helpers/gateway.ts';
import { legacySession, recordedServer } from '../helpers/security.ts';

interface StdioClient {
  /** Resolves once the front answered initialize. */
  ready: Promise<void>;
  call(id: number, text: string): Promise<any>;
  /** Ends the process (stdin closed, then SIGKILL after 10 s), whatever state it is in. */
  close(): Promise<void>;
}

/** `portcullis stdio -c config --server gov` as a client launches it; `ready` once initialized. */
function stdioClient(config: string): StdioClient {
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'stdio', '-c', config, '--server', 'gov'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const answers = new Map<unknown, any>();
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let at: number;
    while ((at = buffer.indexOf('\n')) !== -1) {
      const message = JSON.parse(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
      if (message.id !== undefined) answers.set(message.id, message);
    }
  });
  const send = (m: unknown) => child.stdin!.write(`${JSON.stringify(m)}\n`);
  const answer = (id: unknown) => waitFor(() => answers.get(id), 90_000, `the answer to ${String(id)}`);
  send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'stdio-client', version: '1' } } });
  const ready = answer('init').then(() => void send({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return {
    ready,
    async call(id, text) {
      send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
      return answer(id);
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function allRecords(store: SqliteAuditStore | JsonlAuditStore): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of store.all()) out.push(r);
  await store.close();
  return out;
}

for (const kind of ['sqlite', 'jsonl'] as const) {
  describe(`one chain per process: serve and two stdio processes on one ${kind} store`, () => {
    it('answers and records every call of every process, and the trail verifies', async () => {
      const dir = mkdtempSync(join(tmpdir(), `pc-chains-${kind}-`));
      const config = join(dir, 'portcullis.yaml');
      writeFileSync(
        config,
        `listen: { port: 0 }\nlogging: { level: warn }\ndataDir: ${JSON.stringify(dir)}\naudit: { store: ${kind}, instance: shared }\nsupply: { allowUnpinned: true }\n` +
          `policy: { rules: [{ name: echo-only, effect: allow, servers: [gov], tools: [echo] }] }\nservers:\n  gov: ${JSON.stringify(recordedServer(join(dir, 'gov.log')))}\n`,
      );
      const serve = await serveChild(config);
      const clients: StdioClient[] = [];
      try {
        // Pushed before they are ready, so that `finally` ends them whatever happens.
        clients.push(stdioClient(config), stdioClient(config));
        await Promise.all(clients.map((c) => c.ready));
        const http = await legacySession(`${serve.base}/mcp/gov`);
        const N = 15;
        // All three processes at once, call after call.
        const answers = await Promise.all([
          Promise.all(Array.from({ length: N }, (_, i) => http.send({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'echo', arguments: { text: `http-${i}` } } }).then((a) => a.json))),
          ...clients.map((c, k) => Promise.all(Array.from({ length: N }, (_, i) => c.call(i + 1, `stdio${k}-${i}`)))),
        ]);
        for (const [p, list] of answers.entries()) {
          for (const a of list) assert.match(String(a?.result?.content?.[0]?.text), /^echo: /, `process ${p}: ${JSON.stringify(a)}`);
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await serve.stop();
      }
      const records = await allRecords(kind === 'sqlite' ? new SqliteAuditStore(join(dir, 'audit.db')) : new JsonlAuditStore(join(dir, 'audit.jsonl')));
      const chains = [...new Set(records.map((r) => r.instance))].sort();
      assert.deepEqual(chains, ['shared', 'shared.stdio', 'shared.stdio.2'], 'serve, the first and the second stdio process each have a chain');
      for (const chain of chains) {
        const calls = records.filter((r) => r.instance === chain && r.method === 'tools/call' && r.decision === 'allowed');
        assert.equal(calls.length, 15, `${chain}: every call recorded`);
      }
      assert.deepEqual(readdirSync(join(dir, 'audit-chains')).filter((name) => name.endsWith('.lock')), [], 'every process released its chain when it stopped');
      const verified = await runCli(['audit', 'verify', '-c', config]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /^OK: \d+ records, every chain intact/);
    });
  });
}
