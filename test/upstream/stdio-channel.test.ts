/**
 * The stdio channel against real child processes: stdout lines over the limit are skipped (never held)
 * and reported with the id of the answer they carried; stderr is scanned once per byte, a bare CR starts
 * the line over (progress bars), lines are cut and rate-limited before they reach the log, at info until
 * the server first speaks.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { createLimitCounters } from '../../src/limits/counters.ts';
import type { JsonRpcMessage } from '../../src/protocol/jsonrpc.ts';
import { STDERR_LINE_CHARS, STDERR_LINES_PER_SECOND, StdioChannel } from '../../src/upstream/stdio-channel.ts';

function capture(): { logger: Logger; lines: () => Array<Record<string, any>> } {
  const out: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => void (out.push(String(chunk)), done()) });
  return { logger: pino({ level: 'debug' }, sink), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

/** Runs `script` as a child on the channel until it exits. */
async function run(script: string, maxLineBytes?: number) {
  const { logger, lines } = capture();
  const limits = createLimitCounters(logger);
  const channel = new StdioChannel({ command: process.execPath, args: ['-e', script], cwd: undefined, env: { PATH: process.env.PATH ?? '' }, logger, limits, server: 'child', ...(maxLineBytes ? { maxLineBytes } : {}) });
  const messages: JsonRpcMessage[] = [];
  const oversized: unknown[] = [];
  channel.onmessage = (m) => messages.push(m);
  channel.onoversize = (info) => oversized.push(info.requestId);
  const closed = new Promise<void>((resolve) => (channel.onclose = resolve));
  await channel.start();
  await closed;
  limits.close();
  return { messages, oversized, log: lines(), hits: limits.entries() };
}

describe('stdio channel', () => {
  it('skips stdout lines over the limit, reports whose answer each was, and goes on with the next line', async () => {
    const script = `
      const w = (s) => process.stdout.write(s);
      w('{"jsonrpc":"2.0","id":1,"result":{"text":"' + 'a'.repeat(300000) + '"}}\\n');
      w('{"result":{"text":"' + 'b'.repeat(300000) + '"},"jsonrpc":"2.0","id":2}\\n');
      w('{"jsonrpc":"2.0","id":3,"result":{"text":"ü€');
      w('𝄞"}}\\n');
    `;
    const { messages, oversized } = await run(script, 64 * 1024);
    assert.deepEqual(oversized, [1, 2]);
    assert.deepEqual(messages, [{ jsonrpc: '2.0', id: 3, result: { text: 'ü€𝄞' } }]);
  });

  it('logs stderr lines once each: CR starts a line over, CRLF ends one, long lines are cut, floods are not logged', async () => {
    const script = `
      const w = (s) => process.stderr.write(s);
      w('first line\\n');
      w('\\rdownloading 1%\\rdownloading 50%\\rdone\\n');
      w('crlf line\\r');
      setTimeout(() => {
        w('\\nafter\\n');
        w('x'.repeat(${STDERR_LINE_CHARS * 3}) + '\\n');
        w('\\r'.repeat(100000) + 'only progress, no newline');
        setTimeout(() => w('\\n' + 'flood\\n'.repeat(${STDERR_LINES_PER_SECOND * 3})), 20);
      }, 20);
    `;
    const { log, hits } = await run(script);
    const stderr = log.filter((l) => l.msg === 'upstream stderr').map((l) => l.stderr as string);
    assert.deepEqual(stderr.slice(0, 4), ['first line', 'done', 'crlf line', 'after']);
    assert.equal(stderr[4], 'x'.repeat(STDERR_LINE_CHARS), 'cut to the first characters');
    assert.equal(stderr[5], 'only progress, no newline');
    assert.ok(stderr.length <= STDERR_LINES_PER_SECOND * 2, `${stderr.length} stderr lines logged for ${STDERR_LINES_PER_SECOND * 3 + 6}`);
    assert.ok((hits.find((h) => h.limit === 'upstream_stderr_truncated')?.count ?? 0) >= STDERR_LINES_PER_SECOND, 'the lines not logged are counted');
  });

  it('stops what the server started too, and close() returns, when a launcher (npx) leaves a busy child behind', async () => {
    // Like `npx`: the launcher runs the real server as its child on the same pipes and dies of SIGTERM
    // without passing it on; the server, busy, ignores the end of stdin. Before, close() waited on the
    // pipes forever (the gateway never exited) and the server lived on as an orphan.
    const server = `process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'pid', params: { pid: process.pid } }) + '\\n'); setInterval(() => {}, 1000); process.stdin.resume();`;
    const launcher = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(server)}], { stdio: 'inherit' }); setInterval(() => {}, 1000);`;
    const { logger } = capture();
    const channel = new StdioChannel({ command: process.execPath, args: ['-e', launcher], cwd: undefined, env: { PATH: process.env.PATH ?? '' }, logger });
    const pid = new Promise<number>((resolve) => (channel.onmessage = (m) => resolve((m as unknown as { params: { pid: number } }).params.pid)));
    await channel.start();
    const grandchild = await pid;
    await channel.close();
    const alive = (): boolean => {
      try {
        process.kill(grandchild, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive()) process.kill(grandchild, 'SIGKILL');
    assert.equal(alive(), false, 'the server the launcher started was stopped with it');
  });

  it('logs stderr at info until the server first speaks (why it will not start), at debug after', async () => {
    const script = `
      process.stderr.write('Error: None of the specified directories are accessible\\n');
      setTimeout(() => process.stdout.write('{"jsonrpc":"2.0","id":1,"result":{}}\\n'), 20);
      setTimeout(() => process.stderr.write('handled a call\\n'), 40);
    `;
    const { log, messages } = await run(script);
    assert.equal(messages.length, 1);
    const stderr = log.filter((l) => l.msg === 'upstream stderr').map((l) => [l.level, l.stderr]);
    assert.deepEqual(stderr, [[30, 'Error: None of the specified directories are accessible'], [20, 'handled a call']]);
  });
});
