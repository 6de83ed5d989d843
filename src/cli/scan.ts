/**
 * `portcullis scan`: the poisoning and shadowing scanner — offline on a JSON array of tool definitions
 * or of `{ "server": …, "tools": [ … ] }` objects (`--tools-file`), or live on the servers of a config
 * (`--config`: tools, prompts, resources, templates and instructions, each server started only if its
 * pin holds). Text, `--json` or `--sarif` (for CI code scanning). Exit 1 when anything is high or a
 * server's pin did not hold.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import type { Config } from '../config/schema.ts';
import { loadConfigFile } from '../config/load.ts';
import { GatewayError } from '../errors.ts';
import { scanServers, signalLayer, type Definition, type ServerTools, type SignalLayer, type ToolReport } from '../inspect/scanner.ts';
import { isObject } from '../protocol/jsonrpc.ts';
import { descriptionDefinition } from '../supply/guard.ts';
import { createPinnedUpstream } from '../upstream/build.ts';
import { createUpstream } from '../upstream/create.ts';
import type { Upstream } from '../upstream/types.ts';
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
      out.push({ server: typeof e.server === 'string' ? e.server : `server-${i}`, tools: e.tools as Definition[] });
    }
    return out;
  }
  if (!parsed.every((e) => typeof e === 'object' && e !== null)) return 'every entry must be a tool definition object';
  return [{ server: 'input', tools: parsed as Definition[] }];
}

export interface ScanOptions {
  toolsFile?: string;
  config?: string;
  json?: boolean;
  sarif?: boolean;
  /** Thresholds of the signal layer, as given on the command line (strings) or by a caller. */
  highAt?: string | number;
  warnAt?: string | number;
  /** Commander's `--no-signals`. */
  signals?: boolean;
}

/** A probability flag: a number in [min, max], or the problem. */
function probabilityFlag(name: string, value: string | number | undefined, min: number, max: number): number | undefined | string {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : /^\d*\.?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) return `${name} must be a number from ${min} to ${max}, got "${String(value)}"`;
  return n;
}

function layerFor(options: ScanOptions, config: { signals?: boolean; highAt?: number | undefined; warnAt?: number | undefined } = {}): SignalLayer | string {
  const highAt = probabilityFlag('--high-at', options.highAt, 0.05, 0.99);
  const warnAt = probabilityFlag('--warn-at', options.warnAt, 0.01, 0.98);
  if (typeof highAt === 'string') return highAt;
  if (typeof warnAt === 'string') return warnAt;
  const merged = { signals: options.signals === false ? false : config.signals !== false, highAt: highAt ?? config.highAt, warnAt: warnAt ?? config.warnAt };
  if (merged.highAt !== undefined && merged.warnAt !== undefined && merged.warnAt >= merged.highAt) return `--warn-at (${merged.warnAt}) must be below --high-at (${merged.highAt})`;
  return signalLayer(merged);
}

/** A server that could not be listed: its pin did not hold (`PC_SUPPLY_PIN_FAILED`), or it failed. */
export interface Unlisted {
  server: string;
  code: string;
  reason: string;
}

const LIVE_KINDS = [
  ['prompts/list', 'prompts', 'prompt'],
  ['resources/list', 'resources', 'resource'],
  ['resources/templates/list', 'resourceTemplates', 'resourceTemplate'],
] as const;

async function listAll(upstream: Upstream, method: string, key: string): Promise<Definition[]> {
  const out: Definition[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const reply = await upstream.request(method, cursor ? { cursor } : undefined, { timeoutMs: 30_000, caller: 'portcullis:scan' });
    if ('error' in reply) throw new Error(`${method}: ${reply.error.message}`);
    const list = reply.result[key];
    if (Array.isArray(list)) out.push(...(list.filter(isObject) as Definition[]));
    cursor = typeof reply.result.nextCursor === 'string' && reply.result.nextCursor ? reply.result.nextCursor : undefined;
    if (!cursor) break;
  }
  return out;
}

/**
 * Lists what every configured server shows a model, live (all pages): tools and, with `everything`,
 * prompts, resources, templates and the instructions. Each server's pin is checked before it is
 * started, as the gateway does; nothing touches the pins file or the audit trail.
 */
export async function listLive(loaded: { config: Config }, io: Pick<Io, 'err' | 'secrets'>, everything = false): Promise<{ servers: ServerTools[]; unlisted: Unlisted[] }> {
  const logger = pino({ level: 'silent' });
  const servers: ServerTools[] = [];
  const unlisted: Unlisted[] = [];
  for (const [name, server] of Object.entries(loaded.config.servers)) {
    if (server.disabled) continue;
    const upstream = createPinnedUpstream(name, server, loaded.config, {
      logger,
      secrets: io.secrets,
      make: createUpstream,
      clientInfo: { name: 'portcullis-scan', version: VERSION },
      connectTimeoutMs: 30_000,
    });
    try {
      await upstream.start();
      const info = await upstream.ready(30_000);
      const tools = isObject(info.capabilities.tools) ? await listAll(upstream, 'tools/list', 'tools') : [];
      const others: NonNullable<ServerTools['others']> = [];
      if (everything) {
        for (const [method, key, kind] of LIVE_KINDS) {
          const capability = info.capabilities[key === 'prompts' ? 'prompts' : 'resources'];
          if (!isObject(capability)) continue;
          for (const definition of await listAll(upstream, method, key)) others.push({ kind, definition });
        }
        others.push({ kind: 'server', definition: descriptionDefinition({ instructions: info.instructions, serverInfo: info.serverInfo }) });
      }
      servers.push({ server: name, tools, others });
    } catch (error) {
      const code = error instanceof GatewayError ? error.code : 'PC_UPSTREAM_UNAVAILABLE';
      unlisted.push({ server: name, code, reason: (error as Error).message });
      io.err(`portcullis: server "${name}" could not be listed${code === 'PC_SUPPLY_PIN_FAILED' ? ' (its pin does not hold; it was not started)' : ''}: ${(error as Error).message}\n`);
    } finally {
      await upstream.close();
    }
  }
  return { servers, unlisted };
}

/** Every configured server's tools, live (for `policy --live`); servers that cannot be listed are reported on stderr and left out. */
export async function listToolsLive(loaded: { config: Config }, io: Pick<Io, 'err' | 'secrets'>): Promise<ServerTools[]> {
  return (await listLive(loaded, io)).servers;
}

function label(r: ToolReport): string {
  return r.kind === 'tool' ? `${r.server}/${r.name}` : `${r.server}/${r.kind}:${r.name}`;
}

function sarif(reports: readonly ToolReport[]): unknown {
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
            message: { text: `${label(r)} ${f.field}: ${f.why} ("${f.span}")` },
            locations: [{ logicalLocations: [{ fullyQualifiedName: `${label(r)}/${f.field}`, kind: 'member' }] }],
          })),
        ),
      },
    ],
  };
}

const asJson = (r: ToolReport) => ({
  server: r.server,
  ...(r.kind === 'tool' ? {} : { kind: r.kind }),
  name: r.name,
  verdict: r.verdict,
  findings: r.findings.map((f) => ({ rule: f.rule, severity: f.severity, field: f.field, span: f.span, why: f.why })),
});

export async function scan(options: ScanOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  if ((options.toolsFile === undefined) === (options.config === undefined)) {
    io.err('portcullis: scan needs exactly one of --tools-file FILE (offline) or --config FILE (live)\n');
    return 2;
  }
  let input: ServerTools[] | string;
  let unlisted: Unlisted[] = [];
  let layer = layerFor(options);
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
    const loaded = loadConfigFile(options.config!, io.secrets);
    if (!loaded.ok) {
      io.err(`portcullis: ${options.config} is invalid:\n${formatProblems(loaded.problems)}\n`);
      return 2;
    }
    layer = layerFor(options, loaded.config.supply.scanner);
    if (typeof layer !== 'string') ({ servers: input, unlisted } = await listLive(loaded, io, true));
    else input = [];
  }
  if (typeof layer === 'string') {
    io.err(`portcullis: ${layer}\n`);
    return 2;
  }
  const reports = scanServers(input, layer);
  const tools = reports.filter((r) => r.kind === 'tool');
  const others = reports.filter((r) => r.kind !== 'tool');
  const refused = unlisted.filter((u) => u.code === 'PC_SUPPLY_PIN_FAILED');
  if (options.sarif) {
    io.out(`${JSON.stringify(sarif(reports), null, 2)}\n`);
  } else if (options.json) {
    io.out(`${JSON.stringify({ tools: tools.map(asJson), ...(options.config !== undefined ? { definitions: others.map(asJson), unlisted } : {}) })}\n`);
  } else {
    for (const r of reports) {
      io.out(`${r.verdict.toUpperCase().padEnd(4)}  ${label(r)}\n`);
      for (const f of r.findings) io.out(`      ${f.severity.padEnd(6)} ${f.rule}  ${f.field}: "${f.span}" — ${f.why}\n`);
    }
    const summary = (list: readonly ToolReport[], noun: string): string => {
      const high = list.filter((r) => r.verdict === 'high').length;
      const warn = list.filter((r) => r.verdict === 'warn').length;
      return `${list.length} ${noun}: ${high} high, ${warn} warn, ${list.length - high - warn} ok`;
    };
    io.out(`${summary(tools, 'tools')}${others.length > 0 ? `; ${summary(others, 'other definitions')}` : ''}\n`);
    for (const u of refused) io.out(`REFUSED  ${u.server}: its pin does not hold, it was not started\n`);
  }
  return reports.some((r) => r.verdict === 'high') || refused.length > 0 ? 1 : 0;
}
