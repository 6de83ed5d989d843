/**
 * The runtime policy end to end: real SDK clients through the gateway to the real filesystem and
 * everything servers, each behind a recorder that logs what the server received — every denial is
 * checked on the server's side too.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyHttpTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EVERYTHING, FILESYSTEM, legacyClient, modernClient, runCli, serveChild, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { pinned } from '../helpers/security.ts';

const RECORDER = new URL('../fixtures/recording-wrapper.ts', import.meta.url).pathname;
const DNS: Record<string, string[]> = { 'public.example': ['93.184.216.34'], 'internal.example': ['127.0.0.1'], 'metadata.example': ['169.254.169.254'] };

/** Every tools/call the server behind `log` received. */
function callsReceived(log: string): { name: string; arguments: Record<string, unknown> }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { method?: string; params?: { name: string; arguments: Record<string, unknown> } })
    .filter((m) => m.method === 'tools/call')
    .map((m) => m.params!);
}

type Rejection = { code?: number; data?: { code?: string; rule?: string; reason?: string; retryAfterMs?: number } };
const deniedWith = (code: string, rule?: string) => (error: Rejection) => {
  assert.equal(error.data?.code, code, JSON.stringify(error.data));
  if (rule) assert.equal(error.data?.rule, rule);
  return true;
};

describe('runtime policy through the gateway', () => {
  let gw: TestGateway;
  let root: string;
  let sandbox: string;
  let filesLog: string;
  let everythingLog: string;
  let clock = 0;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'pc-policy-'));
    sandbox = join(root, 'sandbox');
    mkdirSync(sandbox);
    writeFileSync(join(sandbox, 'notes.txt'), 'inside the sandbox\n');
    writeFileSync(join(root, 'secret.txt'), 'outside the sandbox\n');
    symlinkSync(root, join(sandbox, 'escape'));
    filesLog = join(root, 'files.log');
    everythingLog = join(root, 'everything.log');
    gw = await startGateway(
      {
        servers: {
          files: { command: process.execPath, args: [RECORDER, filesLog, process.execPath, FILESYSTEM, sandbox] },
          everything: { command: process.execPath, args: [RECORDER, everythingLog, process.execPath, EVERYTHING, 'stdio'] },
        },
        policy: {
          rules: [
            { name: 'files-in-sandbox', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path', 'paths', 'source', 'destination'], roots: [sandbox] } } },
            { name: 'readers-read-only', effect: 'deny', servers: ['files'], annotations: { readOnly: false }, principal: { agents: ['reader-*'] } },
            { name: 'echo-public-urls', effect: 'allow', servers: ['everything'], tools: ['echo'], guards: { urls: { args: ['message'] } } },
            { name: 'sums-for-triage', effect: 'allow', servers: ['everything'], tools: ['get-sum'], tasks: ['triage-*'], principal: { subjects: [userInfo().username] } },
          ],
          limits: [{ name: 'echo-per-agent', per: 'agent', servers: ['everything'], tools: ['echo'], rate: '1/s', burst: 2 }],
        },
      },
      undefined,
      {
        resolveHost: async (host) => {
          const found = DNS[host];
          if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
          return found;
        },
        clock: () => clock,
      },
    );
  });
  after(async () => gw?.close());

  it('refuses path traversal, absolute paths, symlinks out of the root and encoded paths; nothing reaches the server', async () => {
    const client = await legacyClient(`${gw.url}/mcp`);
    try {
      const inside = await client.callTool({ name: 'files__read_text_file', arguments: { path: join(sandbox, 'notes.txt') } });
      assert.match(JSON.stringify(inside.content), /inside the sandbox/, 'an allowed call goes through');
      const attempts = [`${sandbox}/../secret.txt`, join(root, 'secret.txt'), '/etc/passwd', join(sandbox, 'escape', 'secret.txt'), `${sandbox}/..%2fsecret.txt`, '~/.bashrc'];
      for (const path of attempts) {
        await assert.rejects(client.callTool({ name: 'files__read_text_file', arguments: { path } }), deniedWith('PC_POLICY_GUARD', 'files-in-sandbox'), path);
      }
      await assert.rejects(client.callTool({ name: 'files__read_multiple_files', arguments: { paths: [join(sandbox, 'notes.txt'), '/etc/hostname'] } }), deniedWith('PC_POLICY_GUARD'));
      await assert.rejects(client.callTool({ name: 'files__move_file', arguments: { source: join(sandbox, 'notes.txt'), destination: `${sandbox}/../stolen.txt` } }), deniedWith('PC_POLICY_GUARD'));
      const received = callsReceived(filesLog);
      assert.equal(received.length, 1, `only the allowed call reached the server: ${JSON.stringify(received)}`);
      assert.equal(received[0]!.arguments.path, join(sandbox, 'notes.txt'));
      assert.equal(existsSync(join(root, 'stolen.txt')), false);
    } finally {
      await client.close();
    }
  });

  it('refuses SSRF URLs (decimal, IPv6-mapped, names resolving to loopback or metadata) before the server sees them', async () => {
    const client = await modernClient(`${gw.url}/mcp/everything`, { name: 'ssrf-agent' });
    const before = callsReceived(everythingLog).length;
    try {
      const ok = await client.callTool({ name: 'echo', arguments: { message: 'https://public.example/page' } });
      assert.match(JSON.stringify(ok.content), /public\.example/);
      clock += 10_000;
      for (const url of ['https://2130706433/', 'https://[::ffff:127.0.0.1]/', 'https://internal.example/', 'https://metadata.example/latest/meta-data', 'https://169.254.169.254/']) {
        clock += 10_000; // keep the rate limit out of this test
        await assert.rejects(client.callTool({ name: 'echo', arguments: { message: url } }), deniedWith('PC_POLICY_GUARD', 'echo-public-urls'), url);
      }
      const received = callsReceived(everythingLog).slice(before);
      assert.deepEqual(received.map((c) => c.arguments.message), ['https://public.example/page']);
    } finally {
      await client.close();
    }
  });

  it('refuses arguments that break the tool\'s schema, and unknown tools, naming the field', async () => {
    const client = await legacyClient(`${gw.url}/mcp/files`);
    const before = callsReceived(filesLog).length;
    try {
      await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path: 42 } }), (error: Rejection & { message: string }) => {
        assert.equal(error.data?.code, 'PC_POLICY_GUARD', 'a number is not a path the guard can check');
        return true;
      });
      await assert.rejects(client.callTool({ name: 'read_text_file', arguments: {} }), (error: Rejection & { message: string }) => {
        assert.equal(error.data?.code, 'PC_ARGS_INVALID');
        assert.equal(error.code, -32602);
        assert.match(error.message, /missing required argument "path"/);
        return true;
      });
      await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path: join(sandbox, 'notes.txt'), head: 'ten' } }), (error: Rejection & { message: string }) => {
        assert.equal(error.data?.code, 'PC_ARGS_INVALID');
        assert.match(error.message, /argument "head" must be number/);
        return true;
      });
      await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), deniedWith('PC_ROUTE_UNKNOWN_TOOL'));
      assert.equal(callsReceived(filesLog).length, before, 'nothing reached the server');
    } finally {
      await client.close();
    }
  });

  it('limits the rate per agent, says when to retry, and recovers', async () => {
    clock += 60_000;
    const client = await legacyClient(`${gw.url}/mcp`, { name: 'rate-agent' });
    const before = callsReceived(everythingLog).length;
    try {
      await client.callTool({ name: 'everything__echo', arguments: { message: 'https://public.example/1' } });
      await client.callTool({ name: 'everything__echo', arguments: { message: 'https://public.example/2' } });
      await assert.rejects(client.callTool({ name: 'everything__echo', arguments: { message: 'https://public.example/3' } }), (error: Rejection) => {
        assert.equal(error.data?.code, 'PC_RATE_LIMITED');
        assert.equal(error.data?.retryAfterMs, 1000);
        return true;
      });
      const other = await legacyClient(`${gw.url}/mcp`, { name: 'other-agent' });
      await other.callTool({ name: 'everything__echo', arguments: { message: 'https://public.example/other' } });
      await other.close();
      clock += 1000;
      await client.callTool({ name: 'everything__echo', arguments: { message: 'https://public.example/4' } });
      assert.deepEqual(
        callsReceived(everythingLog).slice(before).map((c) => c.arguments.message),
        ['https://public.example/1', 'https://public.example/2', 'https://public.example/other', 'https://public.example/4'],
      );
    } finally {
      await client.close();
    }
  });

  it('matches the task an agent declares in _meta or in the Portcullis-Task header', async () => {
    const plain = await legacyClient(`${gw.url}/mcp/everything`);
    const tagged = new LegacyClient({ name: 'tagged', version: '1.0.0' });
    await tagged.connect(new LegacyHttpTransport(new URL(`${gw.url}/mcp/everything`), { requestInit: { headers: { 'Portcullis-Task': 'triage-7' } } }));
    try {
      // Each call sums to its own number, so the server's log tells which ones reached it.
      const sum = (a: number) => ({ name: 'get-sum', arguments: { a, b: 3 } });
      const before = callsReceived(everythingLog).length;
      await assert.rejects(plain.callTool(sum(100)), deniedWith('PC_POLICY_DENIED'));
      assert.match(JSON.stringify((await plain.callTool({ ...sum(2), _meta: { 'dev.portcullis/task': 'triage-1' } })).content), /5/);
      assert.match(JSON.stringify((await tagged.callTool(sum(3))).content), /6/);
      await assert.rejects(tagged.callTool({ ...sum(101), _meta: { 'dev.portcullis/task': 'deploy' } }), deniedWith('PC_POLICY_DENIED'), 'the _meta label wins over the header');
      assert.deepEqual(
        callsReceived(everythingLog).slice(before).map((c) => c.arguments.a),
        [2, 3],
        'only the calls for a triage task reached the server',
      );
      assert.ok((await tagged.listTools()).tools.some((t) => t.name === 'get-sum'), 'listed for the declared task');
    } finally {
      await plain.close();
      await tagged.close();
    }
  });

  it('shows each caller only the tools it may call, on both endpoints', async () => {
    const reader = await legacyClient(`${gw.url}/mcp`, { name: 'reader-bot' });
    const writer = await modernClient(`${gw.url}/mcp/files`, { name: 'writer-bot' });
    try {
      const readerTools = (await reader.listTools()).tools.map((t) => t.name);
      assert.ok(readerTools.includes('files__read_text_file'));
      assert.ok(!readerTools.includes('files__write_file'), 'a destructive tool is hidden from a reader');
      assert.ok(!readerTools.includes('files__edit_file'));
      assert.ok(readerTools.includes('everything__echo'));
      assert.ok(!readerTools.includes('everything__get-sum'), 'no rule allows get-sum: hidden');
      await assert.rejects(reader.callTool({ name: 'files__write_file', arguments: { path: join(sandbox, 'x.txt'), content: 'x' } }), deniedWith('PC_POLICY_DENIED', 'readers-read-only'));
      const writerTools = (await writer.listTools()).tools.map((t) => t.name);
      assert.ok(writerTools.includes('write_file'));
      assert.ok(!callsReceived(filesLog).some((c) => c.name === 'write_file'), 'the reader\'s write never reached the server');
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('stops calls with the kill switch from the CLI at once, persists it, and lifts it', async () => {
    const config = join(root, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nsupply: { allowUnpinned: true }\nservers:\n  files: { command: node }\n  everything: { command: node }\n`);
    const client = await legacyClient(`${gw.url}/mcp/files`);
    const path = join(sandbox, 'notes.txt');
    const before = callsReceived(filesLog).length;
    try {
      assert.equal((await runCli(['kill', '--server', 'files', '--reason', 'incident 42', '-c', config])).code, 0);
      await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path } }), (error: Rejection & { message: string }) => {
        assert.equal(error.data?.code, 'PC_KILL_SWITCH');
        assert.match(error.message, /incident 42/);
        return true;
      });
      const status = await runCli(['status', '--json', '-c', config]);
      assert.deepEqual(JSON.parse(status.stdout).killSwitches.map((s: { target: unknown }) => s.target), [{ server: 'files' }]);
      assert.equal(callsReceived(filesLog).length, before, 'nothing reached the server while killed');
      assert.equal((await runCli(['unkill', '--server', 'files', '-c', config])).code, 0);
      const back = await client.callTool({ name: 'read_text_file', arguments: { path } });
      assert.match(JSON.stringify(back.content), /inside the sandbox/);
      const lifted = callsReceived(filesLog).length;
      assert.equal(lifted, before + 1, 'the call after unkill reached the server');
      const glob = await runCli(['kill', '--tool', 'files.read_*', '-c', config]);
      assert.equal(glob.code, 0);
      assert.equal(glob.stderr, '', 'a pattern that matches listed tools draws no warning');
      await assert.rejects(client.callTool({ name: 'read_text_file', arguments: { path } }), deniedWith('PC_KILL_SWITCH'));
      await assert.rejects(client.callTool({ name: 'read_multiple_files', arguments: { paths: [path] } }), deniedWith('PC_KILL_SWITCH'));
      assert.equal(callsReceived(filesLog).length, lifted, 'nothing the glob matches reached the server');
      // A typo in an incident must not pass for a stop: the switch is set, and the operator told.
      const typo = await runCli(['kill', '--tool', 'files.raed_text_file', '-c', config]);
      assert.equal(typo.code, 0);
      assert.match(typo.stderr, /warning: no tool the servers have listed is named "files\.raed_text_file"/);
      assert.equal((await runCli(['unkill', '--everything', '-c', config])).code, 0);
      const bad = await runCli(['kill', '--server', 'nope', '-c', config]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /no server named "nope"/);
    } finally {
      await client.close();
    }
  });

  it('puts a reloaded policy in force only when it is valid', async () => {
    const client = await legacyClient(`${gw.url}/mcp/everything`, { name: 'reload-agent' });
    try {
      clock += 60_000;
      const problems = gw.gateway.reloadPolicy({ ...gw.gateway.config.policy!, rules: [{ name: 'broken', effect: 'allow', on: ['call', 'list'], servers: ['*'], when: 'args.x ==' }] });
      assert.match(problems[0]!.message, /CEL syntax error/);
      await client.callTool({ name: 'echo', arguments: { message: 'https://public.example/still' } });
      assert.deepEqual(gw.gateway.reloadPolicy({ ...gw.gateway.config.policy!, rules: [{ name: 'only-files', effect: 'allow', on: ['call', 'list'], servers: ['files'] }] }), []);
      await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'https://public.example/now' } }), deniedWith('PC_POLICY_DENIED'));
      const echoed = callsReceived(everythingLog).map((c) => c.arguments.message);
      assert.ok(echoed.includes('https://public.example/still'), 'the call under the kept policy reached the server');
      assert.ok(!echoed.includes('https://public.example/now'), 'the call the reloaded policy denies did not');
    } finally {
      gw.gateway.reloadPolicy(gw.gateway.config.policy);
      await client.close();
    }
  });
});

describe('the kill switch across a restart', () => {
  it('keeps a server killed after `portcullis serve` restarts on the same data dir, until it is lifted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pc-kill-restart-'));
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    const log = join(root, 'everything.log');
    const everything = pinned({ command: process.execPath, args: [RECORDER, log, process.execPath, EVERYTHING, 'stdio'] });
    const config = join(root, 'portcullis.yaml');
    // JSON is YAML: the shipped defaults plus one pinned server and a policy for its echo.
    writeFileSync(config, JSON.stringify({ listen: { port: 0 }, dataDir, servers: { everything }, policy: { rules: [{ name: 'echo', effect: 'allow', servers: ['everything'], tools: ['echo'] }] } }));
    const echo = (client: LegacyClient, message: string) => client.callTool({ name: 'echo', arguments: { message } });
    const first = await serveChild(config);
    try {
      const client = await legacyClient(`${first.base}/mcp/everything`);
      assert.deepEqual((await echo(client, 'before the incident')).content, [{ type: 'text', text: 'Echo: before the incident' }]);
      await client.close();
      assert.equal((await runCli(['kill', '--server', 'everything', '--reason', 'incident 43', '-c', config])).code, 0);
    } finally {
      await first.stop();
    }
    // A new gateway process on the same data dir: nothing of the first one survives but its files.
    const second = await serveChild(config);
    try {
      const client = await legacyClient(`${second.base}/mcp/everything`);
      await assert.rejects(echo(client, 'after the restart'), (error: Rejection & { message: string }) => {
        assert.equal(error.data?.code, 'PC_KILL_SWITCH');
        assert.match(error.message, /incident 43/);
        return true;
      });
      assert.deepEqual(callsReceived(log).map((c) => c.arguments.message), ['before the incident'], 'nothing reached the server while killed');
      assert.equal((await runCli(['unkill', '--server', 'everything', '-c', config])).code, 0);
      assert.deepEqual((await echo(client, 'lifted')).content, [{ type: 'text', text: 'Echo: lifted' }]);
      assert.deepEqual(callsReceived(log).map((c) => c.arguments.message), ['before the incident', 'lifted']);
      await client.close();
    } finally {
      await second.stop();
    }
  });
});
