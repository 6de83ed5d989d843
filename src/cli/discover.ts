/**
 * `portcullis discover` and `portcullis import`: the inventory of MCP client configurations on a
 * machine, and a gateway configuration made from it.
 */
import { existsSync, lstatSync, readFileSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { displayJson, terminalSafe } from '../audit/display.ts';
import { loadConfigFile, parseConfigText } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { discover, reaches, type DiscoveryReport } from '../discover/discover.ts';
import { SEVERITIES, type Severity } from '../discover/findings.ts';
import { formatSarif, formatText } from '../discover/format.ts';
import { buildImport } from '../discover/import.ts';
import { PRIVATE_FILE_MODE, replaceFile } from '../util/private-files.ts';
import { formatProblems } from './config-source.ts';
import type { Io } from './serve.ts';

export interface DiscoverCliOptions {
  home?: string;
  project?: string[];
  scan?: string[];
  system?: string;
  config?: string;
  gateway?: string[];
  json?: boolean;
  sarif?: boolean;
  failOn?: string;
}

type CliIo = Pick<Io, 'out' | 'err' | 'secrets'>;

/** Collects a repeated option into a list (commander). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function homeOf(options: { home?: string }, io: CliIo): string {
  return resolve(options.home ?? io.secrets.env.HOME ?? homedir());
}

/** Runs a discovery with the shared flags; a string is a usage problem. */
export function runDiscovery(options: DiscoverCliOptions, io: CliIo): ReturnType<typeof discover> | string {
  const home = homeOf(options, io);
  if (!existsSync(home)) return `--home ${home} does not exist`;
  for (const dir of [...(options.project ?? []), ...(options.scan ?? [])]) if (!existsSync(dir)) return `${dir} does not exist`;
  let gateway: Config | undefined;
  if (options.config) {
    const loaded = loadConfigFile(options.config);
    if (!loaded.ok) return `${options.config} is invalid:\n${formatProblems(loaded.problems)}`;
    gateway = loaded.config;
  }
  for (const url of options.gateway ?? []) {
    try {
      new URL(url);
    } catch {
      return `--gateway "${url}" is not a URL`;
    }
  }
  let lastReport = 0;
  return discover({
    home,
    projects: options.project ?? [],
    scan: options.scan ?? [],
    // Machine-wide managed files: the real root by default, none when --home points at another tree
    // (a fixture or a copied home folder), unless --system says where.
    ...(options.system !== undefined ? { system: options.system } : options.home === undefined ? { system: '/' } : {}),
    gatewayUrls: options.gateway ?? [],
    ...(gateway ? { gateway, gatewayConfig: resolve(options.config!) } : {}),
    onProgress: ({ dirs, files, done }) => {
      if (done ? dirs >= 5000 && dirs !== lastReport : dirs - lastReport >= 5000) {
        io.err(`discover: ${dirs} folders searched, ${files} client files read${done ? ', done' : '…'}\n`);
        lastReport = dirs;
      }
    },
  });
}

export function discoverCommand(options: DiscoverCliOptions, raw: CliIo): number {
  // Client files are anyone's text: nothing in them may drive the reader's terminal (JSON escapes its own way).
  const io = terminalSafe(raw);
  if (options.json && options.sarif) {
    io.err('portcullis: choose one of --json or --sarif\n');
    return 2;
  }
  let threshold: Severity | undefined;
  if (options.failOn !== undefined) {
    if (!(SEVERITIES as readonly string[]).includes(options.failOn)) {
      io.err(`portcullis: --fail-on must be one of ${SEVERITIES.join(', ')} (got "${options.failOn}")\n`);
      return 2;
    }
    threshold = options.failOn as Severity;
  }
  const result = runDiscovery(options, io);
  if (typeof result === 'string') {
    io.err(`portcullis: ${result}\n`);
    return 2;
  }
  const { report } = result;
  if (options.sarif) raw.out(`${displayJson(JSON.stringify(formatSarif(report), null, 2))}\n`);
  else if (options.json) raw.out(`${displayJson(JSON.stringify(report, null, 2))}\n`);
  else io.out(formatText(report, homeOf(options, io)));
  return threshold && reaches(report, threshold) ? 1 : 0;
}

export interface ImportCliOptions extends DiscoverCliOptions {
  fromDiscovery?: string;
  output?: string;
  force?: boolean;
}

/** A discovery report read back from `discover --json`, checked enough to build from. */
function readReport(file: string): DiscoveryReport | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return `cannot read ${file} as JSON (${(error as NodeJS.ErrnoException).code ?? 'not JSON'}); write it with portcullis discover --json > ${file}`;
  }
  const report = parsed as DiscoveryReport;
  if (typeof report !== 'object' || report === null || !Array.isArray(report.clients) || typeof report.summary !== 'object') return `${file} is not a discovery report (expected { clients: [...], summary }); write it with portcullis discover --json`;
  for (const [i, c] of report.clients.entries()) {
    if (!Array.isArray(c.servers) || typeof c.path !== 'string' || typeof c.client !== 'string') return `${file}: clients[${i}] needs client, path and servers`;
    for (const [j, s] of c.servers.entries()) {
      const ok = typeof s.name === 'string' && Array.isArray(s.args) && typeof s.env === 'object' && typeof s.headers === 'object' && Array.isArray(s.credentials) && typeof s.supply === 'object' && typeof s.tools === 'object';
      if (!ok) return `${file}: clients[${i}].servers[${j}] is not a server of a discovery report (name, args, env, headers, credentials, supply, tools)`;
    }
  }
  return report;
}

export function importCommand(options: ImportCliOptions, raw: CliIo): number {
  const io = terminalSafe(raw);
  if (!options.output) {
    io.err('portcullis: import needs -o FILE (where to write the gateway configuration)\n');
    return 2;
  }
  const existing = lstatOrUndefined(options.output);
  if (existing?.isSymbolicLink()) {
    // Never through a link: whoever planted it would choose which file is created or overwritten.
    io.err(`portcullis: ${options.output} is a symbolic link; name the file itself\n`);
    return 2;
  }
  if (existing && !options.force) {
    io.err(`portcullis: ${options.output} already exists; use --force to overwrite\n`);
    return 2;
  }
  let report: DiscoveryReport;
  if (options.fromDiscovery) {
    const read = readReport(options.fromDiscovery);
    if (typeof read === 'string') {
      io.err(`portcullis: ${read}\n`);
      return 2;
    }
    report = read;
  } else {
    const result = runDiscovery(options, io);
    if (typeof result === 'string') {
      io.err(`portcullis: ${result}\n`);
      return 2;
    }
    report = result.report;
  }
  const built = buildImport(report, { home: homeOf(options, io), now: new Date() });
  // What is written must load: a config the gateway then refuses would be worse than none.
  const check = parseConfigText(built.yaml);
  if (!check.ok) {
    io.err(`portcullis: the imported configuration does not validate (nothing written):\n${formatProblems(check.problems)}\n`);
    return 1;
  }
  replaceFile(options.output, built.yaml, PRIVATE_FILE_MODE);
  const lines = [`Wrote ${options.output} (mode 600): ${built.servers.length} server${built.servers.length === 1 ? '' : 's'}${built.servers.length ? `: ${built.servers.join(', ')}` : ''}.`];
  if (built.variables.length > 0) lines.push('', 'Set these variables where the gateway runs (the values stay where they were; none was written):', ...built.variables.map((v) => `  ${v.name}  — ${v.what}`));
  const todo = built.notes.filter((n) => /^UNPINNED|disabled|enable it|denied until|narrow/.test(n.note) || n.note.includes('UNPINNED'));
  if (todo.length > 0) lines.push('', 'To do:', ...todo.map((n) => `  ${n.server}: ${n.note}`));
  if (built.skipped.length > 0) lines.push('', 'Not imported:', ...built.skipped.map((s) => `  ${s.name} (${s.from}): ${s.why}`));
  lines.push('', `Next: portcullis config check -c ${options.output}`);
  io.out(`${lines.join('\n')}\n`);
  return 0;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
