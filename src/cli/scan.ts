/**
 * `portcullis scan`: the poisoning and shadowing scanner — offline on a JSON array of tool definitions
 * or of `{ "server": …, "tools": [ … ] }` objects (`--tools-file`), or live on the servers of a config
 * (`--config`). Text, `--json` or `--sarif` (for CI code scanning). Exit 1 when anything is high.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import type { Config } from '../config/schema.ts';
import { loadConfigFile } from '../config/load.ts';
import { scanServers, type ServerTools, type ToolDefinition } from '../inspect/scanner.ts';
import { createUpstream } from '../upstream/create.ts';
import { VERSION } from '../version.ts';
import { formatProblems } from './config-source.ts';
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

export interface ScanOptions {
  toolsFile?: string;
  config?: string;
  json?: boolean;
  sarif?: boolean;
}

async function liveInput(file: string, io: Pick<Io, 'err' | 'secrets'>): Promise<ServerTools[] | undefined> {
  const loaded = loadConfigFile(file, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${file} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  return listToolsLive(loaded, io);
}

/** Lists every configured server's tools live (all pages), without touching pins or the audit trail. */
export async function listToolsLive(loaded: { config: Config }, io: Pick<Io, 'err' | 'secrets'>): Promise<ServerTools[]> {
  const logger = pino({ level: 'silent' });
  const clientInfo = { name: 'portcullis-scan', version: VERSION };
  const out: ServerTools[] = [];
  for (const [name, server] of Object.entries(loaded.config.servers)) {
    if (server.disabled) continue;
    const upstream = createUpstream(name, server, { logger, secrets: io.secrets, clientInfo, connectTimeoutMs: 30_000 });
    try {
      await upstream.start();
      const tools: ToolDefinition[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100; page++) {
        const reply = await upstream.request('tools/list', cursor ? { cursor } : undefined, { timeoutMs: 30_000, caller: 'portcullis:scan' });
        if ('error' in reply) throw new Error(reply.error.message);
        if (Array.isArray(reply.result.tools)) tools.push(...(reply.result.tools as ToolDefinition[]));
        cursor = typeof reply.result.nextCursor === 'string' && reply.result.nextCursor ? reply.result.nextCursor : undefined;
        if (!cursor) break;
      }
      out.push({ server: name, tools });
    } catch (error) {
      io.err(`portcullis: server "${name}" could not be listed: ${(error as Error).message}\n`);
    } finally {
      await upstream.close();
    }
  }
  return out;
}

function sarif(reports: ReturnType<typeof scanServers>): unknown {
  const rules = [...new Set(reports.flatMap((r) => r.findings.map((f) => f.rule)))];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'portcullis-scan', version: VERSION, informationUri: 'https://github.com/portcullis/portcullis', rules: rules.map((id) => ({ id })) } },
        results: reports.flatMap((r) =>
          r.findings.map((f) => ({
            ruleId: f.rule,
            level: f.severity === 'high' ? 'error' : 'warning',
            message: { text: `${r.server}/${r.name} ${f.field}: ${f.why} ("${f.span}")` },
            locations: [{ logicalLocations: [{ fullyQualifiedName: `${r.server}/${r.name}/${f.field}`, kind: 'member' }] }],
          })),
        ),
      },
    ],
  };
}

export async function scan(options: ScanOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  if ((options.toolsFile === undefined) === (options.config === undefined)) {
    io.err('portcullis: scan needs exactly one of --tools-file FILE (offline) or --config FILE (live)\n');
    return 2;
  }
  let input: ServerTools[] | string | undefined;
  if (options.toolsFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.toolsFile, 'utf8');
    } catch (error) {
      io.err(`portcullis: cannot read ${options.toolsFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}\n`);
      return 2;
    }
    input = parseInput(text);
    if (typeof input === 'string') {
      io.err(`portcullis: ${options.toolsFile}: ${input}\n`);
      return 2;
    }
  } else {
    input = await liveInput(options.config!, io);
    if (!input) return 2;
  }
  const reports = scanServers(input);
  if (options.sarif) {
    io.out(`${JSON.stringify(sarif(reports), null, 2)}\n`);
  } else if (options.json) {
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
