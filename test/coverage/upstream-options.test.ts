/**
 * Per-server options, judged by what the server itself saw: `roots` (a list the server is confined to,
 * absent = none offered, `client` = relayed to the caller), `pinning: warn | allow`, forced `era` and
 * `transport`, and `headers` given as `env:` references reaching the server (and an unset one refusing
 * to start, PC_CONFIG_INVALID).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/load.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { createGateway } from '../../src/gateway.ts';
import { EVERYTHING, FILESYSTEM, legacyClient, runCli, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { auditTrail, callsReceived, received, recordedServer } from '../helpers/recorded.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';

const MALICIOUS = new URL('../fixtures/malicious-server.ts', import.meta.url).pathname;
const textOf = (result: unknown): string => JSON.stringify((result as { content?: unknown }).content ?? result);
/** The roots the server behind `log` was answered with (its roots/list request's result), if any. */
const rootsAnswered = (log: string): string[] | undefined => {
  const answer = received(log).find((m) => Array.isArray((m as { result?: { roots?: unknown } }).result?.roots)) as { result: { roots: { uri: string }[] } } | undefined;
  return answer?.result.roots.map((r) => r.uri);
};
const offeredRoots = (log: string): boolean => {
  const init = received(log, 'initialize')[0];
  return (init?.params?.capabilities as Record<string, unknown> | undefined)?.roots !== undefined;
};

describe('roots', () => {
  let dir: string;
  let granted: string;
  let started: string;
  let gw: TestGateway;
  let confinedLog: string;
  let plainLog: string;
  let relayLog: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-cov-roots-'));
    granted = join(dir, 'granted');
    started = join(dir, 'started');
    for (const d of [granted, started]) mkdirSync(d);
    writeFileSync(join(granted, 'ok.txt'), 'granted file');
    writeFileSync(join(started, 'secret.txt'), 'outside the roots');
    confinedLog = join(dir, 'confined.log');
    plainLog = join(dir, 'plain.log');
    relayLog = join(dir, 'relay.log');
    gw = await startGateway({
      servers: {
        // Started on `started`, but the gateway's roots narrow it to `granted`.
        confined: recordedServer(confinedLog, FILESYSTEM, [started], { roots: [pathToFileURL(granted).href] }),
        plain: recordedServer(plainLog, FILESYSTEM, [started]),
        relay: recordedServer(relayLog, EVERYTHING, [], { roots: 'client' }),
      },
    });
  });
  after(async () => gw.close());

  it('answers the server\'s roots/list with exactly the configured roots, which the server then confines itself to', async () => {
    await waitFor(() => rootsAnswered(confinedLog), 10_000, 'the filesystem server to ask for roots');
    assert.deepEqual(rootsAnswered(confinedLog), [pathToFileURL(granted).href]);
    const client = await legacyClient(`${gw.url}/mcp/confined`);
    try {
      assert.match(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(granted, 'ok.txt') } })), /granted file/);
      const outside = await client.callTool({ name: 'read_text_file', arguments: { path: join(started, 'secret.txt') } });
      assert.equal(outside.isError, true, 'the server refuses a path outside the roots the gateway gave it');
      assert.doesNotMatch(textOf(outside), /outside the roots/);
    } finally {
      await client.close();
    }
  });

  it('offers no roots when none are configured: the server keeps the folders it was started with', async () => {
    const client = await legacyClient(`${gw.url}/mcp/plain`);
    try {
      assert.match(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(started, 'secret.txt') } })), /outside the roots/);
      assert.equal(offeredRoots(plainLog), false, 'no roots capability was declared to the server');
      assert.equal(rootsAnswered(plainLog), undefined);
    } finally {
      await client.close();
    }
  });

  it('relays roots/list during a call to the calling client with roots: client', async () => {
    assert.equal(offeredRoots(relayLog), true);
    const client = new Client({ name: 'roots-client', version: '1.0.0' }, { capabilities: { roots: {} } });
    let asked = 0;
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      asked += 1;
      return { roots: [{ uri: 'file:///client/workspace', name: 'workspace' }] };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/relay`)));
    try {
      const result = await client.callTool({ name: 'get-roots-list', arguments: {} });
      assert.match(textOf(result), /file:\/\/\/client\/workspace/);
      assert.ok(asked >= 1, 'the calling client was asked');
      assert.deepEqual(rootsAnswered(relayLog), ['file:///client/workspace'], 'the server got the client\'s roots');
    } finally {
      await client.close();
    }
  });
});

describe('pinning: warn and allow', () => {
  let gw: TestGateway;
  let config: string;
  const logs: Record<string, string> = {};

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-pinning-'));
    for (const name of ['warned', 'allowed', 'guarded']) logs[name] = join(dir, `${name}.log`);
    gw = await startGateway({
      servers: {
        warned: recordedServer(logs.warned!, MALICIOUS, ['attacker'], { pinning: 'warn' }),
        allowed: recordedServer(logs.allowed!, MALICIOUS, ['attacker'], { pinning: 'allow' }),
        guarded: recordedServer(logs.guarded!, MALICIOUS, ['attacker'], { pinning: 'quarantine' }),
      },
    });
    config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nservers: {}\n`);
  });
  after(async () => gw.close());

  it('warn shows and forwards a poisoned or changed tool but holds it for review; allow records nothing; quarantine refuses', async () => {
    for (const server of ['warned', 'allowed', 'guarded']) {
      const client = await legacyClient(`${gw.url}/mcp/${server}`);
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        const call = client.callTool({ name: 'notes', arguments: { q: `note-${server}` } });
        if (server === 'guarded') {
          assert.ok(!names.includes('notes'), names.join(','));
          await assert.rejects(call, (e: { data?: { code?: string } }) => e.data?.code === 'PC_SUPPLY_QUARANTINED');
          assert.deepEqual(callsReceived(logs[server]!), [], 'the quarantined call did not reach the server');
          continue;
        }
        assert.ok(names.includes('notes'), `${server}: ${names.join(',')}`);
        await call;
        assert.deepEqual(callsReceived(logs[server]!).map((c) => c.arguments.q), [`note-${server}`], `${server}: the call reached the server`);
        // A rug pull: the server changes `weather`; warn and allow keep serving it.
        await client.callTool({ name: 'arm', arguments: {} });
        await waitFor(async () => (await client.listTools()).tools.find((t) => t.name === 'weather' && /ssh/.test(t.description ?? '')), 5000, `${server}: the changed weather tool`);
        await client.callTool({ name: 'weather', arguments: { q: `after-${server}` } });
        assert.ok(callsReceived(logs[server]!).some((c) => c.arguments.q === `after-${server}`));
      } finally {
        await client.close();
      }
    }
    const list = await runCli(['pin', 'list', '-c', config]);
    assert.equal(list.code, 0, list.stderr);
    const section = (server: string) => list.stdout.split(/\n(?=\S)/).find((s) => s.startsWith(server)) ?? '';
    assert.match(section('warned'), /WAITING {2}tools:notes/, list.stdout);
    assert.match(section('warned'), /WAITING {2}tools:weather/, list.stdout);
    assert.doesNotMatch(section('allowed'), /WAITING/, list.stdout);
  });
});

describe('forced era and transport, and headers from env: references', () => {
  let modern: ModernServer;
  const TOKEN = 'Bearer pc-cov-upstream-token-7f3a9c';
  const secrets = processSecretSource({ PATH: process.env.PATH, PC_COV_UPSTREAM_TOKEN: TOKEN });

  before(async () => {
    modern = await startModernServer({ legacy: 'stateless' });
  });
  after(async () => modern.close());

  it('speaks the forced era to a server that speaks both, and sends the env: header on every request', async () => {
    for (const era of ['legacy', 'modern'] as const) {
      const before = modern.bodies().length;
      const credentialsBefore = modern.credentialHeaders().length;
      const gw = await startGateway({ servers: { m: { url: modern.url, era, transport: 'streamable-http', headers: { Authorization: 'env:PC_COV_UPSTREAM_TOKEN' } } } }, secrets);
      try {
        const client = await legacyClient(`${gw.url}/mcp/m`);
        assert.match(textOf(await client.callTool({ name: 'echo', arguments: { text: `via-${era}` } })), new RegExp(`via-${era}`));
        await client.close();
        const bodies = modern.bodies().slice(before);
        const call = bodies.find((b) => b.includes(`via-${era}`));
        assert.ok(call, `${era}: the call reached the server`);
        assert.equal(bodies.some((b) => b.includes('"method":"initialize"')), era === 'legacy', `${era}: a legacy handshake only in the legacy era`);
        assert.equal(call.includes('io.modelcontextprotocol/protocolVersion'), era === 'modern', `${era}: the modern envelope only in the modern era`);
        const sent = modern.credentialHeaders().slice(credentialsBefore);
        assert.ok(sent.length > 0 && sent.every((h) => h === `authorization: ${TOKEN}`), `${era}: ${sent.join(' | ')}`);
        assert.doesNotMatch(JSON.stringify(auditTrail(gw.gateway.config.dataDir!)), /pc-cov-upstream-token/, 'the header value is not in the audit trail');
      } finally {
        await gw.close();
      }
    }
  });

  it('fails the calls, never falls back, when the forced transport is not what the server speaks', async () => {
    const before = modern.bodies().length;
    // This server has no HTTP+SSE (2024-11-05) endpoint: forced to sse, the gateway must not try another way.
    const gw = await startGateway({ servers: { sse: { url: modern.url, transport: 'sse' } } });
    try {
      await assert.rejects(legacyClient(`${gw.url}/mcp/sse`), (e: { data?: { code?: string } }) => {
        assert.equal(e.data?.code, 'PC_UPSTREAM_UNAVAILABLE');
        return true;
      });
      assert.ok(!modern.bodies().slice(before).some((b) => b.includes('"method"')), 'no MCP message was sent another way');
    } finally {
      await gw.close();
    }
  });

  it('refuses to build a server whose header reference stopped resolving after the check (PC_CONFIG_INVALID), sending it nothing', async () => {
    // The loader checks references first (`config check`); the gateway resolves them again when it builds
    // the server, so a file: secret removed in between fails closed instead of sending an empty header.
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-ref-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN);
    const source = processSecretSource({ PATH: process.env.PATH });
    const loaded = validateConfig({ listen: { port: 0 }, dataDir: dir, policy: { rules: [{ name: 'all', effect: 'allow' }] }, servers: { m: { url: modern.url, headers: { Authorization: `file:${tokenFile}` } } } }, source);
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
    rmSync(tokenFile);
    const before = modern.requests();
    assert.throws(
      () => createGateway(loaded.config, { logger: pino({ level: 'silent' }), secrets: source }),
      (e: { code?: string }) => e.code === 'PC_CONFIG_INVALID',
    );
    assert.equal(modern.requests(), before, 'the server was sent nothing');
  });
});
