/**
 * `portcullis scan --tools-file FILE [--json]`: the poisoning and shadowing scanner, offline, on a JSON
 * array of tool definitions or of `{ "server": …, "tools": [ … ] }` objects. Exit 1 when anything is high.
 */
import { readFileSync } from 'node:fs';
import { scanServers, type ServerTools, type ToolDefinition } from '../inspect/scanner.ts';
import type { Io } from './serve.ts';

function parseInput(text: string): ServerTools[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (!Array.isArray(parsed)) return 'expected a JSON array of tool definitions or of { "server", "tools" } objects';
  if (parsed.every((e) => typeof e === 'object' && e !== null && 'tools' in e)) {
    const out: ServerTools[] = [];
    for (const [i, e] of (parsed as Array<{ server?: unknown; tools: unknown }>).entries()) {
      if (!Array.isArray(e.tools)) return `[${i}].tools must be an array`;
      out.push({ server: typeof e.server === 'string' ? e.server : `server-${i}`, tools: e.tools as ToolDefinition[] });
    }
    return out;
  }
  if (!parsed.every((e) => typeof e === 'object' && e !== null)) return 'every entry must be a tool definition object';
  return [{ server: 'input', tools: parsed as ToolDefinition[] }];
}

export function scan(options: { toolsFile: string; json?: boolean }, io: Pick<Io, 'out' | 'err'>): number {
  let text: string;
  try {
    text = readFileSync(options.toolsFile, 'utf8');
  } catch (error) {
    io.err(`portcullis: cannot read ${options.toolsFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}\n`);
    return 2;
  }
  const input = parseInput(text);
  if (typeof input === 'string') {
    io.err(`portcullis: ${options.toolsFile}: ${input}\n`);
    return 2;
  }
  const reports = scanServers(input);
  if (options.json) {
    io.out(`${JSON.stringify({ tools: reports.map((r) => ({ server: r.server, name: r.name, verdict: r.verdict, findings: r.findings.map((f) => ({ rule: f.rule, severity: f.severity, field: f.field, span: f.span, why: f.why })) })) })}\n`);
  } else {
    for (const r of reports) {
      io.out(`${r.verdict.toUpperCase().padEnd(4)}  ${r.server}/${r.name}\n`);
      for (const f of r.findings) io.out(`      ${f.severity.padEnd(6)} ${f.rule}  ${f.field}: "${f.span}" — ${f.why}\n`);
    }
    const high = reports.filter((r) => r.verdict === 'high').length;
    const warn = reports.filter((r) => r.verdict === 'warn').length;
    io.out(`${reports.length} tools: ${high} high, ${warn} warn, ${reports.length - high - warn} ok\n`);
  }
  return reports.some((r) => r.verdict === 'high') ? 1 : 0;
}
