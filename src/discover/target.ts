/**
 * What an entry reaches, as a comparable key (the same server configured in two places, or imported
 * into the gateway with a version added), and whether an entry already goes through Portcullis.
 */
import { basename } from 'node:path';

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

/** Whether the entry runs Portcullis' stdio front or points at a Portcullis HTTP endpoint. */
export function isThroughGateway(target: TargetLike, gatewayUrls: readonly string[]): boolean {
  if (target.command !== undefined) {
    const words = [target.command, ...target.args].map((w) => w.replace(/\\/g, '/'));
    const launcher = words.findIndex((w) => /(?:^|\/)portcullis(?:\.js|\.cmd)?$/.test(w) || /(?:^|\/)portcullis@[^/\s]+$/.test(w) || /\/portcullis\/(?:bin\/portcullis\.js|src\/main\.ts|dist\/main\.js)$/.test(w));
    return launcher >= 0 && words.slice(launcher + 1).includes('stdio');
  }
  if (!target.url) return false;
  const url = normaliseUrl(target.url);
  return gatewayUrls.some((base) => {
    const b = normaliseUrl(base).replace(/\/mcp$/, '');
    return url === `${b}/mcp` || url.startsWith(`${b}/mcp/`);
  });
}
