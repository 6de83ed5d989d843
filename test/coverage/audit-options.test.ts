/**
 * Audit options end to end: `auditArguments` per server (redacted | hash | full | off) with
 * `audit.redact.fields`, the chain name `audit.instance`, signed checkpoints every `audit.checkpointEvery`
 * records checked by `portcullis audit verify` with only `audit.verifyKey` (and failing with another key),
 * `audit.store: jsonl` rotating past `audit.rotateBytes`, and `audit.store: stdout | off` of a real
 * `portcullis serve`. What the server received is the same whatever the trail keeps.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verify } from '../../src/cli/audit.ts';
import { processSecretSource } from '../../src/config/secrets.ts';
import { ALLOW_ALL_YAML, legacyClient, MAIN, startGateway, waitFor } from '../helpers/gateway.ts';
import { auditTrail, callsReceived } from '../helpers/recorded.ts';
import { argsHashIn } from '../helpers/audit.ts';
import { recordedServer } from '../helpers/security.ts';

const ARGS = { text: 'visible', ticket: 'T-4711-confidential' };

/** `portcullis audit verify -c <file>` in-process (the command's own function), on a config with `audit`. */
async function verifyWith(dir: string, dataDir: string, audit: string): Promise<{ code: number; out: string }> {
  const config = join(dir, `verify-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\naudit: ${audit}\nservers: {}\n`);
  let out = '';
  const code = await verify({ config }, { out: (t) => (out += t), err: (t) => (out += t), secrets: processSecretSource(process.env) });
  return { code, out };
}

function ed25519Pair(dir: string, name: string): { privateFile: string; publicFile: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateFile = join(dir, `${name}.pem`);
  const publicFile = join(dir, `${name}-public.pem`);
  writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateFile, publicFile };
}

describe('audit options', () => {
  it('keeps what auditArguments says of the arguments, under the configured instance, with signed checkpoints a verifyKey checks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-audit-'));
    const dataDir = join(dir, 'data');
    const signing = ed25519Pair(dir, 'signing');
    const other = ed25519Pair(dir, 'other');

    const modes = ['redacted', 'hash', 'full', 'off'] as const;
    const logs = Object.fromEntries(modes.map((m) => [m, join(dir, `${m}.log`)]));
    const gw = await startGateway({
      dataDir,
      audit: { instance: 'cov-gw', signingKey: `file:${signing.privateFile}`, checkpointEvery: 3, redact: { fields: ['ticket'] } },
      servers: {
        redacted: { ...recordedServer(logs.redacted!), auditArguments: 'redacted' },
        hash: { ...recordedServer(logs.hash!), auditArguments: 'hash' },
        full: { ...recordedServer(logs.full!), auditArguments: 'full' },
        off: { ...recordedServer(logs.off!), auditArguments: 'off' },
      },
    });
    try {
      for (const mode of modes) {
        const client = await legacyClient(`${gw.url}/mcp/${mode}`);
        for (let i = 0; i < 2; i++) await client.callTool({ name: 'echo', arguments: ARGS });
        await client.close();
      }
    } finally {
      await gw.close();
    }
    const hash = argsHashIn(dataDir, ARGS);
    const trail = auditTrail(dataDir);
    for (const mode of modes) {
      assert.deepEqual(callsReceived(logs[mode]!).map((c) => c.arguments), [ARGS, ARGS], `${mode}: the server got the arguments as sent`);
      const records = trail.filter((r) => r.server === mode && r.method === 'tools/call' && r.decision !== 'intent');
      assert.equal(records.length, 2, mode);
      for (const r of records) {
        assert.equal(r.instance, 'cov-gw');
        const expected = {
          redacted: { argsHash: hash, hasArgs: true, ticket: false },
          hash: { argsHash: hash, hasArgs: false, ticket: false },
          full: { argsHash: hash, hasArgs: true, ticket: true },
          off: { argsHash: undefined, hasArgs: false, ticket: false },
        }[mode];
        assert.deepEqual(
          { argsHash: r.argsHash, hasArgs: r.args !== undefined, ticket: JSON.stringify(r).includes(ARGS.ticket) },
          expected,
          `${mode}: ${JSON.stringify(r)}`,
        );
        if (mode === 'redacted') assert.equal((r.args as Record<string, unknown>).text, 'visible', 'a field not named in redact.fields stays');
      }
    }
    assert.ok(trail.every((r) => r.instance === 'cov-gw'));

    const good = await verifyWith(dir, dataDir, `{ verifyKey: "file:${signing.publicFile}" }`);
    assert.equal(good.code, 0, good.out);
    const counted = /(\d+) records, every chain intact; (\d+) checkpoints \((\d+) signatures verified\)/.exec(good.out);
    assert.ok(counted, good.out);
    const [records, checkpoints, signed] = counted.slice(1).map(Number) as [number, number, number];
    assert.equal(records, trail.length);
    assert.ok(checkpoints >= Math.floor(records / 3), `a checkpoint every 3 records: ${good.out}`);
    assert.equal(signed, checkpoints, 'every checkpoint verified with the public key alone');
    const wrong = await verifyWith(dir, dataDir, `{ verifyKey: "file:${other.publicFile}" }`);
    assert.notEqual(wrong.code, 0, `another key must not verify the checkpoints: ${wrong.out}`);
    const none = await verifyWith(dir, dataDir, '{}');
    assert.match(none.out, /not verified/, 'without a key the signatures are not claimed verified');
  });

  it('rotates a jsonl store past rotateBytes, and the rotated trail still verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cov-jsonl-'));
    const path = join(dir, 'trail', 'audit.jsonl');
    const log = join(dir, 'gov.log');
    const gw = await startGateway({ dataDir: dir, audit: { store: 'jsonl', path, rotateBytes: 4096 }, servers: { gov: recordedServer(log) } });
    try {
      const client = await legacyClient(`${gw.url}/mcp/gov`);
      for (let i = 0; i < 12; i++) await client.callTool({ name: 'echo', arguments: { text: `call-${i}-${'x'.repeat(300)}` } });
      await client.close();
    } finally {
      await gw.close();
    }
    const files = readdirSync(join(dir, 'trail')).filter((f) => !f.endsWith('.checkpoints'));
    assert.ok(files.length >= 2, `rotated into several files: ${files.join(', ')}`);
    // Each file verifies on its own (the new one from the anchor left at rotation), and together they
    // hold every record, each file's chain continuing the one before.
    const chains: { first: number; last: number; firstPrev: string; lastHash: string }[] = [];
    for (const file of files) {
      const filePath = join(dir, 'trail', file);
      const verified = await verifyWith(dir, dir, `{ store: jsonl, path: ${JSON.stringify(filePath)} }`);
      assert.equal(verified.code, 0, `${file}: ${verified.out}`);
      const records = readFileSync(filePath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; prevHash: string; hash: string });
      chains.push({ first: records[0]!.seq, last: records.at(-1)!.seq, firstPrev: records[0]!.prevHash, lastHash: records.at(-1)!.hash });
    }
    chains.sort((a, b) => a.first - b.first);
    assert.equal(chains[0]!.first, 1);
    for (let i = 1; i < chains.length; i++) {
      assert.equal(chains[i]!.first, chains[i - 1]!.last + 1, 'no record is missing between files');
      assert.equal(chains[i]!.firstPrev, chains[i - 1]!.lastHash, 'each file continues the chain of the one before');
    }
    assert.ok(chains.at(-1)!.last >= 12);
    assert.equal(callsReceived(log).length, 12);
  });

  interface Variant {
    /** The audit and logging lines of the config. */
    lines: string;
    /** Where a copy of each record is expected besides stdout (a jsonl sink), if any. */
    sinkFile?: string;
    recordOnStdout: boolean;
    sqlite: boolean;
    /** The lowest pino level (10 trace … 60 fatal) that may appear on stderr, and one that must. */
    minLevel: number;
    mustLog?: number;
  }
  const VARIANTS: Record<string, (dir: string) => Variant> = {
    // Nothing in src logs at trace (10): at trace the debug lines (20), below the default info, must show.
    'store: stdout, logging at trace': () => ({ lines: 'audit: { store: stdout }\nlogging: { level: trace }', recordOnStdout: true, sqlite: false, minLevel: 10, mustLog: 20 }),
    'store: off, logging at fatal': () => ({ lines: 'audit: { store: off }\nlogging: { level: fatal }', recordOnStdout: false, sqlite: false, minLevel: 60 }),
    'store: sqlite with stdout and jsonl sinks': (dir) => ({
      lines: `audit: { store: sqlite, sinks: [{ type: stdout }, { type: jsonl, path: ${JSON.stringify(join(dir, 'copy.jsonl'))} }] }\nlogging: { level: info }`,
      sinkFile: join(dir, 'copy.jsonl'),
      recordOnStdout: true,
      sqlite: true,
      minLevel: 30,
      mustLog: 30,
    }),
  };
  for (const [name, variant] of Object.entries(VARIANTS)) {
    it(`serve with audit ${name}: the trail goes where configured, the log at its level, and calls are served`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pc-cov-serve-'));
      const v = variant(dir);
      const log = join(dir, 'gov.log');
      const config = join(dir, 'portcullis.yaml');
      writeFileSync(
        config,
        `dataDir: ${JSON.stringify(dir)}\nlisten: { port: 0 }\nreload: { watch: false }\nsupply: { allowUnpinned: true }\n${ALLOW_ALL_YAML}${v.lines}\nservers:\n  gov: ${JSON.stringify(recordedServer(log))}\n`,
      );
      const child = spawn(process.execPath, [MAIN, 'serve', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const isRecord = (line: string): boolean => {
        try {
          const r = JSON.parse(line) as { method?: string; target?: string; hash?: string };
          return r.method === 'tools/call' && r.target === 'echo' && typeof r.hash === 'string';
        } catch {
          return false;
        }
      };
      try {
        const base = await waitFor(() => /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/.exec(stdout)?.[1], 60_000, 'serve to listen');
        const client = await legacyClient(`${base}/mcp/gov`);
        await client.callTool({ name: 'echo', arguments: { text: 'via-serve' } });
        await client.close();
        assert.deepEqual(callsReceived(log).map((c) => c.arguments.text), ['via-serve']);
        if (v.recordOnStdout) await waitFor(() => stdout.split('\n').some(isRecord) || undefined, 10_000, 'the call\'s record on stdout');
        if (v.sinkFile) await waitFor(() => (existsSync(v.sinkFile!) && readFileSync(v.sinkFile!, 'utf8').split('\n').some(isRecord)) || undefined, 10_000, 'the record in the jsonl sink');
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!v.recordOnStdout) assert.doesNotMatch(stdout, /"prevHash"/, 'no record on stdout');
      assert.equal(existsSync(join(dir, 'audit.db')), v.sqlite, 'a sqlite trail only with store: sqlite');
      if (v.sqlite) assert.ok(auditTrail(dir).some((r) => r.method === 'tools/call' && r.target === 'echo'), 'the record is in the store');
      assert.equal(existsSync(join(dir, 'audit.jsonl')), false, 'no jsonl trail was made');
      const levels = stderr.split('\n').flatMap((line) => {
        try {
          return [(JSON.parse(line) as { level: number }).level];
        } catch {
          return [];
        }
      });
      assert.ok(levels.every((l) => l >= v.minLevel), `nothing below level ${v.minLevel} on stderr: ${[...new Set(levels)].join(',')}`);
      if (v.mustLog !== undefined) assert.ok(levels.includes(v.mustLog), `level ${v.mustLog} lines on stderr: ${[...new Set(levels)].join(',')}`);
    });
  }
});
