/**
 * Conformance counts: `node bench/conformance.ts`. Runs the official MCP conformance suites (the same
 * three as test/conformance/) against the fixture server directly, through the gateway's per-server
 * endpoint and through its aggregated endpoint, and records how many checks passed, failed, warned or
 * were informational in each. Writes bench/results/conformance.jsonl (docs/conformance.md's table).
 * Whether those counts are acceptable is the conformance test's job; this records them.
 */
import { startGateway } from '../test/helpers/gateway.ts';
import { startFixtureServer } from '../test/conformance/fixture-server.ts';
import { countStatuses, runSuite, SUITES } from '../test/conformance/suite.ts';
import { stamp, writeResults } from './results.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const at = stamp(false);
const fixture = await startFixtureServer();
const perServer = await startGateway({ servers: { fixture: { url: fixture.url } } });
const aggregated = await startGateway({ servers: { fixture: { url: fixture.url, namespace: false } } });
const figures: Array<{ figure: string } & Record<string, unknown>> = [];
try {
  const localhost = (url: string) => url.replace('127.0.0.1', 'localhost');
  const targets = { direct: fixture.url, perServer: `${localhost(perServer.url)}/mcp/fixture`, aggregated: `${localhost(aggregated.url)}/mcp` };
  for (const suite of SUITES) {
    for (const [target, url] of Object.entries(targets)) {
      const counts = countStatuses(await runSuite(suite.bin, suite.args, url));
      const figure = { figure: 'conformance', suite: suite.name, label: suite.label, target, passed: counts.SUCCESS ?? 0, failed: counts.FAILURE ?? 0, warnings: counts.WARNING ?? 0, info: counts.INFO ?? 0, skipped: counts.SKIPPED ?? 0 };
      figures.push(figure);
      process.stdout.write(`${JSON.stringify(figure)}\n`);
    }
  }
} finally {
  await perServer.close();
  await aggregated.close();
  await fixture.close();
}
process.stdout.write(`wrote ${writeResults('conformance', at, figures)}\n`);
