/**
 * A tampered pins file widens nothing: pins.json edited by hand (to approve a poisoned definition),
 * truncated, replaced by garbage or deleted fails its integrity check (HMAC), and the gateway then
 * serves nothing pinned — lists empty, calls refused with PC_SUPPLY_PINS_INVALID, instructions
 * withheld — never writes over the file, and records the refusals. `pin verify` says why, `pin
 * approve` refuses, `pin reseal` accepts the file as it is, `pin reset` starts over. With the key
 * outside the data dir (`supply.pinsKey`), a file signed with another key is refused too.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/audit/canonical.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { legacyClient, runCli, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startSecureGateway } from '../helpers/secure.ts';
import { auditRecords, messagesReceived, recordedHostile, refusalCode, targetsReceived, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog, POISONED_TOOLS } from '../fixtures/hostile-catalog.ts';

interface Setup {
  gw: TestGateway;
  dataDir: string;
  pinsFile: string;
  log: string;
  config: string;
  close: () => Promise<void>;
}

const IN_DEFS = POISONED_TOOLS.find((t) => t.name === 'in_defs')!;

/** A gateway in front of the hostile server (its clean catalog plus one poisoned tool), pinned on first sight. */
async function setup(extra: { document?: Record<string, unknown>; env?: Record<string, string>; dataDir?: string } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'pc-pinsfile-'));
  const dataDir = extra.dataDir ?? join(dir, 'data');
  const log = join(dir, 'received.log');
  const catalog = cleanCatalog();
  catalog.tools.push(IN_DEFS);
  writeCatalog(join(dir, 'state.json'), catalog);
  const gw = await startSecureGateway({ dataDir, audit: { store: 'jsonl' }, servers: { hostile: recordedHostile(log, join(dir, 'state.json')) }, policy: { rules: [{ name: 'hostile', effect: 'allow', servers: ['hostile'] }] }, ...extra.document }, processSecretSource({ ...process.env, ...extra.env }));
  const config = join(dir, 'portcullis.yaml');
  const pinsKey = (extra.document?.supply as { pinsKey?: string } | undefined)?.pinsKey;
  writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\n${pinsKey ? `supply: { pinsKey: "${pinsKey}" }\n` : ''}servers: {}\n`);
  return { gw, dataDir, pinsFile: join(dataDir, 'pins.json'), log, config, close: () => gw.close() };
}

async function toolNames(url: string): Promise<string[]> {
  const client = await legacyClient(url);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

async function call(url: string, name: string): Promise<string> {
  const client = await legacyClient(url);
  try {
    return await refusalCode(client.callTool({ name, arguments: { q: 'x' } }));
  } finally {
    await client.close();
  }
}

/** Waits until the gateway serves nothing pinned (it re-reads the file at most once a second). */
async function closed(s: Setup): Promise<void> {
  await waitFor(async () => ((await toolNames(`${s.gw.url}/mcp/hostile`)).length === 0 ? true : undefined), 5000, 'the gateway to serve nothing pinned');
}

async function open(s: Setup): Promise<void> {
  await waitFor(async () => ((await toolNames(`${s.gw.url}/mcp/hostile`)).includes('ok_tool') ? true : undefined), 5000, 'the gateway to serve again');
}

describe('supply chain: a tampered pins file fails closed', () => {
  it('refuses everything pinned when pins.json is edited to approve a poisoned definition, and never writes over it', async () => {
    const s = await setup();
    try {
      const url = `${s.gw.url}/mcp/hostile`;
      assert.ok(!(await toolNames(url)).includes('in_defs'), 'the poisoned tool is quarantined');
      assert.ok(statSync(s.pinsFile).mode % 0o1000 === 0o600 && statSync(join(s.dataDir, 'pins.key')).mode % 0o1000 === 0o600, 'pins and key are private');
      const original = readFileSync(s.pinsFile, 'utf8');
      const doc = JSON.parse(original) as { servers: { hostile: { pinned: Record<string, unknown>; pending: Record<string, { hash: string; definition: unknown }> } } };
      const pending = doc.servers.hostile.pending['tools:in_defs']!;
      doc.servers.hostile.pinned['tools:in_defs'] = { hash: pending.hash, approvedAt: new Date().toISOString(), approvedBy: 'admin', definition: pending.definition };
      delete doc.servers.hostile.pending['tools:in_defs'];
      const tampered = JSON.stringify(doc, null, 2);
      writeFileSync(s.pinsFile, tampered);
      const before = messagesReceived(s.log).length;

      await closed(s);
      assert.equal(await call(url, 'in_defs'), 'PC_SUPPLY_PINS_INVALID');
      assert.equal(await call(url, 'ok_tool'), 'PC_SUPPLY_PINS_INVALID');
      const client = await legacyClient(url);
      assert.match(client.getInstructions() ?? '', /withheld the instructions .*pins file failed its integrity check/);
      assert.deepEqual((await client.listPrompts()).prompts, []);
      await client.close();
      assert.deepEqual(targetsReceived(messagesReceived(s.log).slice(before), 'tools/call'), [], 'nothing reached the server');
      assert.equal(readFileSync(s.pinsFile, 'utf8'), tampered, 'the evidence is left as it was');
      await waitFor(() => auditRecords(s.dataDir).filter((r) => r.code === 'PC_SUPPLY_PINS_INVALID' && r.target === 'in_defs').length || undefined, 5000, 'the refusal in the audit trail');

      const verify = await runCli(['pin', 'verify', '-c', s.config]);
      assert.equal(verify.code, 1);
      assert.match(verify.stderr, /does not match its MAC/);
      assert.equal((await runCli(['pin', 'approve', '-c', s.config, 'hostile', 'in_defs@0123456789ab'])).code, 2, 'nothing can be approved in an untrusted file');
      assert.equal((await runCli(['pin', 'list', '-c', s.config])).code, 1);
      assert.match((await runCli(['status', '-c', s.config])).stdout, /pins: +UNTRUSTED/);

      // The file as the gateway wrote it verifies again.
      writeFileSync(s.pinsFile, original);
      await open(s);
      assert.ok(!(await toolNames(url)).includes('in_defs'));
      assert.equal((await runCli(['pin', 'verify', '-c', s.config])).code, 0);
    } finally {
      await s.close();
    }
  });

  it('fails closed on a truncated, garbage, old-format or deleted file; pin reset starts over', async () => {
    const s = await setup();
    try {
      const url = `${s.gw.url}/mcp/hostile`;
      const original = readFileSync(s.pinsFile, 'utf8');
      const doc = JSON.parse(original) as Record<string, unknown>;
      const { mac: _mac, ...unsigned } = doc;
      const damages: Array<[string, () => void]> = [
        ['truncated', () => writeFileSync(s.pinsFile, original.slice(0, 60))],
        ['garbage', () => writeFileSync(s.pinsFile, 'not json at all')],
        ['empty', () => writeFileSync(s.pinsFile, '')],
        ['old format without a MAC', () => writeFileSync(s.pinsFile, JSON.stringify({ ...unsigned, version: 1 }))],
        ['MAC removed', () => writeFileSync(s.pinsFile, JSON.stringify(unsigned))],
        ['deleted', () => rmSync(s.pinsFile)],
      ];
      for (const [what, damage] of damages) {
        damage();
        await closed(s);
        assert.equal(await call(url, 'ok_tool'), 'PC_SUPPLY_PINS_INVALID', what);
        if (what === 'truncated') assert.equal((await runCli(['pin', 'verify', '-c', s.config])).code, 1, what);
        writeFileSync(s.pinsFile, original);
        await open(s);
      }
      rmSync(s.pinsFile);
      await closed(s);
      const reset = await runCli(['pin', 'reset', '-c', s.config]);
      assert.equal(reset.code, 0, reset.stderr);
      await open(s);
      // Trust on first use again, and the scanner still holds the poisoned tool back.
      assert.ok(!(await toolNames(url)).includes('in_defs'));
      assert.equal((await runCli(['pin', 'verify', '-c', s.config])).code, 0);
    } finally {
      await s.close();
    }
  });

  it('stays closed when the gateway starts on a tampered file; pin reseal accepts the file as it is', async () => {
    const first = await setup();
    await first.close();
    const doc = JSON.parse(readFileSync(first.pinsFile, 'utf8')) as { servers: { hostile: { pinned: Record<string, { definition: Record<string, unknown> }> } } };
    doc.servers.hostile.pinned['tools:ok_tool']!.definition.description = 'edited by hand';
    const tampered = JSON.stringify(doc);
    writeFileSync(first.pinsFile, tampered);
    const s = await setup({ dataDir: first.dataDir });
    try {
      assert.deepEqual(await toolNames(`${s.gw.url}/mcp/hostile`), []);
      assert.equal(readFileSync(s.pinsFile, 'utf8'), tampered, 'a new gateway does not write over it either');
      const resealed = await runCli(['pin', 'reseal', '-c', s.config]);
      assert.equal(resealed.code, 0, resealed.stderr);
      await open(s);
    } finally {
      await s.close();
    }
  });

  it('with supply.pinsKey outside the data dir, refuses a file signed with any other key', async () => {
    const key = 'k'.repeat(48);
    const s = await setup({ document: { supply: { pinsKey: 'env:PC_TEST_PINS_KEY' } }, env: { PC_TEST_PINS_KEY: key } });
    try {
      assert.ok(!existsSync(join(s.dataDir, 'pins.key')), 'no key is kept beside the pins');
      await open(s);
      const doc = JSON.parse(readFileSync(s.pinsFile, 'utf8')) as { version: number; servers: Record<string, unknown>; mac: string };
      const sign = (k: string) => createHmac('sha256', k).update(canonicalJson({ version: doc.version, servers: doc.servers })).digest('hex');
      assert.equal(doc.mac, sign(key), 'signed with the configured key');
      // Someone with the data dir but not the key re-signs the file with a key of their own.
      writeFileSync(join(s.dataDir, 'pins.key'), `${'a'.repeat(43)}\n`);
      writeFileSync(s.pinsFile, JSON.stringify({ ...doc, mac: sign('a'.repeat(43)) }));
      await closed(s);
      assert.equal(await call(`${s.gw.url}/mcp/hostile`, 'ok_tool'), 'PC_SUPPLY_PINS_INVALID');
      assert.equal((await runCli(['pin', 'verify', '-c', s.config], { PC_TEST_PINS_KEY: key })).code, 1);
      const missing = await runCli(['pin', 'verify', '-c', s.config]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /PC_TEST_PINS_KEY/);
    } finally {
      await s.close();
    }
  });
});
