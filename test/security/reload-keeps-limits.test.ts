/**
 * Red team E5 — any reload refilled every rate-limit bucket: appending a comment to the configuration
 * let an agent that can touch it (or wait for an operator's unrelated edit) call again at once. A reload
 * now keeps the buckets of limits whose definition did not change; a changed limit starts full.
 * Asserted on the server's side (recorder): the calls past the limit never arrive.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, realpathSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, serveChild, waitFor } from '../helpers/gateway.ts';
import { callsReceived, recordedServer } from '../helpers/recorded.ts';

describe('a reload keeps the rate-limit buckets of unchanged limits', () => {
  let dir: string;
  let file: string;
  let log: string;
  let serve: Awaited<ReturnType<typeof serveChild>>;

  const config = (rate: string): string =>
    [
      `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
      'listen: { port: 0 }',
      'reload: { settleMs: 300 }',
      'servers:',
      `  gov: ${JSON.stringify(recordedServer(log))}`,
      'policy:',
      '  rules:',
      '    - { name: echo-ok, effect: allow, servers: [gov], tools: [echo] }',
      '  limits:',
      `    - { name: echo-limit, per: tool, servers: [gov], tools: [echo], rate: ${rate}, burst: 2 }`,
      '',
    ].join('\n');

  before(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'pc-reload-limits-')));
    log = join(dir, 'gov.log');
    file = join(dir, 'portcullis.yaml');
    writeFileSync(file, config('2/h'));
    serve = await serveChild(file);
  });
  after(async () => serve?.stop());

  it('a comment-only edit or a new rule does not refill the bucket; a changed limit does', async () => {
    const client = await legacyClient(`${serve.base}/mcp/gov`);
    const echo = (text: string) => client.callTool({ name: 'echo', arguments: { text } });
    const limited = (e: { data?: { code?: string } }) => e.data?.code === 'PC_RATE_LIMITED';
    const reloads = (): number => serve.stderr().split('policy reloaded').length - 1;
    try {
      await echo('R0');
      await echo('R1');
      await assert.rejects(echo('R2'), limited, 'the third call within the hour is limited');
      appendFileSync(file, '# a comment\n');
      await waitFor(() => reloads() >= 1 || undefined, 10_000, 'the comment edit to be reloaded');
      await assert.rejects(echo('AFTER-COMMENT'), limited, 'a comment-only reload keeps the bucket');
      writeFileSync(file, readFileSync(file, 'utf8').replace('  limits:', '    - { name: no-delete, effect: deny, servers: [gov], tools: [delete_record] }\n  limits:'));
      await waitFor(() => reloads() >= 2 || undefined, 10_000, 'the new rule to be reloaded');
      await assert.rejects(echo('AFTER-RULE'), limited, 'a reload that leaves the limit alone keeps the bucket');
      writeFileSync(file, config('3/h'));
      await waitFor(() => reloads() >= 3 || undefined, 10_000, 'the changed limit to be reloaded');
      await echo('AFTER-CHANGE');
    } finally {
      await client.close();
    }
    assert.deepEqual(callsReceived(log).map((c) => c.arguments.text), ['R0', 'R1', 'AFTER-CHANGE']);
  });
});
