/**
 * Red team C4: an e-mail address with its `@` escaped (`%40`, `&#64;`, `&#x40;`, `&commat;`) is still
 * personal data — refused in the arguments of an open-world tool under `arguments.pii: block` (nothing
 * reaches the server), with the finding in the audit record.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditTrail, recording } from '../helpers/recorded.ts';
import { openLegacySession, type LegacySession } from '../helpers/sessions.ts';

const NOTIFYING = new URL('../fixtures/notifying-server.ts', import.meta.url).pathname;
const LOCAL = ['jo', 'secret'].join('.');
const ESCAPES = ['%40', '&#64;', '&#x40;', '&commat;'];

describe('DLP on e-mail addresses with an escaped @', () => {
  let gw: TestGateway;
  let dataDir: string;
  let session: LegacySession;
  const rec = recording(NOTIFYING);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-email-'));
    gw = await startSecureGateway({
      dataDir,
      servers: { notes: { ...rec.server, auditArguments: 'redacted' } },
      policy: { rules: [{ name: 'notes', effect: 'allow', servers: ['notes'] }] },
      dlp: { arguments: { secrets: 'block', pii: 'block' } },
    });
    session = await openLegacySession(`${gw.url}/mcp/notes`);
  });
  after(async () => {
    await session.close();
    await gw.close();
  });

  for (const at of ESCAPES) {
    it(`refuses an e-mail address written with ${at} in an open-world tool's arguments`, async () => {
      const answer = await session.request('tools/call', { name: 'link', arguments: { q: `https://crm.example.com/u?email=${LOCAL}${at}example.org` } });
      assert.equal(answer.error?.data?.code, 'PC_DLP_EXFILTRATION', JSON.stringify(answer));
      const calls = JSON.stringify(rec.received().filter((m) => m.method === 'tools/call'));
      assert.ok(!calls.includes(LOCAL), 'the address reached the server');
      // The record says why (the audit trail masks secrets, not personal data: docs/audit.md).
      assert.ok(auditTrail(dataDir).some((r) => r.dlp?.some((f) => f.type === 'pii' && f.rule === 'email')), 'the finding is recorded');
    });
  }
});
