/**
 * `portcullis dlp test` as docs/dlp.md shows it: what is found and what the configuration would do,
 * with the per-server and per-tool overrides of the server and tool named — and a server or tool the
 * configuration does not have refused (exit 2, naming what exists) instead of silently showing the
 * defaults.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/gateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-cli-'));
const config = join(dir, 'portcullis.yaml');
writeFileSync(config, `dataDir: ${JSON.stringify(join(dir, 'state'))}
servers:
  files: { url: "http://127.0.0.1:9/mcp" }
dlp:
  results: { secrets: mask, pii: mask }
  servers:
    files:
      tools:
        read_text_file: { results: { secrets: block } }
`);
const TEXT = 'deploy with AKIAIOSFODNN7EXAMPLE, mail jo@example.org';

describe('portcullis dlp test', () => {
  it('finds and masks with the defaults (the documented example)', async () => {
    const result = await runCli(['dlp', 'test', '--text', TEXT]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /deploy with \[REDACTED:aws-api-key#1\], mail jo@example\.org/);
  });

  it("applies the named server's and tool's overrides", async () => {
    const result = await runCli(['dlp', 'test', '-c', config, '--server', 'files', '--tool', 'read_text_file', '--text', TEXT, '--json']);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { findings: Array<{ type: string; action: string }> };
    assert.deepEqual(report.findings.map((f) => `${f.type}:${f.action}`).sort(), ['pii:mask', 'secret:block']);
  });

  it('refuses a server or tool it cannot apply, and says what exists', async () => {
    const unknown = await runCli(['dlp', 'test', '-c', config, '--server', 'fils', '--text', TEXT]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--server "fils" is not a server of .*portcullis\.yaml \(servers: files\)/);
    assert.equal(unknown.stdout, '');
    const toolAlone = await runCli(['dlp', 'test', '-c', config, '--tool', 'read_text_file', '--text', TEXT]);
    assert.equal(toolAlone.code, 2);
    assert.match(toolAlone.stderr, /--tool needs --server/);
    const nothing = await runCli(['dlp', 'test']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /--text "…" or --file <path>/);
  });
});
