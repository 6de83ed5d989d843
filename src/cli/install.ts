/**
 * `portcullis install --client …`: routes one client's servers through the gateway (or, with --undo,
 * restores what it changed). Prints what it did per file; with --dry-run, the diff (secrets masked).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { terminalSafe } from '../audit/display.ts';
import { loadConfigFile } from '../config/load.ts';
import { isLoopbackHost } from '../config/names.ts';
import type { Config } from '../config/schema.ts';
import { applyPlan, INSTALL_CLIENTS, planDiff, planInstall, routeProblem, undoInstall, type InstallClient, type Route } from '../discover/install.ts';
import { displayPath } from '../discover/discover.ts';
import { formatProblems } from './config-source.ts';
import { homeOf } from './discover.ts';
import type { Io } from './serve.ts';

const LAUNCHER = resolve(fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url)));

export interface InstallCliOptions {
  client?: string;
  home?: string;
  project?: string[];
  config?: string;
  gateway?: string;
  stdio?: boolean;
  apiKeyEnv?: string;
  dryRun?: boolean;
  undo?: boolean;
  force?: boolean;
  allowPlainHttp?: boolean;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function installCommand(options: InstallCliOptions, raw: Pick<Io, 'out' | 'err' | 'secrets'>): number {
  const io = terminalSafe(raw);
  const usage = (message: string): number => {
    io.err(`portcullis: ${message}\n`);
    return 2;
  };
  if (!options.client || !(INSTALL_CLIENTS as readonly string[]).includes(options.client)) return usage(`--client must be one of ${INSTALL_CLIENTS.join(', ')} (got "${options.client ?? ''}"); Goose and Continue: see portcullis connect`);
  const client = options.client as InstallClient;
  const home = homeOf(options, io);
  const projects = (options.project ?? []).map((p) => resolve(p));
  const notFolder = projects.find((p) => !isFolder(p));
  if (notFolder !== undefined) return usage(`--project ${notFolder} is not a folder (give the folder that holds the client's project files)`);
  if (options.undo) {
    if (options.gateway || options.stdio) return usage('--undo restores the backup; it takes no --gateway or --stdio');
    const results = undoInstall({ client, home, projects, ...(options.force ? { force: true } : {}) });
    if (results.length === 0) {
      io.out(`Nothing to undo: no install record for ${client} under ${displayPath(home, home)}${projects.length ? ` or ${projects.join(', ')}` : ''}.\n`);
      return 0;
    }
    for (const r of results) {
      if (r.restored) io.out(`${displayPath(r.path, home)}: restored from ${displayPath(r.restored, home)} (backup removed)\n`);
      else io.err(`portcullis: ${displayPath(r.path, home)} ${r.problem}\n`);
    }
    return results.some((r) => r.problem) ? 1 : 0;
  }
  if (Boolean(options.gateway) === Boolean(options.stdio)) return usage('install needs exactly one of --gateway URL (HTTP) or --stdio (the stdio front, with -c)');
  let gateway: Config | undefined;
  if (options.config) {
    const loaded = loadConfigFile(options.config);
    if (!loaded.ok) return usage(`${options.config} is invalid:\n${formatProblems(loaded.problems)}`);
    gateway = loaded.config;
  }
  let route: Route;
  if (options.stdio) {
    if (!options.config) return usage('--stdio needs -c FILE: the configuration the stdio front runs');
    route = { mode: 'stdio', command: process.execPath, launcher: LAUNCHER, config: resolve(options.config) };
  } else {
    let url: URL;
    try {
      url = new URL(options.gateway!);
    } catch {
      return usage(`--gateway "${options.gateway}" is not a URL (e.g. http://127.0.0.1:8787)`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return usage('--gateway must be an http(s) URL');
    if (options.apiKeyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.apiKeyEnv)) return usage('--api-key-env must be an environment variable name');
    // The client would send the API key in clear to another machine (F16): only over https, or to loopback.
    if (options.apiKeyEnv !== undefined && url.protocol === 'http:' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, '')) && !options.allowPlainHttp) {
      return usage(`--gateway ${url.origin} is plain http to another machine: the clients would send the API key from $${options.apiKeyEnv} in clear; use https (or a loopback address), or pass --allow-plain-http if the network between them is trusted`);
    }
    route = { mode: 'http', base: `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/mcp$/, '')}`, ...(options.apiKeyEnv ? { apiKeyEnv: options.apiKeyEnv } : {}) };
  }
  const refused = routeProblem(client, route);
  if (refused) return usage(refused);
  const { plans, problems } = planInstall({ client, home, projects, route, ...(gateway ? { gateway, gatewayConfig: resolve(options.config!) } : {}) });
  let failed = problems.length > 0;
  for (const p of problems) io.err(`portcullis: ${displayPath(p.path, home)} ${p.problem}\n`);
  if (plans.length === 0 && problems.length === 0) {
    // Nothing was written: the command did not do what it was asked, so it does not exit 0.
    io.err(`portcullis: no ${client} configuration file under ${home}${projects.length ? ` or ${projects.join(', ')}` : ''}; nothing installed\n`);
    return 1;
  }
  if (!gateway && plans.some((p) => p.changes.length > 0)) io.err('portcullis: without -c, each entry is routed to the gateway server of the same name, unchecked\n');
  for (const plan of plans) {
    const shown = displayPath(plan.path, home);
    for (const s of plan.skipped) io.out(`${shown}: "${s.name}" left as it is: ${s.why}\n`);
    for (const f of plan.flagged) io.err(`portcullis: warning: ${shown}: "${f.name}": ${f.why}\n`);
    if (plan.changes.length === 0) {
      io.out(`${shown}: nothing to change\n`);
      continue;
    }
    const list = plan.changes.map((c) => (c.name === c.gatewayServer ? c.name : `${c.name} → ${c.gatewayServer}`)).join(', ');
    if (options.dryRun) {
      io.out(`${shown}: would route ${list} through the gateway\n${planDiff(plan)}`);
      continue;
    }
    const applied = applyPlan(plan);
    if ('problem' in applied) {
      failed = true;
      io.err(`portcullis: ${shown} ${applied.problem}\n`);
      continue;
    }
    io.out(`${shown}: routed ${list} through the gateway; backup ${displayPath(applied.backup, home)} (mode 600; it keeps the old entries and any secrets they held — delete it once the client works: portcullis install --undo --client ${client} restores it)\n`);
  }
  return failed ? 1 : 0;
}
