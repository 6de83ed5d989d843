/**
 * Time of check, time of use: a file approved for reading is swapped for a link to another file while
 * the call waits for its human. The path guard resolves the path again after the wait; the resolved path
 * no longer hashes to what was approved, so the call is refused (PC_APPROVAL_CHANGED) and the real
 * server-filesystem reads nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FILESYSTEM, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { received, recordedServer } from '../helpers/recorder.ts';
import { modernRequest } from '../helpers/sessions.ts';

describe('approval and a file swapped while the call waits', () => {
  let gw: TestGateway;
  let sandbox: string;
  let log: string;
  before(async () => {
    sandbox = realpathSync(mkdtempSync(join(tmpdir(), 'pc-appr-fs-')));
    writeFileSync(join(sandbox, 'report.txt'), 'quarterly report\n');
    writeFileSync(join(sandbox, 'payroll.txt'), 'salaries\n');
    const files = recordedServer(FILESYSTEM, [sandbox]);
    log = files.log;
    gw = await startGateway({
      servers: { files: files.server },
      approvals: { waitMs: 10_000, pollMs: 25 },
      policy: {
        rules: [
          { name: 'reads-need-approval', effect: 'approve', servers: ['files'], tools: ['read_text_file'], guards: { paths: { args: ['path'], roots: [sandbox], forward: 'resolved' } } },
          { name: 'lists', effect: 'allow', servers: ['files'], tools: ['list_allowed_directories'] },
        ],
      },
    });
  });
  after(async () => gw?.close());

  const reads = () => received(log).filter((m) => m.method === 'tools/call' && m.params?.name === 'read_text_file');

  it('refuses the call whose approved path now resolves elsewhere, and the server reads nothing', async () => {
    const path = join(sandbox, 'report.txt');
    const answer = modernRequest(`${gw.url}/mcp/files`, 'tools/call', { name: 'read_text_file', arguments: { path } }, {}, {});
    const store = gw.gateway.approvals.queue.store;
    const approval = await waitFor(() => store.list('pending')[0], 15_000, 'the read to wait for approval');
    rmSync(path);
    symlinkSync(join(sandbox, 'payroll.txt'), path);
    const granted = await gw.gateway.approvals.queue.decide(approval.id, 'granted', { name: 'officer' }, 'report only');
    assert.ok(!(granted instanceof Error));
    const result = await answer;
    assert.equal(result.body.error?.data?.code, 'PC_APPROVAL_CHANGED', JSON.stringify(result.body));
    assert.deepEqual(reads(), [], 'server-filesystem read nothing');
    assert.equal(store.get(approval.id)?.status, 'granted', 'the grant was not used');
  });
});
