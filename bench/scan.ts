/**
 * Scanner speed: `node bench/scan.ts [rounds]` scans the 1,282 real tool definitions of
 * ../shared/corpora (LiveMCPBench and the Docker MCP registry) and reports time per 1,000 definitions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanServers, type ServerTools } from '../src/inspect/scanner.ts';

const corpora = new URL('../../shared/corpora/', import.meta.url).pathname;
const input: ServerTools[] = [];
const live = JSON.parse(readFileSync(join(corpora, 'livemcpbench/tools/LiveMCPTool/tools.json'), 'utf8')) as Array<{ tools?: Record<string, { tools?: object[] }> }>;
for (const s of live) for (const [key, v] of Object.entries(s.tools ?? {})) input.push({ server: key, tools: (v.tools ?? []) as ServerTools['tools'] });
for (const dir of readdirSync(join(corpora, 'docker-mcp-registry/servers'))) {
  input.push({ server: dir, tools: JSON.parse(readFileSync(join(corpora, 'docker-mcp-registry/servers', dir, 'tools.json'), 'utf8')) as ServerTools['tools'] });
}
const count = input.reduce((n, s) => n + s.tools.length, 0);
const rounds = Number(process.argv[2] ?? 20);
scanServers(input); // warm-up
const times: number[] = [];
for (let i = 0; i < rounds; i++) {
  const started = performance.now();
  scanServers(input);
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
process.stdout.write(`${count} definitions: median ${median.toFixed(1)} ms per scan (${((median / count) * 1000).toFixed(1)} ms per 1,000), fastest ${times[0]!.toFixed(1)} ms, slowest ${times.at(-1)!.toFixed(1)} ms over ${rounds} rounds\n`);
