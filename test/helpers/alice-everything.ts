/**
 * A secure gateway with one recorded server-everything (stdio) and API-key caller `alice` on a legacy
 * session of `/mcp/everything`: the setup of the security tests that attack one server under a policy.
 */
import { EVERYTHING, type TestGateway } from './gateway.ts';
import { startSecureGateway } from './secure.ts';
import { recordedServer } from './recorder.ts';
import { dataDirWithKeys, openLegacySession, type LegacySession } from './sessions.ts';

export async function aliceOnEverything(policy: Record<string, unknown>): Promise<{ gw: TestGateway; log: string; alice: LegacySession; dataDir: string }> {
  const { dataDir, keys } = dataDirWithKeys(['alice']);
  const everything = recordedServer(EVERYTHING, ['stdio']);
  const gw = await startSecureGateway({ dataDir, identity: { apiKeys: {} }, servers: { everything: everything.server }, policy });
  const alice = await openLegacySession(`${gw.url}/mcp/everything`, { headers: { authorization: `Bearer ${keys.alice}` }, name: 'alice' });
  return { gw, log: everything.log, alice, dataDir };
}
