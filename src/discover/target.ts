/**
 * What an entry reaches, as a comparable key (the same server configured in two places, or imported
 * into the gateway with a version added), and whether an entry already goes through Portcullis.
 */
import { realpathSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { PORTCULLIS_ROOT } from '../config/defaults.ts';

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

/** This installation's entry points: only they count as the stdio front of this gateway. */
const ENTRY_POINTS = ['bin/portcullis.js', 'src/main.ts', 'dist/main.js'].map((file) => join(PORTCULLIS_ROOT, file));

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Whether a word of a command line runs this installation of Portcullis (a path to it, or `portcullis` on PATH resolving to it). */
function isThisPortcullis(word: string, cwd: string | undefined, pathEnv: string | undefined): boolean {
  const entryPoints = ENTRY_POINTS.map(realPath).filter((p): p is string => p !== undefined);
  if (word.includes('/')) {
    const resolved = realPath(isAbsolute(word) ? word : resolve(cwd ?? '.', word));
    return resolved !== undefined && entryPoints.includes(resolved);
  }
  if (!/^portcullis(?:\.cmd)?$/.test(word)) return false;
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    const resolved = dir ? realPath(join(dir, word)) : undefined;
    if (resolved !== undefined) return entryPoints.includes(resolved);
  }
  return false;
}

/**
 * Whether the entry runs this gateway's stdio front — this installation's entry point, and (when
 * `gatewayConfig` is given) with that configuration — or points at a Portcullis HTTP endpoint. A script
 * that is merely named like Portcullis, or the real one run with someone else's configuration, is an
 * ordinary server.
 */
export function isThroughGateway(target: TargetLike, gatewayUrls: readonly string[], gatewayConfig?: string, cwd?: string): boolean {
  if (target.command !== undefined) {
    const words = [target.command, ...target.args].map((w) => w.replace(/\\/g, '/'));
    const launcher = words.findIndex((w) => isThisPortcullis(w, cwd, process.env.PATH));
    if (launcher < 0) return false;
    const rest = words.slice(launcher + 1);
    if (!rest.includes('stdio')) return false;
    if (gatewayConfig === undefined) return true;
    const at = rest.findIndex((w) => w === '-c' || w === '--config');
    const given = at >= 0 ? rest[at + 1] : rest.find((w) => w.startsWith('--config='))?.slice('--config='.length);
    return given !== undefined && realPath(resolve(cwd ?? '.', given)) === realPath(gatewayConfig);
  }
  if (!target.url) return false;
  const url = normaliseUrl(target.url);
  return gatewayUrls.some((base) => {
    const b = normaliseUrl(base).replace(/\/mcp$/, '');
    return url === `${b}/mcp` || url.startsWith(`${b}/mcp/`);
  });
}
