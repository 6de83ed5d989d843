/**
 * Red team E6 — the stdio front stripped a UTF-8 byte-order mark (String.prototype.trim removes U+FEFF)
 * and judged and forwarded the line, while the HTTP front refuses a BOM as documented (JSON has none).
 * Also E4 on this front: a line nested past MAX_JSON_DEPTH is refused before it is parsed. Asserted on
 * the server's side (recorder): neither line arrives; JSON white space around a line is still accepted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/gateway.ts';
import { forwarded, startStdioFront } from '../helpers/security.ts';

const echo = (id: string, text: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

describe('stdio front framing', () => {
  it('refuses a line starting with a byte-order mark and a line nested too deep; nothing of them reaches the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-stdio-framing-'));
    const log = join(dir, 'gov.log');
    const front = startStdioFront(dir, log, join(dir, 'data'));
    const parseErrors = () => front.lines.filter((m) => m.id === null && m.error?.code === -32700);
    try {
      front.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'stdio-raw', version: '1' } } });
      await waitFor(() => front.answers.get('init'), 30_000, 'initialize');
      front.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      front.send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(echo('bom', 'BOM'))]));
      await waitFor(() => parseErrors().length >= 1 || undefined, 30_000, 'the BOM line refused');
      front.send(`{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":{"name":"echo","arguments":{"text":"DEEP","x":${'['.repeat(50_000)}${']'.repeat(50_000)}}}}`);
      await waitFor(() => parseErrors().length >= 2 || undefined, 30_000, 'the deep line refused');
      assert.match(parseErrors()[1].error.message, /more than \d+ levels/);
      front.send(` \t${echo('spaced', 'SPACED')}\r`);
      await waitFor(() => front.answers.get('spaced'), 30_000, 'the line with JSON white space around it');
    } finally {
      await front.close();
    }
    assert.equal(front.answers.get('bom'), undefined, 'the BOM line was not read as a request');
    assert.deepEqual(forwarded(log).filter((m) => m.method === 'tools/call').map((m) => (m.params?.arguments as { text?: string }).text), ['SPACED']);
  });
});
