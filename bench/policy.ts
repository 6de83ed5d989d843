/**
 * Policy cost per call: `node bench/policy.ts [calls]` builds policies of 10, 1,000 and 10,000 rules
 * (globs on 50 servers × 100 tools, principal matches, CEL conditions on arguments, 10 % deny rules) and
 * times the authorize decision — the same `Policy.decide` the gateway's authorize stage awaits — over
 * calls spread across 500 distinct tools. Reports p50/p99 with the per-tool rule index warm (the gateway's
 * steady state) and the cold cost of a tool's first call (the index is built by scanning every rule),
 * then the cost of one path guard (realpath on the filesystem) and one URL guard (a public name through a
 * resolver answering from memory) at 1,000 rules.
 * Target (issue #5): p50 ≤ 20 µs at 1,000 rules.
 */
import { localPrincipal } from '../src/auth/principal.ts';
import { compilePolicy, type CallFacts, type Policy } from '../src/policy/policy.ts';
import { policySchema } from '../src/policy/schema.ts';

const CALLS = Number(process.argv[2] ?? 50_000);
const SERVERS = Array.from({ length: 50 }, (_, i) => `srv${i}`);

function rules(n: number, guard?: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const server = `srv${i % 50}`;
    const effect = i % 10 === 9 ? 'deny' : 'allow';
    const shape = i % 4;
    const rule: Record<string, unknown> = { name: `r${i}`, effect, servers: [server] };
    if (shape === 0) rule.tools = [`tool${(i * 7) % 100}`];
    else if (shape === 1) rule.tools = [`tool${i % 10}*`];
    else if (shape === 2) Object.assign(rule, { tools: [`tool${i % 100}`], principal: { agents: [`agent-${i % 20}`, 'bench-*'] }, when: effect === 'deny' ? 'has(args.n) && args.n > 1000' : 'args.n < 100 && principal.agent.startsWith("bench")' });
    else Object.assign(rule, { tools: [`tool${i % 100}`, `tool${(i + 1) % 100}`], tasks: ['bench', 'ci-*'], principal: { agents: ['bench-*'] }, annotations: { readOnly: true } });
    if (guard && effect === 'allow') rule.guards = guard;
    out.push(rule);
  }
  return out;
}

function build(n: number, guard?: Record<string, unknown>): Policy {
  const config = policySchema.parse({ rules: rules(n, guard) });
  const { policy, problems } = compilePolicy(config, { servers: SERVERS, resolveHost: async () => ['93.184.216.34'] });
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('\n'));
  return policy;
}

const principal = localPrincipal('alice', 'bench-agent');
/** 500 calls, each aimed at a tool some rule names (so rules are really evaluated, not just skipped). */
function callsFor(n: number): CallFacts[] {
  const list = rules(n) as { servers: string[]; tools: string[] }[];
  return Array.from({ length: 500 }, (_, i) => {
    const rule = list[(i * 37) % n]!;
    return {
      principal,
      server: rule.servers[0]!,
      kind: 'tool',
      name: rule.tools[0]!.replace('*', 'x'),
      args: { n: i % 200, path: '/tmp/bench/file.txt', url: 'https://public.example/docs/page?q=1' },
      declared: { readOnlyHint: i % 2 === 0 },
      task: 'bench',
      now: new Date('2026-11-27T10:00:00Z'),
    };
  });
}
let calls: CallFacts[] = [];

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const us = (ns: number): string => (ns / 1000).toFixed(2);

async function measure(policy: Policy, count: number): Promise<{ p50: number; p99: number; decisions: Record<string, number> }> {
  const times: number[] = [];
  const decisions: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const facts = calls[i % calls.length]!;
    const start = process.hrtime.bigint();
    const d = await policy.decide(facts);
    times.push(Number(process.hrtime.bigint() - start));
    decisions[d.effect] = (decisions[d.effect] ?? 0) + 1;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), decisions };
}

async function cold(n: number): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const policy = build(n);
    const start = process.hrtime.bigint();
    await policy.decide(calls[round]!);
    times.push(Number(process.hrtime.bigint() - start));
  }
  times.sort((a, b) => a - b);
  return times[2]!;
}

process.stdout.write(`policy decision cost, ${CALLS} calls cycling over 500 calls aimed at tools the rules name (node ${process.version})\n`);
process.stdout.write('| rules | p50 µs (warm) | p99 µs (warm) | first call of a tool µs (cold) | allow / deny |\n|---:|---:|---:|---:|---|\n');
for (const n of [10, 1_000, 10_000]) {
  calls = callsFor(n);
  const policy = build(n);
  await measure(policy, 5_000); // warm-up: JIT and the per-tool rule index
  const r = await measure(policy, CALLS);
  process.stdout.write(`| ${n.toLocaleString('en-US')} | ${us(r.p50)} | ${us(r.p99)} | ${us(await cold(n))} | ${r.decisions.allow ?? 0} / ${r.decisions.deny ?? 0} |\n`);
}
calls = callsFor(1_000);
process.stdout.write('\n');
for (const [what, guard] of [
  ['a path guard', { paths: { args: ['path'], roots: ['/tmp'] } }],
  ['a URL guard', { urls: { args: ['url'] } }],
] as const) {
  const guarded = build(1_000, guard);
  await measure(guarded, 2_000);
  const g = await measure(guarded, Math.min(CALLS, 20_000));
  process.stdout.write(`with ${what} on every allow rule (1,000 rules): p50 ${us(g.p50)} µs, p99 ${us(g.p99)} µs (allow / deny ${g.decisions.allow ?? 0} / ${g.decisions.deny ?? 0})\n`);
}
