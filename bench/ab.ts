/**
 * Two builds of the gateway in one paired run: `node bench/ab.ts --base DIR [--rounds N] [--out FILE]`.
 *
 * DIR is another checkout of Portcullis with its dist/ built and its node_modules (e.g. a commit before
 * a change: `git archive <commit> | tar -x -C DIR`, link node_modules, `npx tsc -p tsconfig.build.json`).
 * This tree must be built too (`npm run build`). Both trees run the passthrough and the full chain of
 * bench/run.ts in front of the same echo upstream, beside a naive hop and its A/A twin, on the legacy
 * era's `tools/call` echo at c=1 and c=32, interleaved A B A B with the order rotated each round, so
 * that a difference between the builds can be read against the noise of the same run. Prints the
 * medians and writes them as JSON Lines to FILE (default: a file in the system's temp folder), then for
 * each load the ratios of this tree's cells to the base's taken round by round (the two measured seconds
 * apart, so a machine that drifts between rounds cancels out), beside the same ratio of the A/A twin to
 * the naive hop: the noise floor of that ratio.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FULL_POLICY } from './full-policy.ts';
import { closedLoop, type CellResult, type Target, type Workload } from './loadgen.ts';
import { cpuSeconds, median, start, type Proc } from './procs.ts';
import { stamp } from './results.ts';
import { option, requiredBase } from './usage.ts';

const BASE = requiredBase('node bench/ab.ts --base DIR [--rounds N] [--out FILE]');
const ROUNDS = Number(option('--rounds') ?? 7);
const CELL_MS = 2000;
const WARMUP_MS = 400;
const ROOT = new URL('..', import.meta.url).pathname;
const NODE = process.execPath;
const echo: Workload = { name: 'tools/call echo', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello, gateway' } } };

const procs: Proc[] = [];
const dir = join(tmpdir(), `pc-ab-${process.pid}`);
mkdirSync(dir, { recursive: true });
try {
  const up = await start('echo', NODE, ['bench/echo-server.ts', '--http', '0', '--tools', '10'], /listening (\d+)/);
  procs.push(up);
  const echoUrl = `http://127.0.0.1:${up.match[1]}/mcp`;
  const naive = async (name: string) => {
    const p = await start(name, NODE, ['bench/naive-proxy.ts', '0', echoUrl], /listening (\d+)/);
    procs.push(p);
    return { url: `http://127.0.0.1:${p.match[1]}/mcp`, pid: p.pid };
  };
  const servers = `servers:\n  echo: { url: "${echoUrl}" }\n`;
  const common = `listen: { port: 0 }\nlogging: { level: warn }\nsupply: { allowUnpinned: true }\n`;
  // One tree's passthrough and full chain, each with its own data dir (its own audit chain and key).
  const tree = async (label: string, root: string) => {
    const bin = join(root, 'bin', 'portcullis.js');
    const gateway = async (name: string, yaml: string) => {
      const file = join(dir, `${label}-${name}.yaml`);
      writeFileSync(file, yaml);
      return file;
    };
    const passFile = await gateway('pass', `${common}audit: { store: off }\npolicy: { rules: [{ name: all, effect: allow }] }\n${servers}`);
    const fullFile = await gateway('full', `${common}dataDir: ${JSON.stringify(join(dir, `${label}-data`))}\naudit: { store: sqlite }\nidentity: { apiKeys: {} }\n${FULL_POLICY}${servers}`);
    const key = (JSON.parse(execFileSync(NODE, [bin, 'key', 'create', '--agent', 'bench', '--scopes', 'mcp', '--expires', '1d', '--json', '-c', fullFile], { cwd: root, encoding: 'utf8' })) as { key: string }).key;
    const ready = /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/;
    const pass = await start(`${label} passthrough`, NODE, [bin, 'serve', '-c', passFile], ready, {}, root);
    const full = await start(`${label} full`, NODE, [bin, 'serve', '-c', fullFile], ready, {}, root);
    procs.push(pass, full);
    return [
      { name: `${label}: passthrough`, target: { url: `${pass.match[1]}/mcp/echo`, era: 'legacy' as const }, pid: pass.pid },
      { name: `${label}: full chain`, target: { url: `${full.match[1]}/mcp/echo`, era: 'legacy' as const, headers: { authorization: `Bearer ${key}` } }, pid: full.pid },
    ];
  };
  const hop = await naive('naive hop');
  const hopB = await naive('naive hop (A/A)');
  const treatments: Array<{ name: string; target: Target; pid?: number }> = [
    { name: 'direct', target: { url: echoUrl, era: 'legacy' } },
    { name: 'naive hop', target: { url: hop.url, era: 'legacy' }, pid: hop.pid },
    { name: 'naive hop (A/A)', target: { url: hopB.url, era: 'legacy' }, pid: hopB.pid },
    ...(await tree('base', resolve(BASE))),
    ...(await tree('this tree', ROOT)),
  ];
  for (const t of treatments) await closedLoop(t.target, echo, 4, 1500, 0); // JIT warm-up
  const at = stamp(false);
  const lines: Array<Record<string, unknown>> = [];
  for (const concurrency of [1, 32]) {
    const runs = new Map<string, Array<CellResult & { cpuUs?: number }>>();
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < treatments.length; k++) {
        const t = treatments[(k + round) % treatments.length]!;
        const cpu = t.pid ? cpuSeconds(t.pid) : 0;
        const r: CellResult & { cpuUs?: number } = await closedLoop(t.target, echo, concurrency, CELL_MS, WARMUP_MS);
        if (t.pid && r.requests > 0) r.cpuUs = ((cpuSeconds(t.pid) - cpu) * (CELL_MS / (CELL_MS + WARMUP_MS)) * 1e6) / r.requests;
        runs.set(t.name, [...(runs.get(t.name) ?? []), r]);
      }
    }
    const direct = runs.get('direct')!;
    const naiveRps = median(runs.get('naive hop')!.map((r) => r.achievedRps));
    for (const t of treatments) {
      const r = runs.get(t.name)!;
      const line = {
        ...at,
        figure: 'ab',
        load: `c=${concurrency}`,
        treatment: t.name,
        rounds: ROUNDS,
        achievedRps: median(r.map((x) => x.achievedRps)),
        rpsOverNaiveHop: median(r.map((x) => x.achievedRps)) / naiveRps,
        p50Ms: median(r.map((x) => x.p50)),
        p99Ms: median(r.map((x) => x.p99)),
        addedP50Ms: t.name === 'direct' ? undefined : median(r.map((x, i) => x.p50 - direct[i]!.p50)),
        cpuUsPerRequest: t.pid ? median(r.map((x) => x.cpuUs ?? Number.NaN)) : undefined,
        errors: r.reduce((s, x) => s + x.errors, 0),
      };
      lines.push(line);
      process.stdout.write(
        `c=${concurrency} ${t.name.padEnd(24)} ${line.achievedRps.toFixed(0).padStart(6)} rps (${line.rpsOverNaiveHop.toFixed(2)}× hop)  p50 ${line.p50Ms.toFixed(3)}  p99 ${line.p99Ms.toFixed(3)} ms` +
          (line.addedP50Ms !== undefined ? `  added p50 +${line.addedP50Ms.toFixed(3)} ms` : '') +
          (line.cpuUsPerRequest !== undefined ? `  CPU ${line.cpuUsPerRequest.toFixed(0)} µs/req` : '') +
          (line.errors ? `  ${line.errors} errors` : '') +
          '\n',
      );
    }
    // Round by round: cell i of one treatment against cell i of the other (run seconds apart).
    const pairedRatio = (a: string, b: string, of: (r: CellResult & { cpuUs?: number }) => number): number =>
      median(runs.get(a)!.map((r, i) => of(r) / of(runs.get(b)![i]!)));
    for (const [a, b] of [['naive hop (A/A)', 'naive hop'], ['this tree: passthrough', 'base: passthrough'], ['this tree: full chain', 'base: full chain']] as const) {
      process.stdout.write(
        `c=${concurrency} paired by round, ${a} ÷ ${b}: rps ${pairedRatio(a, b, (r) => r.achievedRps).toFixed(3)}  p50 ${pairedRatio(a, b, (r) => r.p50).toFixed(3)}  ` +
          `p99 ${pairedRatio(a, b, (r) => r.p99).toFixed(3)}  CPU/req ${pairedRatio(a, b, (r) => r.cpuUs ?? Number.NaN).toFixed(3)}\n`,
      );
    }
  }
  const out = option('--out') ?? join(dir, 'ab.jsonl');
  writeFileSync(out, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  process.stdout.write(`wrote ${out}\n`);
} finally {
  for (const p of procs.reverse()) await p.stop().catch(() => undefined);
}
