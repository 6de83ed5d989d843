/**
 * Data-loss prevention on what servers send back (issue 15): secrets and personal data in every place a
 * client reads — content text, embedded resources, structuredContent at depth, error results, prompts,
 * resources, progress notifications, sampling and elicitation requests and the answers to them — are
 * masked (or the result blocked) for clients of both eras, on both endpoints and the stdio front; the
 * audit record names each finding without its value; /metrics counts them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { legacyClient, MAIN, stdioClientEnv, modernClient, type TestGateway } from '../helpers/gateway.ts';
import { pinned, startSecureGateway } from '../helpers/secure.ts';
import { fakePersonalData } from '../helpers/personal-data.ts';
import { auditTrail, received, recordedServer } from '../helpers/recorded.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const LEAKY = new URL('../fixtures/dlp-server.ts', import.meta.url).pathname;
const secrets = fakeSecrets();
const pii = fakePersonalData();
const SECRET_VALUES = [secrets.aws, secrets.github, secrets.slack, secrets.stripe, secrets.jwt, secrets.url.split(':')[2]!.split('@')[0]!, secrets.pem.split('\n')[1]!];
const PII_VALUES = [pii.email, pii.phone, pii.card, pii.iban, pii.ssn];

function assertClean(payload: unknown, values: readonly string[], where: string): void {
  const text = JSON.stringify(payload);
  for (const value of values) assert.ok(!text.includes(value) && !text.includes(JSON.stringify(value).slice(1, -1)), `${where} leaked ${value.slice(0, 6)}…`);
}

async function leakyGateway(dlp: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Promise<{ gw: TestGateway; dataDir: string; log: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-'));
  const log = join(dataDir, 'received.jsonl');
  const gw = await startSecureGateway({ dataDir, servers: { leaky: recordedServer(log, LEAKY) }, policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }] }, ...(dlp ? { dlp } : {}), ...extra });
  return { gw, dataDir, log };
}

const textOf = (result: unknown): string => JSON.stringify((result as { content?: unknown }).content);

describe('DLP on results', () => {
  // Tests that only read through a configuration share one gateway for it (started on first use).
  const shared = new Map<string, ReturnType<typeof leakyGateway>>();
  const sharedGateway = (dlp: Record<string, unknown> | undefined): ReturnType<typeof leakyGateway> => {
    const key = JSON.stringify(dlp ?? null);
    if (!shared.has(key)) shared.set(key, leakyGateway(dlp));
    return shared.get(key)!;
  };
  after(async () => {
    for (const started of shared.values()) await (await started).gw.close();
  });

  it('masks secrets by default (no dlp section), leaves personal data alone, and records findings without values', async () => {
    const { gw, dataDir } = await sharedGateway(undefined);
    const client = await legacyClient(`${gw.url}/mcp/leaky`);
    const result = await client.callTool({ name: 'leak', arguments: {} });
    assertClean(result, SECRET_VALUES, 'default result');
    assert.match(textOf(result), /\[REDACTED:[a-z0-9-]+#1\]/);
    // Personal data is off until configured.
    assert.ok(textOf(result).includes(pii.email));
    await client.close();
    const record = auditTrail(dataDir).find((r) => r.target === 'leak' && r.decision !== 'intent');
    assert.ok(record?.dlp && record.dlp.length > 0, 'findings in the audit record');
    for (const f of record.dlp) {
      assert.equal(f.type, 'secret');
      assert.equal(f.action, 'mask');
      assert.ok(f.count >= 1 && f.rule && f.path.startsWith('result.'));
    }
    assert.ok(record.dlp.some((f) => f.path === 'result.structuredContent.report.items[0].deep.keys[0]'));
    assertClean(readFileSync(join(dataDir, 'audit.db')).toString('latin1'), SECRET_VALUES, 'audit store');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /portcullis_dlp_findings_total\{type="secret",action="mask"\} [1-9]/);
  });

  for (const era of ['legacy', 'modern'] as const) {
    for (const endpoint of ['server', 'aggregate'] as const) {
      it(`masks secrets and personal data in every hiding place (${era} client, ${endpoint} endpoint)`, async () => {
        const { gw } = await sharedGateway({ results: { secrets: 'mask', pii: 'mask' } });
        const url = endpoint === 'server' ? `${gw.url}/mcp/leaky` : `${gw.url}/mcp`;
        const name = (n: string) => (endpoint === 'server' ? n : `leaky__${n}`);
        const client = era === 'legacy' ? await legacyClient(url) : await modernClient(url);
        const call = (tool: string, args: Record<string, unknown>) => (client as Client).callTool({ name: name(tool), arguments: args });
        const leak = await call('leak', {});
        assertClean(leak, [...SECRET_VALUES, ...PII_VALUES], 'tool result');
        const structured = JSON.stringify((leak as { structuredContent?: unknown }).structuredContent);
        assert.match(structured, /\[REDACTED:/, 'structuredContent masked, not dropped');
        // The same value has the same label everywhere in one result.
        const labels = textOf(leak).match(/\[REDACTED:[a-z0-9-]+#\d+\]/g) ?? [];
        assert.ok(labels.length >= 10 && new Set(labels).size < labels.length, 'stable labels repeat for repeated values');
        const failed = await call('leak', { error: true });
        assert.equal(failed.isError, true);
        assertClean(failed, [...SECRET_VALUES, ...PII_VALUES], 'error result');
        const prompt = await (client as Client).getPrompt({ name: name('leaky') });
        assertClean(prompt, [...SECRET_VALUES, ...PII_VALUES], 'prompts/get');
        assert.match(JSON.stringify(prompt.messages), /\[REDACTED:payment-card#1\]/);
        const read = await (client as Client).readResource({ uri: 'leak://data' });
        assertClean(read, [...SECRET_VALUES, ...PII_VALUES], 'resources/read');
        await client.close();
      });
    }
  }

  it('blocks a result whose masked structuredContent no longer fits the outputSchema, and a result under block', async () => {
    const { gw, dataDir } = await leakyGateway({ results: { secrets: 'mask' }, servers: { leaky: { tools: { leak: { results: { secrets: 'block' } } } } } });
    try {
      const client = await legacyClient(`${gw.url}/mcp/leaky`);
      await assert.rejects(client.callTool({ name: 'strict_leak', arguments: {} }), (e: { code: number; data?: { code?: string; type?: string } }) => {
        assert.equal(e.data?.code, 'PC_DLP_BLOCKED');
        assert.equal(e.data?.type, 'outputSchema');
        return true;
      });
      await assert.rejects(client.callTool({ name: 'leak', arguments: {} }), (e: { data?: { code?: string; type?: string } }) => e.data?.code === 'PC_DLP_BLOCKED' && e.data.type === 'secret');
      await client.close();
      const records = auditTrail(dataDir);
      const blocked = records.filter((r) => r.code === 'PC_DLP_BLOCKED');
      assert.equal(blocked.length, 2);
      assert.ok(blocked.every((r) => r.dlp && r.dlp.length > 0));
      assertClean(records, SECRET_VALUES, 'audit records');
    } finally {
      await gw.close();
    }
  });

  it('blocks on an administrator pattern (exact value from the environment) and on a regex', async () => {
    const env = { ...process.env, DLP_CANARY: pii.email };
    const { processSecretSource } = await import('../../src/config/secrets.ts');
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-dlp-'));
    const gw = await startSecureGateway(
      { dataDir, servers: { leaky: recordedServer(join(dataDir, 'r.jsonl'), LEAKY) }, policy: { rules: [{ name: 'leaky', effect: 'allow', servers: ['leaky'] }] }, dlp: { patterns: [{ name: 'canary', value: 'env:DLP_CANARY', action: 'block' }] } },
      processSecretSource(env),
    );
    try {
      const client = await legacyClient(`${gw.url}/mcp/leaky`);
      await assert.rejects(client.callTool({ name: 'leak', arguments: {} }), (e: { data?: { code?: string; rule?: string } }) => e.data?.code === 'PC_DLP_BLOCKED' && e.data.rule === 'canary');
      await assert.rejects(client.getPrompt({ name: 'leaky' }), (e: { data?: { code?: string; path?: string } }) => e.data?.code === 'PC_DLP_BLOCKED' && e.data.path === 'result.messages[0].content.text');
      await client.close();
      assert.ok(!readFileSync(join(dataDir, 'audit.db')).toString('latin1').includes(pii.email), 'the canary value is not in the audit store');
    } finally {
      await gw.close();
    }
    const masked = await leakyGateway({ patterns: [{ name: 'report-line', regex: 'report: a[w]s', flags: 'i', action: 'mask' }] });
    try {
      const client = await legacyClient(`${masked.gw.url}/mcp/leaky`);
      const result = await client.callTool({ name: 'leak', arguments: {} });
      assert.match(textOf(result), /\[REDACTED:report-line#1\]/);
      await client.close();
    } finally {
      await masked.gw.close();
    }
  });

  it('inspects server→client requests and the answers: sampling and elicitation (legacy client)', async () => {
    const { gw, log } = await sharedGateway({ results: { secrets: 'mask' } });
    const seen: unknown[] = [];
    const client = await legacyClient(`${gw.url}/mcp/leaky`, {
      onSampling: (params) => {
        seen.push(params);
        return { role: 'assistant', model: 'test', content: { type: 'text', text: `sure, and here is another: ${secrets.stripe}` } };
      },
      onElicit: (params) => {
        seen.push(params);
        return { action: 'accept', content: { note: `ok ${secrets.slack}` } };
      },
    });
    const sampled = await client.callTool({ name: 'ask_sampling', arguments: {} });
    const elicited = await client.callTool({ name: 'ask_elicit', arguments: {} });
    assert.equal(seen.length, 2);
    assertClean(seen, SECRET_VALUES, 'server→client requests');
    assert.match(JSON.stringify(seen), /\[REDACTED:/);
    // The answers reached the server masked.
    const serverSide = readFileSync(log, 'utf8');
    assert.ok(!serverSide.includes(secrets.stripe) && !serverSide.includes(secrets.slack), 'the server never received the secrets in the answers');
    assert.match(serverSide, /REDACTED/);
    assertClean([sampled, elicited], SECRET_VALUES, 'results');
    await client.close();
  });

  it('inspects elicitation for a modern client (input_required across eras), answers included', async () => {
    const { gw, log } = await sharedGateway({ results: { secrets: 'mask' } });
    const seen: unknown[] = [];
    const client = await modernClient(`${gw.url}/mcp/leaky`, {
      onElicit: (params) => {
        seen.push(params);
        return { action: 'accept', content: { note: `ok ${secrets.slack}` } };
      },
    });
    const result = await client.callTool({ name: 'ask_elicit', arguments: {} });
    assert.equal(seen.length, 1);
    assertClean(seen, SECRET_VALUES, 'input request');
    assertClean(result, SECRET_VALUES, 'result');
    assert.ok(!readFileSync(log, 'utf8').includes(secrets.slack), 'the answer reached the server masked');
    await client.close();
  });

  it('masks progress notifications as they stream, before the result', async () => {
    const { gw } = await sharedGateway(undefined);
    const client = await legacyClient(`${gw.url}/mcp/leaky`);
    const progress: unknown[] = [];
    await client.callTool({ name: 'progress_leak', arguments: {} }, undefined, { onprogress: (p) => progress.push(p) });
    assert.equal(progress.length, 1);
    assertClean(progress, SECRET_VALUES, 'progress');
    assert.match(JSON.stringify(progress), /REDACTED:/);
    await client.close();
  });

  it('masks results on the stdio front', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-stdio-'));
    const file = join(dir, 'portcullis.yaml');
    writeFileSync(
      file,
      `dataDir: ${JSON.stringify(dir)}
policy: { rules: [{ name: leaky, effect: allow, servers: [leaky] }] }
dlp: { results: { secrets: mask, pii: mask } }
servers:
  leaky: ${JSON.stringify(pinned({ command: process.execPath, args: [LEAKY] }))}
`,
    );
    const client = new Client({ name: 'stdio-dlp', version: '1' }, { capabilities: {} });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, 'stdio', '-c', file], env: stdioClientEnv(), stderr: 'ignore' }));
    try {
      const result = await client.callTool({ name: 'leaky__leak', arguments: {} });
      assertClean(result, [...SECRET_VALUES, ...PII_VALUES], 'stdio result');
      assert.match(textOf(result), /\[REDACTED:iban#1\]/);
    } finally {
      await client.close();
    }
  });

  it('leaves everything alone with every family off, and refuses a dlp section naming an unknown server', async () => {
    const { gw, log } = await leakyGateway({ results: { secrets: 'off' }, arguments: { secrets: 'off' } });
    try {
      const client = await legacyClient(`${gw.url}/mcp/leaky`);
      const result = await client.callTool({ name: 'leak', arguments: {} });
      assert.ok(textOf(result).includes(secrets.aws));
      await client.close();
      assert.ok(received(log, 'tools/call').length === 1);
    } finally {
      await gw.close();
    }
    await assert.rejects(leakyGateway({ servers: { nosuch: { results: { pii: 'off' } } } }), /dlp\.servers\.nosuch/);
  });
});
