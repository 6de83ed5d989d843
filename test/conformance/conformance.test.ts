/**
 * The official MCP conformance suite as referee. Server scenarios run against our fixture directly,
 * then through the gateway's per-server endpoint and through the aggregated endpoint (namespacing off
 * for that server). Every check that passes direct must pass through the gateway; the only accepted
 * failures are those in baseline.json, which fail direct too and say why.
 *
 * Suites: @modelcontextprotocol/conformance 0.1.16 (default suite: 2025-06-18 / 2025-11-25) and
 * 0.2.0-alpha.12 with `--requirements 2025-11-25` and `--requirements 2026-07-28`.
 * Alone: `npm run conformance`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startFixtureServer, type FixtureServer } from './fixture-server.ts';
import { runSuite, SUITES, type Results } from './suite.ts';

interface Baseline {
  expectedFailures: Record<string, Record<string, string>>;
  informational: Array<{ check: string; why: string }>;
}
const baseline = JSON.parse(readFileSync(new URL('./baseline.json', import.meta.url), 'utf8')) as Baseline;

const isBad = (status: string | undefined): boolean => status === undefined || status === 'FAILURE' || status === 'WARNING';

describe('MCP conformance suite, direct and through the gateway', { timeout: 600_000 }, () => {
  const fixtures: FixtureServer[] = [];
  const gateways: TestGateway[] = [];
  const results = new Map<string, Results>();

  // The suite runs mostly wait (their scenarios pace themselves), so the three targets run side by side,
  // each against a fixture server (and gateway) of its own: no state is shared between concurrent runs.
  // The suites run one after the other per target (all nine at once starve a 2-core machine, and some
  // scenarios have timing bounds of their own). The hook has its own bound, above the runner's default.
  before(async () => {
    const fixture = async () => {
      const started = await startFixtureServer();
      fixtures.push(started);
      return started;
    };
    const gateway = async (server: Record<string, unknown>) => {
      const started = await startGateway({ servers: { fixture: server } });
      gateways.push(started);
      return started;
    };
    const localhost = (url: string) => url.replace('127.0.0.1', 'localhost');
    const targets: Record<string, () => Promise<string>> = {
      direct: async () => (await fixture()).url,
      perServer: async () => `${localhost((await gateway({ url: (await fixture()).url })).url)}/mcp/fixture`,
      aggregated: async () => `${localhost((await gateway({ url: (await fixture()).url, namespace: false })).url)}/mcp`,
    };
    await Promise.all(
      Object.entries(targets).map(async ([target, start]) => {
        const url = await start();
        for (const suite of SUITES) results.set(`${suite.name}/${target}`, await runSuite(suite.bin, suite.args, url));
      }),
    );
  }, { timeout: 360_000 });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(fixtures.map((f) => f.close()));
  });

  for (const suite of SUITES) {
    it(`${suite.name}: the fixture fails exactly the baselined checks, directly`, () => {
      const direct = results.get(`${suite.name}/direct`)!;
      assert.ok(direct.size > 20, `the suite ran (${direct.size} checks)`);
      const expected = baseline.expectedFailures[suite.name] ?? {};
      const failing = [...direct].filter(([, r]) => r.status === 'FAILURE').map(([key]) => key);
      const unexpected = failing.filter((key) => !(key in expected));
      const stale = Object.keys(expected).filter((key) => direct.get(key)?.status !== 'FAILURE');
      assert.deepEqual(unexpected, [], `new direct failures: ${unexpected.map((k) => `${k} (${direct.get(k)?.message})`).join('; ')}`);
      assert.deepEqual(stale, [], `baseline entries that no longer fail direct (remove them): ${stale.join(', ')}`);
    });

    for (const target of ['perServer', 'aggregated']) {
      it(`${suite.name}: every check that passes direct passes through the gateway (${target})`, () => {
        const direct = results.get(`${suite.name}/direct`)!;
        const through = results.get(`${suite.name}/${target}`)!;
        const informational = new Set(baseline.informational.map((i) => i.check));
        const regressions: string[] = [];
        for (const [key, result] of direct) {
          if (result.status !== 'SUCCESS') continue;
          const got = through.get(key);
          if (got?.status === 'SUCCESS') continue;
          if (got?.status === 'INFO' && informational.has(key)) continue;
          regressions.push(`${key}: ${got?.status ?? 'MISSING'} ${got?.message ?? ''}`);
        }
        assert.deepEqual(regressions, []);
        const dns = through.get('dns-rebinding-protection:localhost-host-rebinding-rejected') ?? [...through].find(([k]) => k.startsWith('dns-rebinding-protection:'))?.[1];
        if (suite.name !== 'stable' || dns) assert.ok(dns && !isBad(dns.status), 'the gateway\'s own DNS-rebinding protection passes');
      });
    }
  }

  it('2026-07-28: the gateway validates Mcp-Param-* headers that the fixture itself does not', () => {
    for (const target of ['perServer', 'aggregated']) {
      const through = results.get(`2026-07-28/${target}`)!;
      const checks = [...through].filter(([key]) => key.startsWith('http-custom-header-server-validation:'));
      assert.ok(checks.length > 0, 'the scenario ran');
      assert.deepEqual(checks.filter(([, r]) => r.status !== 'SUCCESS').map(([key, r]) => `${key}: ${r.status} ${r.message}`), [], target);
    }
  });
});
