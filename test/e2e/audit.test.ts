/**
 * The audit trail as a security team relies on it: one record per decision, arguments hashed and
 * redacted, secrets nowhere in the store, tampering caught by `portcullis audit verify`, and calls
 * refused while the store cannot record them (fail closed).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import type { AuditRecord } from '../../src/audit/record.ts';
import { argsHashIn } from '../helpers/audit.ts';
import { ALLOW_ALL_YAML, MAIN, legacyClient, serveChild, runCli, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';
import { startModernServer, type ModernServer } from '../fixtures/modern-server.ts';
import { fakeSecrets } from '../helpers/secrets.ts';

const cli = runCli;

describe('audit trail', () => {
  let upstream: ModernServer;
  let gw: TestGateway;
  let dataDir: string;
  let configFile: string;

  before(async () => {
    upstream = await startModernServer();
    // These tests are about what the trail keeps of secret-shaped arguments: data-loss prevention, which
    // refuses them on their way to an open-world tool by default (docs/dlp.md), is off here.
    // The timeout is short enough for `slow` to hit it, long enough for a loaded machine to answer `echo`.
    gw = await startGateway({ servers: { modern: { url: upstream.url, timeoutMs: 2500 } }, dlp: { arguments: { secrets: 'off' } } });
    dataDir = gw.gateway.config.dataDir!;
    configFile = join(dataDir, 'portcullis.yaml');
    writeFileSync(configFile, `dataDir: ${JSON.stringify(dataDir)}\nservers: {}\n`);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const records = (): AuditRecord[] => {
    const db = new DatabaseSync(join(dataDir, 'audit.db'), { readOnly: true });
    const rows = db.prepare('SELECT record FROM audit_records ORDER BY seq').all() as Array<{ record: string }>;
    db.close();
    return rows.map((r) => JSON.parse(r.record) as AuditRecord);
  };

  it('records allowed, denied and timed-out calls with hashed, redacted arguments and no secret in the store', async () => {
    const secrets = fakeSecrets();
    const client = await legacyClient(`${gw.url}/mcp`);
    await client.listTools();
    const args = { text: `deploy with ${secrets.github} and ${secrets.aws}` };
    await client.callTool({ name: 'modern__echo', arguments: args });
    // Every kind of secret the store is searched for below is sent, each in a call of its own.
    for (const [kind, secret] of Object.entries(secrets)) {
      await client.callTool({ name: 'modern__echo', arguments: { text: `${kind}: ${secret}` } });
      assert.ok(upstream.bodies().some((b) => b.includes(JSON.stringify(`${kind}: ${secret}`).slice(1, -1))), `the ${kind} secret was sent to the server`);
    }
    await assert.rejects(client.callTool({ name: 'modern__nope', arguments: {} }));
    await assert.rejects(client.callTool({ name: 'modern__slow', arguments: { ms: 6000 } }));
    await client.close();

    const trail = records();
    const sent = trail.filter((r) => r.target === 'echo' && r.decision === 'allowed');
    assert.equal(sent.length, 1 + Object.keys(secrets).length, 'every call with a secret is in the trail');
    assert.ok(sent.every((r) => JSON.stringify(r.args) === JSON.stringify({ text: '[redacted]' })), 'each secret was masked');
    const echo = sent[0]!;
    assert.equal(echo.decision, 'allowed');
    assert.equal(echo.server, 'modern');
    assert.equal(echo.principal.agent, 'legacy-test-client');
    assert.equal(echo.argsHash, argsHashIn(dataDir, args));
    assert.equal(echo.argsHashScheme, 'hmac-sha256');
    assert.deepEqual(echo.args, { text: '[redacted]' });
    assert.match(echo.session ?? '', /^[0-9a-f]{16}$/);
    const denied = trail.find((r) => r.decision === 'denied' && r.method === 'tools/call')!;
    assert.equal(denied.code, 'PC_ROUTE_UNKNOWN_TOOL');
    assert.equal(denied.target, 'modern__nope');
    const timeout = trail.find((r) => r.target === 'slow' && r.decision !== 'intent')!;
    assert.equal(timeout.decision, 'timeout');
    assert.equal(timeout.code, 'PC_UPSTREAM_TIMEOUT');
    assert.ok(trail.some((r) => r.method === 'tools/list'), 'list requests are recorded too');

    const files = readdirSync(dataDir).filter((f) => f.startsWith('audit.db'));
    assert.ok(files.includes('audit.db'));
    for (const file of files) {
      const bytes = readFileSync(join(dataDir, file), 'latin1');
      for (const [kind, secret] of Object.entries(secrets)) {
        assert.ok(!bytes.includes(secret), `${file} holds the ${kind} secret`);
        assert.ok(!bytes.includes(secret.slice(-16)), `${file} holds part of the ${kind} secret`);
      }
    }
  });

  it('answers audit query with filters, as text, JSON lines and CSV', async () => {
    const text = await cli(['audit', 'query', '-c', configFile, '--decision', 'denied']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /denied +legacy-test-client +tools\/call +modern__nope +\[PC_ROUTE_UNKNOWN_TOOL\]/);
    const json = await cli(['audit', 'query', '-c', configFile, '--tool', 'ech?', '--json']);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    assert.ok(lines.length >= 1 && lines.every((r) => r.target === 'echo'));
    const csv = await cli(['audit', 'query', '-c', configFile, '--server', 'modern', '--csv', '--since', '1h']);
    assert.match(csv.stdout, /^time,instance,seq,agent,server,method,target,decision,code,latencyMs,argsHash\n/);
    const bad = await cli(['audit', 'query', '-c', configFile, '--decision', 'maybe']);
    assert.equal(bad.code, 2);
    // --limit is the newest records (what an incident needs), oldest first — not day one's.
    const every = (await cli(['audit', 'query', '-c', configFile, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const limited = (await cli(['audit', 'query', '-c', configFile, '--json', '--limit', '2'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    assert.ok(every.length > 2);
    const newest = [...every].sort((a, b) => a.time.localeCompare(b.time) || a.seq - b.seq).slice(-2);
    assert.deepEqual(limited.map((r) => `${r.instance}/${r.seq}`), newest.map((r) => `${r.instance}/${r.seq}`));
  });

  it('tails the trail and exports it to a file that verifies on its own', async () => {
    const last = await cli(['audit', 'tail', '-c', configFile, '-n', '2']);
    assert.equal(last.code, 0, last.stderr);
    assert.equal(last.stdout.trim().split('\n').length, 2);

    const out = join(dataDir, 'export.jsonl');
    const exported = await cli(['audit', 'export', '-c', configFile, '--since', '1h', '--to', out]);
    assert.equal(exported.code, 0, exported.stderr);
    const offline = join(dataDir, 'offline.yaml');
    writeFileSync(offline, `audit: { store: jsonl, path: ${JSON.stringify(out)} }\nservers: {}\n`);
    const verified = await cli(['audit', 'verify', '-c', offline]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^OK: \d+ records/);
  });

  it('audit verify passes on the intact trail and reports the first tampered record', async () => {
    const ok = await cli(['audit', 'verify', '-c', configFile]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^OK: \d+ records/);
    const db = new DatabaseSync(join(dataDir, 'audit.db'));
    const victim = (db.prepare("SELECT seq FROM audit_records WHERE record LIKE '%\"decision\":\"denied\"%' ORDER BY seq LIMIT 1").get() as { seq: number }).seq;
    db.prepare("UPDATE audit_records SET record = replace(record, '\"decision\":\"denied\"', '\"decision\":\"allowed\"') WHERE seq = ?").run(victim);
    db.close();
    const broken = await cli(['audit', 'verify', '-c', configFile]);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, new RegExp(`record ${victim}: content does not match its hash`));
  });
});

describe('audit fail-closed', () => {
  it('refuses calls while the store cannot record them and recovers when it can', async () => {
    const upstream = await startModernServer();
    const gw = await startGateway({ servers: { modern: { url: upstream.url } } });
    try {
      const client = await legacyClient(`${gw.url}/mcp/modern`);
      await client.callTool({ name: 'echo', arguments: { text: 'before' } });
      // Another process holds the database's write lock: appends fail (SQLITE_BUSY after the busy timeout).
      const locker = new DatabaseSync(join(gw.gateway.config.dataDir!, 'audit.db'));
      locker.exec('BEGIN EXCLUSIVE');
      const bodiesBefore = upstream.bodies().length;
      await assert.rejects(client.callTool({ name: 'echo', arguments: { text: 'during' } }), (error: Error & { data?: { code?: string } }) => {
        assert.equal(error.data?.code, 'PC_AUDIT_UNAVAILABLE');
        return true;
      });
      await assert.rejects(client.callTool({ name: 'echo', arguments: { text: 'still failing' } }), /audit/);
      assert.deepEqual(upstream.bodies().slice(bodiesBefore).filter((b) => b.includes('"tools/call"')), [], 'no call reached the server while its record could not be written');
      assert.equal(gw.gateway.audit?.healthy, false);
      locker.exec('COMMIT');
      locker.close();
      // The gateway retries the store about once a second: call until it takes calls again.
      const after = await waitFor(
        () => client.callTool({ name: 'echo', arguments: { text: 'after' } }).catch((error: Error & { data?: { code?: string } }) => {
          if (error.data?.code !== 'PC_AUDIT_UNAVAILABLE') throw error;
          return undefined;
        }),
        5000,
        'the store to take records again',
      );
      assert.deepEqual(after.content, [{ type: 'text', text: 'after' }]);
      assert.equal(gw.gateway.audit?.healthy, true);
      await client.close();
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

describe('audit stores and crashes', () => {
  it('writes a verifiable JSON Lines trail, and verify catches an edited line', async () => {
    const upstream = await startModernServer();
    const gw = await startGateway({ audit: { store: 'jsonl' }, servers: { modern: { url: upstream.url } } });
    const dataDir = gw.gateway.config.dataDir!;
    try {
      const client = await legacyClient(`${gw.url}/mcp/modern`);
      await client.callTool({ name: 'echo', arguments: { text: 'one' } });
      await client.callTool({ name: 'echo', arguments: { text: 'two' } });
      await client.close();
    } finally {
      await gw.close();
      await upstream.close();
    }
    const file = join(dataDir, 'audit.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const calls = lines.filter((l) => l.includes('"method":"tools/call"')).map((l) => (JSON.parse(l) as AuditRecord).decision);
    assert.deepEqual(calls, ['intent', 'allowed', 'intent', 'allowed'], 'both calls recorded, each intent before its outcome');
    const config = join(dataDir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\naudit: { store: jsonl }\nservers: {}\n`);
    assert.equal((await cli(['audit', 'verify', '-c', config])).code, 0);
    writeFileSync(file, `${lines.map((l, i) => (i === lines.length - 1 ? l.replace('"target":"echo"', '"target":"ohce"') : l)).join('\n')}\n`);
    const broken = await cli(['audit', 'verify', '-c', config]);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /BROKEN/);
  });

  it('keeps every answered call in the trail when the gateway is killed under load', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const upstream = await startModernServer();
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-crash-'));
    const config = join(dataDir, 'portcullis.yaml');
    writeFileSync(config, `listen: { port: 0 }\nlogging: { level: warn }\n${ALLOW_ALL_YAML}dataDir: ${JSON.stringify(dataDir)}\nservers:\n  modern: { url: "${upstream.url}" }\n`);
    const { base, child } = await serveChild(config);
    const answered: string[] = [];
    const failures: string[] = [];
    let stop = false;
    let killed = false;
    const worker = async (w: number) => {
      const client = await legacyClient(`${base}/mcp/modern`);
      for (let i = 0; !stop; i++) {
        const text = `w${w}-${i}`;
        try {
          await client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: 10_000, maxTotalTimeout: 10_000 });
          answered.push(text);
        } catch (error) {
          // Once the gateway is killed, calls fail: that is the end of this worker's load.
          if (!killed) failures.push((error as Error).message);
          return;
        }
      }
    };
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const workers = [0, 1, 2, 3].map((w) => worker(w).catch((error: Error) => void failures.push(error.message)));
    try {
      // Kill it once the load is running (answers are coming), not after a fixed time.
      await waitFor(() => answered.length >= 40 || failures.length > 0 || undefined, 60_000, '40 answered calls under load');
    } finally {
      killed = true;
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await exited;
      await upstream.close();
    }
    assert.deepEqual(failures, [], 'no call failed before the kill');
    assert.ok(answered.length >= 40, `load ran (${answered.length} answered calls)`);
    const db = new DatabaseSync(join(dataDir, 'audit.db'), { readOnly: true });
    const hashes = new Set(
      (db.prepare('SELECT record FROM audit_records').all() as Array<{ record: string }>)
        .map((r) => JSON.parse(r.record) as AuditRecord)
        .filter((r) => r.decision === 'allowed')
        .map((r) => r.argsHash),
    );
    db.close();
    const missing = answered.filter((text) => !hashes.has(argsHashIn(dataDir, { text })));
    assert.deepEqual(missing, [], 'every call that got an answer is in the trail');
    const verify = await cli(['audit', 'verify', '-c', config]);
    assert.equal(verify.code, 0, verify.stdout);
  });
});

describe('audit tail -f', () => {
  // Its own gateway: the follower reads the database from another process while this one writes.
  it('prints new records as they are written', async () => {
    const upstream = await startModernServer();
    const gw = await startGateway({ servers: { modern: { url: upstream.url } } });
    const dataDir = gw.gateway.config.dataDir!;
    const configFile = join(dataDir, 'portcullis.yaml');
    writeFileSync(configFile, `dataDir: ${JSON.stringify(dataDir)}\nservers: {}\n`);
    const client = await legacyClient(`${gw.url}/mcp/modern`);
    let follower: ChildProcess | undefined;
    try {
      await client.callTool({ name: 'echo', arguments: { text: 'before the follower' } });
      follower = spawn(process.execPath, [MAIN, 'audit', 'tail', '-c', configFile, '-n', '1', '-f', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let followed = '';
      follower.stdout!.on('data', (d: Buffer) => (followed += d.toString()));
      // The follower is up once it has printed the last record already there.
      await waitFor(() => followed.includes('"decision":"allowed"') || undefined, 20_000, 'tail to print the last record');
      await client.callTool({ name: 'echo', arguments: { text: 'followed live' } });
      const live = argsHashIn(dataDir, { text: 'followed live' });
      await waitFor(() => followed.includes(live) || undefined, 10_000, 'tail -f to print the new call');
    } finally {
      // Never leave the follower running, whatever failed above.
      if (follower && follower.exitCode === null && follower.signalCode === null) {
        const exited = new Promise((resolve) => follower!.once('exit', resolve));
        follower.kill('SIGKILL');
        await exited;
      }
      await client.close();
      await gw.close();
      await upstream.close();
    }
  });
});
