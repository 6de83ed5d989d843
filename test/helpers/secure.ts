/**
 * The security tests run on the shipped defaults: `startSecureGateway` adds nothing to a test's config
 * but a loopback port and a data dir — no allow-all policy (without a `policy` section every call is
 * denied), no `supply.allowUnpinned` (every stdio server must carry a pin that holds). A test states
 * the narrow policy its attack needs and pins its servers with `pinned` (helpers/security.ts), as an admin would.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretSource } from '../../src/config/secrets.ts';
import type { GatewayDeps } from '../../src/gateway.ts';
import { launchGateway, legacyClient, type TestGateway } from './gateway.ts';
import { recordedServer } from './recorded.ts';

export { pinned } from './security.ts';

/** Rules that allow every call to every server: what the shipped defaults never have. */
function allowsEverything(policy: unknown): boolean {
  const rules = (policy as { rules?: Array<Record<string, unknown>> } | undefined)?.rules ?? [];
  return rules.some((rule) => rule.effect === 'allow' && rule.servers === undefined && rule.tools === undefined && rule.when === undefined && rule.principal === undefined && rule.tasks === undefined);
}

export async function startSecureGateway(
  document: Record<string, unknown>,
  secrets?: SecretSource,
  extra: Pick<GatewayDeps, 'resolveHost' | 'now' | 'clock'> = {},
): Promise<TestGateway> {
  // The helper refuses what would quietly undo the point of it.
  if ((document.supply as { allowUnpinned?: boolean } | undefined)?.allowUnpinned) throw new Error('startSecureGateway: supply.allowUnpinned is not a shipped default; pin the servers with pinned()');
  if (allowsEverything(document.policy)) throw new Error('startSecureGateway: an allow-everything rule is not a shipped default; allow what the test needs');
  return launchGateway(document, secrets, extra);
}

const PAYLOAD_SERVER = new URL('../fixtures/payload-server.ts', import.meta.url).pathname;

/**
 * A secure gateway in front of one server, `evil` (fixtures/payload-server.ts), that answers each named
 * payload as given, with every DLP result family on (mask, mask, flag). What it received goes to
 * `<dataDir>/received.jsonl`.
 */
export async function startPayloadGateway(
  prefix: string,
  payloads: Record<string, unknown>,
  dlp: Record<string, unknown> = { results: { secrets: 'mask', pii: 'mask', injection: 'flag' } },
  /** More of the file: `prompts`, `tools`, `resources`… (fixtures/payload-server.ts). */
  more: Record<string, unknown> = {},
): Promise<{ gw: TestGateway; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dataDir, 'payloads.json');
  writeFileSync(file, JSON.stringify({ ...more, payloads }));
  const gw = await startSecureGateway({
    dataDir,
    servers: { evil: recordedServer(join(dataDir, 'received.jsonl'), PAYLOAD_SERVER, [file]) },
    policy: { rules: [{ name: 'evil', effect: 'allow', servers: ['evil'] }] },
    dlp,
  });
  return { gw, dataDir };
}

/** What the client receives from the payload server's `get` for payload `name` (JSON), through `gw`'s `/mcp/evil`. */
export async function getPayload(gw: TestGateway, name: string): Promise<string> {
  const client = await legacyClient(`${gw.url}/mcp/evil`);
  try {
    return JSON.stringify(await client.callTool({ name: 'get', arguments: { name } }));
  } finally {
    await client.close();
  }
}
