/**
 * Pins are checked whenever a server starts: a stdio server whose file changes while it runs is not
 * started again after it crashes (the real `portcullis serve`: the server goes to failed, an alert is
 * logged, calls are refused with PC_SUPPLY_PIN_FAILED and recorded, and the changed file never
 * runs); `portcullis scan -c` and `policy test --live` do not start a server whose pin does not hold.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { legacyClient, post, runCli, serveChild, waitFor } from '../helpers/gateway.ts';
import { auditRecords, HOSTILE, messagesReceived, refusalCode, targetsReceived, writeCatalog } from '../helpers/supply.ts';
import { cleanCatalog } from '../fixtures/hostile-catalog.ts';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A config running the server entry `entry` (which logs what it receives to `log`), pinned to `pin`. */
function configFile(dir: string, name: string, entry: string, log: string, pin: string): string {
  const file = join(dir, `${name}.yaml`);
  const node = JSON.stringify(process.execPath);
  writeFileSync(
    file,
    `listen: { port: 0 }\ndataDir: ${JSON.stringify(join(dir, `${name}-data`))}\naudit: { store: jsonl }\npolicy: { rules: [{ name: hostile, effect: allow, servers: [hostile] }] }\n` +
      `servers:\n  hostile:\n    command: ${node}\n    args: [${JSON.stringify(entry)}, ${JSON.stringify(join(dir, 'state.json'))}, ${JSON.stringify(log)}]\n` +
      `    pin: { sha256: ${pin}, file: ${JSON.stringify(entry)} }\n    restart: { initialDelayMs: 20, maxDelayMs: 100, maxRestarts: 5 }\n`,
  );
  return file;
}

function setup(): { dir: string; entry: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pc-serverpin-'));
  writeCatalog(join(dir, 'state.json'), cleanCatalog());
  // The server's own file: what the pin hashes, and what an attacker would swap.
  const entry = join(dir, 'server.ts');
  // It records what it receives itself: the pin names the script Node runs, so no wrapper stands in front.
  writeFileSync(
    entry,
    `import { appendFileSync } from 'node:fs';\nimport { runStdio } from ${JSON.stringify(pathToFileURL(HOSTILE).href)};\n` +
      `process.stdin.on('data', (chunk) => appendFileSync(process.argv[3]!, chunk));\nawait runStdio(process.argv[2]!);\n`,
  );
  return { dir, entry };
}

describe('supply chain: pins are checked whenever a server starts', () => {
  it('does not restart a crashed server whose file changed: failed, alert logged, calls refused and recorded', async () => {
    const { dir, entry } = setup();
    const log = join(dir, 'received.log');
    const config = configFile(dir, 'serve', entry, log, sha256(entry));
    const served = await serveChild(config);
    try {
      const client = await legacyClient(`${served.base}/mcp/hostile`);
      assert.deepEqual((await client.callTool({ name: 'ok_tool', arguments: { q: 'x' } })).content, [{ type: 'text', text: 'ok_tool ran' }]);
      appendFileSync(entry, 'process.stderr.write("a changed binary ran\\n");\n');
      await client.callTool({ name: 'crash', arguments: {} }).catch(() => undefined);
      await waitFor(async () => ((await (await fetch(`${served.base}/healthz`)).json()) as { servers: Record<string, string> }).servers.hostile === 'failed' || undefined, 10_000, 'the server to be failed');

      assert.equal(await refusalCode(client.callTool({ name: 'ok_tool', arguments: { q: 'x' } })), 'PC_SUPPLY_PIN_FAILED');
      await client.close();
      const initialize = await post(`${served.base}/mcp/hostile`, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
      assert.equal(initialize.json.error.data.code, 'PC_SUPPLY_PIN_FAILED');
      assert.match(initialize.json.error.message, /refusing to start it/);

      // The changed file never ran: one start only, and nothing after the crash reached a server.
      const received = messagesReceived(log);
      assert.equal(received.filter((m) => m.method === 'initialize').length, 1);
      assert.deepEqual(targetsReceived(received, 'tools/call'), ['ok_tool', 'crash']);
      assert.ok(!served.stderr().includes('a changed binary ran'));
      const alerts = served.stderr().split('\n').filter((line) => line.includes('"alert":"supply-chain"') && line.includes('refusing to start it'));
      assert.equal(alerts.length, 1, served.stderr());
      const dataDir = join(dir, 'serve-data');
      await waitFor(() => auditRecords(dataDir).some((r) => r.target === 'ok_tool' && r.code === 'PC_SUPPLY_PIN_FAILED' && r.decision === 'denied') || undefined, 5000, 'the refusal in the audit trail');
    } finally {
      await served.stop();
    }
  });

  it('portcullis scan -c and policy test --live start a server only if its pin holds', async () => {
    const { dir, entry } = setup();
    const wrongLog = join(dir, 'wrong.log');
    const wrong = configFile(dir, 'wrong', entry, wrongLog, 'a'.repeat(64));
    const scan = await runCli(['scan', '-c', wrong, '--json']);
    assert.equal(scan.code, 1, 'a server whose pin does not hold fails the scan');
    assert.deepEqual((JSON.parse(scan.stdout) as { unlisted: Array<{ server: string; code: string }> }).unlisted.map((u) => [u.server, u.code]), [['hostile', 'PC_SUPPLY_PIN_FAILED']]);
    assert.match(scan.stderr, /its pin does not hold; it was not started/);
    const live = await runCli(['policy', 'test', '-c', wrong, '--live', '--call', 'hostile.ok_tool {"q":"x"}']);
    assert.match(live.stderr, /server "hostile" could not be listed \(its pin does not hold/);
    assert.ok(!existsSync(wrongLog), 'the server was never started');

    // The control: with the right pin the same commands do start and list it.
    const rightLog = join(dir, 'right.log');
    const right = configFile(dir, 'right', entry, rightLog, sha256(entry));
    const ok = await runCli(['scan', '-c', right, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as { tools: Array<{ name: string }>; definitions: Array<{ kind: string; name: string; verdict: string }> };
    assert.ok(report.tools.some((t) => t.name === 'ok_tool'));
    assert.deepEqual(report.definitions.filter((d) => d.kind === 'server').map((d) => [d.name, d.verdict]), [['instructions', 'ok']]);
    assert.ok(targetsReceived(messagesReceived(rightLog), 'initialize').length === 1);
  });
});
