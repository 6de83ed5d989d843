/**
 * What an entry reaches, as a comparable key (the same server configured in two places, or imported
 * into the gateway with a version added), and whether an entry already goes through Portcullis.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TargetLike {
  command?: string;
  args: readonly string[];
  url?: string;
}

const NPM_SPEC = /^((?:@[a-z0-9._-]+\/)?[a-z0-9._-]+)@[^\s@/]+$/i;
const PYPI_SPEC = /^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+$/;

function normaliseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}${u.search}`;
  } catch {
    return url.trim();
  }
}

/** The same for `npx -y pkg` and `npx -y pkg@1.2.3`, and for `https://h/mcp` and `https://H/mcp/`. */
export function targetKey(target: TargetLike): string {
  if (target.command === undefined) return `url ${normaliseUrl(target.url ?? '')}`;
  const command = basename(target.command.replace(/\\/g, '/')).replace(/\.(?:cmd|exe)$/i, '');
  const args = target.args.map((a) => NPM_SPEC.exec(a)?.[1] ?? PYPI_SPEC.exec(a)?.[1] ?? a);
  return ['cmd', command, ...args].join('\u0000');
}

/** Default listen address of `portcullis serve`. */
export const DEFAULT_GATEWAY_URLS = ['http://127.0.0.1:8787', 'http://localhost:8787'];

/** What an entry running a `portcullis … stdio` command is compared with. */
export interface GatewayContext {
  /** URLs of this gateway's HTTP front. */
  urls: readonly string[];
  /** The gateway configuration file the operator named (`-c`), when there is one. */
  config?: string;
}

export interface TargetPlace extends TargetLike {
  /** Where the client runs the command from. */
  cwd?: string;
  /** The project folder a project-scoped entry belongs to. */
  project?: string;
}

/**
 * `yes`: the entry reaches this gateway — its HTTP front, or this installation's stdio front with the
 * operator's configuration; `lookalike`: it runs something named like Portcullis' stdio front that is
 * not that (another copy of the script, a file in the project, the gateway on a configuration of the
 * project's own) — an ordinary server, and a finding; `no`: neither.
 */
export function gatewayRoute(target: TargetPlace, context: GatewayContext): 'yes' | 'lookalike' | 'no' {
  if (target.command !== undefined) {
    const words = [target.command, ...target.args].map((w) => w.replace(/\\/g, '/'));
    const named = words.findIndex((w) => /(?:^|\/)portcullis(?:\.js|\.cmd)?$/.test(w) || /(?:^|\/)portcullis@[^/\s]+$/.test(w) || /\/portcullis\/(?:bin\/portcullis\.js|src\/main\.ts|dist\/main\.js)$/.test(w));
    const base = target.cwd !== undefined ? resolve(target.project ?? '/', target.cwd) : (target.project ?? process.cwd());
    const own = words.findIndex((w) => w.includes('/') && isOwnLauncher(w, base));
    const launcher = named >= 0 && (own < 0 || named < own) ? named : own;
    if (launcher < 0 || !words.slice(launcher + 1).includes('stdio')) return 'no';
    if (!isOwnLauncher(words[launcher]!, base)) return 'lookalike';
    const config = configArgument(words.slice(launcher + 1));
    if (config === undefined) return 'yes';
    const file = realOrUndefined(resolve(base, config));
    if (context.config !== undefined) return file !== undefined && file === realOrUndefined(resolve(context.config)) ? 'yes' : 'lookalike';
    // Without the operator's configuration to compare, one kept in the project the entry comes from is the project's own.
    return file === undefined || (target.project !== undefined && isInside(file, realOrUndefined(target.project) ?? target.project)) ? 'lookalike' : 'yes';
  }
  if (!target.url) return 'no';
  const url = normaliseUrl(target.url);
  return context.urls.some((base) => {
    const b = normaliseUrl(base).replace(/\/mcp$/, '');
    return url === `${b}/mcp` || url.startsWith(`${b}/mcp/`);
  })
    ? 'yes'
    : 'no';
}

/** Whether the entry reaches this gateway (see gatewayRoute). */
export const isThroughGateway = (target: TargetPlace, context: GatewayContext): boolean => gatewayRoute(target, context) === 'yes';

/** This installation's launchers, by real path: bin/portcullis.js, and dist/main.js and src/main.ts run by node. */
const OWN_LAUNCHERS = new Set(
  ['bin/portcullis.js', 'dist/main.js', 'src/main.ts']
    .map((p) => realOrUndefined(fileURLToPath(new URL(`../../${p}`, import.meta.url))))
    .filter((p): p is string => p !== undefined),
);

/** A launcher word is this installation's when it resolves (a path, or a bare name on PATH) to one of its files. */
function isOwnLauncher(word: string, base: string): boolean {
  if (/@/.test(basename(word))) return false; // `npx portcullis@x` runs what the registry serves
  const candidates = word.includes('/') ? [isAbsolute(word) ? word : resolve(base, word)] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, word));
  const found = candidates.find((c) => existsSync(c));
  const real = found === undefined ? undefined : realOrUndefined(found);
  return real !== undefined && OWN_LAUNCHERS.has(real);
}

function configArgument(words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if ((w === '-c' || w === '--config') && i + 1 < words.length) return words[i + 1];
    const joined = /^(?:-c|--config)=(.+)$/.exec(w);
    if (joined) return joined[1];
  }
  return undefined;
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

const isInside = (file: string, folder: string): boolean => {
  const r = relative(folder, file);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};
