/**
 * Redteam2 G7 — `/mcp/<unknown>` answered before authentication with the names of every configured
 * server, and never recorded. With API keys on: without a credential the answer is the usual 401 (no
 * names); with a valid key it is 404 PC_ROUTE_UNKNOWN_SERVER that names neither the configured servers
 * nor echoes the guessed name, and each guess is in the audit trail with the caller and the name asked for.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { post, startGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, forwarded, recordedServer } from '../helpers/security.ts';
import { dataDirWithKeys } from '../helpers/sessions.ts';

describe('G7: an unknown server is refused after authentication, without listing servers, and recorded', () => {
  it('no credential: 401 naming nothing; a valid key: 404 naming nothing, recorded per guess', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-g7-'));
    const log = join(dir, 'gov.log');
    const { dataDir, keys } = dataDirWithKeys(['guesser']);
    const gw = await startGateway({ dataDir, identity: { apiKeys: {} }, servers: { 'secret-payroll': recordedServer(log) } });
    try {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
      const headers = { 'mcp-protocol-version': '2025-11-25' };
      const anonymous = await post(`${gw.url}/mcp/guess-1`, body, headers);
      assert.equal(anonymous.status, 401, anonymous.text);
      assert.ok(!anonymous.text.includes('secret-payroll') && !JSON.stringify([...anonymous.headers]).includes('secret-payroll'));
      const trail = auditRecords(gw).length;
      for (const guess of ['guess-2', 'x%00y', 'guess-3']) {
        const answer = await post(`${gw.url}/mcp/${guess}`, body, { ...headers, authorization: `Bearer ${keys.guesser}` });
        assert.equal(answer.status, 404, answer.text);
        assert.equal(codeOf(answer), 'PC_ROUTE_UNKNOWN_SERVER');
        assert.ok(!answer.text.includes('secret-payroll'), answer.text);
        assert.ok(!answer.text.includes('guess'), 'the guessed name is not echoed');
      }
      const recorded = auditRecords(gw).slice(trail).filter((r) => r.code === 'PC_ROUTE_UNKNOWN_SERVER');
      assert.deepEqual(recorded.map((r) => [r.principal.agent, r.server, r.decision]), [['guesser', 'guess-2', 'denied'], ['guesser', 'x\ufffdy', 'denied'], ['guesser', 'guess-3', 'denied']]);
      assert.deepEqual(forwarded(log), []);
    } finally {
      await gw.close();
    }
  });
});
