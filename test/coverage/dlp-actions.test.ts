/**
 * Every DLP action on results, end to end through a real gateway in front of the leaky fixture:
 * `pii: block | alert | mask | off`, `injection: flag | wrap | off`, `patterns: mask | block | alert | off`
 * (a server's override, and a tool's override beating its server's), a pattern's own
 * `action: alert | off`, and `piiKinds` narrowing what counts as personal data. What the client got is
 * checked, and what the audit record says was found and done.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { legacyClient, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { fakePersonalData } from '../helpers/personal-data.ts';
import { auditTrail } from '../helpers/recorded.ts';

const LEAKY = new URL('../fixtures/dlp-server.ts', import.meta.url).pathname;
const pii = fakePersonalData();
const textOf = (result: unknown): string => JSON.stringify((result as { content?: unknown }).content);
const fixture = { command: process.execPath, args: [LEAKY] };

describe('DLP actions on results', () => {
  let gw: TestGateway;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-cov-dlp-'));
    gw = await startGateway({
      dataDir,
      servers: { s1: fixture, s2: fixture, s3: fixture, s4: fixture },
      dlp: {
        piiKinds: ['email', 'payment-card'],
        patterns: [
          { name: 'contact-word', regex: 'contact', action: 'alert', arguments: false },
          { name: 'sunny-word', regex: 'sunny', action: 'off', arguments: false },
        ],
        servers: {
          s1: { results: { pii: 'block', injection: 'flag' } },
          s2: { results: { pii: 'alert', injection: 'wrap', patterns: 'mask' } },
          s3: { results: { pii: 'mask', injection: 'off', patterns: 'block' }, tools: { inject: { results: { patterns: 'off' } } } },
          s4: { results: { pii: 'off', patterns: 'off' }, tools: { leak: { results: { patterns: 'alert' } } } },
        },
      },
    });
  });
  after(async () => gw.close());

  /** The tool's result (or the refusal code) and the DLP findings its audit record holds. */
  async function call(server: string, tool: string, args: Record<string, unknown> = {}): Promise<{ text: string; code: string | undefined; findings: Array<{ type: string; rule: string; action: string }> }> {
    const before = auditTrail(dataDir).length;
    const client = await legacyClient(`${gw.url}/mcp/${server}`);
    let text = '';
    let code: string | undefined;
    try {
      text = textOf(await client.callTool({ name: tool, arguments: args }));
    } catch (error) {
      code = (error as { data?: { code?: string } }).data?.code;
    } finally {
      await client.close();
    }
    const record = auditTrail(dataDir).slice(before).find((r) => r.method === 'tools/call' && r.target === tool);
    assert.ok(record, `${server}/${tool}: an audit record`);
    return { text, code, findings: record.dlp ?? [] };
  }
  const actions = (findings: Array<{ type: string; rule: string; action: string }>, type: string): string[] => [...new Set(findings.filter((f) => f.type === type).map((f) => f.action))];

  it('pii: block withholds the result; injection: flag passes it and records the finding', async () => {
    const leak = await call('s1', 'leak');
    assert.equal(leak.code, 'PC_DLP_BLOCKED');
    assert.equal(leak.text, '');
    assert.deepEqual(actions(leak.findings, 'pii'), ['block']);
    const inject = await call('s1', 'inject', { kind: 'phrase' });
    assert.equal(inject.code, undefined);
    assert.match(inject.text, /IGNORE ALL PREVIOUS INSTRUCTIONS/);
    assert.deepEqual(actions(inject.findings, 'injection'), ['flag']);
  });

  it('pii: alert passes personal data but records it, only of the piiKinds listed; patterns: mask masks a pattern whose own action is alert; injection: wrap delimits', async () => {
    const leak = await call('s2', 'leak');
    assert.equal(leak.code, undefined);
    assert.ok(leak.text.includes(pii.email), 'alert lets the value through');
    assert.deepEqual(actions(leak.findings, 'pii'), ['alert']);
    const kinds = new Set(leak.findings.filter((f) => f.type === 'pii').map((f) => f.rule));
    assert.ok([...kinds].every((k) => k === 'email' || k === 'payment-card') && kinds.has('email'), `only listed kinds: ${[...kinds].join(', ')}`);
    assert.ok(!leak.text.includes('contact '), 'the pattern was masked by the server override');
    assert.match(leak.text, /\[REDACTED:contact-word#1\]/);
    const inject = await call('s2', 'inject', { kind: 'phrase' });
    assert.match(inject.text, /untrusted-data/);
    assert.deepEqual(actions(inject.findings, 'injection'), ['wrap']);
  });

  it('patterns: block on a server blocks even a pattern whose own action is off; a tool override of off beats it; injection: off looks for nothing', async () => {
    const leak = await call('s3', 'leak');
    assert.equal(leak.code, 'PC_DLP_BLOCKED');
    const inject = await call('s3', 'inject', { kind: 'phrase' });
    assert.equal(inject.code, undefined, 'the tool override (patterns: off) beats the server override (patterns: block)');
    assert.match(inject.text, /sunny/);
    assert.match(inject.text, /IGNORE ALL PREVIOUS INSTRUCTIONS/);
    assert.deepEqual(actions(inject.findings, 'injection'), [], 'injection: off records nothing');
  });

  it('pii: off leaves personal data alone; a tool override of patterns: alert records the pattern and passes it', async () => {
    const leak = await call('s4', 'leak');
    assert.equal(leak.code, undefined);
    assert.ok(leak.text.includes(pii.email) && leak.text.includes('contact '));
    assert.deepEqual(actions(leak.findings, 'pii'), []);
    const patternFindings = leak.findings.filter((f) => f.rule === 'contact-word');
    assert.ok(patternFindings.length > 0 && patternFindings.every((f) => f.action === 'alert'), JSON.stringify(leak.findings));
    const inject = await call('s4', 'inject', { kind: 'phrase' });
    assert.ok(!inject.findings.some((f) => f.rule === 'sunny-word'), 'patterns: off on the server: the pattern is not looked for');
  });
});
