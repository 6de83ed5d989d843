/**
 * The policy author's side: monitor mode and what the audit trail keeps of decisions, `policy test`,
 * `policy explain`, `config check` against the pinned catalog, and hot reload in `portcullis serve`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import type { AuditRecord } from '../../src/audit/record.ts';
import { EVERYTHING, FILESYSTEM, legacyClient, runCli, serveChild, startGateway, waitFor, type TestGateway } from '../helpers/gateway.ts';

const records = (dataDir: string): AuditRecord[] => {
  const db = new DatabaseSync(join(dataDir, 'audit.db'), { readOnly: true });
  const rows = db.prepare('SELECT record FROM audit_records ORDER BY seq').all() as Array<{ record: string }>;
  db.close();
  return rows.map((r) => JSON.parse(r.record) as AuditRecord);
};

describe('policy tooling', () => {
  let gw: TestGateway;
  let dir: string;
  let sandbox: string;
  let config: string;
  const policyYaml = (mode: string) => `policy:
  mode: ${mode}
  rules:
    - { name: files-in-sandbox, effect: allow, servers: [files], guards: { paths: { args: [path, paths], roots: [SANDBOX] } } }
    - { name: no-writes, effect: deny, servers: [files], tools: ["write_*", "edit_*"], reason: "the files server is read-only" }
  tools:
    - { server: files, tool: "read_*", scopes: [files:read] }
`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-policy-cli-'));
    sandbox = join(dir, 'sandbox');
    mkdirSync(sandbox);
    writeFileSync(join(sandbox, 'a.txt'), 'hello\n');
    const dataDir = join(dir, 'data');
    const policy = {
      mode: 'monitor',
      rules: [
        { name: 'files-in-sandbox', effect: 'allow', servers: ['files'], guards: { paths: { args: ['path', 'paths'], roots: [sandbox] } } },
        { name: 'no-writes', effect: 'deny', servers: ['files'], tools: ['write_*', 'edit_*'], reason: 'the files server is read-only' },
      ],
      tools: [{ server: 'files', tool: 'read_*', scopes: ['files:read'] }],
    };
    gw = await startGateway({ dataDir, servers: { files: { command: process.execPath, args: [FILESYSTEM, sandbox] } }, policy });
    config = join(dir, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\nsupply: { allowUnpinned: true }\nservers:\n  files: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(sandbox)}] }\n${policyYaml('enforce').replace('SANDBOX', JSON.stringify(sandbox))}`);
  });
  after(async () => gw?.close());

  it('in monitor mode lets denied calls through and records the rule and the would-be denial', async () => {
    const client = await legacyClient(`${gw.url}/mcp/files`);
    try {
      assert.equal((await client.listTools()).tools.length > 5, true, 'lists are not filtered while monitoring');
      const outside = await client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } });
      assert.equal(outside.isError, true, 'the call reached the server, which refused it itself');
      await client.callTool({ name: 'read_text_file', arguments: { path: join(sandbox, 'a.txt') } });
    } finally {
      await client.close();
    }
    const calls = records(gw.gateway.config.dataDir!).filter((r) => r.method === 'tools/call' && r.decision !== 'intent');
    assert.equal(calls.length, 2);
    assert.equal(calls[0]!.rule, 'files-in-sandbox');
    assert.match(calls[0]!.reason ?? '', /^monitor: would be refused \(PC_POLICY_GUARD\)/);
    assert.equal(calls[1]!.rule, 'files-in-sandbox');
    assert.equal(calls[1]!.decision, 'allowed');
    assert.equal(calls[1]!.reason, undefined);
  });

  it('policy test prints the decision and the rule, as text or JSON, with exit 0 only when allowed', async () => {
    const passwd = await runCli(['policy', 'test', '-c', config, '--json', '--call', 'files.read_text_file {"path":"/etc/passwd"}']);
    assert.equal(passwd.code, 1);
    const decision = JSON.parse(passwd.stdout);
    assert.deepEqual(Object.keys(decision), ['decision', 'rule', 'reason', 'code']);
    assert.equal(decision.decision, 'deny');
    assert.equal(decision.rule, 'files-in-sandbox');
    assert.equal(decision.code, 'PC_POLICY_GUARD');
    const inside = await runCli(['policy', 'test', '-c', config, '--call', `files.read_text_file {"path":${JSON.stringify(join(sandbox, 'a.txt'))}}`]);
    assert.equal(inside.code, 0);
    assert.match(inside.stdout, /^ALLOW {2}files\.read_text_file {2}rule=files-in-sandbox/);
    const write = await runCli(['policy', 'test', '-c', config, '--call', `files.write_file {"path":${JSON.stringify(join(sandbox, 'b.txt'))}}`]);
    assert.match(write.stdout, /^DENY .*rule=no-writes.*\n {2}the files server is read-only/);
    const scoped = await runCli(['policy', 'test', '-c', config, '--json', '--as', 'agent=ci,scopes=files:list', '--call', `files.read_text_file {"path":${JSON.stringify(join(sandbox, 'a.txt'))}}`]);
    assert.equal(JSON.parse(scoped.stdout).code, 'PC_AUTH_INSUFFICIENT_SCOPE');
    for (const [args, message] of [
      [['--call', 'no-dot'], /--call must be "server\.tool/],
      [['--call', 'files.read {oops'], /not JSON/],
      [['--call', 'ghost.read {}'], /no server named|server "ghost"/],
      [['--call', 'files.read {}', '--as', 'team=x'], /--as: "team=x"/],
      [['--call', 'files.read {}', '--at', 'yesterday'], /--at "yesterday" is not a date/],
    ] as const) {
      const bad = await runCli(['policy', 'test', '-c', config, ...args]);
      assert.equal(bad.code, 2, args.join(' '));
      assert.match(bad.stderr, message);
    }
  });

  it('policy explain shows which tools a caller sees and why, from the pinned catalog', async () => {
    const local = await runCli(['policy', 'explain', '-c', config, '--json']);
    assert.equal(local.code, 0, local.stderr);
    const rows = JSON.parse(local.stdout).tools as { tool: string; visible: boolean; why: string }[];
    assert.ok(rows.length > 5, 'the catalog the gateway pinned is used');
    assert.equal(rows.find((r) => r.tool === 'read_text_file')!.visible, true);
    assert.deepEqual(rows.find((r) => r.tool === 'write_file'), { server: 'files', tool: 'write_file', visible: false, why: 'denied by rule "no-writes"', scopes: [] });
    const scoped = JSON.parse((await runCli(['policy', 'explain', '-c', config, '--json', '--as', 'agent=ci,scopes=none'])).stdout).tools as { tool: string; visible: boolean; why: string }[];
    assert.match(scoped.find((r) => r.tool === 'read_text_file')!.why, /lacks scope files:read/);
    const text = await runCli(['policy', 'explain', '-c', config]);
    assert.match(text.stdout, /HIDDEN {2}files\.write_file {2}— denied by rule "no-writes"/);
  });

  it('config check rejects tool names the pinned catalog does not have, with the path', async () => {
    const bad = join(dir, 'typo.yaml');
    writeFileSync(bad, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nsupply: { allowUnpinned: true }\nservers:\n  files: { command: node }\npolicy:\n  rules:\n    - { name: r, effect: allow, servers: [files], tools: [read_txt_file] }\n`);
    const result = await runCli(['config', 'check', '-c', bad]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /policy\.rules\[0\]\.tools\[0\]: no tool matching "read_txt_file" in the pinned catalog of files/);
  });
});

describe('policy hot reload in portcullis serve', () => {
  it('reloads a valid policy edit and keeps the old policy when the edit is broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-reload-'));
    const file = join(dir, 'portcullis.yaml');
    const head = `listen: { port: 0 }\ndataDir: ${JSON.stringify(dir)}\nsupply: { allowUnpinned: true }\nservers:\n  everything: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }\n`;
    writeFileSync(file, `${head}policy:\n  rules:\n    - { name: echo-only, effect: allow, tools: [echo] }\n`);
    const served = await serveChild(file);
    const log = served.stderr;
    try {
      const client = await legacyClient(`${served.base}/mcp/everything`);
      try {
        const sum = () => client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
        await assert.rejects(sum(), (e: { data?: { code?: string } }) => e.data?.code === 'PC_POLICY_DENIED');
        writeFileSync(file, `${head}policy:\n  rules:\n    - { name: echo-only, effect: allow, tools: [echo], when: "args.message ==" }\n`);
        await waitFor(() => (/policy change rejected|configuration change rejected/.test(log()) ? true : undefined), 10_000, 'the broken edit to be rejected');
        await client.callTool({ name: 'echo', arguments: { message: 'still allowed' } });
        writeFileSync(file, `${head}policy:\n  rules:\n    - { name: echo-and-sum, effect: allow, tools: [echo, get-sum] }\n`);
        await waitFor(() => (/policy reloaded/.test(log()) ? true : undefined), 10_000, 'the valid edit to be reloaded');
        const result = await sum();
        assert.match(JSON.stringify(result.content), /3/);
      } finally {
        await client.close();
      }
    } finally {
      await served.stop();
    }
  });
});
