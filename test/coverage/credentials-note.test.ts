/**
 * `servers.<name>.credentials.<key>.note` reaches the operator: `portcullis credentials` shows it next to
 * the secret it describes (text and --json), and never the secret's value.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/gateway.ts';

describe('credential notes', () => {
  it('shows the note of an upstream secret in the register, text and JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-note-'));
    const config = join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      `dataDir: ${JSON.stringify(join(dir, 'data'))}
supply: { allowUnpinned: true }
servers:
  tickets:
    url: https://mcp.tickets.example/mcp
    headers: { Authorization: "env:TICKETS_TOKEN" }
    credentials:
      Authorization: { owner: helpdesk, note: "issued by the vault team, ticket SEC-42" }
`,
    );
    const env = { TICKETS_TOKEN: 'pc-cov-ticket-secret-value' };
    const json = await runCli(['credentials', '-c', config, '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const entry = (JSON.parse(json.stdout) as { credentials: Array<{ id: string; note?: string }> }).credentials.find((c) => c.id === 'tickets.headers.Authorization');
    assert.equal(entry?.note, 'issued by the vault team, ticket SEC-42');
    const text = await runCli(['credentials', '-c', config], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /tickets\.headers\.Authorization .*note: issued by the vault team, ticket SEC-42/);
    assert.doesNotMatch(json.stdout + text.stdout, /pc-cov-ticket-secret-value/);
  });
});
